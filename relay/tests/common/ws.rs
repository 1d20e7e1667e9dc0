//! A minimal WebSocket client for the relay's tests: upgrade with subprotocol `turn`,
//! masked binary frames.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use polyrtc::stun::Message;

use super::Client;

/// One masked binary client frame (RFC 6455 §5.2) carrying `data` (under 64 KiB).
pub fn masked_frame(data: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut f = vec![0x82];
    if data.len() < 126 {
        f.push(0x80 | data.len() as u8);
    } else {
        f.push(0x80 | 126);
        f.extend_from_slice(&(data.len() as u16).to_be_bytes());
    }
    f.extend_from_slice(&mask);
    f.extend(data.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    f
}

/// A minimal WebSocket client: upgrade with subprotocol `turn`, masked binary frames.
pub struct Ws {
    pub s: TcpStream,
    buf: Vec<u8>,
}

impl Ws {
    pub fn connect(port: u16) -> Ws {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let req = format!(
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: turn\r\n\r\n"
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut buf = Vec::new();
        let mut tmp = [0u8; 4096];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut tmp).unwrap();
            assert!(n > 0, "closed during upgrade");
            buf.extend_from_slice(&tmp[..n]);
        }
        let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        // RFC 6455 §1.3's sample key and accept value.
        assert!(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
        assert!(head.contains("Sec-WebSocket-Protocol: turn"), "{head}");
        Ws { s, buf: buf[end..].to_vec() }
    }

    pub fn send(&mut self, data: &[u8]) {
        self.s.write_all(&masked_frame(data, [0x12, 0x34, 0x56, 0x78])).unwrap();
    }

    /// The next complete binary message already received, reading what the socket has
    /// without blocking; `Err(())` once the relay closed the WebSocket.
    pub fn try_recv(&mut self) -> Result<Option<Vec<u8>>, ()> {
        let mut tmp = [0u8; 65536];
        loop {
            if let Some(m) = self.take_frame()? {
                return Ok(Some(m));
            }
            self.s.set_nonblocking(true).unwrap();
            let r = self.s.read(&mut tmp);
            self.s.set_nonblocking(false).unwrap();
            match r {
                Ok(0) => return Err(()),
                Ok(n) => self.buf.extend_from_slice(&tmp[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(None),
                Err(_) => return Err(()),
            }
        }
    }

    fn take_frame(&mut self) -> Result<Option<Vec<u8>>, ()> {
        if self.buf.len() < 2 {
            return Ok(None);
        }
        let (len, off) = match self.buf[1] & 0x7f {
            126 if self.buf.len() >= 4 => (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4),
            126 => return Ok(None),
            n => (n as usize, 2),
        };
        if self.buf.len() < off + len {
            return Ok(None);
        }
        let opcode = self.buf[0] & 0x0f;
        let p = self.buf[off..off + len].to_vec();
        self.buf.drain(..off + len);
        if opcode == 0x8 {
            return Err(());
        }
        Ok(Some(p))
    }

    /// Reads (skipping other frames) until the relay's close frame; its status code.
    pub fn recv_close(&mut self) -> Option<u16> {
        let mut tmp = [0u8; 4096];
        loop {
            while self.buf.len() >= 2 && self.buf.len() >= 2 + (self.buf[1] & 0x7f) as usize && self.buf[1] & 0x7f < 126 {
                let len = (self.buf[1] & 0x7f) as usize;
                let frame: Vec<u8> = self.buf.drain(..2 + len).collect();
                if frame[0] & 0x0f == 0x8 {
                    return frame.get(2..4).map(|c| u16::from_be_bytes([c[0], c[1]]));
                }
            }
            match self.s.read(&mut tmp) {
                Ok(n) if n > 0 => self.buf.extend_from_slice(&tmp[..n]),
                _ => return None,
            }
        }
    }

    pub fn recv(&mut self) -> Vec<u8> {
        let mut tmp = [0u8; 4096];
        loop {
            if self.buf.len() >= 2 {
                assert_eq!(self.buf[1] & 0x80, 0, "server frames are unmasked");
                let (len, off) = match self.buf[1] & 0x7f {
                    126 if self.buf.len() >= 4 => (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4),
                    126 => (usize::MAX, 0),
                    n => (n as usize, 2),
                };
                if len != usize::MAX && self.buf.len() >= off + len {
                    assert_eq!(self.buf[0], 0x82, "a final binary frame");
                    let p = self.buf[off..off + len].to_vec();
                    self.buf.drain(..off + len);
                    return p;
                }
            }
            let n = self.s.read(&mut tmp).expect("frame from relay");
            assert!(n > 0, "relay closed the WebSocket");
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }

    pub fn request(&mut self, c: &mut Client, m: polyrtc::stun::Method, attrs: Vec<polyrtc::stun::Attribute>) -> Message {
        let tid = c.next_tid();
        self.send(&c.build(m, tid, attrs));
        let r = Message::decode(&self.recv()).expect("response decodes");
        assert_eq!(r.transaction_id, tid);
        r
    }
}


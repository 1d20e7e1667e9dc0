//! SCTP interop with aiortc (Python), an independent implementation, over a fake DTLS
//! transport whose records travel as length-prefixed frames on the child's stdin/stdout.
//! Needs `python3` with aiortc (scripts/setup-tests.sh installs it). The peer runs in real
//! time, so this test (not the core) reads a wall clock.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use polyrtc::crypto::Rng;
use polyrtc::sctp::{Association, SctpConfig, SctpEvent, SendOptions};
use polyrtc::Time;

/// The far side of the aiortc interop test: aiortc's SCTP stack (an independent
/// implementation) over a fake DTLS transport whose records travel as length-prefixed
/// frames on stdin/stdout. A negotiated channel on stream 1 echoes every message; "bye"
/// makes it close (an outgoing stream reset). Stream 3 echoes with maxRetransmits 0.
const AIORTC_ECHO: &str = r#"
import asyncio, struct, sys
from aiortc.rtcsctptransport import RTCSctpTransport, RTCSctpCapabilities
from aiortc.rtcdatachannel import RTCDataChannel, RTCDataChannelParameters

class FakeDtls:
    def __init__(self):
        self.state = "connected"
        self._role = "server"
        self.receiver = None
    def _register_data_receiver(self, r):
        self.receiver = r
    def _unregister_data_receiver(self, r):
        self.receiver = None
    async def _send_data(self, data):
        sys.stdout.buffer.write(struct.pack("!I", len(data)) + data)
        sys.stdout.buffer.flush()

async def main():
    loop = asyncio.get_event_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    sctp = RTCSctpTransport(FakeDtls())
    ch = RTCDataChannel(sctp, RTCDataChannelParameters(label="echo", negotiated=True, id=1))
    pr = RTCDataChannel(sctp, RTCDataChannelParameters(label="pr", negotiated=True, id=3, maxRetransmits=0))
    pr.on("message", lambda m: pr.send(m))
    @ch.on("message")
    def on_message(m):
        if m == "bye":
            ch.close()
        else:
            ch.send(m)
    await sctp.start(RTCSctpCapabilities(maxMessageSize=262144), 5000)
    while True:
        try:
            hdr = await reader.readexactly(4)
            data = await reader.readexactly(struct.unpack("!I", hdr)[0])
        except asyncio.IncompleteReadError:
            return
        await sctp._handle_data(data)

asyncio.run(main())
"#;

/// Echo of 200 messages up to 60 KB, a partially reliable stream, stream reset, shutdown.
#[test]
fn interop_aiortc() {
    interop_aiortc_with_loss(0);
}

/// Same with 3 % of the packets dropped in each direction (retransmissions, SACK gaps).
#[test]
fn interop_aiortc_lossy() {
    interop_aiortc_with_loss(30);
}

fn interop_aiortc_with_loss(loss_per_mille: u64) {
    let mut child = Command::new("python3")
        .args(["-c", AIORTC_ECHO])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with aiortc");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || loop {
        let mut hdr = [0u8; 4];
        if stdout.read_exact(&mut hdr).is_err() {
            return;
        }
        let mut buf = vec![0u8; u32::from_be_bytes(hdr) as usize];
        if stdout.read_exact(&mut buf).is_err() || tx.send(buf).is_err() {
            return;
        }
    });
    // A wall clock is fine in a test: the peer runs in real time.
    let start = std::time::Instant::now();
    let clock = || Time::from_micros(start.elapsed().as_micros() as u64);
    let mut a = Association::new(SctpConfig::default(), Rng::seeded(3));
    a.connect(clock());
    let mut events = Vec::new();
    let mut sent: Vec<Vec<u8>> = Vec::new();
    let mut echoed: Vec<Vec<u8>> = Vec::new();
    let mut pr_echoed: Vec<Vec<u8>> = Vec::new();
    let pr = SendOptions {
        max_retransmits: Some(0),
        ..Default::default()
    };
    let mut phase = 0;
    let mut loss = Rng::seeded(5);
    loop {
        let now = clock();
        assert!(
            now.as_millis() < 120_000,
            "interop timed out in phase {phase}: {:?} {events:?}",
            a.stats()
        );
        while let Some(p) = a.poll_transmit(now) {
            if phase == 1 && loss.below(1000) < loss_per_mille {
                continue;
            }
            stdin.write_all(&(p.len() as u32).to_be_bytes()).unwrap();
            stdin.write_all(&p).unwrap();
        }
        stdin.flush().unwrap();
        while let Some(e) = a.poll_event() {
            match e {
                SctpEvent::Message {
                    stream: 1,
                    ppid: 53,
                    data,
                } => echoed.push(data),
                SctpEvent::Message {
                    stream: 3,
                    ppid: 53,
                    data,
                } => pr_echoed.push(data),
                other => events.push(other),
            }
        }
        match phase {
            0 if a.is_established() => {
                let mut rng = Rng::seeded(4);
                for i in 0..200u32 {
                    let m = message(i, 1 + rng.below(60_000) as usize);
                    a.send(now, 1, 53, &m, SendOptions::default()).unwrap();
                    a.send(now, 3, 53, &m[..m.len().min(3000)], pr).unwrap();
                    sent.push(m);
                }
                phase = 1;
            }
            1 if echoed.len() == sent.len() && a.buffered_amount(3) == 0 => {
                assert!(echoed == sent, "echoes differ");
                let ids: Vec<u32> = pr_echoed
                    .iter()
                    .map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]))
                    .collect();
                assert!(
                    ids.windows(2).all(|w| w[0] < w[1]),
                    "partially reliable echoes stay ordered"
                );
                for d in &pr_echoed {
                    let id = u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize;
                    assert!(d[..] == sent[id][..sent[id].len().min(3000)]);
                }
                eprintln!(
                    "partially reliable: {} of {} echoed",
                    pr_echoed.len(),
                    sent.len()
                );
                a.send(now, 1, 51, b"bye", SendOptions::default()).unwrap();
                phase = 2;
            }
            2 if events.contains(&SctpEvent::IncomingStreamReset { stream: 1 }) => {
                a.reset_stream(now, 1);
                phase = 3;
            }
            3 if events.contains(&SctpEvent::OutgoingStreamReset { stream: 1 }) => {
                a.shutdown(now);
                phase = 4;
            }
            4 if events.contains(&SctpEvent::Closed) => break,
            _ => {}
        }
        let wait = a
            .poll_timeout()
            .map(|t| t - clock())
            .unwrap_or(Duration::from_millis(50))
            .min(Duration::from_millis(50));
        if let Ok(pkt) = rx.recv_timeout(wait) {
            let mut pkts = vec![pkt];
            pkts.extend(rx.try_iter());
            for pkt in pkts {
                if phase == 1 && loss.below(1000) < loss_per_mille {
                    continue;
                }
                a.handle_packet(clock(), &pkt);
            }
        }
        a.handle_timeout(clock());
    }
    eprintln!(
        "aiortc interop ok: {} messages echoed, stats {:?}",
        sent.len(),
        a.stats()
    );
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
}

/// A message whose first four bytes are its index `id`.
fn message(id: u32, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(&id.to_be_bytes());
    while v.len() < len {
        v.push((v.len() as u32 ^ id) as u8);
    }
    v.truncate(len.max(4));
    v
}

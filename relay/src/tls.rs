//! TLS for the socket host (`wss:` and `turns:`), with rustls: the host's connection
//! threads read and write a [`Stream`], plain TCP or TLS over it, the same way.
//!
//! A TLS stream is shared by the connection's reader and writer threads: the rustls state
//! sits behind a mutex held only to feed it bytes or take bytes out (and to write those
//! bytes to the socket, so records leave in the order they were made); the blocking socket
//! read happens outside it.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection};

/// Loads a PEM certificate chain and private key (PKCS#8, PKCS#1 or SEC1).
pub fn load_config(cert: &Path, key: &Path) -> io::Result<Arc<ServerConfig>> {
    let bad = |what: &str, e: &dyn std::fmt::Display| io::Error::new(io::ErrorKind::InvalidData, format!("{what}: {e}"));
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(&cert.display().to_string(), &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&cert.display().to_string(), &e))?;
    if chain.is_empty() {
        return Err(bad(&cert.display().to_string(), &"no certificate"));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(&key.display().to_string(), &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("TLS versions", &e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| bad("certificate and key", &e))?;
    Ok(Arc::new(config))
}

/// A client connection's byte stream.
pub enum Stream {
    Plain(TcpStream),
    Tls(TlsStream),
}

impl Stream {
    pub fn try_clone(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Plain(s) => Stream::Plain(s.try_clone()?),
            Stream::Tls(t) => Stream::Tls(TlsStream { tcp: t.tcp.try_clone()?, conn: t.conn.clone() }),
        })
    }

    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.shutdown(how),
            Stream::Tls(t) => t.tcp.shutdown(how),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(t) => t.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(t) => t.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(t) => t.flush(),
        }
    }
}

/// A server-side TLS connection over a TCP stream (the socket's read timeout applies).
pub struct TlsStream {
    tcp: TcpStream,
    conn: Arc<Mutex<ServerConnection>>,
}

impl TlsStream {
    /// Starts the server side; `first` is what was already read from the socket (sniffed).
    pub fn accept(tcp: TcpStream, config: Arc<ServerConfig>, first: &[u8]) -> io::Result<TlsStream> {
        let mut conn = ServerConnection::new(config).map_err(io::Error::other)?;
        let mut rd = first;
        if !rd.is_empty() {
            conn.read_tls(&mut rd)?;
        }
        let t = TlsStream { tcp, conn: Arc::new(Mutex::new(conn)) };
        t.process()?;
        while !rd.is_empty() {
            t.conn.lock().unwrap_or_else(|e| e.into_inner()).read_tls(&mut rd)?;
            t.process()?;
        }
        Ok(t)
    }

    /// Processes buffered records and sends what rustls wants sent (handshake, alerts).
    fn process(&self) -> io::Result<()> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let r = conn.process_new_packets();
        let mut tcp = &self.tcp;
        while conn.wants_write() {
            conn.write_tls(&mut tcp)?;
        }
        r.map(|_| ()).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut raw = [0u8; 16_384];
        loop {
            {
                let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
                match conn.reader().read(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    // The peer closed without close_notify: the stream ends.
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                    Err(e) => return Err(e),
                }
            }
            let n = self.tcp.read(&mut raw)?;
            if n == 0 {
                return Ok(0);
            }
            let mut rd = &raw[..n];
            while !rd.is_empty() {
                {
                    let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
                    conn.read_tls(&mut rd)?;
                }
                // Each chunk is processed before the next goes in, so rustls' buffer of
                // undecoded records never overflows.
                self.process()?;
            }
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let n = conn.writer().write(buf)?;
        let mut tcp = &self.tcp;
        while conn.wants_write() {
            conn.write_tls(&mut tcp)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

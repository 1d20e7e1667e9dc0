//! Fuzzing entry point for a DTLS server endpoint (`fuzz/fuzz_targets/dtls_server.rs`,
//! `tests/fuzz_corpus.rs`). The record/handshake codec helper is
//! [`super::wire::fuzz_round_trip`].
//!
//! Input: a script of steps for one server endpoint. A step starting with an even tag byte
//! is a datagram (`tag, u16 length, bytes`); an odd tag is a clock tick (`tag, u16
//! milliseconds`: the clock advances, then `handle_timeout`). [`fuzz_dtls_server_seed`]
//! records a real handshake in this form, so mutations start from a valid exchange.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use super::{DtlsConfig, DtlsConnection, DtlsEvent, DtlsRole};
use crate::fuzz_script::{push_datagram, push_tick, steps, Step, START};
use crate::crypto::{Certificate, Rng};
use crate::Time;



fn pair() -> Option<(DtlsConnection, DtlsConnection)> {
    let mut rng = Rng::seeded(0xd715);
    let client_cert = Arc::new(Certificate::generate(&mut rng, 1_700_000_000, 1_800_000_000).ok()?);
    let server_cert = Arc::new(Certificate::generate(&mut rng, 1_700_000_000, 1_800_000_000).ok()?);
    let client = DtlsConnection::new(
        DtlsRole::Client,
        client_cert.clone(),
        vec![server_cert.fingerprint()],
        DtlsConfig::default(),
        rng.fork(),
    );
    let server = DtlsConnection::new(
        DtlsRole::Server,
        server_cert,
        vec![client_cert.fingerprint()],
        DtlsConfig::default(),
        rng.fork(),
    );
    Some((client, server))
}

/// The server under test: applies one step, then drains it. Returns its datagrams.
struct Server {
    conn: DtlsConnection,
    now: Time,
    connected: bool,
    got_data: bool,
}

impl Server {
    fn apply(&mut self, step: Step<'_>) -> Vec<Vec<u8>> {
        match step {
            Step::Datagram { data: d, .. } => {
                let _ = self.conn.handle_datagram(self.now, d);
            }
            Step::Tick(ms) => {
                self.now += Duration::from_millis(u64::from(ms));
                self.conn.handle_timeout(self.now);
            }
        }
        while let Some(e) = self.conn.poll_event() {
            match e {
                DtlsEvent::Connected { .. } => {
                    self.connected = true;
                    let _ = self.conn.send(b"pong");
                }
                DtlsEvent::ApplicationData(d) => {
                    self.got_data = true;
                    let _ = self.conn.send(&d);
                }
                DtlsEvent::Closed | DtlsEvent::Failed(_) => {}
            }
        }
        let _ = self.conn.poll_timeout();
        let _ = self.conn.export_keying_material(b"EXTRACTOR-dtls_srtp", 60);
        core::iter::from_fn(|| self.conn.poll_transmit()).collect()
    }
}

fn server() -> Option<(DtlsConnection, Server)> {
    let (client, mut conn) = pair()?;
    conn.start(START);
    Some((client, Server { conn, now: START, connected: false, got_data: false }))
}

/// Feeds the step script in `data` to a fresh server endpoint. Returns whether the
/// handshake completed and application data arrived (the seed must reach that).
#[doc(hidden)]
pub fn fuzz_dtls_server(data: &[u8]) -> bool {
    let Some((_, mut server)) = server() else {
        return false;
    };
    for step in steps(data) {
        server.apply(step);
    }
    server.conn.close();
    while server.conn.poll_transmit().is_some() {}
    server.connected && server.got_data
}

/// Records a real client's side of a handshake, an application-data exchange and a
/// close_notify as a step script for [`fuzz_dtls_server`].
#[doc(hidden)]
pub fn fuzz_dtls_server_seed() -> Vec<u8> {
    let Some((mut client, mut server)) = server() else {
        return Vec::new();
    };
    client.start(START);
    let mut script = Vec::new();
    let mut to_server: VecDeque<Vec<u8>> = VecDeque::new();
    let (mut sent, mut done) = (false, false);
    for _ in 0..1000 {
        to_server.extend(core::iter::from_fn(|| client.poll_transmit()));
        while let Some(d) = to_server.pop_front() {
            push_datagram(&mut script, &d);
            for reply in server.apply(Step::Datagram { tag: 0, data: &d }) {
                let _ = client.handle_datagram(server.now, &reply);
            }
            while let Some(e) = client.poll_event() {
                match e {
                    DtlsEvent::Connected { .. } if !sent => {
                        sent = true;
                        let _ = client.send(b"ping");
                    }
                    DtlsEvent::ApplicationData(_) if server.got_data => done = true,
                    _ => {}
                }
            }
            to_server.extend(core::iter::from_fn(|| client.poll_transmit()));
        }
        if done {
            client.close();
            to_server.extend(core::iter::from_fn(|| client.poll_transmit()));
            if to_server.is_empty() {
                break;
            }
            continue;
        }
        let next = [client.poll_timeout(), server.conn.poll_timeout()].into_iter().flatten().min();
        let Some(next) = next else { break };
        let ms = push_tick(&mut script, server.now, next);
        for reply in server.apply(Step::Tick(ms)) {
            let _ = client.handle_datagram(server.now, &reply);
        }
        client.handle_timeout(server.now);
    }
    script
}

//! The DTLS 1.2 connection: handshake state machine, flights and retransmission
//! (RFC 6347 §4.2.4), reassembly (§4.2.3), record layer epochs and alerts.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use crate::crypto::{
    ct_eq, hmac_sha256, parse_peer_public_key, prf, signature_scheme, Certificate, EphemeralKey, Fingerprint,
    KeyExchangeGroup, PeerPublicKey, Rng,
};
use crate::time::Time;

use super::error::{AlertDescription, DtlsError};
use super::flight::{pack_flight, FlightItem, Partial};
use super::record::{CipherSuite, RecordCipher, RecordWriter, ReplayWindow};
use super::wire::{
    self, content_type, encode_handshake, handshake_type as ht, CertificateMsg, CertificateRequest,
    CertificateVerify, ClientHello, ClientKeyExchange, Extensions, HandshakeHeader, HelloVerifyRequest,
    Reader, RecordHeader, ServerHello, ServerKeyExchange, CERT_TYPE_ECDSA_SIGN, CERT_TYPE_RSA_SIGN, DTLS_1_0, DTLS_1_2,
    RECORD_HEADER_LEN,
};
use super::{DtlsConfig, DtlsEvent, DtlsRole, DtlsStats};

/// Largest application_data payload per record (RFC 5246 §6.2.1: 2^14).
pub const MAX_APPLICATION_DATA: usize = 16384;
/// How many message_seq values ahead of the next expected one we buffer.
pub const MAX_BUFFERED_MESSAGES: u16 = 8;
/// Most disjoint fragment ranges we track for one message being reassembled.
pub const MAX_FRAGMENT_RANGES: usize = 64;
/// Most events queued for the application before the oldest data is dropped.
pub const MAX_QUEUED_EVENTS: usize = 4096;
/// Application records held while the peer's Finished is still missing.
pub const MAX_EARLY_DATA_RECORDS: usize = 16;
/// Longest keying material `export_keying_material` produces.
pub const MAX_EXPORT_LEN: usize = 1024;

const VERIFY_DATA_LEN: usize = 12;
/// RFC 5746 §3.3 signalling cipher suite value.
const EMPTY_RENEGOTIATION_INFO_SCSV: u16 = 0x00ff;
const FINISHED_EPOCH: u16 = 1;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum State {
    ClientStart,
    ClientExpectServerHello,
    ClientExpectCertificate,
    ClientExpectServerKeyExchange,
    ClientExpectCertificateRequestOrDone,
    ClientExpectServerHelloDone,
    ServerExpectClientHello,
    ServerExpectCertificate,
    ServerExpectClientKeyExchange,
    ServerExpectCertificateVerify,
    ExpectChangeCipherSpec,
    ExpectFinished,
    /// Handshake done, but the remote fingerprints are not known yet (the remote
    /// description has not arrived): nothing is delivered or sent until they are.
    AwaitingFingerprint,
    Connected,
    Closed,
    Failed,
}

impl State {
    /// States that consume the next handshake message from the reassembly buffer.
    fn takes_handshake(self) -> bool {
        !matches!(
            self,
            State::ClientStart
                | State::ExpectChangeCipherSpec
                | State::AwaitingFingerprint
                | State::Connected
                | State::Closed
                | State::Failed
        )
    }
}

/// Handshake secrets and negotiated parameters.
struct Handshake {
    client_random: [u8; 32],
    server_random: [u8; 32],
    suite: Option<CipherSuite>,
    group: Option<KeyExchangeGroup>,
    ephemeral: Option<EphemeralKey>,
    pre_master: Option<Vec<u8>>,
    peer_public_key: Option<PeerPublicKey>,
    peer_certificate: Option<Vec<u8>>,
    certificate_requested: bool,
    /// Client: the scheme our CertificateVerify uses (one the CertificateRequest listed).
    verify_scheme: Option<u16>,
    srtp_profile: Option<u16>,
    /// All handshake messages so far, as RFC 6347 §4.2.6 hashes them.
    transcript: Vec<u8>,
    /// Our ephemeral public value for the ClientKeyExchange (client).
    client_public: Vec<u8>,
    /// Our ClientHello (client) to resend with a cookie.
    client_hello: Option<ClientHello>,
    /// Server: the message_seq and body of the ClientHello this handshake started from; only
    /// a copy of it is a retransmission (any other ClientHello is ignored).
    accepted_client_hello: Option<(u16, Vec<u8>)>,
    /// The last plaintext fatal alert ignored during the handshake: reported as the cause
    /// if the handshake then times out.
    ignored_alert: Option<AlertDescription>,
}

/// A DTLS 1.2 client or server. See the module docs for the drive loop.
pub struct DtlsConnection {
    role: DtlsRole,
    certificate: Arc<Certificate>,
    remote_fingerprints: Vec<Fingerprint>,
    config: DtlsConfig,
    rng: Rng,
    state: State,
    hs: Handshake,
    master_secret: Option<[u8; 48]>,
    cookie_secret: [u8; 32],

    // record layer
    write_epoch: u16,
    writer: RecordWriter,
    /// Epoch-1 read keys, installed once derived (before the peer's CCS arrives).
    read_cipher: Option<RecordCipher>,
    /// Set when the peer's ChangeCipherSpec was processed.
    read_epoch_active: bool,
    replay: ReplayWindow,
    scratch: Vec<u8>,

    // handshake messages
    next_send_seq: u16,
    next_recv_seq: u16,
    reassembly: BTreeMap<u16, Partial>,
    flight: Vec<FlightItem>,

    // timers
    started_at: Option<Time>,
    retransmit_at: Option<Time>,
    rto: Duration,

    // outputs
    transmits: VecDeque<Vec<u8>>,
    events: VecDeque<DtlsEvent>,
    close_sent: bool,
    early_data: Vec<Vec<u8>>,
    /// When the current flight was last (re)sent.
    flight_sent_at: Option<Time>,
    stats: DtlsStats,
}

impl core::fmt::Debug for DtlsConnection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DtlsConnection")
            .field("role", &self.role)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl DtlsConnection {
    pub fn new(
        role: DtlsRole,
        certificate: Arc<Certificate>,
        remote_fingerprints: Vec<Fingerprint>,
        config: DtlsConfig,
        mut rng: Rng,
    ) -> DtlsConnection {
        let mut cookie_secret = [0u8; 32];
        rng.fill(&mut cookie_secret);
        let rto = config.initial_retransmit;
        DtlsConnection {
            role,
            certificate,
            remote_fingerprints,
            config,
            rng,
            state: match role {
                DtlsRole::Client => State::ClientStart,
                DtlsRole::Server => State::ServerExpectClientHello,
            },
            hs: Handshake {
                client_random: [0; 32],
                server_random: [0; 32],
                suite: None,
                group: None,
                ephemeral: None,
                pre_master: None,
                peer_public_key: None,
                peer_certificate: None,
                certificate_requested: false,
                verify_scheme: None,
                srtp_profile: None,
                transcript: Vec::new(),
                client_hello: None,
                accepted_client_hello: None,
                ignored_alert: None,
                client_public: Vec::new(),
            },
            master_secret: None,
            cookie_secret,
            write_epoch: 0,
            writer: RecordWriter::default(),
            read_cipher: None,
            read_epoch_active: false,
            replay: ReplayWindow::default(),
            scratch: Vec::new(),
            next_send_seq: 0,
            next_recv_seq: 0,
            reassembly: BTreeMap::new(),
            flight: Vec::new(),
            started_at: None,
            retransmit_at: None,
            rto,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            close_sent: false,
            early_data: Vec::new(),
            flight_sent_at: None,
            stats: DtlsStats::default(),
        }
    }

    /// Client: sends the first ClientHello. Server: starts the handshake clock only.
    pub fn start(&mut self, now: Time) {
        if self.state != State::ClientStart {
            return;
        }
        self.started_at = Some(now);
        let mut random = [0u8; 32];
        self.rng.fill(&mut random);
        self.hs.client_random = random;
        let ch = ClientHello {
            version: DTLS_1_2,
            random,
            session_id: Vec::new(),
            cookie: Vec::new(),
            cipher_suites: self.config.cipher_suites.iter().map(|s| s.0).collect(),
            compression_methods: vec![0],
            extensions: Extensions {
                supported_groups: Some(self.config.groups.iter().map(|g| g.iana()).collect()),
                ec_point_formats: Some(vec![0]),
                signature_algorithms: Some(signature_scheme::VERIFIABLE.to_vec()),
                use_srtp: if self.config.srtp_profiles.is_empty() {
                    None
                } else {
                    Some((self.config.srtp_profiles.clone(), Vec::new()))
                },
                extended_master_secret: true,
                renegotiation_info: Some(Vec::new()),
                unknown: Vec::new(),
            },
        };
        let mut body = Vec::with_capacity(256);
        ch.encode(&mut body);
        self.hs.client_hello = Some(ch);
        self.flight.clear();
        self.push_handshake(0, ht::CLIENT_HELLO, body);
        self.state = State::ClientExpectServerHello;
        self.transmit_flight(now, true);
    }

    /// Sets (replaces) the fingerprints from the remote description. When the handshake
    /// already finished without them, the peer certificate is checked now: `Connected` or
    /// `Failed(FingerprintMismatch)` follows. `Err` only when the connection just failed.
    pub fn set_remote_fingerprints(&mut self, fingerprints: Vec<Fingerprint>) -> Result<(), DtlsError> {
        self.remote_fingerprints = fingerprints;
        if self.state == State::AwaitingFingerprint {
            if let Err(e) = self.check_fingerprint_and_connect() {
                self.fail(e.clone());
                return Err(e);
            }
        }
        Ok(())
    }

    /// In `AwaitingFingerprint`: connects if the peer certificate matches, fails if it
    /// does not, waits if no fingerprint is known.
    fn check_fingerprint_and_connect(&mut self) -> Result<(), DtlsError> {
        if self.remote_fingerprints.is_empty() {
            return Ok(());
        }
        let cert = self.hs.peer_certificate.clone().unwrap_or_default();
        if !self.remote_fingerprints.iter().any(|f| f.matches(&cert)) {
            return Err(DtlsError::FingerprintMismatch);
        }
        self.state = State::Connected;
        self.events.push_back(DtlsEvent::Connected { srtp_profile: self.hs.srtp_profile, peer_certificate: cert });
        for d in core::mem::take(&mut self.early_data) {
            self.stats.application_records_received += 1;
            self.events.push_back(DtlsEvent::ApplicationData(d));
        }
        Ok(())
    }

    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// The cipher suite the handshake settled on (once the ServerHello was sent or read).
    pub fn cipher_suite(&self) -> Option<CipherSuite> {
        self.hs.suite
    }

    pub fn stats(&self) -> DtlsStats {
        self.stats.clone()
    }

    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<DtlsEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        if self.is_handshaking() {
            let deadline = self.started_at.map(|t| t + self.config.handshake_timeout);
            match (self.retransmit_at, deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        } else {
            None
        }
    }

    fn is_handshaking(&self) -> bool {
        !matches!(self.state, State::Connected | State::Closed | State::Failed | State::ClientStart)
    }

    pub fn handle_timeout(&mut self, now: Time) {
        if !self.is_handshaking() {
            return;
        }
        if let Some(start) = self.started_at {
            if now >= start + self.config.handshake_timeout {
                let err = self.hs.ignored_alert.map_or(DtlsError::HandshakeTimeout, DtlsError::PeerAlert);
                self.fail(err);
                return;
            }
        }
        if let Some(at) = self.retransmit_at {
            if now >= at {
                self.rto = (self.rto * 2).min(self.config.max_retransmit);
                self.stats.retransmissions += 1;
                self.transmit_flight(now, true);
            }
        }
    }

    /// Sends one application_data record as one datagram.
    pub fn send(&mut self, data: &[u8]) -> Result<(), DtlsError> {
        if self.state != State::Connected {
            return Err(DtlsError::NotConnected);
        }
        if data.len() > MAX_APPLICATION_DATA {
            return Err(DtlsError::MessageTooLarge);
        }
        let mut out = Vec::with_capacity(RECORD_HEADER_LEN + data.len() + 24);
        self.write_record(&mut out, content_type::APPLICATION_DATA, 1, &[data])?;
        self.transmits.push_back(out);
        self.stats.application_records_sent += 1;
        Ok(())
    }

    /// Sends close_notify and closes (event `Closed`).
    pub fn close(&mut self) {
        match self.state {
            State::Closed | State::Failed => {}
            _ => {
                if self.started_at.is_some() {
                    self.send_alert(1, AlertDescription::CLOSE_NOTIFY);
                }
                self.state = State::Closed;
                self.retransmit_at = None;
                self.events.push_back(DtlsEvent::Closed);
            }
        }
    }

    /// RFC 5705 exporter (no context): `PRF(master_secret, label, client_random + server_random)`.
    pub fn export_keying_material(&self, label: &[u8], len: usize) -> Result<Vec<u8>, DtlsError> {
        if self.state != State::Connected {
            return Err(DtlsError::NotConnected);
        }
        const RESERVED: [&[u8]; 5] =
            [b"client finished", b"server finished", b"master secret", b"key expansion", b"extended master secret"];
        if len > MAX_EXPORT_LEN || RESERVED.contains(&label) {
            return Err(DtlsError::InvalidExport);
        }
        let (Some(master), Some(suite)) = (self.master_secret.as_ref(), self.hs.suite) else {
            return Err(DtlsError::NotConnected);
        };
        let mut seed = [0u8; 64];
        seed[..32].copy_from_slice(&self.hs.client_random);
        seed[32..].copy_from_slice(&self.hs.server_random);
        let mut out = vec![0u8; len];
        prf(suite.prf_hash(), master, label, &seed, &mut out);
        Ok(out)
    }

    /// Handles one datagram (one or more records). `Err` only when the connection just failed.
    pub fn handle_datagram(&mut self, now: Time, data: &[u8]) -> Result<(), DtlsError> {
        if matches!(self.state, State::Closed | State::Failed) {
            return Ok(());
        }
        let mut r = Reader::new(data);
        let mut peer_retransmitted = false;
        while !r.is_empty() {
            let (header, fragment) = match RecordHeader::decode(&mut r) {
                Ok(x) => x,
                Err(_) => {
                    self.stats.records_malformed += 1;
                    break;
                }
            };
            if let Err(e) = self.handle_record(now, header, fragment, &mut peer_retransmitted) {
                self.fail(e.clone());
                return Err(e);
            }
            if matches!(self.state, State::Closed | State::Failed) {
                return Ok(());
            }
        }
        // RFC 6347 §4.2.4: the peer retransmitted its previous flight, so ours was lost.
        // Answer at most once per quarter of the initial timeout (a flight spans datagrams).
        let recently = self
            .flight_sent_at
            .is_some_and(|t| now < t + self.config.initial_retransmit / 4);
        if peer_retransmitted && !self.flight.is_empty() && !recently {
            let timer = self.retransmit_at.is_some();
            self.stats.retransmissions += 1;
            self.transmit_flight(now, timer);
        }
        Ok(())
    }

    fn handle_record(
        &mut self,
        now: Time,
        header: RecordHeader,
        fragment: &[u8],
        peer_retransmitted: &mut bool,
    ) -> Result<(), DtlsError> {
        if header.version != DTLS_1_2 && header.version != DTLS_1_0 {
            self.stats.records_malformed += 1;
            return Ok(());
        }
        let mut scratch = core::mem::take(&mut self.scratch);
        let result = self.handle_record_inner(now, header, fragment, &mut scratch, peer_retransmitted);
        self.scratch = scratch;
        result
    }

    fn handle_record_inner(
        &mut self,
        now: Time,
        header: RecordHeader,
        fragment: &[u8],
        scratch: &mut Vec<u8>,
        peer_retransmitted: &mut bool,
    ) -> Result<(), DtlsError> {
        let plaintext: &[u8] = match header.epoch {
            0 => fragment,
            1 => {
                let Some(cipher) = self.read_cipher.as_ref() else {
                    self.stats.records_wrong_epoch += 1;
                    return Ok(());
                };
                if !self.replay.check(header.sequence) {
                    self.stats.records_replayed += 1;
                    return Ok(());
                }
                let n = match cipher.open_record(&header, fragment, scratch) {
                    Ok(n) => n,
                    Err(_) => {
                        self.stats.records_auth_failed += 1;
                        return Ok(());
                    }
                };
                self.replay.update(header.sequence);
                scratch.get(..n).unwrap_or(&[])
            }
            _ => {
                self.stats.records_wrong_epoch += 1;
                return Ok(());
            }
        };
        self.stats.records_received += 1;
        match header.content_type {
            content_type::HANDSHAKE => self.handle_handshake_record(now, header.epoch, plaintext, peer_retransmitted),
            content_type::CHANGE_CIPHER_SPEC => {
                if header.epoch != 0 || plaintext != [1] {
                    self.stats.records_malformed += 1;
                    return Ok(());
                }
                if self.state == State::ExpectChangeCipherSpec && self.read_cipher.is_some() {
                    self.read_epoch_active = true;
                    self.state = State::ExpectFinished;
                    self.process_pending(now)
                } else {
                    // Early (reordered) or retransmitted CCS: never a state change.
                    self.stats.records_unexpected += 1;
                    Ok(())
                }
            }
            content_type::ALERT => {
                let Ok((level, desc)) = wire::decode_alert(plaintext) else {
                    self.stats.records_malformed += 1;
                    return Ok(());
                };
                let desc = AlertDescription(desc);
                if header.epoch == 0 {
                    // A plaintext alert carries no MAC: anyone who can put a datagram on
                    // the path can forge one (15 bytes), and RFC 6347 §4.1.2.7 lets DTLS
                    // discard invalid records instead of failing, as its datagrams may be
                    // forged or replayed (§4.2.1's concern for the handshake too). So no
                    // unauthenticated alert ends the handshake or the connection (before
                    // the peer's ChangeCipherSpec nor after): a real peer that refuses us
                    // in plaintext just lets the handshake run into its timeout, reported
                    // then with the alert it sent. Browsers and Pion behave alike.
                    self.stats.alerts_unauthenticated += 1;
                    if level == 2 && self.is_handshaking() {
                        self.hs.ignored_alert = Some(desc);
                    }
                    return Ok(());
                }
                if desc == AlertDescription::CLOSE_NOTIFY {
                    if !self.close_sent {
                        self.send_alert(1, AlertDescription::CLOSE_NOTIFY);
                    }
                    self.state = State::Closed;
                    self.retransmit_at = None;
                    self.events.push_back(DtlsEvent::Closed);
                } else if level == 2 {
                    return Err(DtlsError::PeerAlert(desc));
                }
                Ok(())
            }
            content_type::APPLICATION_DATA => {
                if header.epoch == 1
                    && matches!(
                        self.state,
                        State::ExpectChangeCipherSpec | State::ExpectFinished | State::AwaitingFingerprint
                    )
                {
                    // Authenticated but ahead of the peer's Finished (reordering): hold a
                    // few, deliver them once connected.
                    if self.early_data.len() < MAX_EARLY_DATA_RECORDS {
                        self.early_data.push(plaintext.to_vec());
                    } else {
                        self.stats.records_unexpected += 1;
                    }
                } else if header.epoch == 1 && self.state == State::Connected {
                    if self.events.len() >= MAX_QUEUED_EVENTS {
                        self.stats.records_dropped_queue_full += 1;
                    } else {
                        self.stats.application_records_received += 1;
                        self.events.push_back(DtlsEvent::ApplicationData(plaintext.to_vec()));
                    }
                } else {
                    self.stats.records_unexpected += 1;
                }
                Ok(())
            }
            _ => {
                self.stats.records_unexpected += 1;
                Ok(())
            }
        }
    }

    fn handle_handshake_record(
        &mut self,
        now: Time,
        epoch: u16,
        plaintext: &[u8],
        peer_retransmitted: &mut bool,
    ) -> Result<(), DtlsError> {
        let mut r = Reader::new(plaintext);
        while !r.is_empty() {
            let (h, body) = match HandshakeHeader::decode(&mut r) {
                Ok(x) => x,
                Err(e) => {
                    if epoch == 0 {
                        // Unauthenticated garbage: drop the record.
                        self.stats.records_malformed += 1;
                        return Ok(());
                    }
                    return Err(e);
                }
            };
            if h.msg_type == ht::CLIENT_HELLO && !self.client_hello_fragment_wanted(epoch, &h, body, peer_retransmitted) {
                continue;
            }
            if self.state == State::ServerExpectClientHello
                && h.msg_type != ht::CLIENT_HELLO
                && h.message_seq > self.next_recv_seq
            {
                // A server without a handshake buffers nothing but a ClientHello: the
                // client sends its next flight only after our answer.
                self.stats.records_unexpected += 1;
                continue;
            }
            if h.message_seq < self.next_recv_seq {
                *peer_retransmitted = true;
                continue;
            }
            if matches!(self.state, State::AwaitingFingerprint | State::Connected | State::Closed | State::Failed) {
                // No renegotiation: ignore new handshake messages.
                self.stats.records_unexpected += 1;
                continue;
            }
            if h.message_seq - self.next_recv_seq >= MAX_BUFFERED_MESSAGES {
                self.stats.records_unexpected += 1;
                continue;
            }
            let length = usize::try_from(h.length).map_err(|_| DtlsError::Decode)?;
            let offset = usize::try_from(h.fragment_offset).map_err(|_| DtlsError::Decode)?;
            if h.msg_type == ht::CLIENT_HELLO && offset == 0 && body.len() == length {
                // A whole ClientHello supersedes an incomplete one at the same message_seq
                // (which may be a forged fragment that would never complete).
                if self.reassembly.get(&h.message_seq).is_some_and(|p| !p.complete()) {
                    self.reassembly.remove(&h.message_seq);
                }
            }
            let partial = self.reassembly.entry(h.message_seq).or_insert_with(|| Partial {
                msg_type: h.msg_type,
                epoch,
                data: vec![0u8; length],
                ranges: Vec::new(),
            });
            if partial.msg_type != h.msg_type || partial.data.len() != length || partial.epoch != epoch {
                // Two messages claim this message_seq; at most one is the peer's. The newer
                // replaces the older (an epoch-1 one is never replaced by an epoch-0 one), so
                // one corrupted or forged fragment cannot block every retransmission of the
                // real message until the handshake times out.
                self.stats.records_malformed += 1;
                if partial.epoch > epoch {
                    continue;
                }
                *partial = Partial { msg_type: h.msg_type, epoch, data: vec![0u8; length], ranges: Vec::new() };
            }
            if !partial.insert(offset, body) {
                self.stats.records_malformed += 1;
            }
        }
        self.process_pending(now)
    }

    /// Whether a ClientHello fragment goes to reassembly. Only a server waiting for one
    /// takes it, at the message_seq it expects or the next one (RFC 6347 §4.2.2: a client
    /// answering a HelloVerifyRequest sends message_seq 1, and the stateless server follows
    /// it); a ClientHello further ahead, which no client sends, never moves the expected
    /// sequence (it would make the server ignore the real one). Once a handshake started,
    /// only a copy of the ClientHello it started from counts (as a retransmission, so our
    /// flight goes again); any other is ignored, never a reason to fail.
    fn client_hello_fragment_wanted(
        &mut self,
        epoch: u16,
        h: &HandshakeHeader,
        body: &[u8],
        peer_retransmitted: &mut bool,
    ) -> bool {
        if epoch == 0 && self.role == DtlsRole::Server {
            if self.state == State::ServerExpectClientHello {
                if h.message_seq <= self.next_recv_seq.saturating_add(1) {
                    return true;
                }
            } else if let Some((seq, accepted)) = &self.hs.accepted_client_hello {
                let copy = h.message_seq == *seq
                    && usize::try_from(h.length).is_ok_and(|l| l == accepted.len())
                    && usize::try_from(h.fragment_offset)
                        .ok()
                        .and_then(|o| accepted.get(o..o.checked_add(body.len())?))
                        .is_some_and(|part| part == body);
                if copy {
                    *peer_retransmitted = true;
                    return false;
                }
            }
        }
        self.stats.client_hellos_ignored += 1;
        false
    }

    /// Feeds complete messages, in message_seq order, to the state machine.
    fn process_pending(&mut self, now: Time) -> Result<(), DtlsError> {
        while self.state.takes_handshake() {
            let base = self.next_recv_seq;
            let complete = |s: u16| self.reassembly.get(&s).is_some_and(|p| p.complete());
            let waiting_hello = self.state == State::ServerExpectClientHello;
            // A server waiting for a ClientHello also takes the next message_seq (the
            // ClientHello after a HelloVerifyRequest).
            let seq = if waiting_hello && !complete(base) && complete(base.wrapping_add(1)) {
                base.wrapping_add(1)
            } else {
                base
            };
            if !complete(seq) {
                break;
            }
            let Some(p) = self.reassembly.remove(&seq) else { break };
            if waiting_hello && p.msg_type == ht::CLIENT_HELLO && ClientHello::decode(&p.data).is_err() {
                // Unauthenticated garbage before any handshake state: dropped, and the
                // same message_seq is still expected.
                self.stats.records_malformed += 1;
                continue;
            }
            if seq != base {
                self.reassembly.remove(&base);
            }
            self.next_recv_seq = seq.wrapping_add(1);
            let expected_epoch = if p.msg_type == ht::FINISHED { FINISHED_EPOCH } else { 0 };
            if p.epoch != expected_epoch {
                return Err(DtlsError::UnexpectedMessage);
            }
            self.handle_message(now, p.msg_type, seq, &p.data)?;
        }
        Ok(())
    }

    fn append_transcript(&mut self, msg_type: u8, seq: u16, body: &[u8]) {
        encode_handshake(msg_type, seq, body, &mut self.hs.transcript);
    }

    fn transcript_hash(&self) -> Vec<u8> {
        let suite = self.hs.suite.unwrap_or(CipherSuite::ECDHE_ECDSA_AES_128_GCM_SHA256);
        suite.prf_hash().hash(&self.hs.transcript)
    }

    fn handle_message(&mut self, now: Time, msg_type: u8, seq: u16, body: &[u8]) -> Result<(), DtlsError> {
        match (self.state, msg_type) {
            (State::ClientExpectServerHello, ht::HELLO_VERIFY_REQUEST) => {
                let hvr = HelloVerifyRequest::decode(body)?;
                let Some(mut ch) = self.hs.client_hello.take() else {
                    return Err(DtlsError::UnexpectedMessage);
                };
                if !ch.cookie.is_empty() {
                    return Err(DtlsError::UnexpectedMessage); // a second HelloVerifyRequest
                }
                if hvr.cookie.is_empty() {
                    return Err(DtlsError::IllegalParameter);
                }
                ch.cookie = hvr.cookie;
                let mut b = Vec::with_capacity(256);
                ch.encode(&mut b);
                self.hs.client_hello = Some(ch);
                // RFC 6347 §4.2.6: the first ClientHello and the HelloVerifyRequest are not hashed.
                self.hs.transcript.clear();
                self.flight.clear();
                self.push_handshake(0, ht::CLIENT_HELLO, b);
                self.rto = self.config.initial_retransmit;
                self.transmit_flight(now, true);
                Ok(())
            }
            (State::ClientExpectServerHello, ht::SERVER_HELLO) => {
                let sh = ServerHello::decode(body)?;
                if sh.version != DTLS_1_2 {
                    return Err(DtlsError::ProtocolVersion);
                }
                let suite = CipherSuite(sh.cipher_suite);
                if !self.config.cipher_suites.contains(&suite) || sh.compression_method != 0 {
                    return Err(DtlsError::IllegalParameter);
                }
                if !sh.extensions.extended_master_secret {
                    return Err(DtlsError::HandshakeFailure);
                }
                if let Some(ri) = &sh.extensions.renegotiation_info {
                    if !ri.is_empty() {
                        return Err(DtlsError::HandshakeFailure);
                    }
                }
                self.hs.srtp_profile = match &sh.extensions.use_srtp {
                    Some((profiles, _mki)) => match profiles.as_slice() {
                        [p] if self.config.srtp_profiles.contains(p) => Some(*p),
                        _ => return Err(DtlsError::IllegalParameter),
                    },
                    None => None,
                };
                self.hs.server_random = sh.random;
                self.hs.suite = Some(suite);
                self.append_transcript(msg_type, seq, body);
                self.state = State::ClientExpectCertificate;
                Ok(())
            }
            (State::ClientExpectCertificate, ht::CERTIFICATE) | (State::ServerExpectCertificate, ht::CERTIFICATE) => {
                let msg = CertificateMsg::decode(body)?;
                let Some(leaf) = msg.certificates.first() else {
                    return Err(DtlsError::NoCertificate);
                };
                // Check the SDP fingerprint before anything else uses the certificate
                // (deferred to `set_remote_fingerprints` when none are known yet).
                if !self.remote_fingerprints.is_empty() && !self.remote_fingerprints.iter().any(|f| f.matches(leaf)) {
                    return Err(DtlsError::FingerprintMismatch);
                }
                let pk = parse_peer_public_key(leaf)?;
                self.hs.peer_public_key = Some(pk);
                self.hs.peer_certificate = Some(leaf.clone());
                self.append_transcript(msg_type, seq, body);
                self.state = if self.role == DtlsRole::Client {
                    State::ClientExpectServerKeyExchange
                } else {
                    State::ServerExpectClientKeyExchange
                };
                Ok(())
            }
            (State::ClientExpectServerKeyExchange, ht::SERVER_KEY_EXCHANGE) => {
                let ske = ServerKeyExchange::decode(body)?;
                let group = KeyExchangeGroup::from_iana(ske.named_group)
                    .filter(|g| self.config.groups.contains(g))
                    .ok_or(DtlsError::IllegalParameter)?;
                let pk = self.hs.peer_public_key.as_ref().ok_or(DtlsError::UnexpectedMessage)?;
                // The server's key must fit the suite it chose (ECDHE_RSA or ECDHE_ECDSA), and
                // sign with a scheme we offered that the key can use.
                let suite_is_rsa = self.hs.suite.is_some_and(|s| s.is_rsa());
                if pk.is_rsa() != suite_is_rsa {
                    return Err(DtlsError::PeerIncompatible);
                }
                if !signature_scheme::VERIFIABLE.contains(&ske.signature_scheme) || !pk.supports(ske.signature_scheme) {
                    return Err(DtlsError::IllegalParameter);
                }
                let mut signed = Vec::with_capacity(64 + 70);
                signed.extend_from_slice(&self.hs.client_random);
                signed.extend_from_slice(&self.hs.server_random);
                signed.extend_from_slice(&ske.params());
                pk.verify(ske.signature_scheme, &signed, &ske.signature)?;
                let eph = EphemeralKey::generate(group, &mut self.rng);
                let ours = eph.public().to_vec();
                self.hs.pre_master = Some(eph.agree(&ske.public)?);
                // Keep our public value for the ClientKeyExchange.
                self.hs.ephemeral = None;
                self.hs.group = Some(group);
                self.hs.client_public = ours;
                self.append_transcript(msg_type, seq, body);
                self.state = State::ClientExpectCertificateRequestOrDone;
                Ok(())
            }
            (State::ClientExpectCertificateRequestOrDone, ht::CERTIFICATE_REQUEST) => {
                let cr = CertificateRequest::decode(body)?;
                // The server must accept our certificate's type and a scheme our key signs with.
                let key = self.certificate.signing_key();
                let cert_type = if key.is_rsa() { CERT_TYPE_RSA_SIGN } else { CERT_TYPE_ECDSA_SIGN };
                if !cr.certificate_types.contains(&cert_type) {
                    return Err(DtlsError::HandshakeFailure);
                }
                let scheme = key
                    .signature_schemes()
                    .iter()
                    .copied()
                    .find(|s| cr.signature_schemes.contains(s))
                    .ok_or(DtlsError::HandshakeFailure)?;
                self.hs.certificate_requested = true;
                self.hs.verify_scheme = Some(scheme);
                self.append_transcript(msg_type, seq, body);
                self.state = State::ClientExpectServerHelloDone;
                Ok(())
            }
            (State::ClientExpectCertificateRequestOrDone, ht::SERVER_HELLO_DONE)
            | (State::ClientExpectServerHelloDone, ht::SERVER_HELLO_DONE) => {
                if !body.is_empty() {
                    return Err(DtlsError::Decode);
                }
                self.append_transcript(msg_type, seq, body);
                self.send_client_final_flight(now)
            }
            (State::ServerExpectClientHello, ht::CLIENT_HELLO) => {
                let ch = ClientHello::decode(body)?;
                self.handle_client_hello(now, seq, ch, body)
            }
            (State::ServerExpectClientKeyExchange, ht::CLIENT_KEY_EXCHANGE) => {
                let cke = ClientKeyExchange::decode(body)?;
                let eph = self.hs.ephemeral.take().ok_or(DtlsError::UnexpectedMessage)?;
                self.hs.pre_master = Some(eph.agree(&cke.public)?);
                self.append_transcript(msg_type, seq, body);
                self.derive_keys()?;
                self.state = State::ServerExpectCertificateVerify;
                Ok(())
            }
            (State::ServerExpectCertificateVerify, ht::CERTIFICATE_VERIFY) => {
                let cv = CertificateVerify::decode(body)?;
                let pk = self.hs.peer_public_key.as_ref().ok_or(DtlsError::UnexpectedMessage)?;
                // A scheme from our CertificateRequest that the client's key can use.
                if !signature_scheme::VERIFIABLE.contains(&cv.signature_scheme) || !pk.supports(cv.signature_scheme) {
                    return Err(DtlsError::IllegalParameter);
                }
                pk.verify(cv.signature_scheme, &self.hs.transcript, &cv.signature)?;
                self.append_transcript(msg_type, seq, body);
                self.state = State::ExpectChangeCipherSpec;
                Ok(())
            }
            (State::ExpectFinished, ht::FINISHED) => {
                let expected = self.finished_data(self.role != DtlsRole::Client);
                if !ct_eq(&expected, body) {
                    return Err(DtlsError::BadFinished);
                }
                self.append_transcript(msg_type, seq, body);
                if self.role == DtlsRole::Server {
                    // Flight 6: ChangeCipherSpec, Finished.
                    let fin = self.finished_data(false).to_vec();
                    self.flight.clear();
                    self.flight.push(FlightItem::ChangeCipherSpec);
                    self.write_epoch = 1;
                    self.push_handshake(1, ht::FINISHED, fin);
                    // The last flight is not retransmitted on a timer, only when the
                    // client retransmits its own.
                    self.transmit_flight(now, false);
                } else {
                    self.flight.clear();
                }
                self.retransmit_at = None;
                self.reassembly.clear();
                self.state = State::AwaitingFingerprint;
                self.check_fingerprint_and_connect()
            }
            _ => Err(DtlsError::UnexpectedMessage),
        }
    }

    fn handle_client_hello(&mut self, now: Time, seq: u16, ch: ClientHello, body: &[u8]) -> Result<(), DtlsError> {
        // The server's handshake clock starts with the first well-formed ClientHello.
        self.started_at.get_or_insert(now);
        // DTLS versions count down: 1.2 is 0xfefd, 1.0 is 0xfeff.
        if ch.version > DTLS_1_2 {
            return Err(DtlsError::ProtocolVersion);
        }
        let mut params = ch.clone();
        params.cookie.clear();
        let mut encoded = Vec::with_capacity(body.len());
        params.encode(&mut encoded);
        let cookie = hmac_sha256(&self.cookie_secret, &[&encoded]);
        if self.config.require_cookie && !ct_eq(&ch.cookie, &cookie) {
            // Stateless HelloVerifyRequest (RFC 6347 §4.2.1), same message_seq as the ClientHello.
            let mut b = Vec::with_capacity(40);
            // RFC 6347 §4.2.1: a DTLS 1.2 server SHOULD put DTLS 1.0 in the HelloVerifyRequest.
            HelloVerifyRequest { version: DTLS_1_0, cookie: cookie.to_vec() }.encode(&mut b);
            self.flight.clear();
            self.flight.push(FlightItem::Handshake { epoch: 0, msg_type: ht::HELLO_VERIFY_REQUEST, seq, body: b });
            // Stateless: a ClientHello with this message_seq may come again.
            self.next_recv_seq = seq;
            self.transmit_flight(now, false);
            return Ok(());
        }
        let suite = self
            .config
            .cipher_suites
            .iter()
            .copied()
            // Only suites our certificate can authenticate: ECDHE_ECDSA with an ECDSA
            // certificate, ECDHE_RSA with an RSA one.
            .find(|s| s.is_rsa() == self.certificate.is_rsa() && ch.cipher_suites.contains(&s.0))
            .ok_or(DtlsError::HandshakeFailure)?;
        if !ch.extensions.extended_master_secret || !ch.compression_methods.contains(&0) {
            return Err(DtlsError::HandshakeFailure);
        }
        // The ServerKeyExchange scheme: the first our key signs with that the client lists
        // (RFC 5246 §7.4.1.4.1). Without the extension, our key's usual SHA-256 scheme.
        let our_schemes = self.certificate.signing_key().signature_schemes();
        let ske_scheme = match &ch.extensions.signature_algorithms {
            Some(schemes) => our_schemes.iter().copied().find(|s| schemes.contains(s)),
            None => our_schemes.first().copied(),
        }
        .ok_or(DtlsError::HandshakeFailure)?;
        let group = match &ch.extensions.supported_groups {
            Some(groups) => self
                .config
                .groups
                .iter()
                .copied()
                .find(|g| groups.contains(&g.iana()))
                .ok_or(DtlsError::HandshakeFailure)?,
            None => KeyExchangeGroup::P256,
        };
        if let Some(formats) = &ch.extensions.ec_point_formats {
            if !formats.contains(&0) {
                return Err(DtlsError::HandshakeFailure);
            }
        }
        self.hs.srtp_profile = ch.extensions.use_srtp.as_ref().and_then(|(offered, _)| {
            self.config.srtp_profiles.iter().copied().find(|p| offered.contains(p))
        });
        self.hs.client_random = ch.random;
        self.rng.fill(&mut self.hs.server_random);
        self.hs.suite = Some(suite);
        self.hs.group = Some(group);
        self.next_send_seq = seq;
        self.hs.transcript.clear();
        self.append_transcript(ht::CLIENT_HELLO, seq, body);
        self.hs.accepted_client_hello = Some((seq, body.to_vec()));
        // Other ClientHellos buffered meanwhile belong to no handshake.
        self.reassembly.retain(|_, p| p.msg_type != ht::CLIENT_HELLO);

        // Flight 4: ServerHello, Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone.
        self.flight.clear();
        let sh = ServerHello {
            version: DTLS_1_2,
            random: self.hs.server_random,
            session_id: Vec::new(),
            cipher_suite: suite.0,
            compression_method: 0,
            extensions: Extensions {
                supported_groups: None,
                ec_point_formats: ch.extensions.ec_point_formats.as_ref().map(|_| vec![0]),
                signature_algorithms: None,
                use_srtp: self.hs.srtp_profile.map(|p| (vec![p], Vec::new())),
                extended_master_secret: true,
                // RFC 5746 §3.6: answer the extension or TLS_EMPTY_RENEGOTIATION_INFO_SCSV.
                renegotiation_info: (ch.extensions.renegotiation_info.is_some()
                    || ch.cipher_suites.contains(&EMPTY_RENEGOTIATION_INFO_SCSV))
                .then(Vec::new),
                unknown: Vec::new(),
            },
        };
        let mut b = Vec::with_capacity(128);
        sh.encode(&mut b);
        self.push_handshake(0, ht::SERVER_HELLO, b);
        self.push_certificate();
        let eph = EphemeralKey::generate(group, &mut self.rng);
        let mut ske = ServerKeyExchange {
            named_group: group.iana(),
            public: eph.public().to_vec(),
            signature_scheme: ske_scheme,
            signature: Vec::new(),
        };
        self.hs.ephemeral = Some(eph);
        let mut signed = Vec::with_capacity(64 + 70);
        signed.extend_from_slice(&self.hs.client_random);
        signed.extend_from_slice(&self.hs.server_random);
        signed.extend_from_slice(&ske.params());
        ske.signature = self.certificate.signing_key().sign(&mut self.rng, ske_scheme, &signed).map_err(DtlsError::Crypto)?;
        let mut b = Vec::with_capacity(160);
        ske.encode(&mut b);
        self.push_handshake(0, ht::SERVER_KEY_EXCHANGE, b);
        let mut b = Vec::with_capacity(16);
        CertificateRequest {
            certificate_types: vec![CERT_TYPE_ECDSA_SIGN, CERT_TYPE_RSA_SIGN],
            signature_schemes: signature_scheme::VERIFIABLE.to_vec(),
            authorities: Vec::new(),
        }
        .encode(&mut b);
        self.push_handshake(0, ht::CERTIFICATE_REQUEST, b);
        self.push_handshake(0, ht::SERVER_HELLO_DONE, Vec::new());
        self.state = State::ServerExpectCertificate;
        self.rto = self.config.initial_retransmit;
        self.transmit_flight(now, true);
        Ok(())
    }

    fn push_certificate(&mut self) {
        let mut b = Vec::with_capacity(self.certificate.der().len() + 6);
        CertificateMsg { certificates: vec![self.certificate.der().to_vec()] }.encode(&mut b);
        self.push_handshake(0, ht::CERTIFICATE, b);
    }

    /// Flight 5: Certificate, ClientKeyExchange, CertificateVerify, ChangeCipherSpec, Finished.
    fn send_client_final_flight(&mut self, now: Time) -> Result<(), DtlsError> {
        self.flight.clear();
        if self.hs.certificate_requested {
            self.push_certificate();
        }
        let mut b = Vec::with_capacity(70);
        ClientKeyExchange { public: core::mem::take(&mut self.hs.client_public) }.encode(&mut b);
        self.push_handshake(0, ht::CLIENT_KEY_EXCHANGE, b);
        self.derive_keys()?;
        if self.hs.certificate_requested {
            let scheme = self.hs.verify_scheme.ok_or(DtlsError::UnexpectedMessage)?;
            let signature = self.certificate.signing_key().sign(&mut self.rng, scheme, &self.hs.transcript).map_err(DtlsError::Crypto)?;
            let mut b = Vec::with_capacity(signature.len() + 4);
            CertificateVerify { signature_scheme: scheme, signature }.encode(&mut b);
            self.push_handshake(0, ht::CERTIFICATE_VERIFY, b);
        }
        self.flight.push(FlightItem::ChangeCipherSpec);
        self.write_epoch = 1;
        let fin = self.finished_data(true).to_vec();
        self.push_handshake(1, ht::FINISHED, fin);
        self.state = State::ExpectChangeCipherSpec;
        self.rto = self.config.initial_retransmit;
        self.transmit_flight(now, true);
        Ok(())
    }

    /// RFC 7627 §4 master secret and RFC 5246 §6.3 key block; installs epoch-1 ciphers.
    fn derive_keys(&mut self) -> Result<(), DtlsError> {
        let suite = self.hs.suite.ok_or(DtlsError::UnexpectedMessage)?;
        let pre_master = self.hs.pre_master.take().ok_or(DtlsError::UnexpectedMessage)?;
        let session_hash = self.transcript_hash();
        let mut master = [0u8; 48];
        prf(suite.prf_hash(), &pre_master, b"extended master secret", &session_hash, &mut master);
        let key_len = suite.aead().map(|a| a.key_len()).ok_or(DtlsError::HandshakeFailure)?;
        let iv_len = suite.fixed_iv_len();
        let mut block = vec![0u8; 2 * key_len + 2 * iv_len];
        let mut seed = [0u8; 64];
        seed[..32].copy_from_slice(&self.hs.server_random);
        seed[32..].copy_from_slice(&self.hs.client_random);
        prf(suite.prf_hash(), &master, b"key expansion", &seed, &mut block);
        let (ck, rest) = block.split_at(key_len);
        let (sk, rest) = rest.split_at(key_len);
        let (civ, siv) = rest.split_at(iv_len);
        let client = RecordCipher::new(suite, ck, civ)?;
        let server = RecordCipher::new(suite, sk, siv)?;
        let (write, read) = match self.role {
            DtlsRole::Client => (client, server),
            DtlsRole::Server => (server, client),
        };
        self.writer.set_cipher(write, suite.overhead());
        self.read_cipher = Some(read);
        self.master_secret = Some(master);
        Ok(())
    }

    /// RFC 5246 §7.4.9 verify_data over the transcript so far.
    fn finished_data(&self, client: bool) -> [u8; VERIFY_DATA_LEN] {
        let mut out = [0u8; VERIFY_DATA_LEN];
        if let (Some(master), Some(suite)) = (self.master_secret.as_ref(), self.hs.suite) {
            let label: &[u8] = if client { b"client finished" } else { b"server finished" };
            prf(suite.prf_hash(), master, label, &self.transcript_hash(), &mut out);
        }
        out
    }

    /// Adds a message to the flight being built (and to the transcript).
    fn push_handshake(&mut self, epoch: u16, msg_type: u8, body: Vec<u8>) {
        let seq = self.next_send_seq;
        self.next_send_seq = seq.wrapping_add(1);
        self.append_transcript(msg_type, seq, &body);
        self.flight.push(FlightItem::Handshake { epoch, msg_type, seq, body });
    }

    /// (Re)sends the current flight. Arms the retransmission timer when `timer`.
    fn transmit_flight(&mut self, now: Time, timer: bool) {
        let result = pack_flight(&self.flight, &mut self.writer, self.config.mtu, &mut self.transmits);
        self.stats.flights_sent += 1;
        self.flight_sent_at = Some(now);
        self.retransmit_at = if timer { Some(now + self.rto) } else { None };
        if let Err(e) = result {
            self.fail(e);
        }
    }

    fn write_record(&mut self, out: &mut Vec<u8>, ct: u8, epoch: u16, parts: &[&[u8]]) -> Result<(), DtlsError> {
        self.writer.write(out, ct, epoch, parts)
    }

    fn send_alert(&mut self, level: u8, desc: AlertDescription) {
        let epoch = if self.writer.has_cipher() && self.write_epoch == 1 { 1 } else { 0 };
        let mut out = Vec::with_capacity(RECORD_HEADER_LEN + 2 + 24);
        if self.write_record(&mut out, content_type::ALERT, epoch, &[&[level, desc.0]]).is_ok() {
            self.transmits.push_back(out);
        }
        if desc == AlertDescription::CLOSE_NOTIFY {
            self.close_sent = true;
        }
    }

    fn fail(&mut self, err: DtlsError) {
        if matches!(self.state, State::Failed | State::Closed) {
            return;
        }
        if let Some(alert) = err.alert() {
            self.send_alert(2, alert);
        }
        self.state = State::Failed;
        self.retransmit_at = None;
        self.flight.clear();
        self.reassembly.clear();
        self.early_data.clear();
        // Application data queued before the failure is never delivered.
        self.events.retain(|e| !matches!(e, DtlsEvent::ApplicationData(_)));
        self.events.push_back(DtlsEvent::Failed(err));
    }
}

//! SRTP and SRTCP (RFC 3711), with the AES-GCM transforms of RFC 7714, keyed from DTLS-SRTP
//! (RFC 5764).
//!
//! Profiles ([`SrtpProfile`]): `SRTP_AES128_CM_HMAC_SHA1_80` (0x0001), `SRTP_AEAD_AES_128_GCM`
//! (0x0007) and `SRTP_AEAD_AES_256_GCM` (0x0008), as negotiated by DTLS's use_srtp extension.
//! An [`SrtpSession`] holds both directions' session keys (derived once by [`kdf`]; every cipher
//! and MAC is keyed once, never per packet) and, per SSRC, the rollover counter and highest
//! sequence number (RFC 3711 §3.3.1, index estimation of Appendix A) and the replay windows of
//! SRTP and SRTCP ([`replay`]). Packets are protected and unprotected in place in the caller's
//! buffer: a packet that fails (malformed, wrong tag, replayed, too old) is an [`SrtpError`] and
//! changes no state, so the caller drops and counts it.
//!
//! Bounds: [`MAX_SRTP_STREAMS`] SSRCs with state per direction (a stream is created only for a
//! packet that authenticates, so only the keyed peer can use them up), [`replay::REPLAY_WINDOW`]
//! indices remembered per stream.

#[doc(hidden)]
pub mod fuzz;
pub mod kdf;
pub mod replay;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::HashMap;

use crate::crypto::{ct_eq, AeadAlgorithm, AeadKey, AesCtr, HmacSha1Key, AEAD_TAG_LEN};
use replay::{ReplayError, ReplayWindow};

/// SSRCs with state (rollover counter, replay windows, SRTCP index) per direction.
pub const MAX_SRTP_STREAMS: usize = 1024;
/// The largest SRTCP index (31 bits, RFC 3711 §3.4); the session must be rekeyed after it.
pub const MAX_SRTCP_INDEX: u32 = 0x7FFF_FFFF;
/// The E flag of the SRTCP index word: the packet is encrypted.
const SRTCP_E_FLAG: u32 = 0x8000_0000;
/// RTP's fixed header.
const RTP_HEADER_LEN: usize = 12;
/// The part of an RTCP packet that SRTCP leaves in the clear (RFC 3711 §3.4).
const RTCP_HEADER_LEN: usize = 8;
/// Length of the SRTCP index word (E flag + 31-bit index).
const SRTCP_INDEX_LEN: usize = 4;
/// HMAC-SHA1-80's tag (RFC 3711 §5.2).
const HMAC_TAG_LEN: usize = 10;

/// A DTLS-SRTP protection profile (RFC 5764 §4.1.2, RFC 7714 §14.2).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum SrtpProfile {
    Aes128CmHmacSha1_80,
    AeadAes128Gcm,
    AeadAes256Gcm,
}

impl SrtpProfile {
    /// Every profile, in our order of preference (the AEADs first: one pass over each packet).
    pub const ALL: [SrtpProfile; 3] =
        [SrtpProfile::AeadAes128Gcm, SrtpProfile::AeadAes256Gcm, SrtpProfile::Aes128CmHmacSha1_80];

    /// The use_srtp profile number.
    pub const fn id(self) -> u16 {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => 0x0001,
            SrtpProfile::AeadAes128Gcm => 0x0007,
            SrtpProfile::AeadAes256Gcm => 0x0008,
        }
    }

    pub fn from_id(id: u16) -> Option<SrtpProfile> {
        SrtpProfile::ALL.into_iter().find(|p| p.id() == id)
    }

    /// The profile's name in IANA's DTLS-SRTP registry, as `RTCTransportStats.srtpCipher`
    /// shows it (and Chromium does).
    pub const fn name(self) -> &'static str {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => "SRTP_AES128_CM_HMAC_SHA1_80",
            SrtpProfile::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
            SrtpProfile::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
        }
    }

    pub const fn master_key_len(self) -> usize {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 | SrtpProfile::AeadAes128Gcm => 16,
            SrtpProfile::AeadAes256Gcm => 32,
        }
    }

    pub const fn master_salt_len(self) -> usize {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => 14,
            SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm => 12,
        }
    }

    /// Bytes to export from DTLS (`EXTRACTOR-dtls_srtp`): both directions' keys and salts.
    pub const fn keying_material_len(self) -> usize {
        2 * (self.master_key_len() + self.master_salt_len())
    }

    /// Bytes SRTP adds to an RTP packet.
    pub const fn rtp_overhead(self) -> usize {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => HMAC_TAG_LEN,
            SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm => AEAD_TAG_LEN,
        }
    }

    /// Bytes SRTCP adds to an RTCP packet (the index word and the tag).
    pub const fn rtcp_overhead(self) -> usize {
        SRTCP_INDEX_LEN + self.rtp_overhead()
    }
}

/// Why a packet could not be protected or unprotected.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SrtpError {
    /// Too short, not version 2, or lengths that do not fit the packet.
    Malformed,
    /// The authentication tag is wrong.
    Authentication,
    /// The packet index was accepted before.
    Replayed,
    /// The packet index is behind the replay window.
    TooOld,
    /// [`MAX_SRTP_STREAMS`] SSRCs already have state in that direction.
    TooManyStreams,
    /// The packet index space of the key is used up (2^48 RTP, 2^31 RTCP packets).
    IndexExhausted,
    /// The keying material or a key has the wrong length.
    BadKeys,
}

impl core::fmt::Display for SrtpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for SrtpError {}

impl From<ReplayError> for SrtpError {
    fn from(e: ReplayError) -> SrtpError {
        match e {
            ReplayError::Replayed => SrtpError::Replayed,
            ReplayError::TooOld => SrtpError::TooOld,
        }
    }
}

/// The keyed transforms of one direction of RTP or RTCP.
#[derive(Clone, Debug)]
enum Transform {
    /// AES-CM encryption and HMAC-SHA1-80 authentication (RFC 3711 §4.1.1, §4.2).
    Cm { cipher: AesCtr, auth: HmacSha1Key, salt: [u8; 14] },
    /// AEAD_AES_128_GCM / AEAD_AES_256_GCM (RFC 7714).
    Gcm { aead: AeadKey, salt: [u8; 12] },
}

impl Transform {
    /// Derives one direction's session keys of RTP (`rtcp` false) or RTCP from its master key
    /// and salt.
    fn derive(profile: SrtpProfile, master_key: &[u8], master_salt: &[u8], rtcp: bool) -> Result<Transform, SrtpError> {
        if master_key.len() != profile.master_key_len() || master_salt.len() != profile.master_salt_len() {
            return Err(SrtpError::BadKeys);
        }
        let (l_enc, l_auth, l_salt) = if rtcp {
            (kdf::LABEL_RTCP_ENCRYPTION, kdf::LABEL_RTCP_AUTH, kdf::LABEL_RTCP_SALT)
        } else {
            (kdf::LABEL_RTP_ENCRYPTION, kdf::LABEL_RTP_AUTH, kdf::LABEL_RTP_SALT)
        };
        let bad = |_| SrtpError::BadKeys;
        let mut key = vec![0u8; profile.master_key_len()];
        kdf::derive(master_key, master_salt, l_enc, &mut key).map_err(bad)?;
        Ok(match profile {
            SrtpProfile::Aes128CmHmacSha1_80 => {
                let mut auth = [0u8; 20];
                kdf::derive(master_key, master_salt, l_auth, &mut auth).map_err(bad)?;
                let mut salt = [0u8; 14];
                kdf::derive(master_key, master_salt, l_salt, &mut salt).map_err(bad)?;
                Transform::Cm { cipher: AesCtr::new(&key).map_err(bad)?, auth: HmacSha1Key::new(&auth), salt }
            }
            SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm => {
                let mut salt = [0u8; 12];
                kdf::derive(master_key, master_salt, l_salt, &mut salt).map_err(bad)?;
                let alg = if profile == SrtpProfile::AeadAes128Gcm {
                    AeadAlgorithm::Aes128Gcm
                } else {
                    AeadAlgorithm::Aes256Gcm
                };
                Transform::Gcm { aead: AeadKey::new(alg, &key).map_err(bad)?, salt }
            }
        })
    }

    /// Session keys given as they are (the RFC 7714 vectors start from session keys).
    #[cfg(test)]
    fn from_session_keys(profile: SrtpProfile, key: &[u8], auth: &[u8], salt: &[u8]) -> Result<Transform, SrtpError> {
        let bad = |_| SrtpError::BadKeys;
        Ok(match profile {
            SrtpProfile::Aes128CmHmacSha1_80 => Transform::Cm {
                cipher: AesCtr::new(key).map_err(bad)?,
                auth: HmacSha1Key::new(auth),
                salt: salt.try_into().map_err(|_| SrtpError::BadKeys)?,
            },
            SrtpProfile::AeadAes128Gcm => Transform::Gcm {
                aead: AeadKey::new(AeadAlgorithm::Aes128Gcm, key).map_err(bad)?,
                salt: salt.try_into().map_err(|_| SrtpError::BadKeys)?,
            },
            SrtpProfile::AeadAes256Gcm => Transform::Gcm {
                aead: AeadKey::new(AeadAlgorithm::Aes256Gcm, key).map_err(bad)?,
                salt: salt.try_into().map_err(|_| SrtpError::BadKeys)?,
            },
        })
    }
}

/// RFC 3711 §4.1.1: `IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16)`.
fn cm_iv(salt: &[u8; 14], ssrc: u32, index: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(salt);
    for (d, s) in iv[4..8].iter_mut().zip(ssrc.to_be_bytes()) {
        *d ^= s;
    }
    for (d, s) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..]) {
        *d ^= s;
    }
    iv
}

/// RFC 7714 §8.1: `IV = (0x0000 || SSRC || ROC || SEQ) XOR salt`.
fn gcm_rtp_iv(salt: &[u8; 12], ssrc: u32, roc: u32, seq: u16) -> [u8; 12] {
    let mut iv = *salt;
    let mut x = [0u8; 12];
    x[2..6].copy_from_slice(&ssrc.to_be_bytes());
    x[6..10].copy_from_slice(&roc.to_be_bytes());
    x[10..12].copy_from_slice(&seq.to_be_bytes());
    for (d, s) in iv.iter_mut().zip(x) {
        *d ^= s;
    }
    iv
}

/// RFC 7714 §9.1: `IV = (0x0000 || SSRC || 0x0000 || 0b0 || SRTCP index) XOR salt`.
fn gcm_rtcp_iv(salt: &[u8; 12], ssrc: u32, index: u32) -> [u8; 12] {
    let mut iv = *salt;
    let mut x = [0u8; 12];
    x[2..6].copy_from_slice(&ssrc.to_be_bytes());
    x[8..12].copy_from_slice(&index.to_be_bytes());
    for (d, s) in iv.iter_mut().zip(x) {
        *d ^= s;
    }
    iv
}

/// The length of an RTP packet's header (fixed part, CSRCs and header extension), which SRTP
/// leaves in the clear and authenticates.
pub fn rtp_header_len(packet: &[u8]) -> Option<usize> {
    let first = *packet.first()?;
    if first >> 6 != 2 || packet.len() < RTP_HEADER_LEN {
        return None;
    }
    let mut n = RTP_HEADER_LEN + 4 * usize::from(first & 0x0f);
    if first & 0x10 != 0 {
        let words = packet.get(n + 2..n + 4)?;
        n += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
    }
    (n <= packet.len()).then_some(n)
}

fn read_u16(p: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(p.get(at..at + 2)?.try_into().ok()?))
}

fn read_u32(p: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(p.get(at..at + 4)?.try_into().ok()?))
}

/// What one SSRC's packets have set in one direction.
#[derive(Clone, Debug, Default)]
struct Stream {
    /// RTP seen (sent or accepted) for this SSRC: `roc` and `s_l` hold.
    rtp_started: bool,
    /// The rollover counter (RFC 3711 §3.3.1).
    roc: u32,
    /// The highest sequence number sent or accepted.
    s_l: u16,
    rtp_replay: ReplayWindow,
    /// Outbound: the next SRTCP index.
    rtcp_next: u32,
    rtcp_replay: ReplayWindow,
}

impl Stream {
    /// RFC 3711 Appendix A: the rollover counter `v` a sequence number belongs to, from the
    /// highest one so far (`None` if it would be before the first rollover period).
    fn estimate(&self, seq: u16) -> Option<u32> {
        if !self.rtp_started {
            return Some(0);
        }
        let (s_l, seq32) = (i64::from(self.s_l), i64::from(seq));
        let roc = i64::from(self.roc);
        let v = if s_l < 32_768 {
            if seq32 - s_l > 32_768 {
                roc - 1
            } else {
                roc
            }
        } else if s_l - 32_768 > seq32 {
            roc + 1
        } else {
            roc
        };
        u32::try_from(v).ok()
    }

    /// Moves `roc` / `s_l` on for an accepted (or sent) packet.
    fn update(&mut self, v: u32, seq: u16) {
        if !self.rtp_started {
            self.rtp_started = true;
            self.roc = v;
            self.s_l = seq;
        } else if v > self.roc {
            self.roc = v;
            self.s_l = seq;
        } else if v == self.roc && seq > self.s_l {
            self.s_l = seq;
        }
    }
}

fn index_of(roc: u32, seq: u16) -> u64 {
    (u64::from(roc) << 16) | u64::from(seq)
}

/// One direction: the RTP and RTCP transforms and the per-SSRC state.
#[derive(Clone, Debug)]
struct Direction {
    rtp: Transform,
    rtcp: Transform,
    streams: HashMap<u32, Stream>,
}

impl Direction {
    fn new(profile: SrtpProfile, key: &[u8], salt: &[u8]) -> Result<Direction, SrtpError> {
        Ok(Direction {
            rtp: Transform::derive(profile, key, salt, false)?,
            rtcp: Transform::derive(profile, key, salt, true)?,
            streams: HashMap::new(),
        })
    }

    fn can_add(&self, ssrc: u32) -> Result<(), SrtpError> {
        if self.streams.contains_key(&ssrc) || self.streams.len() < MAX_SRTP_STREAMS {
            Ok(())
        } else {
            Err(SrtpError::TooManyStreams)
        }
    }
}

/// Counters of what a session did.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SrtpStats {
    pub rtp_protected: u64,
    pub rtp_unprotected: u64,
    pub rtcp_protected: u64,
    pub rtcp_unprotected: u64,
    /// Inbound packets refused, by reason.
    pub auth_failures: u64,
    pub replayed: u64,
    pub malformed: u64,
    pub other_drops: u64,
}

/// Both directions of one DTLS-SRTP association.
#[derive(Clone, Debug)]
pub struct SrtpSession {
    profile: SrtpProfile,
    outbound: Direction,
    inbound: Direction,
    stats: SrtpStats,
}

impl SrtpSession {
    /// From the keying material DTLS exported (`EXTRACTOR-dtls_srtp`,
    /// [`SrtpProfile::keying_material_len`] bytes: client key, server key, client salt, server
    /// salt; RFC 5764 §4.2). `dtls_client`: we were the DTLS client, so we write with the
    /// client's keys.
    pub fn from_dtls(profile: SrtpProfile, material: &[u8], dtls_client: bool) -> Result<SrtpSession, SrtpError> {
        if material.len() != profile.keying_material_len() {
            return Err(SrtpError::BadKeys);
        }
        let (k, s) = (profile.master_key_len(), profile.master_salt_len());
        let client_key = &material[..k];
        let server_key = &material[k..2 * k];
        let client_salt = &material[2 * k..2 * k + s];
        let server_salt = &material[2 * k + s..];
        let (out_key, out_salt, in_key, in_salt) = if dtls_client {
            (client_key, client_salt, server_key, server_salt)
        } else {
            (server_key, server_salt, client_key, client_salt)
        };
        SrtpSession::from_master_keys(profile, out_key, out_salt, in_key, in_salt)
    }

    /// From each direction's master key and salt.
    pub fn from_master_keys(
        profile: SrtpProfile,
        out_key: &[u8],
        out_salt: &[u8],
        in_key: &[u8],
        in_salt: &[u8],
    ) -> Result<SrtpSession, SrtpError> {
        Ok(SrtpSession {
            profile,
            outbound: Direction::new(profile, out_key, out_salt)?,
            inbound: Direction::new(profile, in_key, in_salt)?,
            stats: SrtpStats::default(),
        })
    }

    pub fn profile(&self) -> SrtpProfile {
        self.profile
    }

    pub fn stats(&self) -> SrtpStats {
        self.stats
    }

    /// SSRCs with state in each direction (outbound, inbound).
    pub fn stream_counts(&self) -> (usize, usize) {
        (self.outbound.streams.len(), self.inbound.streams.len())
    }

    /// Turns the RTP packet in `packet` into SRTP in place (the tag is appended).
    pub fn protect_rtp(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        let h = rtp_header_len(packet).ok_or(SrtpError::Malformed)?;
        let seq = read_u16(packet, 2).ok_or(SrtpError::Malformed)?;
        let ssrc = read_u32(packet, 8).ok_or(SrtpError::Malformed)?;
        self.outbound.can_add(ssrc)?;
        let stream = self.outbound.streams.entry(ssrc).or_default();
        // None: before the first rollover period, or past the last one (2^48 packets).
        let exhausted = if stream.roc == u32::MAX { SrtpError::IndexExhausted } else { SrtpError::TooOld };
        let roc = stream.estimate(seq).ok_or(exhausted)?;
        let index = index_of(roc, seq);
        match &self.outbound.rtp {
            Transform::Cm { cipher, auth, salt } => {
                cipher.apply_keystream(&cm_iv(salt, ssrc, index), &mut packet[h..]);
                let tag = auth.mac(&[packet, &roc.to_be_bytes()]);
                packet.extend_from_slice(&tag[..HMAC_TAG_LEN]);
            }
            Transform::Gcm { aead, salt } => {
                let (head, body) = packet.split_at_mut(h);
                let tag = aead
                    .seal_detached(&gcm_rtp_iv(salt, ssrc, roc, seq), head, body)
                    .map_err(|_| SrtpError::Malformed)?;
                packet.extend_from_slice(&tag);
            }
        }
        stream.update(roc, seq);
        self.stats.rtp_protected += 1;
        Ok(())
    }

    /// Checks and decrypts the SRTP packet in `packet` in place (the tag is removed). On an
    /// error nothing changed but, possibly, the bytes of `packet`: drop it.
    pub fn unprotect_rtp(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        let r = self.unprotect_rtp_inner(packet);
        self.count_inbound(r, false);
        r
    }

    fn unprotect_rtp_inner(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        let tag_len = self.profile.rtp_overhead();
        let end = packet.len().checked_sub(tag_len).ok_or(SrtpError::Malformed)?;
        let h = rtp_header_len(&packet[..end]).ok_or(SrtpError::Malformed)?;
        let seq = read_u16(packet, 2).ok_or(SrtpError::Malformed)?;
        let ssrc = read_u32(packet, 8).ok_or(SrtpError::Malformed)?;
        self.inbound.can_add(ssrc)?;
        let (roc, index) = match self.inbound.streams.get(&ssrc) {
            Some(s) => {
                let roc = s.estimate(seq).ok_or(SrtpError::TooOld)?;
                let index = index_of(roc, seq);
                s.rtp_replay.check(index)?;
                (roc, index)
            }
            None => (0, u64::from(seq)),
        };
        match &self.inbound.rtp {
            Transform::Cm { cipher, auth, salt } => {
                let tag = auth.mac(&[&packet[..end], &roc.to_be_bytes()]);
                if !ct_eq(&tag[..HMAC_TAG_LEN], &packet[end..]) {
                    return Err(SrtpError::Authentication);
                }
                cipher.apply_keystream(&cm_iv(salt, ssrc, index), &mut packet[h..end]);
            }
            Transform::Gcm { aead, salt } => {
                let (head, rest) = packet.split_at_mut(h);
                let (body, tag) = rest.split_at_mut(end - h);
                aead.open_detached(&gcm_rtp_iv(salt, ssrc, roc, seq), head, body, tag)
                    .map_err(|_| SrtpError::Authentication)?;
            }
        }
        packet.truncate(end);
        let stream = self.inbound.streams.entry(ssrc).or_default();
        stream.update(roc, seq);
        stream.rtp_replay.accept(index);
        Ok(())
    }

    /// Turns the (compound) RTCP packet in `packet` into SRTCP in place: encrypted, the E flag
    /// and index word and the tag appended.
    pub fn protect_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        if packet.len() < RTCP_HEADER_LEN || packet[0] >> 6 != 2 {
            return Err(SrtpError::Malformed);
        }
        let ssrc = read_u32(packet, 4).ok_or(SrtpError::Malformed)?;
        self.outbound.can_add(ssrc)?;
        let stream = self.outbound.streams.entry(ssrc).or_default();
        let index = stream.rtcp_next;
        if index > MAX_SRTCP_INDEX {
            return Err(SrtpError::IndexExhausted);
        }
        let word = (SRTCP_E_FLAG | index).to_be_bytes();
        match &self.outbound.rtcp {
            Transform::Cm { cipher, auth, salt } => {
                cipher.apply_keystream(&cm_iv(salt, ssrc, u64::from(index)), &mut packet[RTCP_HEADER_LEN..]);
                packet.extend_from_slice(&word);
                let tag = auth.mac(&[packet]);
                packet.extend_from_slice(&tag[..HMAC_TAG_LEN]);
            }
            Transform::Gcm { aead, salt } => {
                let (head, body) = packet.split_at_mut(RTCP_HEADER_LEN);
                let mut aad = [0u8; RTCP_HEADER_LEN + SRTCP_INDEX_LEN];
                aad[..RTCP_HEADER_LEN].copy_from_slice(head);
                aad[RTCP_HEADER_LEN..].copy_from_slice(&word);
                let tag = aead
                    .seal_detached(&gcm_rtcp_iv(salt, ssrc, index), &aad, body)
                    .map_err(|_| SrtpError::Malformed)?;
                packet.extend_from_slice(&tag);
                packet.extend_from_slice(&word);
            }
        }
        stream.rtcp_next = index + 1;
        self.stats.rtcp_protected += 1;
        Ok(())
    }

    /// Checks (and, with the E flag, decrypts) the SRTCP packet in `packet` in place; the index
    /// word and tag are removed.
    pub fn unprotect_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        let r = self.unprotect_rtcp_inner(packet);
        self.count_inbound(r, true);
        r
    }

    fn unprotect_rtcp_inner(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        let tag_len = self.profile.rtp_overhead();
        let len = packet.len();
        if len < RTCP_HEADER_LEN + SRTCP_INDEX_LEN + tag_len || packet[0] >> 6 != 2 {
            return Err(SrtpError::Malformed);
        }
        let ssrc = read_u32(packet, 4).ok_or(SrtpError::Malformed)?;
        self.inbound.can_add(ssrc)?;
        // CM: ... || E+index || tag. GCM: ... || tag || E+index (RFC 7714 §9).
        let (word_at, end) = match self.inbound.rtcp {
            Transform::Cm { .. } => (len - tag_len - SRTCP_INDEX_LEN, len - tag_len - SRTCP_INDEX_LEN),
            Transform::Gcm { .. } => (len - SRTCP_INDEX_LEN, len - SRTCP_INDEX_LEN - tag_len),
        };
        let word = read_u32(packet, word_at).ok_or(SrtpError::Malformed)?;
        let encrypted = word & SRTCP_E_FLAG != 0;
        let index = word & MAX_SRTCP_INDEX;
        if let Some(s) = self.inbound.streams.get(&ssrc) {
            s.rtcp_replay.check(u64::from(index))?;
        }
        match &self.inbound.rtcp {
            Transform::Cm { cipher, auth, salt } => {
                let tag = auth.mac(&[&packet[..len - tag_len]]);
                if !ct_eq(&tag[..HMAC_TAG_LEN], &packet[len - tag_len..]) {
                    return Err(SrtpError::Authentication);
                }
                if encrypted {
                    cipher.apply_keystream(&cm_iv(salt, ssrc, u64::from(index)), &mut packet[RTCP_HEADER_LEN..end]);
                }
            }
            Transform::Gcm { aead, salt } => {
                let iv = gcm_rtcp_iv(salt, ssrc, index);
                let word_bytes = word.to_be_bytes();
                let (msg, trailer) = packet.split_at_mut(end);
                let tag = &trailer[..tag_len];
                if encrypted {
                    let (head, body) = msg.split_at_mut(RTCP_HEADER_LEN);
                    let mut aad = [0u8; RTCP_HEADER_LEN + SRTCP_INDEX_LEN];
                    aad[..RTCP_HEADER_LEN].copy_from_slice(head);
                    aad[RTCP_HEADER_LEN..].copy_from_slice(&word_bytes);
                    aead.open_detached(&iv, &aad, body, tag).map_err(|_| SrtpError::Authentication)?;
                } else {
                    // RFC 7714 §9.2: unencrypted, the whole packet and the index word are the AAD.
                    let mut aad = Vec::with_capacity(msg.len() + SRTCP_INDEX_LEN);
                    aad.extend_from_slice(msg);
                    aad.extend_from_slice(&word_bytes);
                    aead.open_detached(&iv, &aad, &mut [], tag).map_err(|_| SrtpError::Authentication)?;
                }
            }
        }
        packet.truncate(end);
        self.inbound.streams.entry(ssrc).or_default().rtcp_replay.accept(u64::from(index));
        Ok(())
    }

    fn count_inbound(&mut self, r: Result<(), SrtpError>, rtcp: bool) {
        let s = &mut self.stats;
        match r {
            Ok(()) if rtcp => s.rtcp_unprotected += 1,
            Ok(()) => s.rtp_unprotected += 1,
            Err(SrtpError::Authentication) => s.auth_failures += 1,
            Err(SrtpError::Replayed | SrtpError::TooOld) => s.replayed += 1,
            Err(SrtpError::Malformed) => s.malformed += 1,
            Err(_) => s.other_drops += 1,
        }
    }

    /// Test hook: the next SRTCP index of an outbound SSRC (the RFC vectors start mid-session).
    #[cfg(test)]
    fn set_rtcp_index(&mut self, ssrc: u32, index: u32) {
        self.outbound.streams.entry(ssrc).or_default().rtcp_next = index;
    }

    /// A session whose both directions use the given session keys (tests with RFC vectors).
    #[cfg(test)]
    fn with_session_keys(profile: SrtpProfile, key: &[u8], auth: &[u8], salt: &[u8]) -> SrtpSession {
        let dir = || Direction {
            rtp: Transform::from_session_keys(profile, key, auth, salt).unwrap(),
            rtcp: Transform::from_session_keys(profile, key, auth, salt).unwrap(),
            streams: HashMap::new(),
        };
        SrtpSession { profile, outbound: dir(), inbound: dir(), stats: SrtpStats::default() }
    }
}

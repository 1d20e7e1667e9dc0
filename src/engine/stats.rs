//! The engine's `getStats()` object (`napi/engine-contract.md`): what the core counts, with
//! webrtc-stats names, for the JS layer to turn into an `RTCStatsReport` (ids, timestamps
//! and the stats the JS layer owns are added there).

use super::{Obj, Val};
use crate::ice::{Candidate, CandidateKind};
use crate::peer::Peer;
use crate::time::Time;

fn num(v: u64) -> Val {
    // Counters stay far below 2^53 (exact as f64).
    Val::Num(v as f64)
}

fn string(v: &str) -> Val {
    Val::Str(v.to_owned())
}

/// webrtc-stats `RTCIceCandidateStats` fields of one candidate (the JS layer adds ids).
fn candidate(c: &Candidate, ufrag: Option<&str>, url: Option<String>) -> Obj {
    let mut o = Obj::default()
        .f("address", Val::Str(c.address.ip().to_string()))
        .f("port", num(u64::from(c.address.port())))
        .f("protocol", string(&c.protocol))
        .f("candidateType", string(c.kind.as_str()))
        .f("priority", num(u64::from(c.priority)))
        .f("foundation", string(&c.foundation));
    if let Some(r) = c.related_address {
        o = o
            .f("relatedAddress", Val::Str(r.ip().to_string()))
            .f("relatedPort", num(u64::from(r.port())));
    }
    if let Some(u) = c.ufrag().or(ufrag) {
        o = o.f("usernameFragment", string(u));
    }
    if let Some(u) = url {
        if c.kind == CandidateKind::Relayed {
            o = o.f("relayProtocol", string(crate::ice::RelayProtocol::for_url(&u).as_str()));
        }
        o = o.f("url", Val::Str(u));
    }
    if let Some(t) = &c.tcp_type {
        o = o.f("tcpType", string(t));
    }
    o
}

/// Seconds, as webrtc-stats reports round-trip times.
fn seconds(d: core::time::Duration) -> Val {
    Val::Num(d.as_secs_f64())
}

/// Milliseconds from `t` to `now` (the JS layer subtracts it from the report's timestamp).
fn age_ms(now: Time, t: Option<Time>) -> Val {
    t.map_or(Val::Null, |t| Val::Num(now.saturating_since(t).as_secs_f64() * 1000.0))
}

fn certificate(der: &[u8]) -> Val {
    let Some(fp) = crate::crypto::Fingerprint::of_der("sha-256", der) else { return Val::Null };
    let sdp = fp.to_sdp_value();
    let (algorithm, value) = sdp.split_once(' ').unwrap_or(("sha-256", ""));
    Val::Obj(
        Obj::default()
            .f("fingerprintAlgorithm", string(algorithm))
            .f("fingerprint", string(value))
            .f("der", Val::Bytes(der.to_vec())),
    )
}

/// `{ transport, candidatePairs, localCandidates, remoteCandidates, localCertificate,
/// remoteCertificate }` for `peer` at `now` (see `napi/engine-contract.md`).
pub fn stats_obj(peer: &Peer, now: Time) -> Obj {
    let ice = peer.ice_agent();
    let counters = peer.stats();
    let local_ufrag = ice.local_credentials().ufrag.clone();
    let remote_ufrag = ice.remote_credentials().map(|c| c.ufrag.clone());
    let url = |c: &Candidate| match c.kind {
        CandidateKind::ServerReflexive => ice.srflx_server(c.address).map(|s| format!("stun:{s}")),
        CandidateKind::Relayed => ice.relay_transport(c.address).and_then(|t| peer.relay_url(t)).map(str::to_owned),
        _ => None,
    };
    let mut transport = Obj::default()
        .f("packetsSent", num(counters.packets_sent))
        .f("packetsReceived", num(counters.packets_received))
        .f("bytesSent", num(counters.bytes_sent))
        .f("bytesReceived", num(counters.bytes_received))
        .f("iceRole", string(if ice.controlling() { "controlling" } else { "controlled" }))
        .f("iceLocalUsernameFragment", string(&local_ufrag))
        .f(
            "dtlsRole",
            string(match peer.dtls_role() {
                Some(crate::dtls::DtlsRole::Client) => "client",
                Some(crate::dtls::DtlsRole::Server) => "server",
                None => "unknown",
            }),
        )
        .f("datagramsDroppedOffPath", num(counters.datagrams_dropped_off_path));
    if let Some(name) = peer.dtls_cipher_suite().and_then(|s| s.iana_name()) {
        // DTLS 1.2 is the only version spoken: its wire value 0xFEFD, as webrtc-stats shows it.
        transport = transport.f("tlsVersion", string("FEFD")).f("dtlsCipher", string(name));
    }
    if let Some(profile) = peer.srtp_profile() {
        transport = transport.f("srtpCipher", string(profile.name()));
    }
    let sctp = peer.sctp_stats();
    let mut locals: Vec<Val> = Vec::new();
    let mut seen: Vec<Candidate> = Vec::new();
    let mut add_local = |c: &Candidate, locals: &mut Vec<Val>| {
        if !seen.iter().any(|s| s.address == c.address && s.kind == c.kind && s.protocol == c.protocol) {
            seen.push(c.clone());
            locals.push(Val::Obj(candidate(c, Some(&local_ufrag), url(c))));
        }
    };
    for c in ice.local_candidates() {
        add_local(c, &mut locals);
    }
    let mut pairs = Vec::new();
    for p in ice.pair_stats() {
        add_local(&p.local, &mut locals);
        let k = &p.counters;
        let mut o = Obj::default()
            .f("local", Val::Obj(candidate(&p.local, Some(&local_ufrag), url(&p.local))))
            .f("remote", Val::Obj(candidate(&p.remote, remote_ufrag.as_deref(), None)))
            .f("state", string(p.state))
            .f("nominated", Val::Bool(p.nominated))
            .f("selected", Val::Bool(p.selected))
            .f("packetsSent", num(k.packets_sent))
            .f("packetsReceived", num(k.packets_received))
            .f("bytesSent", num(k.bytes_sent))
            .f("bytesReceived", num(k.bytes_received))
            .f("requestsSent", num(k.requests_sent))
            .f("requestsReceived", num(k.requests_received))
            .f("responsesSent", num(k.responses_sent))
            .f("responsesReceived", num(k.responses_received))
            .f("consentRequestsSent", num(k.consent_requests_sent))
            .f("totalRoundTripTime", seconds(k.total_round_trip_time))
            .f("currentRoundTripTime", k.current_round_trip_time.map_or(Val::Null, seconds))
            .f("lastPacketSentAgeMs", age_ms(now, k.last_packet_sent))
            .f("lastPacketReceivedAgeMs", age_ms(now, k.last_packet_received));
        // What SCTP's congestion window lets through per round trip, on the pair it uses.
        if let Some(s) = sctp.as_ref().filter(|_| p.selected) {
            if let Some(srtt) = s.srtt_micros.filter(|&r| r > 0) {
                let window = s.cwnd.min(s.peer_rwnd.max(1)) as f64;
                o = o.f("availableOutgoingBitrate", Val::Num(window * 8.0 * 1e6 / srtt as f64));
            }
        }
        pairs.push(Val::Obj(o));
    }
    let remotes = ice
        .remote_candidates()
        .iter()
        .map(|c| Val::Obj(candidate(c, remote_ufrag.as_deref(), None)))
        .collect();
    // webrtc-stats RTCInboundRtpStreamStats (and its codec) per remote SSRC that delivered,
    // with RTCRemoteOutboundRtpStreamStats from its last SR.
    let feedback = peer.inbound_feedback();
    let inbound = peer
        .inbound_rtp()
        .iter()
        .map(|r| {
            let mut o = Obj::default()
                .f("ssrc", num(u64::from(r.ssrc)))
                .f("payloadType", num(u64::from(r.payload_type)))
                .f("packetsReceived", num(r.packets))
                .f("bytesReceived", num(r.payload_bytes))
                .f("headerBytesReceived", num(r.header_bytes))
                .f("lastPacketReceivedAgeMs", age_ms(now, Some(r.last_received)));
            if r.rtx_negotiated {
                o = o
                    .f("retransmittedPacketsReceived", num(r.retransmitted_packets))
                    .f("retransmittedBytesReceived", num(r.retransmitted_bytes));
            }
            // Streams past the receive bounds are counted but not tracked: no loss, jitter
            // or feedback figures for them.
            if let Some(fb) = feedback.iter().find(|f| f.ssrc == r.ssrc) {
                o = o
                    .f("packetsLost", Val::Num(fb.packets_lost as f64))
                    .f("jitter", Val::Num(fb.jitter_s))
                    .f("nackCount", num(fb.feedback_sent.nacks));
                // webrtc-stats: pliCount and firCount exist for video only.
                if r.kind == Some(crate::sdp::media::MediaKind::Video) {
                    o = o.f("pliCount", num(fb.feedback_sent.plis)).f("firCount", num(fb.feedback_sent.firs));
                }
                if let Some(sr) = &fb.remote_sender {
                    let mut remote = Obj::default()
                        .f("packetsSent", num(u64::from(sr.info.packet_count)))
                        .f("bytesSent", num(u64::from(sr.info.octet_count)))
                        .f("reportsSent", num(sr.reports_received))
                        .f("receivedAgeMs", age_ms(now, Some(sr.received_at)));
                    if let Some(ms) = sr.remote_timestamp_ms() {
                        remote = remote.f("remoteTimestamp", Val::Num(ms));
                    }
                    o = o.f("remote", Val::Obj(remote));
                }
            }
            if let Some(kind) = r.kind {
                o = o.f("kind", string(kind.as_str()));
                if kind == crate::sdp::media::MediaKind::Video {
                    o = o
                        .f("framesReceived", num(r.frames))
                        .f("framesAssembledFromMultiplePackets", num(r.frames_multi_packet))
                        .f("framesDropped", num(r.frames_dropped));
                }
            }
            if let Some(mid) = &r.mid {
                o = o.f("mid", string(mid));
            }
            if let (Some(c), Some(kind)) = (&r.codec, r.kind) {
                o = o
                    .f("mimeType", Val::Str(c.mime_type(kind)))
                    .f("clockRate", num(u64::from(c.clock_rate)))
                    .f("channels", c.channels.map_or(Val::Null, |ch| num(u64::from(ch))))
                    .f("sdpFmtpLine", Val::Str(c.fmtp_line()));
            }
            Val::Obj(o)
        })
        .collect();
    // webrtc-stats RTCOutboundRtpStreamStats per stream we sent on, with what the peer's
    // report blocks said about it (RTCRemoteInboundRtpStreamStats).
    let outbound = peer
        .outbound_rtp()
        .iter()
        .map(|r| {
            let mut o = Obj::default()
                .f("ssrc", num(u64::from(r.ssrc)))
                .f("kind", string(r.kind.as_str()))
                // webrtc-stats: packetsSent and bytesSent include the retransmissions.
                .f("packetsSent", num(r.packets + r.retransmitted_packets))
                .f("bytesSent", num(r.bytes + r.retransmitted_bytes))
                .f("headerBytesSent", num(r.header_bytes))
                .f("retransmittedPacketsSent", num(r.retransmitted_packets))
                .f("retransmittedBytesSent", num(r.retransmitted_bytes))
                .f("nackCount", num(r.feedback_received.nacks))
                .f("active", Val::Bool(r.active));
            if r.kind == crate::sdp::media::MediaKind::Video {
                o = o
                    .f("framesSent", num(r.frames))
                    .f("pliCount", num(r.feedback_received.plis))
                    .f("firCount", num(r.feedback_received.firs));
            }
            if let Some(mid) = &r.mid {
                o = o.f("mid", string(mid));
            }
            if let Some(rid) = &r.rid {
                o = o.f("rid", string(rid));
            }
            if let Some(c) = &r.codec {
                o = o
                    .f("payloadType", num(u64::from(c.payload_type)))
                    .f("mimeType", Val::Str(c.mime_type(r.kind)))
                    .f("clockRate", num(u64::from(c.clock_rate)))
                    .f("channels", c.channels.map_or(Val::Null, |ch| num(u64::from(ch))))
                    .f("sdpFmtpLine", Val::Str(c.fmtp_line()));
            }
            if let Some(ri) = &r.remote {
                let mut remote = Obj::default()
                    .f("packetsLost", Val::Num(ri.packets_lost as f64))
                    .f("fractionLost", Val::Num(ri.fraction_lost))
                    .f("jitter", Val::Num(ri.jitter))
                    .f("totalRoundTripTime", Val::Num(ri.total_round_trip_time.as_secs_f64()))
                    .f("roundTripTimeMeasurements", num(ri.round_trip_time_measurements))
                    .f("reportsReceived", num(ri.reports_received))
                    .f("receivedAgeMs", age_ms(now, ri.last_report_at));
                if let Some(rtt) = ri.round_trip_time {
                    remote = remote.f("roundTripTime", Val::Num(rtt.as_secs_f64()));
                }
                o = o.f("remote", Val::Obj(remote));
            }
            Val::Obj(o)
        })
        .collect();
    Obj::default()
        .f("inboundRtp", Val::List(inbound))
        .f("outboundRtp", Val::List(outbound))
        .f("transport", Val::Obj(transport))
        .f("candidatePairs", Val::List(pairs))
        .f("localCandidates", Val::List(locals))
        .f("remoteCandidates", Val::List(remotes))
        .f("localCertificate", certificate(peer.certificate().der()))
        .f("remoteCertificate", peer.remote_certificate().map_or(Val::Null, certificate))
}

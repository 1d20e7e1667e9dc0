//! The media half of [`Peer`]: transceivers through JSEP (our offers' and answers' audio/video
//! sections, what applied descriptions negotiated, rollback), negotiation-needed for them, and
//! the RTP plane (frames and packets sent for a transceiver, received packets routed to one and
//! assembled into frames, keyframe requests).

use super::*;
use crate::codec::{self, FrameAssembler};
use crate::rtp::{HeaderExtensions, RtpHeader, RtpPacket};
use crate::sdp::jsep::LocalSection;
use crate::sdp::media::{self as sdpmedia, Codec, Direction, MediaKind, MediaSection, Ssrc};
use crate::sdp::MediaDescription;

use super::super::transceiver::*;

/// Inbound streams (SSRCs) one transceiver assembles frames for (simulcast layers and an
/// SSRC change); packets of more are counted by `inbound_rtp` only.
const MAX_RECEIVE_STREAMS_PER_TRANSCEIVER: usize = 4;

/// Our codec for an SDP codec (H.264 only in packetization mode 1, the one we packetize).
fn codec_of(c: &Codec) -> Option<codec::Codec> {
    let k = codec::Codec::ALL.into_iter().find(|k| k.name().eq_ignore_ascii_case(&c.name))?;
    if k == codec::Codec::H264 && c.fmtp_value("packetization-mode") != Some("1") {
        return None;
    }
    Some(k)
}

impl Peer {
    fn transceiver(&self, id: TransceiverId) -> Result<&Transceiver, PeerError> {
        self.transceivers.iter().find(|t| t.id == id).ok_or_else(|| err(ErrorKind::InvalidState, "no such transceiver"))
    }

    fn transceiver_mut(&mut self, id: TransceiverId) -> Result<&mut Transceiver, PeerError> {
        self.transceivers
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or_else(|| err(ErrorKind::InvalidState, "no such transceiver"))
    }

    fn new_transceiver(&mut self, init: TransceiverInit, created_by_remote_offer: bool) -> Result<TransceiverId, PeerError> {
        if self.transceivers.len() >= MAX_TRANSCEIVERS {
            return Err(err(ErrorKind::Operation, "too many transceivers"));
        }
        let mut init = init;
        if init.send_encodings.len() > MAX_SEND_ENCODINGS {
            return Err(err(ErrorKind::Operation, "too many send encodings"));
        }
        if init.kind == MediaKind::Audio {
            init.send_encodings.truncate(1); // simulcast is for video
        }
        let id = self.next_transceiver_id;
        self.next_transceiver_id += 1;
        // One stream per encoding (simulcast layers when there are several, each with a rid).
        let layers = init.send_encodings.len().max(1);
        let mut send = Vec::with_capacity(layers);
        for i in 0..layers {
            let rid = init.send_encodings.get(i).and_then(|e| e.rid.clone()).filter(|_| layers > 1);
            let stream = self.new_send_stream(rid, &send);
            send.push(stream);
        }
        self.transceivers.push(Transceiver {
            id,
            kind: init.kind,
            direction: init.direction,
            proposed_mid: None,
            stopping: false,
            from_add_track: init.from_add_track,
            created_by_remote_offer,
            codec_preferences: Vec::new(),
            stream_ids: init.stream_ids,
            track_id: init.track_id,
            encodings: init.send_encodings,
            neg: Negotiation::default(),
            send,
            receive: Vec::new(),
            deliver_rtp: false,
            layers_from_offer: false,
        });
        Ok(id)
    }

    /// A stream to send on, with SSRCs no other stream (of `also`, not yet in a transceiver,
    /// or of the transceivers) uses, and a random sequence number and timestamp origin.
    fn new_send_stream(&mut self, rid: Option<String>, also: &[SendStream]) -> SendStream {
        let ssrc = self.fresh_ssrc(also, &[]);
        let rtx_ssrc = self.fresh_ssrc(also, &[ssrc]);
        let timestamp_offset = self.rng.u32();
        let sequence = self.rng.u32() as u16;
        SendStream {
            ssrc,
            rtx_ssrc,
            rid,
            packetizer: None,
            sequence,
            timestamp_offset,
            packets: 0,
            bytes: 0,
            frames: 0,
            last_timestamp: None,
            stats: None,
            history: None,
            sent: Default::default(),
        }
    }

    /// An SSRC none of our streams uses (RFC 3550 §8.1: random), nor `also`'s, nor `taken`.
    fn fresh_ssrc(&mut self, also: &[SendStream], taken: &[u32]) -> u32 {
        loop {
            let s = self.rng.u32();
            let used = |l: &SendStream| l.ssrc == s || l.rtx_ssrc == s;
            if s != 0 && !taken.contains(&s) && !also.iter().any(used) && !self.transceivers.iter().any(|t| t.send.iter().any(used)) {
                return s;
            }
        }
    }

    /// W3C `addTransceiver()` / `addTrack()`: a new transceiver, not yet in any description
    /// (negotiation is needed).
    pub fn add_transceiver(&mut self, init: TransceiverInit) -> Result<TransceiverId, PeerError> {
        self.check_open()?;
        self.new_transceiver(init, false)
    }

    /// The transceivers, in creation order.
    pub fn transceivers(&self) -> Vec<TransceiverInfo> {
        self.transceivers.iter().map(Transceiver::info).collect()
    }

    pub fn set_transceiver_direction(&mut self, id: TransceiverId, direction: Direction) -> Result<(), PeerError> {
        self.check_open()?;
        let t = self.transceiver_mut(id)?;
        if t.stopping || t.neg.stopped {
            return Err(err(ErrorKind::InvalidState, "the transceiver is stopped"));
        }
        t.direction = direction;
        Ok(())
    }

    /// W3C `stop()`: the transceiver stops sending and receiving at once and its m-line is
    /// rejected by the next offer (stopped once that is negotiated; a transceiver never
    /// negotiated is stopped at once).
    pub fn stop_transceiver(&mut self, id: TransceiverId) -> Result<(), PeerError> {
        self.check_open()?;
        let t = self.transceiver_mut(id)?;
        if t.neg.stopped {
            return Ok(());
        }
        t.stopping = true;
        if t.neg.mid.is_none() && t.proposed_mid.is_none() {
            t.neg.stopped = true;
        }
        t.receive.clear();
        Ok(())
    }

    /// W3C `setCodecPreferences()`: `codecs` (each must match one of ours) order our offers'
    /// and answers' codecs; empty resets to the defaults.
    pub fn set_codec_preferences(&mut self, id: TransceiverId, codecs: Vec<Codec>) -> Result<(), PeerError> {
        self.check_open()?;
        let kind = self.transceiver(id)?.kind;
        let ours = sdpmedia::default_codecs(kind);
        let mut prefs = Vec::with_capacity(codecs.len());
        for c in &codecs {
            if c.name.eq_ignore_ascii_case("rtx") {
                continue; // RTX follows the codec it repairs
            }
            let mine = ours
                .iter()
                .find(|m| m.matches(c))
                .ok_or_else(|| err(ErrorKind::InvalidModification, format!("codec {} is not supported", c.name)))?;
            if !prefs.contains(mine) {
                prefs.push(mine.clone());
            }
        }
        if !codecs.is_empty() && prefs.is_empty() {
            return Err(err(ErrorKind::InvalidModification, "codec preferences name no media codec"));
        }
        self.transceiver_mut(id)?.codec_preferences = prefs;
        Ok(())
    }

    /// The sender's track (`replaceTrack`, `removeTrack`, `addTrack` reusing a transceiver).
    /// `from_add_track`: `addTrack()` reuses this transceiver (it then outlives the rollback
    /// of the remote offer that created it, JSEP §5.10).
    pub fn set_sender_track(&mut self, id: TransceiverId, track_id: Option<String>, from_add_track: bool) -> Result<(), PeerError> {
        self.check_open()?;
        let t = self.transceiver_mut(id)?;
        t.from_add_track |= from_add_track;
        if track_id.is_none() {
            for l in &mut t.send {
                l.packetizer = None;
            }
        }
        t.track_id = track_id;
        Ok(())
    }

    pub fn set_sender_streams(&mut self, id: TransceiverId, stream_ids: Vec<String>) -> Result<(), PeerError> {
        self.check_open()?;
        self.transceiver_mut(id)?.stream_ids = stream_ids;
        Ok(())
    }

    /// Whether received RTP packets of this transceiver are handed to the host
    /// ([`PeerEvent::TransceiverRtp`]) besides being assembled into frames.
    pub fn set_deliver_rtp(&mut self, id: TransceiverId, on: bool) -> Result<(), PeerError> {
        self.transceiver_mut(id)?.deliver_rtp = on;
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // JSEP
    // -----------------------------------------------------------------------------------

    /// A mid no section of `prev` and no transceiver uses (JSEP §5.2.1: short, unique).
    fn fresh_mid(&self, prev: Option<&SessionDescription>, taken: &[String]) -> String {
        let used = |m: &str| {
            taken.iter().any(|t| t == m)
                || prev.is_some_and(|p| p.media.iter().any(|s| s.mid() == Some(m)))
                || self.transceivers.iter().any(|t| t.neg.mid.as_deref() == Some(m) || t.proposed_mid.as_deref() == Some(m))
        };
        (0u32..).map(|n| n.to_string()).find(|m| !used(m)).unwrap_or_default()
    }

    /// Our RTP attributes for transceiver `i` in an offer.
    fn offer_section(&self, i: usize, mid: &str) -> MediaSection {
        let t = &self.transceivers[i];
        let (codecs, extensions) = match &t.neg.local {
            // A negotiated section offers again what it negotiated (same payload types).
            Some(l) if t.codec_preferences.is_empty() => (l.codecs.clone(), l.extensions.clone()),
            _ => {
                let codecs = if t.codec_preferences.is_empty() {
                    sdpmedia::default_codecs(t.kind)
                } else {
                    t.codec_preferences.clone()
                };
                (codecs, sdpmedia::default_extensions(t.kind))
            }
        };
        let mut s = MediaSection {
            kind: t.kind,
            mid: Some(mid.to_owned()),
            direction: t.direction,
            codecs,
            extensions,
            rtcp_mux: true,
            rtcp_rsize: true,
            msids: Vec::new(),
            ssrcs: Vec::new(),
            ssrc_groups: Vec::new(),
            rids: Vec::new(),
            simulcast: None,
        };
        // RFC 8853 §5.1 / JSEP §5.2.1: several send encodings are offered as simulcast, one
        // `a=rid` each (the RID extensions are among the video defaults).
        if t.send.len() > 1 && s.direction.sends() {
            let rids: Vec<String> = t.send.iter().filter_map(|l| l.rid.clone()).collect();
            s.rids = rids.iter().map(|r| sdpmedia::Rid { id: r.clone(), send: true, params: String::new() }).collect();
            s.simulcast = Some(format!("send {}", rids.join(";")));
        }
        self.add_sender_attributes(i, &mut s);
        s
    }

    /// JSEP §5.2.1: a section that sends names its track (`a=msid`) and SSRCs (`a=ssrc`
    /// with the CNAME; `a=ssrc-group:FID` with the RTX SSRC).
    fn add_sender_attributes(&self, i: usize, s: &mut MediaSection) {
        let t = &self.transceivers[i];
        let Some(track) = t.track_id.as_deref().filter(|_| s.direction.sends()) else { return };
        if t.stream_ids.is_empty() {
            s.msids.push(("-".into(), track.into()));
        }
        for stream in &t.stream_ids {
            s.msids.push((stream.clone(), track.into()));
        }
        // Simulcast layers are told apart by their rids (RFC 8852), not by signaled SSRCs.
        if s.simulcast.as_deref().is_some_and(|v| !sdpmedia::simulcast_streams(v, true).is_empty()) {
            return;
        }
        let msid = s.msids.first().map(|(st, tr)| format!("{st} {tr}"));
        let rtx = s.codecs.iter().any(|c| c.rtx.is_some());
        let (ssrc, rtx_ssrc) = (t.send[0].ssrc, t.send[0].rtx_ssrc);
        s.ssrcs.push(Ssrc { ssrc, cname: Some(self.cname.clone()), msid: msid.clone() });
        if rtx {
            s.ssrcs.push(Ssrc { ssrc: rtx_ssrc, cname: Some(self.cname.clone()), msid });
            s.ssrc_groups.push(("FID".into(), vec![ssrc, rtx_ssrc]));
        }
    }

    /// The m-lines of our next offer (JSEP §5.2.1/§5.2.2): those of the last applied local
    /// description in their order (a stopped or stopping transceiver's rejected), then a new
    /// section for each transceiver not in a description yet, then the data section once a
    /// channel exists. Gives the sections and the BUNDLE group (every accepted mid).
    pub(super) fn offer_sections(&mut self, data_wanted: bool) -> (Vec<LocalSection>, Vec<String>) {
        let prev = self
            .pending_local
            .as_ref()
            .or(self.current_local.as_ref())
            .and_then(|d| SessionDescription::parse(&d.sdp).ok());
        // The negotiated answer's rejections stand (a data section the answerer refused is
        // offered again only as rejected).
        let answer = self.current_remote.as_ref().and_then(|d| SessionDescription::parse(&d.sdp).ok());
        let mut sections = Vec::new();
        let mut taken: Vec<String> = Vec::new();
        let mut data_done = false;
        for (i, m) in prev.iter().flat_map(|p| p.media.iter()).enumerate() {
            let mid = m.mid().map(str::to_owned);
            taken.extend(mid.clone());
            let refused = answer.as_ref().and_then(|a| a.media.get(i)).is_some_and(|a| a.mid() == m.mid() && jsep::is_rejected(a));
            if jsep::is_data_section(m) && !jsep::is_rejected(m) && (!refused || data_wanted) {
                sections.push(LocalSection::Data { mid, proto: jsep::PROTO_UDP_DTLS_SCTP.into() });
                data_done = true;
                continue;
            }
            let t = mid.as_deref().and_then(|mid| {
                self.transceivers
                    .iter()
                    .position(|t| t.neg.mid.as_deref() == Some(mid) || t.proposed_mid.as_deref() == Some(mid))
            });
            match t {
                Some(i) if !self.transceivers[i].stopping && !self.transceivers[i].neg.stopped => {
                    let mid = mid.unwrap_or_default();
                    let proto = if jsep::is_media_section(m) { m.proto.clone() } else { sdpmedia::PROTO_RTP_SAVPF.into() };
                    sections.push(LocalSection::Media { proto, section: self.offer_section(i, &mid) });
                }
                _ => sections.push(rejected_like(m)),
            }
        }
        for i in 0..self.transceivers.len() {
            let t = &self.transceivers[i];
            if t.neg.mid.is_some() || t.stopping || t.neg.stopped {
                continue;
            }
            if t.proposed_mid.as_ref().is_some_and(|m| taken.contains(m)) {
                continue;
            }
            let mid = match t.proposed_mid.clone() {
                Some(m) => m,
                None => self.fresh_mid(prev.as_ref(), &taken),
            };
            taken.push(mid.clone());
            self.transceivers[i].proposed_mid = Some(mid.clone());
            let section = self.offer_section(i, &mid);
            sections.push(LocalSection::Media { proto: sdpmedia::PROTO_RTP_SAVPF.into(), section });
        }
        if data_wanted && !data_done {
            if taken.contains(&self.data_mid) || self.transceivers.iter().any(|t| t.proposed_mid.as_ref() == Some(&self.data_mid)) {
                self.data_mid = self.fresh_mid(prev.as_ref(), &taken);
            }
            taken.push(self.data_mid.clone());
            sections.push(LocalSection::Data { mid: Some(self.data_mid.clone()), proto: jsep::PROTO_UDP_DTLS_SCTP.into() });
        }
        let bundle = sections
            .iter()
            .filter(|s| !matches!(s, LocalSection::Rejected { .. }))
            .filter_map(|s| s.mid().map(str::to_owned))
            .collect();
        (sections, bundle)
    }

    /// Our answer's RTP attributes for an offered section (its transceiver, found by mid, was
    /// associated when the offer was applied): `None` rejects it (stopped, no common codec).
    pub(super) fn answer_section(&self, offered: &MediaSection) -> Option<MediaSection> {
        let mid = offered.mid.as_deref()?;
        let i = self.transceivers.iter().position(|t| t.neg.mid.as_deref() == Some(mid))?;
        let t = &self.transceivers[i];
        if t.stopping || t.neg.stopped {
            return None;
        }
        let prefs = (!t.codec_preferences.is_empty()).then_some(t.codec_preferences.as_slice());
        let mut s = jsep::answer_media(offered, t.direction, prefs)?;
        s.rtcp_rsize = offered.rtcp_rsize;
        // The offerer asked to receive simulcast (RFC 8853 §5.3): we answer `send` with the
        // layers we made for it (see `offered_simulcast`), and only if we send at all.
        if let Some(v) = s.simulcast.clone() {
            let ours: Vec<(String, bool)> = sdpmedia::simulcast_streams(&v, true)
                .into_iter()
                .filter(|(rid, _)| s.direction.sends() && t.send.iter().any(|l| l.rid.as_ref() == Some(rid)))
                .collect();
            let theirs = sdpmedia::simulcast_streams(&v, false);
            s.rids.retain(|r| !r.send || ours.iter().any(|(rid, _)| *rid == r.id));
            let list = |l: &[(String, bool)]| {
                l.iter().map(|(rid, paused)| if *paused { format!("~{rid}") } else { rid.clone() }).collect::<Vec<_>>().join(";")
            };
            let mut parts = Vec::new();
            if !ours.is_empty() {
                parts.push(format!("send {}", list(&ours)));
            }
            if !theirs.is_empty() {
                parts.push(format!("recv {}", list(&theirs)));
            }
            s.simulcast = (!parts.is_empty()).then(|| parts.join(" "));
        }
        self.add_sender_attributes(i, &mut s);
        Some(s)
    }

    /// A remote offer's section asks to receive simulcast from transceiver `ti` (its
    /// `a=simulcast` `recv` list): W3C `setRemoteDescription` makes the send encodings those
    /// rids when the application gave no layers of its own (one stream per rid, the first
    /// keeping the transceiver's SSRC); the layers both have are negotiated. A section with
    /// no such list negotiates no simulcast.
    fn offered_simulcast(&mut self, ti: usize, section: &MediaSection) {
        let wanted = section.simulcast.as_deref().map(|v| sdpmedia::simulcast_streams(v, false)).unwrap_or_default();
        let wanted: Vec<(String, bool)> = wanted.into_iter().take(MAX_SEND_ENCODINGS).collect();
        if wanted.is_empty() || self.transceivers[ti].kind != MediaKind::Video {
            self.transceivers[ti].neg.simulcast = None;
            return;
        }
        if self.transceivers[ti].send.len() == 1 && self.transceivers[ti].neg.simulcast.is_none() {
            let base = self.transceivers[ti].encodings.first().cloned().unwrap_or(Encoding { active: true, ..Encoding::default() });
            let mut extra = Vec::new();
            for (rid, _) in wanted.iter().skip(1) {
                let stream = self.new_send_stream(Some(rid.clone()), &extra);
                extra.push(stream);
            }
            let t = &mut self.transceivers[ti];
            t.send[0].rid = Some(wanted[0].0.clone());
            t.send.extend(extra);
            t.layers_from_offer = true;
            t.encodings = wanted.iter().map(|(rid, _)| Encoding { rid: Some(rid.clone()), ..base.clone() }).collect();
        }
        let t = &mut self.transceivers[ti];
        let negotiated: Vec<(String, bool)> =
            wanted.into_iter().filter(|(rid, _)| t.send.iter().any(|l| l.rid.as_ref() == Some(rid))).collect();
        t.neg.simulcast = (!negotiated.is_empty()).then_some(negotiated);
    }

    /// The answer to our offer said which of our simulcast layers it takes (its `a=simulcast`
    /// `recv` list, RFC 8853 §5.3): W3C removes the other encodings; an answer with no
    /// simulcast keeps the first encoding only, sent without a rid.
    fn answered_simulcast(&mut self, ti: usize, section: &MediaSection) {
        let t = &mut self.transceivers[ti];
        if t.send.len() < 2 && t.neg.simulcast.is_none() {
            return;
        }
        let accepted = section.simulcast.as_deref().map(|v| sdpmedia::simulcast_streams(v, false)).unwrap_or_default();
        let accepted: Vec<(String, bool)> =
            accepted.into_iter().filter(|(rid, _)| t.send.iter().any(|l| l.rid.as_ref() == Some(rid))).collect();
        if accepted.is_empty() {
            t.send.truncate(1);
            t.encodings.truncate(1);
            t.neg.simulcast = None;
            return;
        }
        let keep = |rid: &Option<String>| rid.as_ref().is_some_and(|r| accepted.iter().any(|(a, _)| a == r));
        let mut i = 0;
        while i < t.send.len() {
            if keep(&t.send[i].rid) || t.send.len() == 1 {
                i += 1;
            } else {
                t.send.remove(i);
                if i < t.encodings.len() {
                    t.encodings.remove(i);
                }
            }
        }
        t.neg.simulcast = Some(accepted);
    }

    /// W3C `setParameters()`: the encodings' parameters change (`active`, `maxBitrate`,
    /// `maxFramerate`, `scaleResolutionDownBy`); their number and rids cannot
    /// (`InvalidModificationError`, checked by the W3C layer too).
    pub fn set_send_encodings(&mut self, id: TransceiverId, encodings: Vec<Encoding>) -> Result<(), PeerError> {
        self.check_open()?;
        let t = self.transceiver_mut(id)?;
        let same_rids = |a: &[Encoding], b: &[Encoding]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.rid == y.rid);
        let current = if t.encodings.is_empty() { vec![Encoding { active: true, ..Encoding::default() }] } else { t.encodings.clone() };
        let mut wanted = encodings;
        if wanted.len() == 1 && current.len() == 1 && wanted[0].rid.is_none() {
            wanted[0].rid = current[0].rid.clone();
        }
        if !same_rids(&current, &wanted) {
            return Err(err(ErrorKind::InvalidModification, "the encodings' number and rids cannot change"));
        }
        t.encodings = wanted;
        Ok(())
    }

    /// Saves the transceivers' negotiation state before an offer is applied in `stable`.
    /// Transceivers stopped by an earlier answer are dropped first (W3C: removed from the
    /// set once stopped; the host saw them stopped after that answer), so renegotiations that
    /// stop and add sections do not grow the list.
    pub(super) fn snapshot_transceivers(&mut self) {
        self.transceivers.retain(|t| !t.neg.stopped);
        let ids: Vec<TransceiverId> = self.transceivers.iter().map(|t| t.id).collect();
        self.ssrc_routes.retain(|(_, id)| ids.contains(id));
        if self.transceivers_before_offer.is_none() {
            self.transceivers_before_offer =
                Some(self.transceivers.iter().map(|t| (t.id, t.neg.clone(), t.proposed_mid.clone())).collect());
        }
    }

    /// Rollback (W3C `setLocalDescription/setRemoteDescription({type: 'rollback'})`): the
    /// transceivers as they were before the offer; those the remote offer created are
    /// removed unless a track was attached to them since (they stay, unassociated).
    pub(super) fn rollback_transceivers(&mut self) {
        let Some(saved) = self.transceivers_before_offer.take() else { return };
        self.transceivers.retain(|t| saved.iter().any(|(id, ..)| *id == t.id) || !t.created_by_remote_offer || t.from_add_track);
        for t in &mut self.transceivers {
            match saved.iter().find(|(id, ..)| *id == t.id) {
                Some((_, neg, proposed)) => {
                    t.neg = neg.clone();
                    t.proposed_mid = proposed.clone();
                    // webrtc-pc: the send encodings a rolled-back offer gave are taken back.
                    if t.layers_from_offer && t.neg.simulcast.is_none() {
                        t.send.truncate(1);
                        t.send[0].rid = None;
                        t.encodings.truncate(1);
                        if let Some(e) = t.encodings.first_mut() {
                            e.rid = None;
                        }
                        t.layers_from_offer = false;
                    }
                }
                None => {
                    t.neg = Negotiation::default();
                    t.created_by_remote_offer = false;
                    t.from_add_track = true;
                }
            }
        }
    }

    /// A local offer or answer was applied: transceivers take the mids it gave them, and an
    /// answer fixes their negotiated direction (stopping ones are stopped).
    pub(super) fn apply_local_media(&mut self, desc: &SessionDescription, answer: bool) {
        for (index, m) in desc.media.iter().enumerate() {
            let Some(mid) = m.mid() else { continue };
            let Some(t) = self
                .transceivers
                .iter_mut()
                .find(|t| t.neg.mid.as_deref() == Some(mid) || t.proposed_mid.as_deref() == Some(mid))
            else {
                continue;
            };
            if t.neg.mid.is_none() {
                t.neg.mid = Some(mid.to_owned());
            }
            t.proposed_mid = None;
            t.neg.mline_index = Some(index);
            let section = (!jsep::is_rejected(m)).then(|| MediaSection::parse(m).ok().flatten()).flatten();
            if answer {
                match &section {
                    Some(s) if !t.stopping => t.neg.current_direction = Some(s.direction),
                    _ => stop(t),
                }
            }
            t.neg.local = section;
        }
        if answer {
            self.transceivers_before_offer = None;
        }
    }

    /// A remote offer or answer was applied (`remote` read from `desc`): an offer's sections
    /// are associated with transceivers (by mid, else one `addTrack` made of the same kind,
    /// else a new `recvonly` one); each transceiver keeps the remote section (the payload types
    /// to send with) and whether it receives; a rejected section stops its transceiver.
    pub(super) fn apply_remote_media(&mut self, desc: &SessionDescription, remote: &RemoteParams, offer: bool) -> Result<(), PeerError> {
        for (i, m) in desc.media.iter().enumerate() {
            let Some(kind) = MediaKind::from_media_type(&m.media) else { continue };
            let Some(mid) = m.mid() else { continue };
            let accepted = remote.media.iter().find(|(idx, _)| *idx == i).map(|(_, s)| s.clone());
            let mut found = self.transceivers.iter().position(|t| t.neg.mid.as_deref() == Some(mid));
            if found.is_none() && offer && accepted.is_some() {
                found = self.transceivers.iter().position(|t| {
                    t.from_add_track && t.kind == kind && t.neg.mid.is_none() && !t.stopping && !t.neg.stopped
                });
                if found.is_none() {
                    let init = TransceiverInit {
                        kind,
                        direction: Direction::RecvOnly,
                        stream_ids: Vec::new(),
                        track_id: None,
                        from_add_track: false,
                        send_encodings: Vec::new(),
                    };
                    self.new_transceiver(init, true)?;
                    found = Some(self.transceivers.len() - 1);
                }
            }
            let Some(ti) = found else { continue };
            let t = &mut self.transceivers[ti];
            if t.neg.mid.is_none() {
                t.neg.mid = Some(mid.to_owned());
                t.proposed_mid = None;
            }
            t.neg.mline_index = Some(i);
            match accepted {
                Some(section) => {
                    if offer {
                        t.neg.receiving = section.direction.sends();
                    } else {
                        t.neg.receiving = section.direction.sends();
                        if t.stopping {
                            stop(t);
                        } else {
                            t.neg.current_direction = Some(section.direction.reverse());
                        }
                    }
                    if offer {
                        self.offered_simulcast(ti, &section);
                    } else {
                        self.answered_simulcast(ti, &section);
                    }
                    self.transceivers[ti].neg.remote = Some(section);
                }
                None => stop(t),
            }
        }
        if !offer {
            self.transceivers_before_offer = None;
        }
        Ok(())
    }

    /// W3C "check if negotiation is needed", transceiver part: each transceiver against its
    /// section of the current local description (an offer's direction, or the answer's).
    pub(super) fn media_negotiation_needed(&self) -> bool {
        let local_is_offer = self.current_local.as_ref().is_some_and(|d| d.ty == SdpType::Offer);
        self.transceivers.iter().any(|t| {
            if t.neg.stopped {
                return false;
            }
            if t.stopping || t.neg.mid.is_none() {
                return true;
            }
            let Some(local) = &t.neg.local else { return true };
            let wanted = if local_is_offer {
                t.direction
            } else {
                t.neg.remote.as_ref().map_or(t.direction, |r| Direction::answer(r.direction, t.direction))
            };
            if local.direction != wanted {
                return true;
            }
            if t.direction.sends() {
                let streams: Vec<&str> =
                    local.msids.iter().map(|(s, _)| s.as_str()).filter(|s| *s != "-").collect();
                let ours: Vec<&str> = t.stream_ids.iter().map(String::as_str).collect();
                if streams != ours {
                    return true;
                }
            }
            false
        })
    }

    // -----------------------------------------------------------------------------------
    // RTP
    // -----------------------------------------------------------------------------------

    /// Sends one encoded frame on transceiver `id`: packetized for the negotiated codec
    /// (`codec_name` picks one of the negotiated ones; the first by default), RTP timestamp
    /// from `timestamp_us`, SRTP protected. `Ok(false)`: not sent (not negotiated to send, no
    /// track, no path or keys yet), as a browser's sender drops what its track produces then.
    /// With simulcast, this is the first layer's frame ([`Peer::write_layer_frame`]).
    pub fn write_frame(
        &mut self,
        now: Time,
        id: TransceiverId,
        timestamp_us: u64,
        data: &[u8],
        codec_name: Option<&str>,
    ) -> Result<bool, PeerError> {
        self.write_layer_frame(now, id, None, timestamp_us, data, codec_name)
    }

    /// [`Peer::write_frame`] for the send encoding whose rid is `rid` (a simulcast layer;
    /// `None`: the first). `Ok(false)` also when that layer is not negotiated, paused by the
    /// answer or not `active`.
    pub fn write_layer_frame(
        &mut self,
        now: Time,
        id: TransceiverId,
        rid: Option<&str>,
        timestamp_us: u64,
        data: &[u8],
        codec_name: Option<&str>,
    ) -> Result<bool, PeerError> {
        self.check_open()?;
        if data.len() > MAX_SEND_FRAME_BYTES {
            return Err(err(ErrorKind::Operation, "frame too large"));
        }
        let ti = self.transceivers.iter().position(|t| t.id == id).ok_or_else(|| err(ErrorKind::InvalidState, "no such transceiver"))?;
        let t = &self.transceivers[ti];
        let Some(li) = t.layer_index(rid) else {
            return Err(err(ErrorKind::Operation, "no send encoding has this rid"));
        };
        if !t.layer_sending(&t.send[li]) || self.srtp.is_none() || self.send_path().is_none() {
            self.stats.media_frames_not_sent += 1;
            return Ok(false);
        }
        let Some(remote) = t.neg.remote.as_ref() else { return Ok(false) };
        let chosen = remote.codecs.iter().find(|c| {
            codec_of(c).is_some() && codec_name.is_none_or(|n| c.name.eq_ignore_ascii_case(n))
        });
        let Some(sdp_codec) = chosen.cloned() else {
            return Err(err(ErrorKind::Operation, "no negotiated codec for this frame"));
        };
        let Some(kind) = codec_of(&sdp_codec) else { return Ok(false) };
        let ext_ids = (
            remote.extension_id(sdpmedia::ext::MID),
            remote.extension_id(sdpmedia::ext::ABS_SEND_TIME),
            remote.extension_id(sdpmedia::ext::TRANSPORT_CC),
        );
        // RFC 8852: a simulcast layer names itself in every packet.
        let rid_ext = t.neg.simulcast.as_ref().and(remote.extension_id(sdpmedia::ext::RID)).zip(t.send[li].rid.clone());
        let mid = t.neg.mid.clone().unwrap_or_default();
        let audio_level = self.send_audio_level_ext(ti);
        let t = &self.transceivers[ti];
        if t.send[li].packetizer.as_ref().is_none_or(|(k, _)| *k != kind) {
            let picture_id = self.rng.u32() as u16;
            self.transceivers[ti].send[li].packetizer = Some((kind, codec::new_packetizer(kind, picture_id)));
        }
        let t = &mut self.transceivers[ti];
        let layer = &mut t.send[li];
        let Some((_, packetizer)) = layer.packetizer.as_mut() else { return Ok(false) };
        let payloads = packetizer
            .packetize(data, MAX_RTP_PAYLOAD)
            .map_err(|e| err(ErrorKind::Operation, format!("cannot packetize the frame: {e}")))?;
        let ticks = (u128::from(timestamp_us) * u128::from(sdp_codec.clock_rate) / 1_000_000) as u32;
        let timestamp = layer.timestamp_offset.wrapping_add(ticks);
        let ssrc = layer.ssrc;
        let clock_rate = sdp_codec.clock_rate;
        let mut packets = Vec::with_capacity(payloads.len());
        for p in &payloads {
            let seq = layer.sequence;
            layer.sequence = seq.wrapping_add(1);
            let abs = abs_send_time(now);
            let twcc = self.twcc_sequence.to_be_bytes();
            let mut ext = HeaderExtensions::new();
            if let Some(id) = ext_ids.0 {
                let _ = ext.push(id, mid.as_bytes());
            }
            if let Some((id, rid)) = &rid_ext {
                let _ = ext.push(*id, rid.as_bytes());
            }
            if let Some(id) = ext_ids.1 {
                let _ = ext.push(id, &abs);
            }
            if let Some(id) = ext_ids.2 {
                let _ = ext.push(id, &twcc);
                self.twcc_sequence = self.twcc_sequence.wrapping_add(1);
            }
            if let Some((id, level)) = audio_level.as_ref() {
                let _ = ext.push(*id, level);
            }
            let mut header = RtpHeader::new(sdp_codec.payload_type, seq, timestamp, ssrc);
            header.marker = p.marker;
            header.extensions = ext;
            let mut out = Vec::with_capacity(header.encoded_len() + p.data.len() + 16);
            RtpPacket::new(header, &p.data)
                .encode(&mut out)
                .map_err(|e| err(ErrorKind::Operation, format!("cannot write RTP: {e}")))?;
            layer.packets += 1;
            layer.bytes += p.data.len() as u64;
            packets.push((out, p.data.len()));
        }
        layer.frames += 1;
        layer.last_timestamp = Some((timestamp, now));
        for (p, len) in packets {
            self.record_sent(now, ti, li, &p, timestamp, len, clock_rate);
            self.protect_and_queue(&p, false)?;
        }
        self.pump(now);
        Ok(true)
    }

    /// Sends one RTP packet the application wrote for transceiver `id`: its SSRC becomes the
    /// sender's; the rest (payload type, sequence number, timestamp, extensions) is the
    /// application's. `Ok(false)` as for [`Peer::write_frame`].
    pub fn write_rtp(&mut self, now: Time, id: TransceiverId, packet: &[u8]) -> Result<bool, PeerError> {
        self.check_open()?;
        let t = self.transceiver(id)?;
        if RtpPacket::parse(packet).is_err() {
            return Err(err(ErrorKind::Operation, "not an RTP packet"));
        }
        if !t.sending() || self.srtp.is_none() || self.send_path().is_none() {
            self.stats.media_frames_not_sent += 1;
            return Ok(false);
        }
        let mut p = packet.to_vec();
        p[8..12].copy_from_slice(&t.ssrc().to_be_bytes());
        let clock_rate = t.neg.remote.as_ref().and_then(|r| r.codec_for(p[1] & 0x7f)).map_or(90_000, |c| c.clock_rate);
        let (payload, ts) = RtpPacket::parse(&p).map(|r| (r.payload.len(), r.header.timestamp)).unwrap_or((0, 0));
        let ti = self.transceivers.iter().position(|t| t.id == id).unwrap_or(0);
        let layer = &mut self.transceivers[ti].send[0];
        layer.packets += 1;
        layer.bytes += payload as u64;
        self.record_sent(now, ti, 0, &p, ts, payload, clock_rate);
        self.protect_and_queue(&p, false)?;
        self.pump(now);
        Ok(true)
    }

    /// Asks the sender of what transceiver `id` receives for a key frame (RFC 4585 PLI).
    pub fn request_keyframe(&mut self, now: Time, id: TransceiverId) -> Result<(), PeerError> {
        self.check_open()?;
        let t = self.transceiver(id)?;
        let Some(media_ssrc) = t.receive.first().map(|r| r.ssrc).or_else(|| t.neg.remote.as_ref().and_then(|r| r.ssrcs.first().map(|s| s.ssrc))) else {
            return Ok(());
        };
        let (sender, reduced) = (t.ssrc(), t.neg.remote.as_ref().is_some_and(|r| r.rtcp_rsize));
        if self.can_send_rtcp() {
            // Alone with reduced-size RTCP, else behind an RR (RFC 3550 §6.1), as NACKs go.
            self.send_feedback(reduced, sender, vec![crate::media::feedback::pli(sender, media_ssrc)]);
            self.pump(now);
        }
        Ok(())
    }

    /// The transceiver (index) an inbound RTP packet belongs to (RFC 8843 §9.2): its SSRC if
    /// already routed, else its MID header extension, else an `a=ssrc` of a remote section,
    /// else a payload type only one receiving transceiver has. Routes learned are kept (up
    /// to [`MAX_ROUTED_SSRCS`]).
    fn route(&mut self, rtp: &RtpPacket<'_>) -> Option<usize> {
        let ssrc = rtp.header.ssrc;
        if let Some(&(_, id)) = self.ssrc_routes.iter().find(|(s, _)| *s == ssrc) {
            return self.transceivers.iter().position(|t| t.id == id);
        }
        let by_mid = self.transceivers.iter().position(|t| {
            let (Some(mid), Some(remote)) = (t.neg.mid.as_deref(), t.neg.remote.as_ref()) else { return false };
            remote.extension_id(sdpmedia::ext::MID).and_then(|id| rtp.header.extensions.get(id)) == Some(mid.as_bytes())
        });
        let found = by_mid
            .or_else(|| {
                self.transceivers
                    .iter()
                    .position(|t| t.neg.remote.as_ref().is_some_and(|r| r.ssrcs.iter().any(|s| s.ssrc == ssrc)))
            })
            .or_else(|| {
                let pt = rtp.header.payload_type;
                let mut with_pt = self
                    .transceivers
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.neg.receiving && t.neg.remote.as_ref().is_some_and(|r| r.codec_for(pt).is_some()));
                match (with_pt.next(), with_pt.next()) {
                    (Some((i, _)), None) => Some(i),
                    _ => None,
                }
            })?;
        if self.ssrc_routes.len() < MAX_ROUTED_SSRCS {
            self.ssrc_routes.push((ssrc, self.transceivers[found].id));
        }
        Some(found)
    }

    /// An RTP packet SRTP accepted: routed to its transceiver, assembled into frames that its
    /// stream's jitter buffer releases in sequence order ([`PeerEvent::MediaFrame`], now or
    /// from [`Peer::handle_timeout`]) and, when asked, handed over as is. Returns for
    /// `inbound_rtp` what assembly did: frames completed, those of several packets, and the
    /// stream's dropped frames so far (the assembler's and the jitter buffer's late ones).
    pub(super) fn receive_rtp(&mut self, now: Time, packet: &[u8]) -> (u64, u64, u64) {
        let Ok(rtp) = RtpPacket::parse(packet) else { return (0, 0, 0) };
        let routed = self.route(&rtp);
        self.record_transport_cc(now, routed, &rtp);
        let Some(ti) = routed else {
            self.stats.media_dropped_unrouted += 1;
            return (0, 0, 0);
        };
        let t = &self.transceivers[ti];
        if !t.neg.receiving || t.stopping || t.neg.stopped {
            return (0, 0, 0);
        }
        self.note_audio_level(now, ti, &rtp);
        let t = &self.transceivers[ti];
        let Some(remote) = t.neg.remote.as_ref() else { return (0, 0, 0) };
        let pt = rtp.header.payload_type;
        let Some(sdp_codec) = remote.codec_for(pt) else { return (0, 0, 0) };
        if sdp_codec.name.eq_ignore_ascii_case(codec::dtmf::NAME) {
            self.receive_dtmf(ti, &rtp);
            return (0, 0, 0);
        }
        let (codec_pt, kind) = (sdp_codec.payload_type, codec_of(sdp_codec));
        let (clock_rate, nack) = (sdp_codec.clock_rate, sdp_codec.rtcp_fb.iter().any(|f| f == "nack"));
        let pli = sdp_codec.rtcp_fb.iter().any(|f| f == "nack pli");
        let ext_str = |uri: &str| {
            remote
                .extension_id(uri)
                .and_then(|id| rtp.header.extensions.get(id))
                .and_then(|v| core::str::from_utf8(v).ok())
                .filter(|s| !s.is_empty() && s.len() <= 255)
                .map(str::to_owned)
        };
        let rid = ext_str(sdpmedia::ext::RID);
        let repaired = ext_str(sdpmedia::ext::REPAIRED_RID);
        let fid_media = remote
            .ssrc_groups
            .iter()
            .find(|(sem, ids)| sem == "FID" && ids.get(1) == Some(&rtp.header.ssrc))
            .and_then(|(_, ids)| ids.first().copied());
        let mime = sdp_codec.mime_type(t.kind);
        let Some(kind) = kind else { return (0, 0, 0) };
        let id = t.id;
        // RFC 4588 §4: an RTX packet carries the original sequence number first. The stream it
        // repairs: the one it was seen repairing, else the one its repaired-rid names (RFC 8852,
        // simulcast), else its `a=ssrc-group:FID` partner, else the only (first) one.
        let mut learned_rtx = None;
        let (ssrc, seq, payload) = if codec_pt != pt {
            let rtx = rtp.header.ssrc;
            let repaired_stream = t
                .receive
                .iter()
                .find(|r| r.rtx_ssrc == Some(rtx))
                .or_else(|| repaired.as_ref().and_then(|rr| t.receive.iter().find(|r| r.rid.as_ref() == Some(rr))))
                .or_else(|| fid_media.and_then(|m| t.receive.iter().find(|r| r.ssrc == m)))
                .or_else(|| t.receive.first())
                .map(|r| r.ssrc);
            let (Some(osn), Some(media)) = (rtp.payload.get(..2), repaired_stream) else { return (0, 0, 0) };
            learned_rtx = Some((media, rtx));
            (media, u16::from_be_bytes([osn[0], osn[1]]), &rtp.payload[2..])
        } else {
            (rtp.header.ssrc, rtp.header.sequence_number, rtp.payload)
        };
        let deliver = t.deliver_rtp;
        let sender_ssrc = t.ssrc();
        let streams: usize = self.transceivers.iter().map(|t| t.receive.len()).sum();
        let rtt = self.measured_rtt();
        let t = &mut self.transceivers[ti];
        if let Some((media, rtx)) = learned_rtx {
            if let Some(r) = t.receive.iter_mut().find(|r| r.ssrc == media) {
                r.rtx_ssrc = Some(rtx);
            }
        }
        let si = match t.receive.iter().position(|r| r.ssrc == ssrc) {
            Some(i) => i,
            None if t.receive.len() < MAX_RECEIVE_STREAMS_PER_TRANSCEIVER && streams < MAX_RECEIVE_STREAMS => {
                t.receive.push(ReceiveStream {
                    ssrc,
                    rid: rid.clone().filter(|_| codec_pt == pt),
                    rtx_ssrc: None,
                    codec: kind,
                    assembler: FrameAssembler::new(codec::new_depacketizer(kind)),
                    jitter: crate::media::JitterBuffer::new(
                        if kind.is_video() { crate::media::JitterKind::Video } else { crate::media::JitterKind::Audio },
                        nack,
                    ),
                    stats: crate::media::ReceiveStats::new(ssrc),
                    nack: nack.then(crate::media::NackGenerator::new),
                    unwrapper: crate::media::SeqUnwrapper::new(),
                    timestamps: None,
                    clock_rate,
                    keyframes: (kind.is_video() && pli).then(|| crate::media::KeyframeRequester::new(sender_ssrc, ssrc, false)),
                    frames_dropped_seen: 0,
                    feedback_sent: Default::default(),
                });
                t.receive.len() - 1
            }
            None => return (0, 0, 0),
        };
        let stream = &mut t.receive[si];
        if codec_pt == pt && stream.rid.is_none() {
            stream.rid = rid;
        }
        let stream_rid = stream.rid.clone();
        if stream.codec != kind {
            stream.codec = kind;
            stream.assembler = FrameAssembler::new(codec::new_depacketizer(kind));
        }
        if codec_pt == pt {
            stream.stats.on_packet(now, seq, rtp.header.timestamp, clock_rate);
        }
        let ext = stream.unwrapper.unwrap(seq);
        if let Some(n) = stream.nack.as_mut() {
            n.on_packet(now, ext);
        }
        // A payload the depacketizer refuses is counted by the assembler (malformed).
        let malformed = stream.assembler.stats().packets_malformed;
        let _ = stream.assembler.handle_packet(payload, rtp.header.marker, seq, rtp.header.timestamp);
        if codec_pt == pt && (payload.is_empty() || stream.assembler.stats().packets_malformed > malformed) {
            // Padding only, or refused: no frame will hold this sequence number.
            stream.jitter.skip(seq);
        }
        let (mut frames, mut multi) = (0, 0);
        stream.jitter.set_rtt(rtt);
        while let Some(f) = stream.assembler.poll_frame() {
            frames += 1;
            multi += u64::from(f.first_seq != f.last_seq);
            let (first, last, key, len) = (f.first_seq, f.last_seq, f.keyframe, f.data.len());
            stream.jitter.push(now, first, last, key, len, (f, mime.clone()));
        }
        let dropped = after_jitter(stream);
        for ev in released_frames(stream, id, stream_rid) {
            self.queue_media_event(ev);
        }
        if deliver {
            self.queue_media_event(PeerEvent::TransceiverRtp { transceiver: id, packet: packet.to_vec() });
        }
        (frames, multi, dropped)
    }

    /// Notes the arrival of every RTP packet SRTP accepted that carries a transport-wide
    /// sequence number, before anything else may drop it: whether it is routed, negotiated,
    /// received or only padding (the sender's bandwidth probes are padding-only RTX packets),
    /// the sender counted it on the transport and takes it for lost if feedback omits it.
    /// The extension's id is the same in every section of the BUNDLE group (RFC 8843 §9.2):
    /// the routed section's, else the first one negotiating it.
    fn record_transport_cc(&mut self, now: Time, routed: Option<usize>, rtp: &RtpPacket<'_>) {
        let id_in = |t: &Transceiver| t.neg.remote.as_ref().and_then(|r| r.extension_id(sdpmedia::ext::TRANSPORT_CC));
        let Some((ti, id)) = routed
            .and_then(|i| id_in(&self.transceivers[i]).map(|id| (i, id)))
            .or_else(|| self.transceivers.iter().enumerate().find_map(|(i, t)| id_in(t).map(|id| (i, id))))
        else {
            return;
        };
        let Some(v) = rtp.header.extensions.get(id).and_then(|v| v.get(..2)) else { return };
        let sender_ssrc = self.transceivers[ti].ssrc();
        let tw = self.twcc.get_or_insert_with(|| crate::media::TwccRecorder::new(sender_ssrc, rtp.header.ssrc));
        tw.on_packet(now, u16::from_be_bytes([v[0], v[1]]));
    }

    /// The round-trip time our report blocks measured, if any (the jitter buffers' wait).
    pub(super) fn measured_rtt(&self) -> Option<core::time::Duration> {
        self.transceivers.iter().flat_map(|t| t.send.iter()).find_map(|l| l.stats.as_ref().and_then(crate::media::SendStats::rtt))
    }

    /// The receive streams' jitter buffer counters (tests).
    #[cfg(test)]
    pub(crate) fn jitter_stats(&self) -> Vec<crate::media::JitterStats> {
        self.transceivers.iter().flat_map(|t| t.receive.iter()).map(|r| r.jitter.stats()).collect()
    }

    /// When the earliest frame held by a jitter buffer is due out.
    pub(super) fn jitter_timeout(&self) -> Option<Time> {
        self.transceivers.iter().flat_map(|t| t.receive.iter()).filter_map(|r| r.jitter.poll_timeout()).min()
    }

    /// Releases the frames whose wait for a gap ran out ([`PeerEvent::MediaFrame`]), asking
    /// for a key frame where a video gap was given up.
    pub(super) fn handle_jitter_timeout(&mut self, now: Time) {
        let rtt = self.measured_rtt();
        let mut events = Vec::new();
        for t in &mut self.transceivers {
            for stream in &mut t.receive {
                if stream.jitter.poll_timeout().is_none_or(|d| d > now) {
                    continue;
                }
                stream.jitter.set_rtt(rtt);
                stream.jitter.handle_timeout(now);
                after_jitter(stream);
                let rid = stream.rid.clone();
                events.extend(released_frames(stream, t.id, rid));
            }
        }
        for ev in events {
            self.queue_media_event(ev);
        }
    }

    pub(super) fn queue_media_event(&mut self, ev: PeerEvent) {
        if self.media_events_queued >= MAX_QUEUED_MEDIA_EVENTS {
            self.stats.media_dropped_queue_full += 1;
            return;
        }
        self.media_events_queued += 1;
        self.events.push_back(ev);
    }

    /// SRTP-protects `packet` and queues it on the selected path.
    pub(super) fn protect_and_queue(&mut self, packet: &[u8], rtcp: bool) -> Result<(), PeerError> {
        let path = self.send_path();
        let (Some(srtp), Some((transport, destination))) = (self.srtp.as_mut(), path) else {
            return Err(err(ErrorKind::InvalidState, "SRTP is not keyed or there is no path to the peer"));
        };
        let mut data = Vec::with_capacity(packet.len() + srtp.profile().rtcp_overhead());
        data.extend_from_slice(packet);
        let r = if rtcp { srtp.protect_rtcp(&mut data) } else { srtp.protect_rtp(&mut data) };
        r.map_err(|e| err(ErrorKind::Operation, format!("SRTP refused the packet: {e}")))?;
        self.transmits.push_back(Transmit { transport, destination, data });
        Ok(())
    }
}

/// After frames went into (or out of) a stream's jitter buffer: a given-up gap drops what
/// the assembler still held for it (those frames would come too late) and, for video, asks
/// for a key frame, as does any frame the assembler dropped. Gives the stream's dropped
/// frames so far (the assembler's and the jitter buffer's late ones) for `inbound_rtp`.
fn after_jitter(stream: &mut ReceiveStream) -> u64 {
    let gap = stream.jitter.take_gap_given_up();
    if gap {
        if let Some(next) = stream.jitter.next_seq() {
            stream.assembler.drop_before(next);
        }
    }
    let dropped = stream.assembler.stats().frames_dropped;
    if gap || dropped > stream.frames_dropped_seen {
        stream.frames_dropped_seen = dropped;
        if let Some(k) = stream.keyframes.as_mut() {
            k.request();
        }
    }
    dropped + stream.jitter.stats().frames_late
}

/// The frames a stream's jitter buffer released, in order, as [`PeerEvent::MediaFrame`]s of
/// transceiver `id` (`rid`: the stream's RTP stream id).
fn released_frames(stream: &mut ReceiveStream, id: TransceiverId, rid: Option<String>) -> Vec<PeerEvent> {
    let mut out = Vec::new();
    while let Some((f, mime_type)) = stream.jitter.poll_frame() {
        let timestamp_us = stream.frame_time_us(f.timestamp);
        out.push(PeerEvent::MediaFrame {
            transceiver: id,
            ssrc: stream.ssrc,
            mime_type,
            keyframe: f.keyframe,
            rtp_timestamp: f.timestamp,
            timestamp_us,
            rid: rid.clone(),
            data: f.data,
        });
    }
    out
}

/// A transceiver's section is stopped (W3C "stop the RTCRtpTransceiver", once negotiated).
fn stop(t: &mut Transceiver) {
    t.neg.stopped = true;
    t.neg.current_direction = None;
    t.neg.receiving = false;
    t.stopping = false;
    t.receive.clear();
}

/// A section of a previous description kept in a new offer, rejected.
fn rejected_like(m: &MediaDescription) -> LocalSection {
    LocalSection::Rejected { media: m.media.clone(), proto: m.proto.clone(), formats: m.formats.clone(), mid: m.mid().map(str::to_owned) }
}

/// abs-send-time (webrtc.org): seconds in 6.18 fixed point, 24 bits.
fn abs_send_time(now: Time) -> [u8; 3] {
    let us = now.as_micros();
    let v = ((us << 18) / 1_000_000) as u32 & 0x00ff_ffff;
    let b = v.to_be_bytes();
    [b[1], b[2], b[3]]
}

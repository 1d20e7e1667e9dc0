//! RFC 6464 client-to-mixer audio level (`urn:ietf:params:rtp-hdrext:ssrc-audio-level`) on a
//! [`Peer`]'s audio transceivers: the latest level of every remote SSRC, for W3C
//! `RTCRtpSynchronizationSource.audioLevel`, and the level our next audio packets carry.

use super::*;
use crate::rtp::extension::AudioLevel;
use crate::rtp::RtpPacket;
use crate::sdp::media as sdpmedia;

/// Remote SSRCs whose latest level is kept; a new one replaces the one heard from longest ago.
pub(super) const MAX_AUDIO_LEVEL_SOURCES: usize = 16;

/// The latest level heard from one remote SSRC.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SourceAudioLevel {
    pub transceiver: TransceiverId,
    pub ssrc: u32,
    /// -dBov, 0 (loudest) ..= 127 (silence).
    pub level: u8,
    /// The V bit (RFC 6464 §3), when the sender set it.
    pub voice_activity: bool,
    pub at: Time,
}

/// W3C `audioLevel` (webrtc-pc §5.3.1): linear 0..1 from -dBov, 10^(-level/20); 127 means
/// silence (RFC 6464 §3) and gives 0.
pub fn linear_audio_level(level: u8) -> f64 {
    if level >= 127 {
        0.0
    } else {
        10f64.powf(-f64::from(level) / 20.0)
    }
}

/// The -dBov level (0..=127) of a linear level 0..1 (0, or anything not positive, is 127).
pub fn dbov_audio_level(linear: f64) -> u8 {
    if linear.is_nan() || linear <= 0.0 {
        return 127;
    }
    let db = -20.0 * linear.min(1.0).log10();
    db.round().clamp(0.0, 127.0) as u8
}

impl Peer {
    /// Notes the audio level a received packet on transceiver `ti` carries, if it has the
    /// negotiated extension (called from `receive_rtp`).
    pub(super) fn note_audio_level(&mut self, now: Time, ti: usize, rtp: &RtpPacket<'_>) {
        let t = &self.transceivers[ti];
        if t.kind != sdpmedia::MediaKind::Audio {
            return;
        }
        let Some(id) = t.neg.remote.as_ref().and_then(|r| r.extension_id(sdpmedia::ext::AUDIO_LEVEL)) else { return };
        let Some(a) = rtp.header.extensions.get(id).and_then(AudioLevel::parse) else { return };
        let entry = SourceAudioLevel { transceiver: t.id, ssrc: rtp.header.ssrc, level: a.level(), voice_activity: a.voice_activity, at: now };
        if let Some(e) = self.audio_levels.iter_mut().find(|e| e.ssrc == entry.ssrc) {
            *e = entry;
            return;
        }
        if self.audio_levels.len() >= MAX_AUDIO_LEVEL_SOURCES {
            if let Some(oldest) = self.audio_levels.iter().enumerate().min_by_key(|(_, e)| e.at).map(|(i, _)| i) {
                self.audio_levels.swap_remove(oldest);
            }
        }
        self.audio_levels.push(entry);
    }

    /// The latest audio level of each remote SSRC transceiver `id` received.
    pub fn audio_levels(&self, id: TransceiverId) -> Vec<SourceAudioLevel> {
        self.audio_levels.iter().filter(|e| e.transceiver == id).copied().collect()
    }

    /// The level (-dBov, 0..=127; `None`: none) the audio packets transceiver `id` sends from
    /// now on carry in the ssrc-audio-level extension, when it was negotiated.
    pub fn set_send_audio_level(&mut self, id: TransceiverId, level: Option<u8>) {
        self.send_audio_levels.retain(|(t, _)| *t != id);
        if let Some(l) = level.and_then(|l| AudioLevel::new(false, l)) {
            if self.transceivers.iter().any(|t| t.id == id) {
                self.send_audio_levels.push((id, l));
            }
        }
    }

    /// The (extension id, level byte) transceiver `ti`'s next audio packet carries.
    pub(super) fn send_audio_level_ext(&self, ti: usize) -> Option<(u8, [u8; 1])> {
        let t = &self.transceivers[ti];
        let (_, level) = self.send_audio_levels.iter().find(|(id, _)| *id == t.id)?;
        let id = t.neg.remote.as_ref()?.extension_id(sdpmedia::ext::AUDIO_LEVEL)?;
        Some((id, level.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_convert_between_dbov_and_linear() {
        assert_eq!(linear_audio_level(0), 1.0);
        assert!((linear_audio_level(20) - 0.1).abs() < 1e-12);
        assert!((linear_audio_level(6) - 0.501).abs() < 1e-3);
        assert_eq!(linear_audio_level(127), 0.0);
        assert_eq!(dbov_audio_level(1.0), 0);
        assert_eq!(dbov_audio_level(0.1), 20);
        assert_eq!(dbov_audio_level(0.0), 127);
        assert_eq!(dbov_audio_level(f64::NAN), 127);
        assert_eq!(dbov_audio_level(2.0), 0);
        assert_eq!(dbov_audio_level(1e-9), 127);
        for l in 0..127u8 {
            assert_eq!(dbov_audio_level(linear_audio_level(l)), l);
        }
    }
}

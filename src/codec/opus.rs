//! Opus, RFC 7587: the RTP payload is exactly one Opus packet (RFC 6716 §3), which may hold
//! several Opus frames but is never split across RTP packets (RFC 7587 §4.2).

use super::{
    check_count, check_frame, impl_depacketizer, Codec, CodecError, Format, PacketInfo, Packetizer,
    Payload, Reassembly,
};

/// One Opus packet per payload. `max_payload` must hold the whole packet.
#[derive(Debug, Default)]
pub struct OpusPacketizer;

impl OpusPacketizer {
    pub fn new() -> Self {
        OpusPacketizer
    }
}

impl Packetizer for OpusPacketizer {
    fn codec(&self) -> Codec {
        Codec::Opus
    }
    fn packetize(&mut self, frame: &[u8], max_payload: usize) -> Result<Vec<Payload>, CodecError> {
        check_frame(frame, max_payload, 1)?;
        if frame.len() > max_payload {
            // RFC 7587 §4.2: no fragmentation; the encoder must produce smaller packets.
            return Err(CodecError::TooLarge);
        }
        check_count(vec![Payload {
            data: frame.to_vec(),
            marker: false,
        }])
    }
}

/// RFC 7587 §4.2: every payload is one frame; an empty payload (no TOC byte) is refused.
pub fn inspect(payload: &[u8]) -> Result<PacketInfo, CodecError> {
    if payload.is_empty() {
        return Err(CodecError::Truncated);
    }
    Ok(PacketInfo {
        starts_frame: Some(true),
        ends_frame: true,
        keyframe: true,
    })
}

/// RFC 7587 §4.2 has no state between packets.
#[derive(Debug, Default)]
pub(crate) struct OpusFormat;

impl Format for OpusFormat {
    const CODEC: Codec = Codec::Opus;
    fn inspect(payload: &[u8]) -> Result<PacketInfo, CodecError> {
        inspect(payload)
    }
    fn parse(
        &mut self,
        payload: &[u8],
        _continuous: bool,
        data: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        data.extend_from_slice(payload);
        Ok(())
    }
}

/// Every payload comes out as one [`super::Frame`] (keyframe and complete).
#[derive(Debug)]
pub struct OpusDepacketizer {
    re: Reassembly,
    fmt: OpusFormat,
}

impl_depacketizer!(OpusDepacketizer, OpusFormat);

//! `PeerEvent` -> the plain JS objects of `engine-contract.md`.
//!
//! Conversion happens in two steps so the mapping is testable without Node: the core's
//! `polyrtc::engine::to_obj` builds a small owned tree ([`Obj`] of [`Val`]) on any thread
//! (the WASM engine uses the same); [`Batch`] turns a list of them into a JS array on the JS
//! thread. Payloads move into `Buffer`s without a copy.

use napi::bindgen_prelude::{Buffer, Null};
use napi::{Env, JsObject};
pub use polyrtc::engine::{candidate_obj, error_obj, to_obj, Obj, Val, MAX_BATCH_EVENTS};

pub(crate) fn obj_to_js(env: &Env, o: Obj) -> napi::Result<JsObject> {
    let mut js = env.create_object()?;
    for (name, v) in o.0 {
        match v {
            Val::Str(x) => js.set_named_property(name, x)?,
            Val::Num(x) => js.set_named_property(name, x)?,
            Val::Bool(x) => js.set_named_property(name, x)?,
            Val::Null => js.set_named_property(name, Null)?,
            // The Vec's allocation becomes the Buffer's memory (no copy).
            Val::Bytes(x) => js.set_named_property(name, Buffer::from(x))?,
            Val::Obj(inner) => js.set_named_property(name, obj_to_js(env, inner)?)?,
            Val::List(items) => js.set_named_property(name, list_to_js(env, items)?)?,
        }
    }
    Ok(js)
}

fn list_to_js(env: &Env, items: Vec<Val>) -> napi::Result<JsObject> {
    let mut arr = env.create_array_with_length(items.len())?;
    for (i, v) in items.into_iter().enumerate() {
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        match v {
            Val::Str(x) => arr.set_element(i, env.create_string(&x)?)?,
            Val::Num(x) => arr.set_element(i, env.create_double(x)?)?,
            Val::Bool(x) => arr.set_element(i, env.get_boolean(x)?)?,
            Val::Null => arr.set_element(i, env.get_null()?)?,
            Val::Bytes(x) => arr.set_element(i, env.create_buffer_with_data(x)?.into_raw())?,
            Val::Obj(inner) => arr.set_element(i, obj_to_js(env, inner)?)?,
            Val::List(inner) => arr.set_element(i, list_to_js(env, inner)?)?,
        }
    }
    Ok(arr)
}

/// One batch of events, handed to the JS callback as a single array argument.
#[derive(Debug, Default)]
pub struct Batch(pub Vec<Obj>);

impl Batch {
    pub fn weight(&self) -> usize {
        self.0.iter().map(Obj::weight).sum()
    }

    /// Builds the JS array (on the JS thread, inside the threadsafe function's callback).
    pub fn into_js(self, env: &Env) -> napi::Result<JsObject> {
        let mut arr = env.create_array_with_length(self.0.len())?;
        for (i, o) in self.0.into_iter().enumerate() {
            let idx = u32::try_from(i).map_err(|_| napi::Error::from_reason("batch too large"))?;
            arr.set_element(idx, obj_to_js(env, o)?)?;
        }
        Ok(arr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyrtc::peer::*;

    fn all_events() -> Vec<PeerEvent> {
        vec![
            PeerEvent::IceCandidate(Some(IceCandidateInit {
                candidate: "candidate:1 1 udp 2130706431 192.0.2.2 5000 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_mline_index: Some(0),
                username_fragment: Some("abcd".into()),
            })),
            PeerEvent::IceCandidate(None),
            PeerEvent::IceGatheringStateChanged(IceGatheringState::Gathering),
            PeerEvent::IceConnectionStateChanged(IceConnectionState::Checking),
            PeerEvent::SelectedCandidatePairChanged,
            PeerEvent::DtlsStateChanged(DtlsTransportState::Connecting),
            PeerEvent::ConnectionStateChanged(PeerConnectionState::Connected),
            PeerEvent::SctpConnected { max_message_size: 262144, max_channels: 1024 },
            PeerEvent::DataChannelIdAssigned { channel: 3, id: 1 },
            PeerEvent::DataChannelOpen { channel: 3 },
            PeerEvent::DataChannelIncoming {
                channel: 4,
                id: 2,
                label: "chat".into(),
                protocol: "".into(),
                ordered: false,
                max_packet_life_time: None,
                max_retransmits: Some(3),
            },
            PeerEvent::DataChannelMessage { channel: 4, binary: true, data: vec![1, 2, 3] },
            PeerEvent::DataChannelBufferedAmountDecreased { channel: 3, bytes: 1200 },
            PeerEvent::DataChannelClosing { channel: 3 },
            PeerEvent::DataChannelClosed { channel: 3 },
            PeerEvent::DataChannelError {
                channel: 3,
                error: PeerError::new(ErrorKind::DataChannelFailure, "reset"),
                sctp_cause_code: None,
            },
        ]
    }

    #[test]
    fn every_event_has_its_contract_shape() {
        let objs: Vec<Obj> = all_events().into_iter().map(to_obj).collect();
        let shapes: Vec<String> = objs
            .iter()
            .map(|o| o.0.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(","))
            .collect();
        let expected = [
            "type,candidate",
            "type,candidate",
            "type,state",
            "type,state",
            "type",
            "type,state",
            "type,state",
            "type,maxMessageSize,maxChannels",
            "type,channel,id",
            "type,channel",
            "type,channel,id,label,protocol,ordered,maxPacketLifeTime,maxRetransmits",
            "type,channel,binary,data",
            "type,channel,bytes",
            "type,channel",
            "type,channel",
            "type,channel,name,errorDetail,sctpCauseCode,message",
        ];
        assert_eq!(shapes, expected);
        let types: Vec<&str> = objs.iter().filter_map(|o| o.type_name()).collect();
        assert_eq!(
            types,
            [
                "icecandidate",
                "icecandidate",
                "icegatheringstatechange",
                "iceconnectionstatechange",
                "selectedcandidatepairchange",
                "dtlsstatechange",
                "connectionstatechange",
                "sctpconnected",
                "channelid",
                "channelopen",
                "datachannel",
                "message",
                "bufferedamountdecrease",
                "channelclosing",
                "channelclose",
                "channelerror"
            ]
        );
    }

    #[test]
    fn values_are_mapped() {
        let o = to_obj(all_events().remove(0));
        let Some(Val::Obj(c)) = o.get("candidate") else { panic!("candidate object") };
        assert_eq!(c.get("sdpMid"), Some(&Val::Str("0".into())));
        assert_eq!(c.get("sdpMLineIndex"), Some(&Val::Num(0.0)));
        assert_eq!(c.get("usernameFragment"), Some(&Val::Str("abcd".into())));
        assert_eq!(to_obj(PeerEvent::IceCandidate(None)).get("candidate"), Some(&Val::Null));
        let inc = to_obj(all_events().remove(10));
        assert_eq!(inc.get("maxPacketLifeTime"), Some(&Val::Null));
        assert_eq!(inc.get("maxRetransmits"), Some(&Val::Num(3.0)));
        assert_eq!(inc.get("ordered"), Some(&Val::Bool(false)));
        let msg = to_obj(all_events().remove(11));
        assert_eq!(msg.get("data"), Some(&Val::Bytes(vec![1, 2, 3])));
        let err = to_obj(all_events().pop().unwrap());
        assert_eq!(err.get("name"), Some(&Val::Str("OperationError".into())));
        assert_eq!(err.get("errorDetail"), Some(&Val::Str("data-channel-failure".into())));
        assert_eq!(err.get("message"), Some(&Val::Str("reset".into())));
        let abort = to_obj(PeerEvent::DataChannelError {
            channel: 3,
            error: PeerError::new(ErrorKind::SctpFailure, "x"),
            sctp_cause_code: Some(12),
        });
        assert_eq!(abort.get("errorDetail"), Some(&Val::Str("sctp-failure".into())));
        assert_eq!(abort.get("sctpCauseCode"), Some(&Val::Num(12.0)));
        let st = to_obj(PeerEvent::ConnectionStateChanged(PeerConnectionState::Connected));
        assert_eq!(st.get("state"), Some(&Val::Str("connected".into())));
        assert_eq!(error_obj("boom").type_name(), Some("error"));
    }

    /// The contract file names every event type this module produces.
    #[test]
    fn contract_lists_every_event_type() {
        let contract = include_str!("../engine-contract.md");
        let mut objs: Vec<Obj> = all_events().into_iter().map(to_obj).collect();
        objs.push(error_obj("x"));
        for o in objs {
            let t = o.type_name().unwrap_or_default().to_owned();
            assert!(contract.contains(&format!("type: '{t}'")), "{t} missing from engine-contract.md");
            for (k, _) in &o.0 {
                assert!(contract.contains(k), "field {k} of {t} missing from engine-contract.md");
            }
        }
    }
}

//! The WASM engine (`polyrtc::wasm`, feature `wasm`) as the JS glue drives it: two
//! `WasmPeer`s whose datagrams the test carries between `pollTransmit` and `handleDatagram`,
//! one virtual clock in milliseconds armed from `pollTimeout`, and events read from
//! `pollEvents` as the objects of the engine contract. On the host this compiles to nothing.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Object, Reflect, Uint8Array};
use polyrtc::wasm::{generate_certificate, WasmPeer};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &k.into()).unwrap()
}

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

struct Side {
    peer: WasmPeer,
    addr: &'static str,
    events: Vec<JsValue>,
}

impl Side {
    fn new(addr: &'static str) -> Side {
        let config = obj(&[("unixTimeMs", 1_700_000_000_000.0.into()), ("includeLoopback", true.into())]);
        let mut peer = WasmPeer::new(config, None).expect("WasmPeer");
        peer.add_local_transport(0, addr).unwrap();
        Side { peer, addr, events: Vec::new() }
    }

    fn of_type(&self, t: &str) -> Vec<JsValue> {
        self.events.iter().filter(|e| get(e, "type").as_string().as_deref() == Some(t)).cloned().collect()
    }
}

/// Moves events, trickled candidates and datagrams until `done`, jumping the clock to the
/// earliest `pollTimeout`.
fn run(sides: &mut [Side; 2], now: &mut f64, limit_ms: f64, done: impl Fn(&[Side; 2]) -> bool) {
    let end = *now + limit_ms;
    while *now < end {
        let mut moved = false;
        for i in 0..2 {
            let batch: Array = sides[i].peer.poll_events();
            for e in batch.iter() {
                if get(&e, "type").as_string().as_deref() == Some("icecandidate") {
                    sides[1 - i].peer.add_ice_candidate(*now, get(&e, "candidate")).unwrap();
                }
                sides[i].events.push(e);
            }
            loop {
                let t = sides[i].peer.poll_transmit(*now);
                if t.is_undefined() {
                    break;
                }
                moved = true;
                let to = get(&t, "destination").as_string().unwrap();
                let data = Uint8Array::from(get(&t, "data")).to_vec();
                let from = sides[i].addr;
                if to == sides[1 - i].addr {
                    sides[1 - i].peer.handle_datagram(*now, 0, from, &data).unwrap();
                }
            }
        }
        if done(sides) {
            return;
        }
        if !moved {
            let next = sides.iter().filter_map(|s| s.peer.poll_timeout()).fold(end, f64::min);
            *now = next.max(*now + 1.0).min(end);
            for s in sides.iter_mut() {
                s.peer.handle_timeout(*now);
            }
        }
    }
    panic!("not done within {limit_ms} ms of virtual time");
}

#[wasm_bindgen_test]
fn generated_certificates_have_a_fingerprint_and_the_asked_expiry() {
    let now = 1_700_000_000_000.0;
    let c = generate_certificate(now, Some(3_600_000.0)).unwrap();
    let fps = c.fingerprints();
    assert_eq!(fps.length(), 1);
    assert_eq!(get(&fps.get(0), "algorithm").as_string().unwrap(), "sha-256");
    assert!(c.expires() <= now + 3_600_000.0 && c.expires() > now + 3_590_000.0, "{}", c.expires());
    assert!(generate_certificate(now, Some(-1.0)).is_err());
}

#[wasm_bindgen_test]
fn two_engines_connect_through_the_glue_and_exchange_messages() {
    let mut now = 1000.0;
    let mut sides = [Side::new("127.0.0.1:40001"), Side::new("127.0.0.1:40002")];
    let init = obj(&[("label", "engine".into()), ("protocol", "".into()), ("ordered", true.into()), ("negotiated", false.into())]);
    let created = sides[0].peer.create_data_channel(now, init).unwrap();
    let ch = get(&created, "channel").as_f64().unwrap() as u32;
    assert!(get(&created, "id").is_null(), "no id before the DTLS role is known");
    let offer = sides[0].peer.create_offer(None).unwrap();
    let applied = sides[0].peer.set_local_description(now, Some("offer".into()), Some(offer)).unwrap();
    assert_eq!(get(&applied, "type").as_string().unwrap(), "offer");
    let offer_sdp = get(&applied, "sdp").as_string().unwrap();
    sides[1].peer.set_remote_description(now, "offer", &offer_sdp).unwrap();
    let answer = sides[1].peer.set_local_description(now, None, None).unwrap();
    sides[0].peer.set_remote_description(now, "answer", &get(&answer, "sdp").as_string().unwrap()).unwrap();
    run(&mut sides, &mut now, 30_000.0, |s| !s[0].of_type("channelopen").is_empty() && !s[1].of_type("datachannel").is_empty());
    for s in &sides {
        let state = s.peer.get_state();
        assert_eq!(get(&state, "connectionState").as_string().unwrap(), "connected");
        assert_eq!(get(&state, "signalingState").as_string().unwrap(), "stable");
        assert!(!get(&state, "selectedCandidatePair").is_null());
        assert_eq!(s.peer.remote_certificates().length(), 1);
    }
    assert!(sides[0].peer.channel_id(ch).is_some());
    let incoming = sides[1].of_type("datachannel").remove(0);
    assert_eq!(get(&incoming, "label").as_string().unwrap(), "engine");
    let theirs = get(&incoming, "channel").as_f64().unwrap() as u32;
    let big: Vec<u8> = (0..256 * 1024u32).map(|i| (i % 253) as u8).collect();
    sides[0].peer.send(now, ch, false, "hello".as_bytes()).unwrap();
    sides[0].peer.send(now, ch, true, &big).unwrap();
    sides[1].peer.send(now, theirs, false, "back".as_bytes()).unwrap();
    run(&mut sides, &mut now, 30_000.0, |s| s[1].of_type("message").len() >= 2 && !s[0].of_type("message").is_empty());
    let got = sides[1].of_type("message");
    assert!(!get(&got[0], "binary").as_bool().unwrap());
    assert_eq!(Uint8Array::from(get(&got[0], "data")).to_vec(), b"hello");
    assert!(get(&got[1], "binary").as_bool().unwrap());
    assert!(Uint8Array::from(get(&got[1], "data")).to_vec() == big, "256 KiB intact");
    assert_eq!(Uint8Array::from(get(&sides[0].of_type("message")[0], "data")).to_vec(), b"back");
    // getStats(): the core's counters through the WASM engine, the same object as the addon's.
    let stats = |s: &Side, now: f64| s.peer.get_stats(now);
    let (a, b) = (stats(&sides[0], now), stats(&sides[1], now));
    let (ta, tb) = (get(&a, "transport"), get(&b, "transport"));
    assert!(get(&ta, "bytesSent").as_f64().unwrap() >= big.len() as f64);
    assert!(get(&tb, "bytesReceived").as_f64().unwrap() >= big.len() as f64);
    assert_eq!(get(&ta, "tlsVersion").as_string().unwrap(), "FEFD");
    assert!(get(&ta, "dtlsCipher").as_string().unwrap().starts_with("TLS_ECDHE_"));
    let pairs = js_sys::Array::from(&get(&a, "candidatePairs"));
    assert!(pairs.iter().any(|p| get(&p, "selected").as_bool() == Some(true)), "a selected pair");
    assert!(js_sys::Array::from(&get(&a, "localCandidates")).length() >= 1);
    let der = Uint8Array::from(get(&get(&a, "localCertificate"), "der")).to_vec();
    assert!(!der.is_empty());
    // Sends leave the send buffer: bufferedamountdecrease events add up to what was sent.
    let drained = |s: &[Side; 2]| -> usize {
        s[0].of_type("bufferedamountdecrease").iter().map(|e| get(e, "bytes").as_f64().unwrap() as usize).sum()
    };
    run(&mut sides, &mut now, 10_000.0, |s| drained(s) >= 5 + big.len());
    assert_eq!(drained(&sides), 5 + big.len());
    // Closing: the far side's channel ends with channelerror (sctp-failure) then channelclose.
    sides[0].peer.close(now);
    sides[0].peer.close(now);
    run(&mut sides, &mut now, 10_000.0, |s| !s[1].of_type("channelclose").is_empty());
    let err = sides[1].of_type("channelerror");
    assert_eq!(get(&err[0], "errorDetail").as_string().as_deref(), Some("sctp-failure"));
}

#[wasm_bindgen_test]
fn bad_arguments_throw_type_errors_with_a_code() {
    let mut s = Side::new("127.0.0.1:40003");
    let e = s.peer.set_remote_description(0.0, "nonsense", "v=0").unwrap_err();
    assert_eq!(get(&e, "code").as_string().unwrap(), "TypeError");
    assert!(get(&e, "message").as_string().unwrap().starts_with("TypeError: "));
    assert!(s.peer.handle_datagram(0.0, 0, "not an address", &[0]).is_err());
    let init = obj(&[("label", "x".into()), ("maxRetransmits", 70_000.0.into())]);
    let e = s.peer.create_data_channel(0.0, init).unwrap_err();
    assert_eq!(get(&e, "code").as_string().unwrap(), "TypeError");
    let e = s.peer.set_remote_description(0.0, "offer", "not an sdp").unwrap_err();
    assert!(get(&e, "code").as_string().unwrap().ends_with("Error"), "{e:?}");
    // A hostile datagram from anywhere is dropped, not a panic (a panic aborts the instance).
    s.peer.handle_datagram(0.0, 0, "198.51.100.1:9", &[0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]).unwrap();
    assert_eq!(s.peer.poll_events().length(), 0);
}

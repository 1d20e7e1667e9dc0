//! Table-driven tests: hand-written fixtures in the shape each stack produces, round trips,
//! answers, remote-parameter extraction, hostile input, and the signaling table.

use super::error::{JsepError, SdpErrorKind};
use super::jsep::*;
use super::wire::*;
use crate::crypto::Rng;

const FP_A: &str = "A5:4D:CA:18:25:30:BB:1D:6D:13:2C:DE:D6:23:7B:2E:D9:1E:3F:72:1F:CB:19:71:17:44:94:D6:49:3C:9D:5C";

/// Chromium, data channel only.
const CHROME_DATA: &str = "v=0
o=- 4215775240449105457 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0
a=extmap-allow-mixed
a=msid-semantic: WMS
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:Xq3b
a=ice-pwd:h7Kp0sLw2RtYv9bNc4Qz1mFe
a=ice-options:trickle
a=fingerprint:sha-256 A5:4D:CA:18:25:30:BB:1D:6D:13:2C:DE:D6:23:7B:2E:D9:1E:3F:72:1F:CB:19:71:17:44:94:D6:49:3C:9D:5C
a=setup:actpass
a=mid:0
a=sctp-port:5000
a=max-message-size:262144
";

/// Chromium, audio + video + data, all bundled.
const CHROME_AV_DATA: &str = "v=0
o=- 7391562003184466922 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1 2
a=extmap-allow-mixed
a=msid-semantic: WMS 5d2c0f1e-stream
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:u9Rm
a=ice-pwd:Zr3q+/Fh1sK8WcPo0tYbNv2L
a=ice-options:trickle
a=fingerprint:sha-256 34:60:BE:31:20:1E:69:FE:DA:A0:EE:E8:B9:99:7F:5C:7C:29:99:FD:AF:E5:93:25:3C:D6:54:AF:4D:FA:D7:14
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=sendrecv
a=msid:5d2c0f1e-stream 8a7f-audio-track
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=fmtp:63 111/111
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
a=ssrc:3735928559 cname:Qm9vR2x1ZQ
a=ssrc:3735928559 msid:5d2c0f1e-stream 8a7f-audio-track
m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:u9Rm
a=ice-pwd:Zr3q+/Fh1sK8WcPo0tYbNv2L
a=ice-options:trickle
a=fingerprint:sha-256 34:60:BE:31:20:1E:69:FE:DA:A0:EE:E8:B9:99:7F:5C:7C:29:99:FD:AF:E5:93:25:3C:D6:54:AF:4D:FA:D7:14
a=setup:actpass
a=mid:1
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:3 urn:3gpp:video-orientation
a=sendrecv
a=msid:5d2c0f1e-stream 41c2-video-track
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:102 H264/90000
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
a=rtpmap:103 rtx/90000
a=fmtp:103 apt=102
a=ssrc-group:FID 1111111111 2222222222
a=ssrc:1111111111 cname:Qm9vR2x1ZQ
a=ssrc:2222222222 cname:Qm9vR2x1ZQ
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:u9Rm
a=ice-pwd:Zr3q+/Fh1sK8WcPo0tYbNv2L
a=ice-options:trickle
a=fingerprint:sha-256 34:60:BE:31:20:1E:69:FE:DA:A0:EE:E8:B9:99:7F:5C:7C:29:99:FD:AF:E5:93:25:3C:D6:54:AF:4D:FA:D7:14
a=setup:actpass
a=mid:2
a=sctp-port:5000
a=max-message-size:262144
";

/// Firefox: session-level fingerprint and ice-options, hex credentials, big max size.
const FIREFOX_DATA: &str = "v=0
o=mozilla...THIS_IS_SDPARTA-99.0 7148023848932183217 0 IN IP4 0.0.0.0
s=-
t=0 0
a=fingerprint:sha-256 27:A0:AE:B3:FE:E9:23:2F:8A:F2:21:1F:9E:E4:91:C5:B1:0B:EC:B5:56:3B:FC:1E:6F:93:42:7E:CB:C8:FE:29
a=group:BUNDLE 0
a=ice-options:trickle
a=msid-semantic:WMS *
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=sendrecv
a=ice-pwd:6c0e1f4a9b3d27e58f61a0c4d9e2b7f3
a=ice-ufrag:3f9a2c71
a=mid:0
a=setup:actpass
a=sctp-port:5000
a=max-message-size:1073741823
";

/// aiortc: gathers before offering, so candidates and end-of-candidates are inline, the
/// m-line carries the default candidate, and three fingerprints are listed.
const AIORTC_DATA: &str = "v=0
o=- 3912345678 3912345678 IN IP4 0.0.0.0
s=-
t=0 0
a=group:BUNDLE 0
a=msid-semantic:WMS *
m=application 52841 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 192.168.1.20
a=mid:0
a=sctp-port:5000
a=max-message-size:65536
a=candidate:3a8b5c3e0f1d2a4b9e7c6d5f4a3b2c1d 1 udp 2130706431 192.168.1.20 52841 typ host
a=candidate:7c1e9f2d44aa0b6c1d2e3f4a5b6c7d8e 1 udp 1694498815 203.0.113.7 52841 typ srflx raddr 192.168.1.20 rport 52841
a=end-of-candidates
a=ice-ufrag:Tq7e
a=ice-pwd:Y2kPzR8mWn4sVb6xJd0hLc
a=fingerprint:sha-256 68:F7:00:F5:B0:2B:3D:C6:66:F4:5B:DE:AA:2C:CA:ED:CD:2B:51:57:41:0E:4D:EE:4A:F2:B3:4F:43:0A:07:34
a=fingerprint:sha-384 55:E5:CD:8E:46:DC:8E:D4:B7:C2:76:4D:2A:5A:4D:76:77:06:F8:5D:86:90:02:4A:D6:BD:A3:40:1B:E9:C8:CB:CC:C9:35:F6:CD:1F:61:22:6A:E1:53:38:AE:1A:34:00
a=fingerprint:sha-512 4D:33:BA:0D:24:6A:C0:4C:81:B1:BA:F2:3E:3B:F9:EE:F5:F7:9F:2B:49:34:AF:87:F5:52:0B:69:B9:4B:0D:98:2E:85:BB:55:B6:72:A8:72:63:7A:CD:74:66:FC:B6:0E:0E:8F:F1:84:63:B0:E4:B2:BA:29:70:34:74:F0:64:AC
a=setup:actpass
";

/// The pre-RFC 8841 form: SCTP port as the format, `a=sctpmap`.
const LEGACY_DATA: &str = "v=0
o=- 5512006438123397813 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE data
a=msid-semantic: WMS
m=application 9 DTLS/SCTP 5000
c=IN IP4 0.0.0.0
b=AS:30
a=ice-ufrag:kP2hT8vQ
a=ice-pwd:rL5nX9cM3bV7zA1sD4fG6hJ8
a=ice-options:google-ice
a=fingerprint:sha-256 A5:4D:CA:18:25:30:BB:1D:6D:13:2C:DE:D6:23:7B:2E:D9:1E:3F:72:1F:CB:19:71:17:44:94:D6:49:3C:9D:5C
a=setup:actpass
a=mid:data
a=sctpmap:5000 webrtc-datachannel 1024
";

fn crlf(s: &str) -> String {
    s.replace('\n', "\r\n")
}

struct Fixture {
    name: &'static str,
    sdp: &'static str,
    media: usize,
    data_index: usize,
    data_mid: &'static str,
    ufrag: &'static str,
    pwd: &'static str,
    fingerprints: usize,
    trickle: bool,
    sctp_port: u16,
    max_message_size: Option<usize>,
    candidates: usize,
    end_of_candidates: bool,
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        name: "chrome-data",
        sdp: CHROME_DATA,
        media: 1,
        data_index: 0,
        data_mid: "0",
        ufrag: "Xq3b",
        pwd: "h7Kp0sLw2RtYv9bNc4Qz1mFe",
        fingerprints: 1,
        trickle: true,
        sctp_port: 5000,
        max_message_size: Some(262144),
        candidates: 0,
        end_of_candidates: false,
    },
    Fixture {
        name: "chrome-av-data",
        sdp: CHROME_AV_DATA,
        media: 3,
        data_index: 2,
        data_mid: "2",
        ufrag: "u9Rm",
        pwd: "Zr3q+/Fh1sK8WcPo0tYbNv2L",
        fingerprints: 1,
        trickle: true,
        sctp_port: 5000,
        max_message_size: Some(262144),
        candidates: 0,
        end_of_candidates: false,
    },
    Fixture {
        name: "firefox-data",
        sdp: FIREFOX_DATA,
        media: 1,
        data_index: 0,
        data_mid: "0",
        ufrag: "3f9a2c71",
        pwd: "6c0e1f4a9b3d27e58f61a0c4d9e2b7f3",
        fingerprints: 1,
        trickle: true,
        sctp_port: 5000,
        max_message_size: Some(1073741823),
        candidates: 0,
        end_of_candidates: false,
    },
    Fixture {
        name: "aiortc-data",
        sdp: AIORTC_DATA,
        media: 1,
        data_index: 0,
        data_mid: "0",
        ufrag: "Tq7e",
        pwd: "Y2kPzR8mWn4sVb6xJd0hLc",
        fingerprints: 3,
        trickle: false,
        sctp_port: 5000,
        max_message_size: Some(65536),
        candidates: 2,
        end_of_candidates: true,
    },
    Fixture {
        name: "legacy-dtls-sctp",
        sdp: LEGACY_DATA,
        media: 1,
        data_index: 0,
        data_mid: "data",
        ufrag: "kP2hT8vQ",
        pwd: "rL5nX9cM3bV7zA1sD4fG6hJ8",
        fingerprints: 1,
        trickle: false,
        sctp_port: 5000,
        max_message_size: None,
        candidates: 0,
        end_of_candidates: false,
    },
];

fn local(ufrag: &str, setup: Setup) -> LocalParams {
    LocalParams {
        ice_ufrag: ufrag.to_owned(),
        ice_pwd: "Pq8sW2xZ4vN6mK0jH3gF5dSa".to_owned(),
        fingerprints: vec![("sha-256".to_owned(), FP_A.to_owned())],
        setup,
        sctp_port: 5000,
        max_message_size: 262144,
        candidates: Vec::new(),
        end_of_candidates: false,
        session_id: 1_234_567_890_123,
        session_version: 2,
        mid: "0".to_owned(),
        ice_lite: false,
    }
}

fn parse(s: &str) -> SessionDescription {
    match SessionDescription::parse(s) {
        Ok(d) => d,
        Err(e) => panic!("fixture does not parse: {e}"),
    }
}

// ---------------------------------------------------------------------------------------
// Codec
// ---------------------------------------------------------------------------------------

#[test]
fn fixtures_parse_and_serialize_byte_exact() {
    for f in FIXTURES {
        let d = parse(f.sdp);
        assert_eq!(d.media.len(), f.media, "{}", f.name);
        // Fixtures are written in canonical order, so CRLF serialization is byte-exact.
        assert_eq!(d.serialize(), crlf(f.sdp), "{}", f.name);
        // CRLF and LF inputs give the same model; a second round trip is stable.
        let again = parse(&d.serialize());
        assert_eq!(again, d, "{}", f.name);
        assert_eq!(parse(&crlf(f.sdp)), d, "{}", f.name);
    }
}

#[test]
fn model_fields() {
    let d = parse(CHROME_AV_DATA);
    assert_eq!(d.origin.session_id_u64(), Some(7391562003184466922));
    assert_eq!(d.origin.session_version_u64(), Some(2));
    assert_eq!(d.timings, vec![Timing { start: 0, stop: 0, repeats: vec![] }]);
    assert_eq!(d.attr("msid-semantic"), Some(" WMS 5d2c0f1e-stream"));
    assert_eq!(d.attr("extmap-allow-mixed"), Some(""));
    assert!(d.attributes.contains(&Attribute::flag("extmap-allow-mixed")));
    let a = &d.media[0];
    assert_eq!(a.media, MediaType::Audio);
    assert_eq!(a.port, 9);
    assert_eq!(a.proto, "UDP/TLS/RTP/SAVPF");
    assert_eq!(a.formats, ["111", "63", "9", "0", "8", "13", "110", "126"]);
    assert_eq!(a.attrs("rtpmap").count(), 8);
    assert_eq!(a.mid(), Some("0"));
    assert_eq!(d.media[2].media, MediaType::Application);
    let legacy = parse(LEGACY_DATA);
    assert_eq!(legacy.media[0].bandwidths, vec![Bandwidth { bwtype: "AS".into(), bandwidth: 30 }]);
    assert_eq!(legacy.media[0].connections[0].address, "0.0.0.0");
}

#[test]
fn session_id_beyond_u64_is_kept_as_text() {
    let s = CHROME_DATA.replace("4215775240449105457", "99999999999999999999999999");
    let d = parse(&s);
    assert_eq!(d.origin.session_id, "99999999999999999999999999");
    assert_eq!(d.origin.session_id_u64(), None);
    assert_eq!(d.serialize(), crlf(&s));
}

#[test]
fn all_optional_lines_round_trip() {
    let s = "v=0
o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1
s=Call to John Smith
i=SDP Offer #1
u=http://www.jdoe.example.com/home.html
e=Jane Doe <jane@jdoe.example.com>
p=+1 617 555-6011
c=IN IP4 198.51.100.1
b=CT:128
t=3724394400 3724398000
r=604800 3600 0 90000
t=0 0
z=2882844526 -1h 2898848070 0
k=prompt
x=an unknown line type
a=recvonly
m=audio 49170/2 RTP/AVP 0
i=the audio
c=IN IP6 2001:db8::2/127/2
c=IN IP6 2001:db8::3/127/2
b=AS:64
k=clear:secret
y=another unknown
a=rtpmap:0 PCMU/8000
m=video 51372 RTP/AVP 99 90
a=rtpmap:99 h263-1998/90000
";
    let d = parse(s);
    assert_eq!(d.serialize(), crlf(s));
    assert_eq!(d.timings.len(), 2);
    assert_eq!(d.timings[0].repeats, ["604800 3600 0 90000"]);
    assert_eq!(d.unknown, vec![UnknownLine { ty: 'x', value: "an unknown line type".into() }]);
    assert_eq!(d.media[0].port_count, Some(2));
    assert_eq!(d.media[0].connections.len(), 2);
    assert_eq!(d.media[1].formats, ["99", "90"]);
    assert_eq!(d.emails.len(), 1);
    assert_eq!(d.phones.len(), 1);
}

#[test]
fn tolerated_variations() {
    // Blank lines, trailing whitespace-free LF, lines out of canonical order within a
    // section, no final newline.
    let s = "v=0\n\no=- 1 1 IN IP4 0.0.0.0\ns=-\na=foo\nt=0 0\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\na=mid:0\nc=IN IP4 0.0.0.0";
    let d = parse(s);
    assert_eq!(d.attr("foo"), Some(""));
    assert_eq!(d.media[0].connections.len(), 1);
    let back = parse(&d.serialize());
    assert_eq!(back, d);
}

#[test]
fn structural_errors_table() {
    use SdpErrorKind as K;
    let rows: &[(&str, &str, usize, SdpErrorKind)] = &[
        ("empty", "", 0, K::Empty),
        ("blank", "\r\n\n  \n", 0, K::Empty),
        ("no v", "o=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\n", 1, K::MissingVersion),
        ("v=1", "v=1\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\n", 1, K::UnsupportedVersion),
        ("no o", "v=0\ns=-\nt=0 0\n", 2, K::MissingOrigin),
        ("only v", "v=0\n", 1, K::MissingOrigin),
        ("short o", "v=0\no=- 1 1 IN IP4\ns=-\nt=0 0\n", 2, K::BadOrigin),
        ("long o", "v=0\no=- 1 1 IN IP4 a b\ns=-\nt=0 0\n", 2, K::BadOrigin),
        ("o id letters", "v=0\no=- abc 1 IN IP4 0.0.0.0\ns=-\nt=0 0\n", 2, K::BadOrigin),
        ("no s", "v=0\no=- 1 1 IN IP4 0.0.0.0\nt=0 0\n", 3, K::MissingSessionName),
        ("no t", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\na=x\n", 4, K::MissingTiming),
        ("m before t", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nm=audio 9 RTP/AVP 0\nt=0 0\n", 4, K::MissingTiming),
        ("bad t", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0\n", 4, K::BadTiming),
        ("t overflow", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 99999999999999999999999\n", 4, K::BadTiming),
        ("r before t", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nr=1 2 3\nt=0 0\n", 4, K::UnexpectedLine('r')),
        ("two v", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nv=0\n", 5, K::UnexpectedLine('v')),
        (
            "t in media",
            "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nm=audio 9 RTP/AVP 0\nt=0 0\n",
            6,
            K::UnexpectedLine('t'),
        ),
        ("two i", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\ni=a\ni=b\nt=0 0\n", 5, K::UnexpectedLine('i')),
        (
            "two session c",
            "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nc=IN IP4 1.1.1.1\nc=IN IP4 1.1.1.1\nt=0 0\n",
            5,
            K::BadConnection,
        ),
        ("bad c", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nc=IN IP4\nt=0 0\n", 4, K::BadConnection),
        ("bad b", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nb=AS\nt=0 0\n", 4, K::BadBandwidth),
        ("huge b", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nb=AS:123456789012345678901234\nt=0 0\n", 4, K::BadBandwidth),
        ("port 65536", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nm=audio 65536 RTP/AVP 0\n", 5, K::BadMediaLine),
        ("port neg", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nm=audio -1 RTP/AVP 0\n", 5, K::BadMediaLine),
        ("port count", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nm=audio 9/x RTP/AVP 0\n", 5, K::BadMediaLine),
        ("no fmt", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nm=audio 9 RTP/AVP\n", 5, K::BadMediaLine),
        ("m empty", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nm=\n", 5, K::BadMediaLine),
        ("bad proto", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nm=audio 9 RTP//AVP 0\n", 5, K::BadMediaLine),
        ("attr no name", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\na=:x\n", 5, K::BadAttribute),
        ("attr space", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\na=foo bar\n", 5, K::BadAttribute),
        ("uppercase type", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nA=x\n", 5, K::MalformedLine),
        ("no equals", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nhello\n", 5, K::MalformedLine),
        ("nul", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\na=x:\0\n", 5, K::MalformedLine),
        ("stray cr", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\na=x:a\rb\n", 5, K::MalformedLine),
        ("emoji type", "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\n\u{1F600}=x\n", 5, K::MalformedLine),
    ];
    for (name, s, line, kind) in rows {
        let e = SessionDescription::parse(s).expect_err(name);
        assert_eq!((e.line, &e.kind), (*line, kind), "{name}");
    }
}

#[test]
fn bounds() {
    let head = "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\n";
    // Size.
    let huge = format!("{head}{}", "a=x\n".repeat(MAX_SDP_SIZE / 4 + 1));
    assert_eq!(SessionDescription::parse(&huge).unwrap_err().kind, SdpErrorKind::TooLarge);
    assert_eq!(SessionDescription::parse_bytes(huge.as_bytes()).unwrap_err().kind, SdpErrorKind::TooLarge);
    // 10 000 attributes.
    let many = format!("{head}{}", "a=x\n".repeat(10_000));
    assert_eq!(SessionDescription::parse(&many).unwrap_err().kind, SdpErrorKind::TooManyAttributes);
    let media_many = format!("{head}m=audio 9 RTP/AVP 0\n{}", "a=x\n".repeat(10_000));
    assert_eq!(SessionDescription::parse(&media_many).unwrap_err().kind, SdpErrorKind::TooManyAttributes);
    // Exactly the bound is fine.
    let at_bound = format!("{head}{}", "a=x\n".repeat(MAX_ATTRIBUTES));
    assert_eq!(parse(&at_bound).attributes.len(), MAX_ATTRIBUTES);
    // Media sections.
    let sections = format!("{head}{}", "m=audio 0 RTP/AVP 0\n".repeat(MAX_MEDIA_SECTIONS + 1));
    assert_eq!(SessionDescription::parse(&sections).unwrap_err().kind, SdpErrorKind::TooManyMediaSections);
    let sections = format!("{head}{}", "m=audio 0 RTP/AVP 0\n".repeat(MAX_MEDIA_SECTIONS));
    assert_eq!(parse(&sections).media.len(), MAX_MEDIA_SECTIONS);
    // Line length.
    let long = format!("{head}a=x:{}\n", "y".repeat(MAX_LINE_LENGTH));
    assert_eq!(SessionDescription::parse(&long).unwrap_err().kind, SdpErrorKind::LineTooLong);
    // Formats.
    let fmts = format!("{head}m=audio 9 RTP/AVP{}\n", " 0".repeat(MAX_FORMATS + 1));
    assert_eq!(SessionDescription::parse(&fmts).unwrap_err().kind, SdpErrorKind::TooManyFields);
    // Other repeated lines.
    let emails = format!("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\n{}t=0 0\n", "e=a@b\n".repeat(MAX_REPEATED_LINES + 1));
    assert_eq!(SessionDescription::parse(&emails).unwrap_err().kind, SdpErrorKind::TooManyFields);
    // Not UTF-8.
    assert_eq!(SessionDescription::parse_bytes(b"v=0\n\xff\xfe").unwrap_err().kind, SdpErrorKind::NotUtf8);
}

#[test]
fn truncations_and_line_deletions_never_panic() {
    for f in FIXTURES {
        let full = crlf(f.sdp);
        for cut in 0..=full.len() {
            let Some(prefix) = full.get(..cut) else { continue };
            if let Ok(d) = SessionDescription::parse(prefix) {
                // Whatever parses must round-trip and be readable by JSEP without panics.
                assert_eq!(parse(&d.serialize()), d);
                let _ = parse_remote(&d, true);
                let _ = parse_remote(&d, false);
                let _ = create_answer(&d, &local("abcd", Setup::Active));
            }
        }
        let lines: Vec<&str> = f.sdp.lines().collect();
        for skip in 0..lines.len() {
            let s: Vec<&str> = lines.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, l)| *l).collect();
            let s = s.join("\n");
            let r = SessionDescription::parse(&s);
            // v, o, s, t are mandatory.
            if skip <= 3 {
                assert!(r.is_err(), "{}: deleting line {} must fail", f.name, skip + 1);
            }
            if let Ok(d) = r {
                let _ = parse_remote(&d, true);
                let _ = create_answer(&d, &local("abcd", Setup::Active));
            }
        }
    }
}

#[test]
fn random_bytes_and_mutations_never_panic() {
    let mut rng = Rng::seeded(0x5d9);
    let mut buf = vec![0u8; 512];
    for _ in 0..2000 {
        let len = rng.below(512) as usize;
        let Some(b) = buf.get_mut(..len) else { continue };
        rng.fill(b);
        let _ = SessionDescription::parse_bytes(b);
        let _ = SessionDescription::parse(&String::from_utf8_lossy(b));
    }
    // Mutate fixtures: flip bytes to SDP-ish characters, keep UTF-8.
    let alphabet = b"v=o s-t0a:m9/ \n\r\0ABCxyz";
    for f in FIXTURES {
        for _ in 0..300 {
            let mut bytes = crlf(f.sdp).into_bytes();
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(bytes.len() as u64) as usize;
                let c = alphabet.get(rng.below(alphabet.len() as u64) as usize).copied().unwrap_or(b'x');
                if let Some(slot) = bytes.get_mut(i) {
                    *slot = c;
                }
            }
            if let Ok(d) = SessionDescription::parse_bytes(&bytes) {
                assert_eq!(parse(&d.serialize()), d);
                let _ = parse_remote(&d, true);
                let _ = parse_remote(&d, false);
                let _ = create_answer(&d, &local("abcd", Setup::Active));
                let _ = same_session(&d, &d);
            }
        }
    }
}

#[test]
fn fuzz_helper_accepts_fixtures_and_garbage() {
    for f in FIXTURES {
        fuzz_round_trip(crlf(f.sdp).as_bytes());
    }
    fuzz_round_trip(b"\xff\x00v=0");
    fuzz_round_trip(b"");
}

#[test]
fn w3c_names() {
    assert_eq!(JsepError::InvalidState.w3c_name(), "InvalidStateError");
    assert_eq!(JsepError::MissingMidAndIndex.w3c_name(), "TypeError");
    assert_eq!(JsepError::NoDataSection.w3c_name(), "OperationError");
}

#[test]
fn deep_nonsense() {
    let head = "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\n";
    let colons = format!("{head}a=x{}\n", ":".repeat(10_000));
    let d = parse(&colons);
    assert_eq!(d.attr("x").map(str::len), Some(9_999));
    let nested = format!("{head}a=group:BUNDLE {}\n", "0 ".repeat(4000));
    let d = parse(&nested);
    assert_eq!(parse_remote(&d, true), Err(JsepError::BadBundleGroup));
    let equals = format!("{head}{}\n", "=".repeat(1000));
    assert!(SessionDescription::parse(&equals).is_err());
}

// ---------------------------------------------------------------------------------------
// JSEP: remote parameters
// ---------------------------------------------------------------------------------------

#[test]
fn remote_params_from_fixtures() {
    for f in FIXTURES {
        let d = parse(f.sdp);
        let r = parse_remote(&d, true).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert_eq!(r.data_mline_index, Some(f.data_index), "{}", f.name);
        assert_eq!(r.data_mid.as_deref(), Some(f.data_mid), "{}", f.name);
        assert_eq!(r.ice_ufrag, f.ufrag, "{}", f.name);
        assert_eq!(r.ice_pwd, f.pwd, "{}", f.name);
        assert_eq!(r.fingerprints.len(), f.fingerprints, "{}", f.name);
        assert_eq!(r.trickle, f.trickle, "{}", f.name);
        assert_eq!(r.sctp_port, f.sctp_port, "{}", f.name);
        assert_eq!(r.max_message_size, f.max_message_size, "{}", f.name);
        assert_eq!(r.candidates.len(), f.candidates, "{}", f.name);
        assert_eq!(r.end_of_candidates, f.end_of_candidates, "{}", f.name);
        assert_eq!(r.setup, Setup::Actpass, "{}", f.name);
        assert!(!r.ice_lite && !r.rejected, "{}", f.name);
        assert!(r.candidates.iter().all(|c| c.starts_with("candidate:")), "{}", f.name);
        assert!(r.fingerprints.iter().all(|(h, _)| h.starts_with("sha-")), "{}", f.name);
    }
    let ff = parse_remote(&parse(FIREFOX_DATA), true).unwrap();
    assert_eq!(ff.fingerprints[0].0, "sha-256");
    assert!(ff.fingerprints[0].1.starts_with("27:A0:AE"));
}

fn remote_err(sdp: &str, is_offer: bool) -> JsepError {
    parse_remote(&parse(sdp), is_offer).expect_err("must fail")
}

#[test]
fn remote_param_errors_table() {
    let rows: Vec<(&str, String, bool, JsepError)> = vec![
        ("no ufrag", CHROME_DATA.replace("a=ice-ufrag:Xq3b\n", ""), true, JsepError::MissingIceUfrag),
        ("no pwd", CHROME_DATA.replace("a=ice-pwd:h7Kp0sLw2RtYv9bNc4Qz1mFe\n", ""), true, JsepError::MissingIcePwd),
        ("short ufrag", CHROME_DATA.replace("ice-ufrag:Xq3b", "ice-ufrag:Xq3"), true, JsepError::BadIceUfrag),
        ("ufrag chars", CHROME_DATA.replace("ice-ufrag:Xq3b", "ice-ufrag:Xq-b"), true, JsepError::BadIceUfrag),
        (
            "long ufrag",
            CHROME_DATA.replace("ice-ufrag:Xq3b", &format!("ice-ufrag:{}", "a".repeat(257))),
            true,
            JsepError::BadIceUfrag,
        ),
        (
            "short pwd",
            CHROME_DATA.replace("ice-pwd:h7Kp0sLw2RtYv9bNc4Qz1mFe", "ice-pwd:h7Kp0sLw2RtYv9bNc4Qz1"),
            true,
            JsepError::BadIcePwd,
        ),
        (
            "pwd chars",
            CHROME_DATA.replace("ice-pwd:h7Kp0sLw2RtYv9bNc4Qz1mFe", "ice-pwd:h7Kp0sLw2RtYv9bNc4Qz1m_e"),
            true,
            JsepError::BadIcePwd,
        ),
        (
            "no fingerprint",
            CHROME_DATA.replace(&format!("a=fingerprint:sha-256 {FP_A}\n"), ""),
            true,
            JsepError::MissingFingerprint,
        ),
        (
            "md5 only",
            CHROME_DATA.replace(&format!("sha-256 {FP_A}"), "md5 AB:CD"),
            true,
            JsepError::WeakFingerprint("md5".into()),
        ),
        (
            "short fingerprint",
            CHROME_DATA.replace(&format!("sha-256 {FP_A}"), "sha-256 AB:CD"),
            true,
            JsepError::BadFingerprint,
        ),
        ("fingerprint not hex", CHROME_DATA.replace("A5:4D:CA", "G5:4D:CA"), true, JsepError::BadFingerprint),
        (
            "fingerprint no value",
            CHROME_DATA.replace(&format!("sha-256 {FP_A}"), "sha-256"),
            true,
            JsepError::BadFingerprint,
        ),
        ("bad setup", CHROME_DATA.replace("setup:actpass", "setup:sideways"), true, JsepError::BadSetup),
        ("actpass answer", CHROME_DATA.to_owned(), false, JsepError::BadSetup),
        ("sctp-port 0", CHROME_DATA.replace("sctp-port:5000", "sctp-port:0"), true, JsepError::BadSctpPort),
        ("sctp-port 70000", CHROME_DATA.replace("sctp-port:5000", "sctp-port:70000"), true, JsepError::BadSctpPort),
        ("legacy port text", LEGACY_DATA.replace("DTLS/SCTP 5000", "DTLS/SCTP abc"), true, JsepError::BadSctpPort),
        (
            "max-message-size text",
            CHROME_DATA.replace("max-message-size:262144", "max-message-size:lots"),
            true,
            JsepError::BadMaxMessageSize,
        ),
        (
            "max-message-size absurd",
            CHROME_DATA.replace("max-message-size:262144", "max-message-size:999999999999999999999999"),
            true,
            JsepError::BadMaxMessageSize,
        ),
        (
            "no data in answer",
            CHROME_DATA.replace("m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "m=audio 9 UDP/TLS/RTP/SAVPF 111"),
            false,
            JsepError::NoDataSection,
        ),
        (
            "bundle-only no group",
            CHROME_DATA.replace("a=group:BUNDLE 0\n", "").replace("a=mid:0", "a=mid:0\na=bundle-only"),
            true,
            JsepError::BundleOnlyWithoutBundle,
        ),
        ("group unknown mid", CHROME_DATA.replace("BUNDLE 0", "BUNDLE 0 7"), true, JsepError::BadBundleGroup),
        ("duplicate mid", CHROME_AV_DATA.replace("a=mid:1", "a=mid:0"), true, JsepError::DuplicateMid),
    ];
    for (name, sdp, is_offer, err) in rows {
        assert_eq!(remote_err(&sdp, is_offer), err, "{name}");
    }
}

#[test]
fn remote_param_variants() {
    // Media-level credentials win over session level.
    let s = CHROME_DATA.replace("t=0 0\n", "t=0 0\na=ice-ufrag:SESS\na=ice-pwd:sessionsessionsession00\n");
    let r = parse_remote(&parse(&s), true).unwrap();
    assert_eq!(r.ice_ufrag, "Xq3b");
    // Session-level credentials are used when the section has none.
    let s = CHROME_DATA
        .replace("a=ice-ufrag:Xq3b\n", "")
        .replace("a=ice-pwd:h7Kp0sLw2RtYv9bNc4Qz1mFe\n", "")
        .replace("t=0 0\n", "t=0 0\na=ice-lite\na=ice-ufrag:SESS\na=ice-pwd:sessionsessionsession00\n");
    let r = parse_remote(&parse(&s), true).unwrap();
    assert_eq!((r.ice_ufrag.as_str(), r.ice_pwd.as_str(), r.ice_lite), ("SESS", "sessionsessionsession00", true));
    // Answer with setup active / passive / missing.
    for (line, want) in [("setup:active", Setup::Active), ("setup:passive", Setup::Passive)] {
        let s = CHROME_DATA.replace("setup:actpass", line);
        assert_eq!(parse_remote(&parse(&s), false).unwrap().setup, want);
    }
    let s = CHROME_DATA.replace("a=setup:actpass\n", "");
    assert_eq!(parse_remote(&parse(&s), false).unwrap().setup, Setup::Active);
    // Unsupported hashes are skipped when a supported one exists; case is normalized.
    let s =
        CHROME_DATA.replace("a=fingerprint:", "a=fingerprint:md5 00:11\na=fingerprint:").replace("sha-256", "SHA-256");
    let r = parse_remote(&parse(&s), true).unwrap();
    assert_eq!(r.fingerprints, vec![("sha-256".to_owned(), FP_A.to_owned())]);
    let s = CHROME_DATA.replace(FP_A, &FP_A.to_ascii_lowercase());
    assert_eq!(parse_remote(&parse(&s), true).unwrap().fingerprints[0].1, FP_A);
    // max-message-size 0 means any size.
    let s = CHROME_DATA.replace("max-message-size:262144", "max-message-size:0");
    assert_eq!(parse_remote(&parse(&s), true).unwrap().max_message_size, Some(0));
    // No sctp-port: default 5000.
    let s = CHROME_DATA.replace("a=sctp-port:5000\n", "");
    assert_eq!(parse_remote(&parse(&s), true).unwrap().sctp_port, 5000);
    let s = CHROME_DATA.replace("sctp-port:5000", "sctp-port:5001");
    assert_eq!(parse_remote(&parse(&s), true).unwrap().sctp_port, 5001);
    // An offer with no data section: Ok, nothing to use.
    let s = CHROME_DATA.replace("m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "m=audio 9 UDP/TLS/RTP/SAVPF 111");
    let r = parse_remote(&parse(&s), true).unwrap();
    assert!(r.rejected && r.data_mline_index.is_none());
    // A rejected data section in an answer: reported, not an error.
    let s = CHROME_DATA.replace("m=application 9", "m=application 0").replace("a=setup:actpass\n", "a=setup:active\n");
    let r = parse_remote(&parse(&s), false).unwrap();
    assert!(r.rejected);
    assert_eq!(r.data_mline_index, Some(0));
    // A bundle-only data section takes its transport from the tagged section.
    let s = CHROME_AV_DATA.replace(
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\nc=IN IP4 0.0.0.0\na=ice-ufrag:u9Rm\na=ice-pwd:Zr3q+/Fh1sK8WcPo0tYbNv2L\na=ice-options:trickle\na=fingerprint:sha-256 34:60:BE:31:20:1E:69:FE:DA:A0:EE:E8:B9:99:7F:5C:7C:29:99:FD:AF:E5:93:25:3C:D6:54:AF:4D:FA:D7:14\na=setup:actpass\na=mid:2\n",
        "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\nc=IN IP4 0.0.0.0\na=bundle-only\na=mid:2\n",
    );
    assert!(s.contains("a=bundle-only"));
    let r = parse_remote(&parse(&s), true).unwrap();
    assert!(!r.rejected);
    assert_eq!((r.data_mline_index, r.ice_ufrag.as_str(), r.setup), (Some(2), "u9Rm", Setup::Actpass));
    // A first data section that is rejected is skipped in an offer.
    let s = format!(
        "{}m=application 9 UDP/DTLS/SCTP webrtc-datachannel\na=mid:9\na=sctp-port:5002\n",
        CHROME_DATA.replace("m=application 9", "m=application 0").replace("BUNDLE 0", "BUNDLE 9")
    );
    assert_eq!(parse_remote(&parse(&s), true), Err(JsepError::MissingIceUfrag), "no credentials of its own");
    let s = format!("{s}a=ice-ufrag:NEWU\na=ice-pwd:newnewnewnewnewnewnewnew\na=fingerprint:sha-256 {FP_A}\n");
    let r = parse_remote(&parse(&s), true).unwrap();
    assert_eq!((r.data_mline_index, r.data_mid.as_deref(), r.sctp_port), (Some(1), Some("9"), 5002));
    assert_eq!(r.ice_ufrag, "NEWU");
}

// ---------------------------------------------------------------------------------------
// JSEP: offers and answers
// ---------------------------------------------------------------------------------------

#[test]
fn offer_shape_and_round_trip() {
    let mut p = local("offr", Setup::Actpass);
    p.candidates = vec![
        "candidate:1 1 udp 2130706431 10.0.0.1 40000 typ host".into(),
        "a=candidate:2 1 udp 1694498815 203.0.113.1 40000 typ srflx raddr 10.0.0.1 rport 40000".into(),
    ];
    p.end_of_candidates = true;
    let offer = create_offer(&p);
    let text = offer.serialize();
    assert!(
        text.starts_with("v=0\r\no=- 1234567890123 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"),
        "{text}"
    );
    // The default candidate (srflx beats host) goes on m= and c=.
    assert!(
        text.contains("\r\nm=application 40000 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 203.0.113.1\r\n"),
        "{text}"
    );
    let plain = create_offer(&local("offr", Setup::Actpass)).serialize();
    assert!(plain.contains("\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"));
    for line in [
        "a=ice-options:trickle",
        "a=setup:actpass",
        "a=mid:0",
        "a=sctp-port:5000",
        "a=max-message-size:262144",
        "a=end-of-candidates",
    ] {
        assert!(text.contains(&format!("{line}\r\n")), "{line}");
    }
    assert!(text.ends_with("\r\n") && !text.contains("\n\n"));
    let back = parse(&text);
    assert_eq!(back, offer);
    let r = parse_remote(&back, true).unwrap();
    assert_eq!((r.ice_ufrag.as_str(), r.ice_pwd.as_str()), (p.ice_ufrag.as_str(), p.ice_pwd.as_str()));
    assert_eq!(r.fingerprints, p.fingerprints);
    assert_eq!((r.setup, r.sctp_port, r.max_message_size), (Setup::Actpass, 5000, Some(262144)));
    assert_eq!(
        r.candidates,
        [
            "candidate:1 1 udp 2130706431 10.0.0.1 40000 typ host",
            "candidate:2 1 udp 1694498815 203.0.113.1 40000 typ srflx raddr 10.0.0.1 rport 40000"
        ]
    );
    assert!(r.trickle && r.end_of_candidates);
}

/// Check an answer to `offer` is well formed for us: the data section and the audio/video
/// sections bundled with it accepted (media to receive), the others rejected.
fn check_answer(name: &str, offer: &SessionDescription, data_index: usize) {
    let p = local("answ", Setup::Active);
    let answer = create_answer(offer, &p).unwrap_or_else(|e| panic!("{name}: {e}"));
    let answer = parse(&answer.serialize());
    assert_eq!(answer.media.len(), offer.media.len(), "{name}");
    let data_mid = offer.media.get(data_index).and_then(|m| m.mid()).unwrap_or("");
    let group: Vec<&str> = offer
        .attrs("group")
        .filter_map(|g| g.strip_prefix("BUNDLE "))
        .map(|g| g.split_ascii_whitespace().collect::<Vec<_>>())
        .find(|g| g.contains(&data_mid))
        .unwrap_or_default();
    let mut accepted = Vec::new();
    for (i, (om, am)) in offer.media.iter().zip(&answer.media).enumerate() {
        assert_eq!(am.media, om.media, "{name}");
        assert_eq!(am.proto, om.proto, "{name}");
        assert_eq!(am.mid(), om.mid(), "{name}");
        let media = matches!(om.media, MediaType::Audio | MediaType::Video)
            && om.has_attr("rtcp-mux")
            && om.port != 0
            && om.mid().is_some_and(|m| group.contains(&m));
        if i == data_index || media {
            assert_eq!(am.port, 9, "{name}: m-line {i} accepted");
            assert!(am.attr("ice-ufrag").is_some(), "{name}");
            accepted.push(om.mid().unwrap_or(""));
            if media {
                assert!(am.has_attr("recvonly") || am.has_attr("inactive"), "{name}: m-line {i} receives only");
                assert!(am.has_attr("rtcp-mux"), "{name}");
                assert!(!am.formats.is_empty() && am.formats.iter().all(|f| om.formats.contains(f)), "{name}");
            }
        } else {
            assert_eq!(am.port, 0, "{name}: m-line {i} must be rejected");
            assert_eq!(am.formats, om.formats, "{name}");
            assert!(am.attributes.iter().all(|a| a.name == "mid"), "{name}: rejected section has only a=mid");
        }
    }
    let groups: Vec<&str> = answer.attrs("group").collect();
    let listed: Vec<&str> = group.iter().copied().filter(|m| accepted.contains(m)).collect();
    assert_eq!(groups, [format!("BUNDLE {}", listed.join(" "))], "{name}");
    let r = parse_remote(&answer, false).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(r.data_mline_index, Some(data_index), "{name}");
    assert_eq!(r.setup, Setup::Active, "{name}");
    assert_eq!(r.ice_ufrag, "answ", "{name}");
    assert_eq!(r.media.len(), accepted.len() - 1, "{name}: the media sections read back");
    assert!(same_session(&answer, &create_answer(offer, &p).unwrap()), "{name}");
}

#[test]
fn answers_to_fixtures_are_well_formed() {
    for f in FIXTURES {
        check_answer(f.name, &parse(f.sdp), f.data_index);
    }
    // Legacy answered in kind.
    let a = create_answer(&parse(LEGACY_DATA), &local("answ", Setup::Active)).unwrap();
    assert_eq!(a.media[0].proto, "DTLS/SCTP");
    assert_eq!(a.media[0].formats, ["5000"]);
    assert_eq!(a.media[0].attr("sctpmap"), Some("5000 webrtc-datachannel 1024"));
    assert!(a.media[0].attr("sctp-port").is_none());
    let r = parse_remote(&a, false).unwrap();
    assert_eq!(r.sctp_port, 5000);
    // The chromium audio/video answer: Opus (and telephone-event), VP8 and H.264 (with their RTX) to receive, then data.
    let a = create_answer(&parse(CHROME_AV_DATA), &local("answ", Setup::Active)).unwrap();
    let text = a.serialize();
    assert!(text.contains("a=group:BUNDLE 0 1 2\r\n"), "{text}");
    // telephone-event/48000 accepted beside Opus (RFC 4733), its 8 kHz twin not.
    assert!(text.contains("m=audio 9 UDP/TLS/RTP/SAVPF 111 110\r\n"), "{text}");
    assert!(text.contains("a=rtpmap:110 telephone-event/48000\r\n") && !text.contains("telephone-event/8000"), "{text}");
    assert!(text.contains("a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"), "{text}");
    assert!(text.contains("m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103\r\n"), "{text}");
    assert_eq!(text.matches("a=recvonly\r\n").count(), 2, "{text}");
}

#[test]
fn answer_setup_follows_the_offer() {
    let rows = [
        ("actpass", Setup::Active, Setup::Active),
        ("actpass", Setup::Passive, Setup::Passive),
        ("actpass", Setup::Actpass, Setup::Active),
        ("active", Setup::Active, Setup::Passive),
        ("passive", Setup::Passive, Setup::Active),
    ];
    for (offered, preferred, want) in rows {
        let offer = parse(&CHROME_DATA.replace("setup:actpass", &format!("setup:{offered}")));
        let a = create_answer(&offer, &local("answ", preferred)).unwrap();
        assert_eq!(a.media[0].attr("setup").and_then(Setup::parse), Some(want), "{offered}/{preferred:?}");
    }
}

#[test]
fn answer_without_offer_bundle_has_no_group() {
    let offer = parse(&CHROME_DATA.replace("a=group:BUNDLE 0\n", ""));
    let a = create_answer(&offer, &local("answ", Setup::Active)).unwrap();
    assert!(a.attr("group").is_none());
    // An offer with no data section: everything rejected, no group.
    let offer = parse(
        &CHROME_DATA.replace("m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "m=audio 9 UDP/TLS/RTP/SAVPF 111"),
    );
    let a = create_answer(&offer, &local("answ", Setup::Active)).unwrap();
    assert_eq!(a.media[0].port, 0);
    assert!(a.attr("group").is_none());
    // Read back (as the offerer would): nothing usable, rejected rather than an error.
    assert!(parse_remote(&a, false).unwrap().rejected);
}

#[test]
fn two_agents_negotiate_in_memory() {
    let a = local("aaaa", Setup::Actpass);
    let mut b = local("bbbb", Setup::Active);
    b.ice_pwd = "bbbbbbbbbbbbbbbbbbbbbbbb".into();
    let offer_text = create_offer(&a).serialize();
    let offer = parse(&offer_text);
    let from_a = parse_remote(&offer, true).unwrap();
    assert_eq!(from_a.ice_ufrag, "aaaa");
    let answer_text = create_answer(&offer, &b).unwrap().serialize();
    let from_b = parse_remote(&parse(&answer_text), false).unwrap();
    assert_eq!((from_b.ice_ufrag.as_str(), from_b.ice_pwd.as_str()), ("bbbb", "bbbbbbbbbbbbbbbbbbbbbbbb"));
    assert_eq!(from_b.setup, Setup::Active);
    assert_eq!(from_b.data_mid.as_deref(), Some("0"));
    let mut s = SignalingState::Stable;
    s = transition(s, true, DescriptionType::Offer).unwrap();
    s = transition(s, false, DescriptionType::Answer).unwrap();
    assert_eq!(s, SignalingState::Stable);
}

// ---------------------------------------------------------------------------------------
// Candidates and same_session
// ---------------------------------------------------------------------------------------

#[test]
fn candidates_are_added_in_place() {
    let mut d = create_offer(&local("offr", Setup::Actpass));
    let c1 = "candidate:1 1 udp 2130706431 10.0.0.1 40000 typ host";
    add_candidate(&mut d, 0, c1).unwrap();
    add_candidate(&mut d, 0, c1).unwrap(); // duplicate ignored
    add_candidate(&mut d, 0, "").unwrap(); // end-of-candidates
    add_end_of_candidates(&mut d, 0).unwrap(); // idempotent
    add_candidate(&mut d, 0, "a=candidate:2 1 udp 1 10.0.0.2 40001 typ host").unwrap();
    let names: Vec<&str> = d.media[0]
        .attributes
        .iter()
        .map(|a| a.name.as_str())
        .filter(|n| *n == "candidate" || *n == "end-of-candidates")
        .collect();
    assert_eq!(names, ["candidate", "candidate", "end-of-candidates"]);
    assert_eq!(add_candidate(&mut d, 1, c1), Err(JsepError::NoSuchMediaSection));
    assert_eq!(add_candidate(&mut d, 0, "1 1 udp 1 x 1 typ host"), Err(JsepError::BadCandidate));
    assert_eq!(add_candidate(&mut d, 0, "candidate:"), Err(JsepError::BadCandidate));
    assert_eq!(add_candidate(&mut d, 0, "candidate:1\r\na=evil"), Err(JsepError::BadCandidate));
    let r = parse_remote(&parse(&d.serialize()), true).unwrap();
    assert_eq!(r.candidates.len(), 2);
    assert!(r.end_of_candidates);
    // Bound.
    for i in 0..MAX_CANDIDATES {
        let c = format!("candidate:{i} 1 udp 1 10.0.1.1 {} typ host", 1000 + i);
        if add_candidate(&mut d, 0, &c).is_err() {
            assert!(d.media[0].attrs("candidate").count() == MAX_CANDIDATES);
            return;
        }
    }
    panic!("candidate bound not enforced");
}

#[test]
fn find_media_section_by_mid_or_index() {
    let d = parse(CHROME_AV_DATA);
    assert_eq!(find_media_section(&d, Some("2"), None), Ok(2));
    assert_eq!(find_media_section(&d, Some("1"), Some(0)), Ok(1), "mid wins");
    assert_eq!(find_media_section(&d, None, Some(0)), Ok(0));
    assert_eq!(find_media_section(&d, Some("9"), Some(0)), Err(JsepError::NoSuchMediaSection));
    assert_eq!(find_media_section(&d, None, Some(3)), Err(JsepError::NoSuchMediaSection));
    assert_eq!(find_media_section(&d, None, None), Err(JsepError::MissingMidAndIndex));
}

#[test]
fn same_session_detects_modifications() {
    let p = local("offr", Setup::Actpass);
    let base = create_offer(&p);
    let text = base.serialize();
    let mut with_cand = base.clone();
    add_candidate(&mut with_cand, 0, "candidate:1 1 udp 1 10.0.0.1 1 typ host").unwrap();
    assert!(same_session(&base, &with_cand), "candidates do not alter the session");
    assert!(same_session(&base, &parse(&text.replace(FP_A, &FP_A.to_ascii_lowercase()))));
    assert!(same_session(&base, &parse(&text.replace("a=max-message-size:262144\r\n", ""))));
    let changed = [
        text.replace("ice-ufrag:offr", "ice-ufrag:othr"),
        text.replace("ice-pwd:Pq8sW2xZ4vN6mK0jH3gF5dSa", "ice-pwd:Pq8sW2xZ4vN6mK0jH3gF5dSb"),
        text.replace("A5:4D:CA", "A5:4D:CB"),
        text.replace("a=mid:0", "a=mid:1").replace("BUNDLE 0", "BUNDLE 1"),
        text.replace("setup:actpass", "setup:active"),
        text.replace("m=application 9", "m=application 0"),
        format!("{text}m=audio 9 RTP/AVP 0\r\n"),
    ];
    for (i, c) in changed.iter().enumerate() {
        assert!(!same_session(&base, &parse(c)), "modification {i} not detected");
    }
}

// ---------------------------------------------------------------------------------------
// Signaling table
// ---------------------------------------------------------------------------------------

#[test]
fn every_signaling_transition() {
    use DescriptionType::*;
    use SignalingState::*;
    let states = [Stable, HaveLocalOffer, HaveRemoteOffer, HaveLocalPranswer, HaveRemotePranswer, Closed];
    let types = [Offer, Pranswer, Answer, Rollback];
    // (state, local, type) -> next; everything not listed is InvalidState.
    let legal = [
        (Stable, true, Offer, HaveLocalOffer),
        (Stable, false, Offer, HaveRemoteOffer),
        (HaveLocalOffer, true, Offer, HaveLocalOffer),
        (HaveLocalOffer, false, Answer, Stable),
        (HaveLocalOffer, false, Pranswer, HaveRemotePranswer),
        (HaveLocalOffer, true, Rollback, Stable),
        (HaveLocalOffer, false, Rollback, Stable),
        (HaveRemoteOffer, false, Offer, HaveRemoteOffer),
        (HaveRemoteOffer, true, Answer, Stable),
        (HaveRemoteOffer, true, Pranswer, HaveLocalPranswer),
        (HaveRemoteOffer, true, Rollback, Stable),
        (HaveRemoteOffer, false, Rollback, Stable),
        (HaveLocalPranswer, true, Pranswer, HaveLocalPranswer),
        (HaveLocalPranswer, true, Answer, Stable),
        (HaveRemotePranswer, false, Pranswer, HaveRemotePranswer),
        (HaveRemotePranswer, false, Answer, Stable),
    ];
    let mut checked = 0;
    for s in states {
        for local in [true, false] {
            for t in types {
                let want = legal.iter().find(|(a, b, c, _)| *a == s && *b == local && *c == t).map(|r| r.3);
                let got = transition(s, local, t);
                match want {
                    Some(n) => assert_eq!(got, Ok(n), "{s:?} local={local} {t:?}"),
                    None => assert_eq!(got, Err(JsepError::InvalidState), "{s:?} local={local} {t:?}"),
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 48);
}

/// Fuzz regression (`fuzz/corpus/sdp_jsep/crash-rejected-legacy-first`): an offer with a
/// rejected legacy data section before the usable one. Our answer rejects the first and
/// accepts the second; reading that answer must find the accepted one, not fail on the
/// rejected section's non-numeric port.
#[test]
fn answer_with_rejected_data_section_first_reads_the_accepted_one() {
    let offer = crlf(&(
        "v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nt=0 0\n\
m=application 0 DTLS/SCTP 5*000\nc=IN IP4 0.0.0.0\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\nc=IN IP4 0.0.0.0\n\
a=ice-ufrag:Tq8e\na=ice-pwd:Y2kPzR8mWn4sVb6xJd0hLc\n\
a=fingerprint:sha-256 ".to_string() + FP_A + "\na=setup:actpass\na=sctp-port:5000\n"
    ));
    let offer = SessionDescription::parse(&offer).unwrap();
    assert_eq!(parse_remote(&offer, true).unwrap().data_mline_index, Some(1));
    let answer = create_answer(&offer, &local("abcd", Setup::Active)).unwrap();
    let read = parse_remote(&answer, false).unwrap();
    assert_eq!(read.data_mline_index, Some(1));
    assert!(!read.rejected);
}

// ---- weak fingerprint hashes (issue 5) ------------------------------------------------------

/// `n` hex pairs joined by ':' (a fingerprint value of `n` bytes).
fn hex_value(n: usize) -> String {
    (0..n).map(|i| format!("{:02X}", (i * 37) as u8)).collect::<Vec<_>>().join(":")
}

/// A remote description whose only fingerprint uses a hash weaker than SHA-256 is refused
/// with an error naming the hash; the message is what `setRemoteDescription` rejects with.
#[test]
fn weak_fingerprint_only_is_refused_naming_the_hash() {
    for (hash, size) in [("sha-1", 20), ("SHA-1", 20), ("md5", 16), ("md2", 16), ("sha-224", 28)] {
        let sdp = CHROME_DATA.replace(&format!("sha-256 {FP_A}"), &format!("{hash} {}", hex_value(size)));
        for is_offer in [true, false] {
            let sdp = if is_offer { sdp.clone() } else { sdp.replace("setup:actpass", "setup:active") };
            let e = remote_err(&sdp, is_offer);
            let lower = hash.to_ascii_lowercase();
            assert_eq!(e, JsepError::WeakFingerprint(lower.clone()), "{hash}");
            assert_eq!(e.w3c_name(), "OperationError");
            let msg = e.to_string();
            assert!(msg.contains(&lower) && msg.contains("SHA-256"), "{msg}");
        }
    }
    // At session level too (Firefox puts it there).
    let ff = FIREFOX_DATA.replace("a=fingerprint:sha-256 ", "a=fingerprint:sha-1 ");
    let ff = ff.replace(
        "27:A0:AE:B3:FE:E9:23:2F:8A:F2:21:1F:9E:E4:91:C5:B1:0B:EC:B5:56:3B:FC:1E:6F:93:42:7E:CB:C8:FE:29",
        &hex_value(20),
    );
    assert_eq!(remote_err(&ff, true), JsepError::WeakFingerprint("sha-1".into()));
    // A hash we do not know at all is still "unsupported", not "weak".
    let sdp = CHROME_DATA.replace(&format!("sha-256 {FP_A}"), &format!("sha3-256 {}", hex_value(32)));
    assert_eq!(remote_err(&sdp, true), JsepError::UnsupportedFingerprint);
}

/// Weak fingerprints beside a strong one: accepted, and only the strong ones are kept.
#[test]
fn weak_fingerprints_beside_a_strong_one_are_dropped() {
    let extra = format!(
        "a=fingerprint:sha-1 {}\na=fingerprint:md5 {}\na=fingerprint:",
        hex_value(20),
        hex_value(16)
    );
    let sdp = CHROME_DATA.replace("a=fingerprint:", &extra);
    let r = parse_remote(&parse(&sdp), true).unwrap();
    assert_eq!(r.fingerprints, vec![("sha-256".to_owned(), FP_A.to_owned())]);
    // After the strong one, and with sha-512 beside it.
    let sdp = CHROME_DATA.replace(
        &format!("a=fingerprint:sha-256 {FP_A}\n"),
        &format!("a=fingerprint:sha-256 {FP_A}\na=fingerprint:sha-224 {}\na=fingerprint:sha-512 {}\n", hex_value(28), hex_value(64)),
    );
    let r = parse_remote(&parse(&sdp), true).unwrap();
    assert_eq!(r.fingerprints.len(), 2);
    assert!(r.fingerprints.iter().all(|(h, _)| h == "sha-256" || h == "sha-512"), "{:?}", r.fingerprints);
    // The crypto layer never matches a weak fingerprint either, even a correct one.
    let der = b"certificate bytes";
    let sha1 = crate::crypto::Fingerprint::of_der("sha-1", der).unwrap();
    assert!(!sha1.matches(der));
    assert!(crate::crypto::Fingerprint::of_der("sha-256", der).unwrap().matches(der));
}

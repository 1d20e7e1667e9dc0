//! The synthetic sources (`codec::synth`) decoded by real decoders: libvpx and FFmpeg's VP8
//! decoder for the test pattern, libopus and FFmpeg's decoder for Opus (silence, and the
//! tone's power in its band), through Python's PyAV (`tests/synth/decode.py`).
//! Fails, never skips, when `python3` or `av` is missing (`pip install av`).

use std::path::PathBuf;
use std::process::Command;

use polyrtc::codec::synth::vp8::Yuv;
use polyrtc::codec::synth::{opus, Vp8PatternStream, Vp8TestPattern};

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polyrtc-synth-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Probe points: the centre of each bar in the top row, one in the middle of the bars, the
/// box and strip row, and the counter row; each with the colour the encoder reconstructs
/// (which the decoder must match exactly).
fn probes(p: &Vp8TestPattern, frame: u64, recon: &[Yuv]) -> String {
    let (w, h) = (p.width(), p.height());
    let mut points = Vec::new();
    for bar in 0..8 {
        points.push(((2 * bar + 1) * w / 16, 8));
        points.push(((2 * bar + 1) * w / 16, h / 3));
    }
    for x in (8..w).step_by(16) {
        points.push((x, h - 24)); // strip with the box
        points.push((x, h - 8)); // counter
    }
    let mut out = String::new();
    for (x, y) in points {
        let c = p.target_at(frame, x, y);
        let r = recon[(y / 16 * w / 16 + x / 16) as usize];
        // The decoder must give what the encoder reconstructs, which is the pattern within
        // MAX_COLOUR_ERROR (checked here so a drift in either shows).
        let e = polyrtc::codec::synth::vp8::MAX_COLOUR_ERROR;
        assert!(c.y.abs_diff(r.y) <= e && c.u.abs_diff(r.u) <= e && c.v.abs_diff(r.v) <= e);
        out.push_str(&format!("{x} {y} {} {} {}\n", r.y, r.u, r.v));
    }
    out
}

#[test]
fn vp8_and_opus_decode_with_libvpx_and_libopus() {
    let dir = temp_dir();
    for (w, h) in [(320, 240), (640, 480), (176, 144)] {
        let p = Vp8TestPattern::new(w, h).unwrap();
        for n in 0..12u64 {
            let name = format!("vp8_{w}x{h}_{n}");
            std::fs::write(dir.join(format!("{name}.bin")), p.encode_frame(n)).unwrap();
            std::fs::write(
                dir.join(format!("{name}.txt")),
                probes(&p, n, &p.reconstruction(n)),
            )
            .unwrap();
        }
        // The box moved between frame 0 and frame 10.
        let (box0, box10) = (p.box_column(0), p.box_column(10));
        assert_ne!(box0, box10);
        let strip_y = h - 24;
        let at = |f: u64, col: usize| p.target_at(f, col as u32 * 16 + 8, strip_y);
        assert_eq!(at(0, box0), polyrtc::codec::synth::vp8::WHITE);
        assert_eq!(at(10, box10), polyrtc::codec::synth::vp8::WHITE);
        assert_ne!(at(10, box0), polyrtc::codec::synth::vp8::WHITE);
    }
    // The same pattern as a stream: a key frame, then inter frames (every 6th a key frame).
    for (w, h) in [(320, 240), (176, 144)] {
        let mut stream = Vp8PatternStream::new(Vp8TestPattern::new(w, h).unwrap(), 6);
        for n in 0..14u64 {
            let frame = stream.next_frame(n);
            assert_eq!(frame.key_frame, n % 6 == 0, "frame {n}");
            let name = format!("vp8i_{w}x{h}_{n}");
            std::fs::write(dir.join(format!("{name}.bin")), &frame.data).unwrap();
            std::fs::write(
                dir.join(format!("{name}.txt")),
                probes(stream.pattern(), n, stream.last_reconstruction().unwrap()),
            )
            .unwrap();
        }
    }
    let mut silence = opus::OpusSilence::new();
    for n in 0..10 {
        std::fs::write(dir.join(format!("opus_{n:03}.bin")), silence.next_frame()).unwrap();
    }
    for n in 0..12 {
        std::fs::write(dir.join(format!("tone_{n:03}.bin")), opus::tone_frame()).unwrap();
    }
    let (lo, hi) = opus::TONE_BAND_HZ;
    std::fs::write(dir.join("tone_band.txt"), format!("{lo} {hi}")).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/synth/decode.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&dir)
        .output()
        .expect("python3 must be installed (with PyAV: pip install av)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}{stderr}");
    assert!(
        out.status.success(),
        "decode.py failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("vp8 320x240 (libvpx): 12 frames decoded"),
        "{stdout}"
    );
    assert!(
        stdout.contains("opus (libopus): 10 packets, 9600 samples"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

"""Decodes the synthetic frames written by tests/synth_decode.rs with a real decoder.

Usage: python3 tests/synth/decode.py DIR
DIR holds raw VP8 frames (`vp8_<w>x<h>_<n>.bin`), the expected colours
(`vp8_<w>x<h>_<n>.txt`: one "x y Y U V" line per probe point) and Opus packets
(`opus_<n>.bin`: silence; `tone_<n>.bin` with `tone_band.txt`: the tone, whose power must
sit mostly in that band); `vp8i_` files are a stream of key and inter frames. Every frame goes through PyAV (libvpx and FFmpeg's decoder for VP8, libopus and
FFmpeg's decoder for Opus); any decode error, wrong size or colour off by more than the tolerance
exits non-zero. Prints one summary line per stream.
"""
import glob
import os
import re
import struct
import sys

import av  # a missing PyAV is a failure, not a skip

# libvpx itself and FFmpeg's own VP8 decoder; libopus and FFmpeg's own Opus decoder.
VP8_DECODERS = ["libvpx", "vp8"]
OPUS_DECODERS = ["libopus", "opus"]
# The probes hold what the encoder reconstructs (itself within 2 of the pattern), and VP8
# reconstruction is exact (RFC 6386 §1), so a conforming decoder matches to the bit.
TOLERANCE = 0


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def decode_vp8(d, prefix):
    groups = {}
    for path in glob.glob(os.path.join(d, prefix + "_*.bin")):
        m = re.match(prefix + r"_(\d+)x(\d+)_(\d+)\.bin$", os.path.basename(path))
        groups.setdefault((int(m.group(1)), int(m.group(2))), []).append((int(m.group(3)), path))
    if not groups:
        fail("no VP8 frames")
    for decoder, (w, h) in [(dec, size) for dec in VP8_DECODERS for size in sorted(groups)]:
        frames = groups[(w, h)]
        ctx = av.CodecContext.create(decoder, "r")
        decoded = 0
        strip_rows = {}
        for n, path in sorted(frames):
            data = open(path, "rb").read()
            out = ctx.decode(av.Packet(data))
            if len(out) != 1:
                fail(f"{w}x{h} frame {n}: {len(out)} pictures decoded")
            pic = out[0]
            if (pic.width, pic.height) != (w, h):
                fail(f"{w}x{h} frame {n}: decoded as {pic.width}x{pic.height}")
            y_plane, u_plane, v_plane = (bytes(p) for p in pic.planes)
            ls = [p.line_size for p in pic.planes]
            for line in open(path[:-4] + ".txt"):
                x, y, ey, eu, ev = (int(v) for v in line.split())
                got = (y_plane[y * ls[0] + x], u_plane[(y // 2) * ls[1] + x // 2], v_plane[(y // 2) * ls[2] + x // 2])
                want = (ey, eu, ev)
                if any(abs(a - b) > TOLERANCE for a, b in zip(got, want)):
                    fail(f"{w}x{h} frame {n} at ({x},{y}): YUV {got}, expected {want}")
            # The luma row through the box's strip, to see it move.
            strip_y = h - 24
            strip_rows[n] = y_plane[strip_y * ls[0] : strip_y * ls[0] + w]
            decoded += 1
        if 0 in strip_rows and 10 in strip_rows and strip_rows[0] == strip_rows[10]:
            fail(f"{w}x{h}: the box did not move between frames 0 and 10")
        print(f"{prefix} {w}x{h} ({decoder}): {decoded} frames decoded, colours match")


def frame_peak(f):
    """Largest absolute sample (1.0 = full scale), read from the planes (no numpy)."""
    fmt = f.format.name.rstrip("p")
    code, scale = {"flt": ("f", 1.0), "s16": ("h", 32768.0), "s32": ("i", 2147483648.0), "dbl": ("d", 1.0)}[fmt]
    peak = 0.0
    for plane in f.planes:
        raw = bytes(plane)
        n = f.samples * (1 if f.format.is_planar else len(f.layout.channels))
        values = struct.unpack("<%d%s" % (n, code), raw[: n * struct.calcsize(code)])
        peak = max(peak, max(abs(v) for v in values) / scale)
    return peak


def decode_tone(d):
    import math
    paths = sorted(glob.glob(os.path.join(d, "tone_*.bin")))
    if not paths:
        return
    lo, hi = (int(v) for v in open(os.path.join(d, "tone_band.txt")).read().split())
    for decoder in OPUS_DECODERS:
        ctx = av.CodecContext.create(decoder, "r")
        ctx.sample_rate = 48000
        samples = []
        for path in paths:
            out = ctx.decode(av.Packet(open(path, "rb").read()))
            if len(out) != 1 or out[0].samples != 960:
                fail(f"tone {os.path.basename(path)}: bad decode")
            f = out[0]
            fmt = f.format.name.rstrip("p")
            code, scale = {"flt": ("f", 1.0), "s16": ("h", 32768.0)}[fmt]
            raw = bytes(f.planes[0])
            step = 1 if f.format.is_planar else len(f.layout.channels)
            vals = struct.unpack("<%d%s" % (960 * step, code), raw[: 960 * step * struct.calcsize(code)])
            samples.extend(v / scale for v in vals[::step])
        x = samples[960 * 2 :]  # past the decoder's start-up
        rms = math.sqrt(sum(v * v for v in x) / len(x))
        if not 0.02 < rms < 0.5:
            fail(f"tone ({decoder}): rms {rms}, expected about 0.1 (-20 dBFS)")
        n = len(x)
        best = (0.0, 0)
        spectrum = {}
        for hz in range(50, 8000, 25):
            w = 2 * math.pi * hz / 48000
            re = sum(v * math.cos(w * i) for i, v in enumerate(x))
            im = sum(v * math.sin(w * i) for i, v in enumerate(x))
            p = re * re + im * im
            spectrum[hz] = p
            best = max(best, (p, hz))
        inside = sum(p for hz, p in spectrum.items() if lo <= hz <= hi)
        share = inside / sum(spectrum.values())
        if not (lo <= best[1] <= hi) or share < 0.5:
            fail(f"tone ({decoder}): peak at {best[1]} Hz, {share:.2f} of the power in {lo}-{hi} Hz")
        print(f"tone ({decoder}): {len(paths)} packets, rms {rms:.3f}, peak at {best[1]} Hz, {share:.2f} of the power in {lo}-{hi} Hz")


def decode_opus(d):
    paths = sorted(glob.glob(os.path.join(d, "opus_*.bin")))
    if not paths:
        fail("no Opus packets")
    for decoder in OPUS_DECODERS:
        decode_opus_with(decoder, paths)


def decode_opus_with(decoder, paths):
    ctx = av.CodecContext.create(decoder, "r")
    ctx.sample_rate = 48000
    try:
        ctx.layout = "mono"
    except Exception:
        pass
    total = 0
    peak = 0.0
    for path in paths:
        out = ctx.decode(av.Packet(open(path, "rb").read()))
        if len(out) != 1:
            fail(f"{os.path.basename(path)}: {len(out)} audio frames decoded")
        f = out[0]
        if f.sample_rate != 48000 or f.samples != 960:
            fail(f"{os.path.basename(path)}: {f.samples} samples at {f.sample_rate} Hz")
        peak = max(peak, frame_peak(f))
        total += f.samples
    if peak > 1e-4:
        fail(f"opus: not silent, peak {peak}")
    print(f"opus ({decoder}): {len(paths)} packets, {total} samples at 48 kHz, peak {peak}")


def main():
    d = sys.argv[1]
    print("av", av.__version__)
    decode_vp8(d, "vp8")  # key frames only
    decode_vp8(d, "vp8i")  # key and inter frames
    decode_opus(d)
    decode_tone(d)


main()

"""An aiortc peer that sends media: a data channel, an audio track (a tone, Opus) and a video
track (a moving pattern, VP8), offered in one BUNDLE. Protocol over stdin/stdout, one JSON
object per line: it prints {"offer": {...}} (candidates included), reads {"answer": {...}},
then prints {"stats": {...}} (what its RTP senders sent) whenever it reads {"stats": true}.
Used by tests/interop/aiortc-media.test.js (aiortc from PyPI; libsrtp through pylibsrtp).
"""
import asyncio
import json
import math
import os
import sys

import aioice.ice

if os.environ.get("POLYRTC_INTEROP_ALL_CANDIDATES") != "1":
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

import array  # noqa: E402
import random  # noqa: E402

import av  # noqa: E402
from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack  # noqa: E402


W, H = 320, 240


class Pattern(VideoStreamTrack):
    """320x240 frames (I420) with a moving bar and a noisy patch (frames of several packets)."""

    def __init__(self):
        super().__init__()
        self.n = 0
        self.rng = random.Random(7)

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        self.n += 1
        y = bytearray([(self.n * 3) % 256]) * (W * H)
        x0 = (self.n * 4) % (W - 20)
        for row in range(100, 140):
            y[row * W + x0:row * W + x0 + 20] = b"\xff" * 20
        for row in range(20, 84):
            y[row * W + 20:row * W + 100] = self.rng.randbytes(80)
        frame = av.VideoFrame(W, H, "yuv420p")
        frame.planes[0].update(bytes(y))
        frame.planes[1].update(bytes([128]) * (W * H // 4))
        frame.planes[2].update(bytes([(self.n * 5) % 256]) * (W * H // 4))
        frame.pts = pts
        frame.time_base = time_base
        return frame


class Tone(AudioStreamTrack):
    """A 440 Hz tone in the frames (timing) of aiortc's silent audio track."""

    def __init__(self):
        super().__init__()
        self.t = 0

    async def recv(self):
        frame = await super().recv()  # paces and stamps 20 ms
        n = frame.samples
        data = array.array("h", (int(8000 * math.sin(2 * math.pi * 440 * (i + self.t) / frame.sample_rate)) for i in range(n)))
        self.t += n
        out = av.AudioFrame(format="s16", layout="mono", samples=n)
        out.planes[0].update(data.tobytes())
        out.sample_rate = frame.sample_rate
        out.pts = frame.pts
        out.time_base = frame.time_base
        return out


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main():
    pc = RTCPeerConnection()
    pc.createDataChannel("control")
    pc.addTrack(Tone())
    pc.addTrack(Pattern())
    await pc.setLocalDescription(await pc.createOffer())
    emit({"offer": {"type": pc.localDescription.type, "sdp": pc.localDescription.sdp}})
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            break
        msg = json.loads(line)
        if "answer" in msg:
            await pc.setRemoteDescription(RTCSessionDescription(**msg["answer"]))
        elif msg.get("stats"):
            sent = {}
            for sender in pc.getSenders():
                for s in (await sender.getStats()).values():
                    if s.type == "outbound-rtp":
                        sent[s.kind] = s.packetsSent
            emit({"stats": sent, "state": pc.connectionState})
    await pc.close()


if __name__ == "__main__":
    asyncio.run(main())

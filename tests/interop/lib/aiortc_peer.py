"""One aiortc peer connection driven over stdin/stdout, one JSON object per line.

Requests  (stdin):  {"id": n, "op": "...", "args": [...]}
Responses (stdout): {"id": n, "ok": true, "result": ...} or {"id": n, "ok": false, "error": "..."}
Events    (stdout): {"event": "open"|"close"|"channel"|"message"|"candidate"|"connection", ...}
Binary payloads travel as {"b": "<base64>"}, text as {"s": "..."}.
Used by tests/interop/aiortc.test.js (aiortc from PyPI).
"""
import asyncio
import base64
import json
import os
import sys

import aioice.ice

# Loopback only, like the rest of the harness: aioice skips 127.0.0.1 by default.
if os.environ.get("POLYRTC_INTEROP_ALL_CANDIDATES") != "1":
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.sdp import candidate_from_sdp  # noqa: E402


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Peer:
    def __init__(self):
        self.pc = None
        self.channels = {}

    def attach(self, dc, remote):
        label = dc.label
        self.channels[label] = dc

        @dc.on("open")
        def on_open():
            emit({"event": "open", "label": label})

        @dc.on("close")
        def on_close():
            emit({"event": "close", "label": label})

        @dc.on("message")
        def on_message(data):
            if isinstance(data, str):
                payload = {"s": data}
            else:
                payload = {"b": base64.b64encode(data).decode("ascii")}
            emit({"event": "message", "label": label, "data": payload})

        if remote:
            emit({"event": "channel", "label": label})
        if dc.readyState == "open":
            emit({"event": "open", "label": label})

    async def init(self, config=None):
        self.pc = RTCPeerConnection()

        @self.pc.on("datachannel")
        def on_datachannel(dc):
            self.attach(dc, True)

        @self.pc.on("connectionstatechange")
        def on_state():
            emit({"event": "connection", "label": self.pc.connectionState})

    def local(self):
        d = self.pc.localDescription
        return {"type": d.type, "sdp": d.sdp}

    async def createOffer(self):
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.local()

    async def handleOffer(self, desc):
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=desc["sdp"], type=desc["type"]))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.local()

    async def handleAnswer(self, desc):
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=desc["sdp"], type=desc["type"]))

    async def addCandidate(self, c):
        text = c["candidate"]
        if text.startswith("candidate:"):
            text = text[len("candidate:"):]
        cand = candidate_from_sdp(text)
        cand.sdpMid = c.get("sdpMid")
        cand.sdpMLineIndex = c.get("sdpMLineIndex")
        await self.pc.addIceCandidate(cand)

    async def createChannel(self, label, init=None):
        init = init or {}
        kwargs = {}
        for key in ("ordered", "maxRetransmits", "maxPacketLifeTime", "negotiated", "id", "protocol"):
            if key in init and init[key] is not None:
                kwargs[key] = init[key]
        self.attach(self.pc.createDataChannel(label, **kwargs), False)

    async def channelInfo(self, label):
        dc = self.channels[label]
        return {"ordered": dc.ordered, "maxRetransmits": dc.maxRetransmits, "negotiated": dc.negotiated, "id": dc.id}

    async def send(self, label, msg):
        self.channels[label].send(msg["s"] if "s" in msg else base64.b64decode(msg["b"]))

    async def closeChannel(self, label):
        self.channels[label].close()

    async def close(self):
        if self.pc:
            await self.pc.close()


async def main():
    peer = Peer()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            break
        req = json.loads(line)
        try:
            result = await getattr(peer, req["op"])(*req.get("args", []))
            emit({"id": req["id"], "ok": True, "result": result})
        except Exception as e:  # reported to the Node side, which fails the test
            emit({"id": req["id"], "ok": False, "error": f"{type(e).__name__}: {e}"})
        if req["op"] == "close":
            break
    await peer.close()


if __name__ == "__main__":
    asyncio.run(main())

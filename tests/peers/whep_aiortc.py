#!/usr/bin/python3
"""whep_aiortc.py — a scripted WHEP player (a third-party viewer) for Kanyan's tests.

Run with Debian's /usr/bin/python3 (python3-aiortc), inside tests/netns.sh:

    whep_aiortc.py --url http://127.0.0.1:PORT/whep/REF --token TOKEN
                   [--duration S] [--wait-live S]

Offers to receive only (video and audio transceivers recvonly, so this player has nothing
to send and cannot be heard by anyone), POSTs the offer (all candidates in it) with
Content-Type application/sdp and the viewing token as bearer, applies the 201 answer,
decodes what arrives for --duration seconds, then DELETEs the Location and exits.
--wait-live S: while the server answers 409 not_live (no applicant media yet), try again
for up to S seconds.
Prints one JSON object per line:
    {"event":"answered","location":...,"links":[...],"directions":{"video":"sendonly",...}}
    {"event":"connected"}   {"event":"state","state":...}
    {"event":"frames","video":n decoded,"width":w,"height":h,"audio":n,"sending":[kinds]}
    {"event":"deleted","status":200}
    {"event":"error","status":N|null,"body":...}
Exit status: 0 on success, 1 on an HTTP error or failure, 2 on usage.
"""
import argparse
import asyncio
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from whip_aiortc import bundle_offer, http  # noqa: E402  (the same HTTP and max-bundle offer)

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import MediaStreamError  # noqa: E402


def emit(**event):
    print(json.dumps(event), flush=True)


def answer_directions(sdp):
    """{kind: direction} of each m-line of the answer"""
    out, kind = {}, None
    for line in sdp.replace("\r\n", "\n").split("\n"):
        if line.startswith("m="):
            kind = line[2:].split()[0]
        elif kind and line[2:] in ("sendonly", "recvonly", "sendrecv", "inactive"):
            out[kind] = line[2:]
    return out


class Player:
    def __init__(self):
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.video = 0
        self.audio = 0
        self.size = (0, 0)
        self.tasks = []
        self.location = None

    async def drain(self, track):
        try:
            while True:
                frame = await track.recv()   # decoded: a VideoFrame / AudioFrame
                if track.kind == "video":
                    self.video += 1
                    self.size = (frame.width, frame.height)
                else:
                    self.audio += 1
        except MediaStreamError:
            pass

    def sending(self):
        return [t.kind for t in self.pc.getTransceivers() if t.sender.track is not None]


async def run(args):
    player = Player()
    pc = player.pc

    @pc.on("connectionstatechange")
    def on_state():
        if pc.connectionState == "connected":
            emit(event="connected")
        else:
            emit(event="state", state=pc.connectionState)

    @pc.on("track")
    def on_track(track):
        player.tasks.append(asyncio.ensure_future(player.drain(track)))

    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    offer = bundle_offer(pc.localDescription.sdp)
    deadline = time.time() + args.wait_live
    while True:
        status, headers, body = await asyncio.to_thread(http, "POST", args.url, args.token, offer, "application/sdp")
        if status == 409 and '"not_live"' in body and time.time() < deadline:
            await asyncio.sleep(0.5)
            continue
        break
    if status != 201:
        emit(event="error", status=status, body=body)
        await pc.close()
        return 1
    location = headers.get("Location")
    if not location:
        emit(event="error", status=status, body="201 without a Location header")
        await pc.close()
        return 1
    player.location = urllib.parse.urljoin(args.url, location)
    emit(event="answered", location=location, links=headers.get_all("Link") or [],
         directions=answer_directions(body))
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    start = time.time()
    while time.time() - start < args.duration:
        await asyncio.sleep(1)
        emit(event="frames", video=player.video, width=player.size[0], height=player.size[1],
             audio=player.audio, sending=player.sending())
    status, _, body = await asyncio.to_thread(http, "DELETE", player.location, args.token)
    for t in player.tasks:
        t.cancel()
    await pc.close()
    if status != 200:
        emit(event="error", status=status, body=body)
        return 1
    emit(event="deleted", status=status)
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--duration", type=float, default=8)
    parser.add_argument("--wait-live", type=float, default=0)
    args = parser.parse_args()
    try:
        sys.exit(asyncio.run(run(args)))
    except Exception as e:  # noqa: BLE001 — the test reads why
        emit(event="error", status=None, body=repr(e))
        sys.exit(1)


if __name__ == "__main__":
    main()

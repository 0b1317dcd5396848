#!/usr/bin/python3
"""whip_aiortc.py — a scripted WHIP publisher (the "applicant") for Kanyan's tests.

Run with Debian's /usr/bin/python3 (python3-aiortc), inside tests/netns.sh:

    whip_aiortc.py --url http://127.0.0.1:PORT/whip/REF --token TOKEN
                   [--duration S] [--codec vp8|h264] [--reconnect-after S] [--ice-from-links]

Publishes a synthetic 640x480 30 fps moving picture and a sine tone: builds an
offer (video sendonly, audio sendrecv for talk-back, video restricted to the
chosen codec because webrtcbin 1.22 answers whatever comes first), waits for ICE
gathering (aiortc puts all candidates in the offer), POSTs it with
Content-Type application/sdp and the bearer token, applies the 201 answer,
publishes for --duration seconds in all (or until SIGUSR1), then DELETEs the Location and exits.
--reconnect-after S: after S seconds, DELETE and publish again on a fresh
peer connection (once). --ice-from-links: learn the ICE servers from the Link headers of a
first publish (RFC 9725 §4.6), DELETE it, and publish on a peer connection configured with
exactly those (STUN/TURN with their credentials), as a publisher behind NAT must.
Prints one JSON object per line:
    {"event":"published","location":...,"links":[Link header values]}   {"event":"connected"}
    {"event":"state","state":...}           {"event":"deleted","status":200}
    {"event":"reconnecting"}   {"event":"ice_servers","urls":[…]} (--ice-from-links)
    {"event":"stats","t":s,"frames_sent":n,"audio_frames_received":n,"audio_rms":peak RMS of the
     talk-back audio over the last second (int16 scale),"connectionState":...}
    {"event":"error","status":N|null,"body":...}
Exit status: 0 on success, 1 on any HTTP error or failure to publish, 2 on usage.
"""
import argparse
import asyncio
import faulthandler
import fractions
import json
import re
import math
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
from av import AudioFrame, VideoFrame
from aiortc import (MediaStreamTrack, RTCConfiguration, RTCIceServer, RTCPeerConnection,
                    RTCRtpSender, RTCSessionDescription, VideoStreamTrack)
from aiortc.codecs.h264 import H264Encoder
from aiortc.mediastreams import MediaStreamError
from aiortc.rtp import RtcpPsfbPacket

WIDTH, HEIGHT = 640, 480  # VideoStreamTrack paces frames at 30 fps
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # ignore *_proxy env
SAMPLE_RATE, AUDIO_PTIME = 48000, 0.020


# --- Two fixes to aiortc 1.4 so that a late viewer gets a keyframe quickly ---
# A relay asks the publisher for a keyframe for every new viewer (a PLI, or a
# FIR when GStreamer turns a force-key-unit event into RTCP). aiortc 1.4 only
# reacts to PLI, and its H.264 encoder ignores the request altogether (x264
# then sends an IDR every ~8 s only).
RTCP_PSFB_FIR = 4
_handle_rtcp = RTCRtpSender._handle_rtcp_packet
_h264_encode = H264Encoder._encode_frame


async def _handle_rtcp_with_fir(self, packet):
    if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_FIR:
        self._send_keyframe()
    await _handle_rtcp(self, packet)


def _h264_encode_with_keyframes(self, frame, force_keyframe):
    if force_keyframe and self.codec is not None:
        self.codec = None  # a fresh x264 context starts with an IDR
        self.buffer_data, self.buffer_pts = b"", None
    return _h264_encode(self, frame, force_keyframe)


RTCRtpSender._handle_rtcp_packet = _handle_rtcp_with_fir
H264Encoder._encode_frame = _h264_encode_with_keyframes


def emit(**event):
    print(json.dumps(event), flush=True)


class HttpError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}")
        self.status, self.body = status, body


class MovingPicture(VideoStreamTrack):
    """Gradient background, a white bar sweeping across, a noisy block and a
    frame counter stripe: every frame differs, so the encoder keeps sending."""

    def __init__(self):
        super().__init__()
        self.count = 0
        x = np.linspace(0, 255, WIDTH, dtype=np.float32)
        y = np.linspace(0, 255, HEIGHT, dtype=np.float32)
        self.base = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        self.base[..., 0] = x[None, :].astype(np.uint8)
        self.base[..., 1] = y[:, None].astype(np.uint8)
        self.base[..., 2] = 128
        self.rng = np.random.default_rng(1)

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        img = self.base.copy()
        bar = (self.count * 8) % WIDTH
        img[:, bar:bar + 24] = 255
        top = (self.count * 3) % (HEIGHT - 96)
        img[top:top + 96, 64:160] = self.rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
        img[HEIGHT - 16:, :] = 0
        img[HEIGHT - 16:, : (self.count % 60) * WIDTH // 60] = 255
        self.count += 1
        frame = VideoFrame.from_ndarray(img, format="bgr24")
        frame.pts, frame.time_base = pts, time_base
        return frame


class SineTone(MediaStreamTrack):
    """A 440 Hz tone, 20 ms mono s16 frames, paced in real time."""

    kind = "audio"

    def __init__(self, freq=440.0):
        super().__init__()
        self.freq = freq
        self.samples = int(SAMPLE_RATE * AUDIO_PTIME)
        self.pts = 0
        self.start = None

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        if self.start is None:
            self.start = time.monotonic()
        else:
            wait = self.start + self.pts / SAMPLE_RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        t = (np.arange(self.samples) + self.pts) / SAMPLE_RATE
        pcm = (0.3 * 32767 * np.sin(2 * math.pi * self.freq * t)).astype(np.int16)
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self.pts
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self.pts += self.samples
        return frame


def video_codecs(name):
    """The sender's video codecs restricted to one codec (plus RTX).
    For H.264, constrained baseline (42e01f) first."""
    caps = RTCRtpSender.getCapabilities("video").codecs
    mime = "video/" + ("H264" if name == "h264" else "VP8")
    chosen = [c for c in caps if c.mimeType.lower() == mime.lower()]
    chosen.sort(key=lambda c: c.parameters.get("profile-level-id") != "42e01f")
    rtx = [c for c in caps if c.mimeType.lower() == "video/rtx"]
    return chosen + rtx


def bundle_offer(sdp):
    """Make aiortc's offer a real max-bundle offer.

    aiortc 1.4 offers a BUNDLE group but gives every m-line its own ICE
    credentials, port and candidates (it only merges transports once the answer
    accepts the bundle). webrtcbin 1.22 rejects that offer ("different
    ice-ufrag values in bundle"). Since aiortc keeps only the first m-line's
    transport after a bundled answer, copy the first m-line's port, ICE
    credentials and candidates into the others."""
    lines = sdp.replace("\r\n", "\n").strip("\n").split("\n")
    sections, cur = [[]], None
    for line in lines:
        if line.startswith("m="):
            cur = []
            sections.append(cur)
        sections[-1].append(line)
    session, medias = sections[0], sections[1:]
    if len(medias) < 2 or not any(l.startswith("a=group:BUNDLE") for l in session):
        return sdp

    def is_transport(line):
        return line.startswith(("a=ice-ufrag:", "a=ice-pwd:", "a=candidate:", "a=end-of-candidates"))

    first = medias[0]
    port = first[0].split()[1]
    transport = [l for l in first if is_transport(l)]
    for m in medias[1:]:
        words = m[0].split()
        words[1] = port
        m[:] = [" ".join(words)] + [l for l in m[1:] if not is_transport(l)] + transport
    return "\r\n".join(session + [l for m in medias for l in m]) + "\r\n"


def http(method, url, token, body=None, content_type=None):
    """Blocking HTTP request; returns (status, headers, body text)."""
    headers = {"Authorization": "Bearer " + token}
    if content_type:
        headers["Content-Type"] = content_type
    data = body.encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with NO_PROXY.open(req, timeout=60) as resp:   # the answer waits for the server's ICE gathering
            return resp.status, resp.headers, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode(errors="replace")


class Publisher:
    """One WHIP publish: one RTCPeerConnection and its resource URL."""

    def __init__(self, args, ice_servers=()):
        self.args = args
        # no STUN, unless the server's Link headers gave ICE servers (--ice-from-links)
        self.ice_servers = list(ice_servers)
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=self.ice_servers))
        self.links = []
        self.location = None
        self.video = MovingPicture()
        self.audio_received = 0
        self.audio_levels = []
        self.tasks = []

    @property
    def frames_sent(self):
        return self.video.count

    async def publish(self):
        pc = self.pc

        @pc.on("connectionstatechange")
        def on_state():
            if pc.connectionState == "connected":
                emit(event="connected")
            else:
                emit(event="state", state=pc.connectionState)

        @pc.on("track")
        def on_track(track):
            if track.kind == "audio":  # talk-back from reviewers
                self.tasks.append(asyncio.ensure_future(self.drain(track)))

        video = pc.addTransceiver(self.video, direction="sendonly")
        video.setCodecPreferences(video_codecs(self.args.codec))
        pc.addTransceiver(SineTone(), direction="sendrecv")

        # aiortc gathers every candidate inside setLocalDescription.
        await pc.setLocalDescription(await pc.createOffer())
        status, headers, body = await asyncio.to_thread(
            http, "POST", self.args.url, self.args.token,
            bundle_offer(pc.localDescription.sdp), "application/sdp")
        if status != 201:
            raise HttpError(status, body)
        location = headers.get("Location")
        if not location:
            raise HttpError(status, "201 without a Location header")
        self.location = urllib.parse.urljoin(self.args.url, location)
        # RFC 9725 §4.6: the server's ICE servers, as Link headers (issue 13)
        self.links = headers.get_all("Link") or []
        emit(event="published", location=location, links=self.links)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))

    async def drain(self, track):
        try:
            while True:
                frame = await track.recv()
                self.audio_received += 1
                # loudness of the talk-back mix: the peak RMS over the last second's frames
                samples = frame.to_ndarray().astype(np.float64)
                rms = float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0
                self.audio_levels.append(rms)
                del self.audio_levels[:-50]
        except MediaStreamError:
            pass

    async def unpublish(self):
        """DELETE the resource (if any) and close the peer connection."""
        status = None
        if self.location:
            status, _, body = await asyncio.to_thread(
                http, "DELETE", self.location, self.args.token)
            self.location = None
            if status != 200:
                await self.close()
                raise HttpError(status, body)
            emit(event="deleted", status=status)
        await self.close()
        return status

    async def close(self):
        for t in self.tasks:
            t.cancel()
        await self.pc.close()


def ice_servers_from_links(values):
    """RFC 9725 §4.6 Link header values → aiortc RTCIceServer list (rel="ice-server" only)"""
    servers = []
    for value in values:
        for part in re.findall(r'<[^>]*>(?:\s*;\s*[a-z-]+="(?:[^"\\]|\\.)*")*', value):
            uri = part[1:part.index(">")]
            params = {k: re.sub(r'\\(.)', r'\1', v)
                      for k, v in re.findall(r';\s*([a-z-]+)="((?:[^"\\]|\\.)*)"', part)}
            if params.get("rel") != "ice-server":
                continue
            servers.append(RTCIceServer(urls=uri, username=params.get("username"),
                                        credential=params.get("credential")))
    return servers


async def run(args):
    start = time.monotonic()
    pub = Publisher(args)
    reconnected = args.reconnect_after is None
    leave = asyncio.Event()   # SIGUSR1: leave now, as a phone whose user ends the call (WHIP DELETE)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, leave.set)
    try:
        if args.ice_from_links:   # a first publish only to read the Link headers
            await pub.publish()
            links = pub.links
            await pub.unpublish()
            servers = ice_servers_from_links(links)
            emit(event="ice_servers", urls=[s.urls for s in servers])
            pub = Publisher(args, servers)
        await pub.publish()
        next_tick = start + 1
        while True:
            now = time.monotonic()
            if now - start >= args.duration or leave.is_set():
                break
            if not reconnected and now - start >= args.reconnect_after:
                reconnected = True
                await pub.unpublish()
                emit(event="reconnecting")
                pub = Publisher(args, pub.ice_servers)
                await pub.publish()
            if now >= next_tick:
                next_tick += 1
                emit(event="stats", t=round(now - start), frames_sent=pub.frames_sent,
                     audio_frames_received=pub.audio_received,
                     audio_rms=round(max(pub.audio_levels, default=0.0), 1),
                     connectionState=pub.pc.connectionState)
            await asyncio.sleep(0.1)
        # what was sent, in media time: a publisher starved of CPU sends fewer frames than
        # its wall-clock time would hold (aiortc stamps frames by count, 30 a second)
        emit(event="stopped", frames_sent=pub.frames_sent)
        await pub.unpublish()
        return 0
    except HttpError as e:
        emit(event="error", status=e.status, body=e.body)
    except (OSError, ValueError) as e:  # connection refused, bad URL, bad SDP
        emit(event="error", status=None, body=str(e))
    await pub.close()
    return 1


def main():
    p = argparse.ArgumentParser(description="WHIP test publisher (aiortc)")
    p.add_argument("--url", required=True, help="http://127.0.0.1:PORT/whip/REF")
    p.add_argument("--token", required=True, help="the case's invite token")
    p.add_argument("--duration", type=float, default=10.0, help="seconds to publish in all")
    p.add_argument("--codec", choices=["vp8", "h264"], default="vp8")
    p.add_argument("--reconnect-after", type=float, default=None, metavar="S",
                   help="after S seconds, DELETE and publish again on a new connection")
    p.add_argument("--ice-from-links", action="store_true",
                   help="use the ICE servers of the server's Link headers (a first publish learns them)")
    faulthandler.enable()   # a crash in native code (an encoder) leaves its Python stack in the log
    sys.exit(asyncio.run(run(p.parse_args())))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""beep_flash_aiortc.py — a WHIP publisher whose media marks audio/video sync points.

Run with Debian's /usr/bin/python3 (python3-aiortc), inside tests/netns.sh:

    beep_flash_aiortc.py --url http://127.0.0.1:PORT/whip/REF --token TOKEN
                         [--duration S] [--codec vp8|h264] [--size WxH] [--skew-ms MS]
                         [--stall-at S,S... [--stall-ms MS]] [--video-lag S,MS,HOLD]

Video: 30 fps, black (luma 16) except for a white flash of 3 frames at each mark.
Audio: 48 kHz mono silence except for a 1 kHz beep of 100 ms at each mark. Marks come
at irregular intervals (0.9, 1.1, 1.0, 1.2, 0.8 s, repeated; first at 0.5 s), so a track
shifted by a whole interval cannot pass for one in sync. Both tracks take their
timestamps from one shared clock (BeepFlashClock): a flash's first frame and its beep's
first sample carry the same instant; each track is paced so that a frame leaves recv()
at its instant, and the RTCP sender reports pair RTP timestamps with that capture clock,
as browsers do (aiortc 1.4 uses the send time, which a stall of this process would turn
into a false skew; patched below). --skew-ms MS moves every beep MS milliseconds
after its flash (negative: before), so a test can check that its measure sees a skew.
--stall-at S,S...: at each of these seconds after publishing, the whole process blocks
for --stall-ms (400) ms, then sends what it owes in a burst with its true timestamps: to
the server this is a delay spike on the uplink (late packets, then a burst).
--video-lag S,MS,HOLD: from S seconds of media on, the video falls behind its capture clock
(a phone's encoder that cannot keep up), the lag growing to MS over 2 s; it stays MS for HOLD
seconds, then the owed frames go out at once. The audio keeps time; neither track pauses.

Everything else (the WHIP exchange, the bundle fix for webrtcbin 1.22, the codec
restriction, aiortc's keyframe fixes) comes from whip_aiortc.py. Prints one JSON
object per line, as whip_aiortc.py does, plus
    {"event":"marks","video_flashes":n,"audio_beeps":n,"max_late_ms":how late a frame
     left its track at worst (this process stalled: the server then saw a delay spike)}
    {"event":"stall","t":s,"ms":ms}
just before it unpublishes. Exit status: 0 on success, 1 on failure, 2 on usage.
"""
import argparse
import asyncio
import contextvars
import datetime
import fractions
import math
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from av import AudioFrame, VideoFrame  # noqa: E402
from aiortc import (MediaStreamTrack, RTCConfiguration, RTCPeerConnection,  # noqa: E402
                    RTCSessionDescription, rtcrtpsender)
from aiortc import clock as aiortc_clock  # noqa: E402
from aiortc.mediastreams import MediaStreamError  # noqa: E402

# importing whip_aiortc also installs its FIR and H.264 keyframe fixes to aiortc
from whip_aiortc import HttpError, bundle_offer, emit, http, video_codecs  # noqa: E402

FPS = 30
VIDEO_CLOCK = 90000
SAMPLE_RATE = 48000
AUDIO_SAMPLES = 960            # 20 ms
FLASH_FRAMES = 3               # 100 ms of white
FRAME_SAMPLES = SAMPLE_RATE // FPS
MARK_GAPS = (27, 33, 30, 36, 24)   # frames between marks: 0.9 1.1 1.0 1.2 0.8 s
FIRST_MARK = 15                    # frame of the first mark (0.5 s)
BEEP_SECONDS = 0.100
BEEP_HZ = 1000.0
DARK, BRIGHT = 16, 235         # video-range luma


# --- Honest RTCP sender reports ---
# aiortc 1.4 pairs the last sent packet's RTP timestamp with the wall-clock time it was
# *sent*. After a stall of this process (a busy machine), frames go out late in a burst,
# the next sender report then claims their media was captured late, and a receiver that
# lip-syncs from sender reports (rtpbin does) shifts that track for a second or so.
# Browsers pair RTP timestamps with the capture clock. Do the same: each track's recv()
# (awaited inside its sender's own task) records the capture time of the frame it hands
# out, and the sender's clock reads it back when it stamps the packets of that frame.
CAPTURE_NTP = contextvars.ContextVar("capture_ntp", default=None)


class _CaptureClock:
    current_datetime = staticmethod(aiortc_clock.current_datetime)

    @staticmethod
    def current_ntp_time():
        ntp = CAPTURE_NTP.get()
        return ntp if ntp is not None else aiortc_clock.current_ntp_time()


rtcrtpsender.clock = _CaptureClock


class BeepFlashClock:
    """The one clock both tracks read: t0 is set by whichever track asks first; the
    marks are frame indices (frame n is at t0 + n/30, audio sample s at t0 + s/48000)."""

    def __init__(self, duration, skew_ms=0.0, video_lag=None):
        self.video_lag = video_lag   # (start s, lag s, hold s) or None
        self.t0 = None
        self.t0_wall = None
        self.max_late = 0.0   # how late a frame left recv(), at worst (a stall of this process)
        marks, frame, k = [], FIRST_MARK, 0
        while frame < (duration + 10) * FPS:
            marks.append(frame)
            frame += MARK_GAPS[k % len(MARK_GAPS)]
            k += 1
        self.mark_frames = np.array(marks, np.int64)
        self.mark_samples = self.mark_frames * FRAME_SAMPLES + round(skew_ms * SAMPLE_RATE / 1000)

    def start(self):
        if self.t0 is None:
            self.t0, self.t0_wall = time.monotonic(), time.time()
        return self.t0

    def captured(self, seconds):
        """Record, for this track's sender, that the frame it is given was captured at t0 + seconds."""
        self.start()
        self.max_late = max(self.max_late, time.monotonic() - (self.t0 + seconds))
        when = datetime.datetime.fromtimestamp(self.t0_wall + seconds, datetime.timezone.utc)
        CAPTURE_NTP.set(aiortc_clock.datetime_to_ntp(when))

    def lag(self, seconds):
        """How late the video frame captured at `seconds` leaves its track (--video-lag)."""
        if not self.video_lag:
            return 0.0
        start, lag, hold = self.video_lag
        if seconds < start or seconds >= start + 2 + hold:
            return 0.0
        return lag * min(1.0, (seconds - start) / 2)

    async def wait_until(self, seconds):
        """Sleep until `seconds` after t0 (media time → real time)."""
        delay = self.start() + seconds - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    @staticmethod
    def phase(starts, positions):
        """How far each position is past the last mark at or before it (huge before the first)."""
        i = np.searchsorted(starts, positions, side="right") - 1
        return np.where(i >= 0, positions - starts[np.maximum(i, 0)], np.iinfo(np.int64).max)


class FlashTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self, clock, width, height):
        super().__init__()
        self.clock, self.width, self.height = clock, width, height
        self.count = 0
        self.flashes = 0
        # I420 planes; chroma neutral
        self.y_dark = np.full((height, width), DARK, np.uint8)
        self.y_bright = np.full((height, width), BRIGHT, np.uint8)
        self.chroma = np.full((height // 2, width), 128, np.uint8)

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        n = self.count
        await self.clock.wait_until(n / FPS + self.clock.lag(n / FPS))
        self.clock.captured(n / FPS)
        phase = int(self.clock.phase(self.clock.mark_frames, np.array([n]))[0])
        bright = phase < FLASH_FRAMES
        if phase == 0:
            self.flashes += 1
        y = self.y_bright if bright else self.y_dark
        frame = VideoFrame.from_ndarray(np.vstack([y, self.chroma]), format="yuv420p")
        frame.pts = n * VIDEO_CLOCK // FPS
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self.count += 1
        return frame


class BeepTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, clock):
        super().__init__()
        self.clock = clock
        self.pts = 0                 # in samples since t0
        self.beeps = 0
        self.beep_samples = round(BEEP_SECONDS * SAMPLE_RATE)

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        # leaves at its own instant, as the video does
        await self.clock.wait_until(self.pts / SAMPLE_RATE)
        self.clock.captured(self.pts / SAMPLE_RATE)
        s = self.pts + np.arange(AUDIO_SAMPLES, dtype=np.int64)
        phase = self.clock.phase(self.clock.mark_samples, s)
        on = phase < self.beep_samples
        self.beeps += int(np.count_nonzero(phase == 0))
        # a 1 ms linear ramp keeps the beep's onset sharp but click-free
        p = np.where(on, phase, 0).astype(np.float64)
        ramp = np.clip(p / (SAMPLE_RATE / 1000.0), 0.0, 1.0)
        pcm = np.where(on, 0.5 * 32767 * ramp * np.sin(2 * math.pi * BEEP_HZ * p / SAMPLE_RATE), 0.0)
        frame = AudioFrame.from_ndarray(pcm.astype(np.int16).reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self.pts
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self.pts += AUDIO_SAMPLES
        return frame


async def run(args):
    width, height = (int(v) for v in args.size.split("x"))
    lag = tuple(float(v) for v in args.video_lag.split(",")) if args.video_lag else None
    if lag is not None and len(lag) != 3:
        print("--video-lag takes S,MS,HOLD", file=sys.stderr)
        return 2
    clock = BeepFlashClock(args.duration, args.skew_ms, lag and (lag[0], lag[1] / 1000, lag[2]))
    video, audio = FlashTrack(clock, width, height), BeepTrack(clock)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    location = None

    @pc.on("connectionstatechange")
    def on_state():
        if pc.connectionState == "connected":
            emit(event="connected")
        else:
            emit(event="state", state=pc.connectionState)

    @pc.on("track")
    def on_track(track):   # talk-back: read and drop
        async def drain():
            try:
                while True:
                    await track.recv()
            except MediaStreamError:
                pass
        asyncio.ensure_future(drain())

    try:
        transceiver = pc.addTransceiver(video, direction="sendonly")
        transceiver.setCodecPreferences(video_codecs(args.codec))
        pc.addTransceiver(audio, direction="sendrecv")
        await pc.setLocalDescription(await pc.createOffer())
        status, headers, body = await asyncio.to_thread(
            http, "POST", args.url, args.token, bundle_offer(pc.localDescription.sdp), "application/sdp")
        if status != 201:
            raise HttpError(status, body)
        if not headers.get("Location"):
            raise HttpError(status, "201 without a Location header")
        location = urllib.parse.urljoin(args.url, headers["Location"])
        emit(event="published", location=headers["Location"])
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
        start = time.monotonic()
        next_tick = start + 1
        stalls = sorted(float(v) for v in args.stall_at.split(",") if v.strip()) if args.stall_at else []
        while time.monotonic() - start < args.duration:
            if stalls and time.monotonic() - start >= stalls[0]:
                stalls.pop(0)
                emit(event="stall", t=round(time.monotonic() - start, 2), ms=args.stall_ms)
                time.sleep(args.stall_ms / 1000)   # blocks the event loop: nothing is sent
            if time.monotonic() >= next_tick:
                next_tick += 1
                emit(event="stats", t=round(time.monotonic() - start), frames_sent=video.count,
                     audio_frames_sent=audio.pts // AUDIO_SAMPLES, connectionState=pc.connectionState)
            await asyncio.sleep(0.1)
        emit(event="marks", video_flashes=video.flashes, audio_beeps=audio.beeps,
             max_late_ms=round(clock.max_late * 1000, 1))
        status, _, body = await asyncio.to_thread(http, "DELETE", location, args.token)
        if status != 200:
            raise HttpError(status, body)
        emit(event="deleted", status=status)
        await pc.close()
        return 0
    except HttpError as e:
        emit(event="error", status=e.status, body=e.body)
    except (OSError, ValueError) as e:
        emit(event="error", status=None, body=str(e))
    await pc.close()
    return 1


def main():
    p = argparse.ArgumentParser(description="beep-and-flash WHIP test publisher (aiortc)")
    p.add_argument("--url", required=True, help="http://127.0.0.1:PORT/whip/REF")
    p.add_argument("--token", required=True, help="the case's invite token")
    p.add_argument("--duration", type=float, default=20.0, help="seconds to publish in all")
    p.add_argument("--codec", choices=["vp8", "h264"], default="vp8")
    p.add_argument("--size", default="320x240", help="video WxH (even numbers)")
    p.add_argument("--skew-ms", type=float, default=0.0, help="beeps this late after their flashes")
    p.add_argument("--stall-at", default="", metavar="S,S...", help="block the process at these seconds")
    p.add_argument("--stall-ms", type=float, default=400.0, help="how long each stall lasts")
    p.add_argument("--video-lag", default="", metavar="S,MS,HOLD", help="the video falls MS behind from S s on, for HOLD s")
    sys.exit(asyncio.run(run(p.parse_args())))


if __name__ == "__main__":
    main()

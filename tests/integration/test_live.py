"""Live inspection core with real peers: an aiortc or Chromium WHIP publisher, webrtcbin
reviewers over the WebSocket protocol, the real server, ffprobe on every recording."""
import json
import os
import sys
import shutil
import signal
import subprocess
import time
import unittest

from kanyan import (PEERS, SLACK, JsonLines, Server, ffmpeg_duration, ffprobe, first_video_frame_is_keyframe, mp4_index_at_front,
                    sha256_file, wait_until)


class LiveTest(unittest.TestCase):
    config = None

    def setUp(self):
        self.server = Server(self.config).start()
        self.case = self.server.add_case("IT-" + self._testMethodName[-20:].replace("_", "-"))

    def tearDown(self):
        self.server.stop()

    def frames(self, reviewer):
        last = reviewer.last("frames")
        return last["frames"] if last else 0


class RelayTest(LiveTest):
    def test_two_reviewers_receive_frames(self):
        # long enough for a busy machine: the condition ends the wait, not the peers' clocks
        r1 = self.server.reviewer(self.case, 90, "R1")
        r2 = self.server.reviewer(self.case, 90, "R2")
        pub = self.server.aiortc_publisher(self.case, 90)
        self.assertTrue(wait_until(lambda: self.frames(r1) > 60 and self.frames(r2) > 60, 60),
                        (r1.lines[-2:], r2.lines[-2:], pub.lines[-2:]))
        self.assertTrue(wait_until(lambda: (r1.last("audio_buffers") or {}).get("audio_buffers", 0) > 50, 30),
                        r1.lines[-2:])
        self.assertEqual(pub.events("error"), [], pub.lines[-3:])

    def test_late_reviewer_decodes_within_one_second(self):
        pub = self.server.aiortc_publisher(self.case, 120, codec="h264")   # stopped by tearDown
        self.assertTrue(wait_until(lambda: pub.events("connected"), 30), pub.lines)
        time.sleep(5)   # not a wait for anything: the reviewer comes 5 s into the stream, late
        late = self.server.reviewer(self.case, 120, "late")
        # it lives until it has decoded a while (its own start may be slow on a busy machine)
        self.assertTrue(wait_until(lambda: self.frames(late) > 30, 30), late.lines[-3:])
        late.stop()
        stats = late.last("first_frame_ms")
        self.assertIsNotNone(stats["first_frame_ms"], late.lines)
        # a keyframe is asked for the late reviewer as soon as its connection is up (without, it
        # would wait for x264's next one, ~8 s away): from `connected` to the first decoded frame
        # (ICE and DTLS left out: a busy machine stretches those), within 1 s on a quiet machine,
        # a bound that grows with SLACK
        self.assertLess(stats["connected_to_frame_ms"], 1000 * SLACK, f"connected to first decoded frame (ms): {stats}")

    def test_silent_reviewer_stalls_nobody_and_is_removed(self):
        self.server.stop()
        self.server = Server("[media]\nviewer_answer_timeout_s=3\n").start()
        self.case = self.server.add_case("IT-SILENT")
        silent = self.server.reviewer(self.case, 90, "silent", ["--no-answer"])
        good = self.server.reviewer(self.case, 90, "good")
        pub = self.server.aiortc_publisher(self.case, 90)
        self.assertTrue(wait_until(lambda: self.frames(good) > 60, 60), good.lines[-3:])
        self.assertTrue(wait_until(lambda: "timeout" in ((silent.last("errors") or {}).get("errors") or []), 60),
                        silent.lines[-2:])
        self.assertEqual(self.frames(silent), 0)

    def test_reviewer_talk_back_reaches_applicant(self):
        listener = self.server.reviewer(self.case, 120, "listener")
        pub = self.server.aiortc_publisher(self.case, 120)
        self.assertTrue(wait_until(lambda: len(pub.events("stats")) >= 4, 60), pub.lines[-3:])
        quiet = pub.events("stats")[-1]
        heard = len(pub.events("stats"))
        talker = self.server.reviewer(self.case, 90, "talker", ["--talk"])
        # no reviewer's microphone yet: nothing is mixed, encoded or sent (issue 17: the idle
        # talk-back chain cost ~14 % of the server's CPU); the talker's tone once they talk
        self.assertEqual(quiet["audio_frames_received"], 0, "nothing sent while no reviewer talks")
        self.assertLess(quiet["audio_rms"], 50, "silence while no reviewer talks")
        self.assertTrue(wait_until(lambda: max((st["audio_rms"] for st in pub.events("stats")[heard:]), default=0) > 500, 60),
                        f"the talking reviewer's tone reaches the applicant: {pub.lines[-3:]}")
        self.assertTrue(wait_until(lambda: pub.events("stats")[-1]["audio_frames_received"] > 300, 60), pub.lines[-2:])

    def test_chromium_publisher_reaches_reviewer(self):
        reviewer = self.server.reviewer(self.case, 120, "R")
        pub = self.server.chromium_publisher(self.case, 120, codec="h264")
        self.assertTrue(wait_until(lambda: self.frames(reviewer) > 60, 90), (reviewer.lines[-3:], pub.lines[-3:]))

    @unittest.skipUnless(shutil.which("firefox-esr"), "firefox-esr is not installed (make deps installs it)")
    def test_firefox_applicant_page_reaches_reviewer(self):
        """The applicant page itself, in Firefox ESR (phones run Firefox too): live, and decoded."""
        reviewer = self.server.reviewer(self.case, 300, "R")   # outlives Firefox's start, however slow
        url = f"{self.server.base}/apply/#case={self.case['ref']}&token={self.case['token']}"
        page = JsonLines(["node", os.path.join(PEERS, "apply_firefox.mjs"), "--url", url, "--duration", "8"],
                         os.path.join(self.server.dir, "firefox.log"))
        self.server.children.append(page)
        self.assertEqual(page.wait(90), 0, page.lines[-5:])
        self.assertTrue(page.events("live"))
        # the reviewer prints its count once a second: the page's 8 live seconds reach it soon after
        self.assertTrue(wait_until(lambda: self.frames(reviewer) > 60, 10), reviewer.lines[-3:])
        reviewer.stop()


    @unittest.skipUnless(shutil.which("firefox-esr"), "firefox-esr is not installed (make deps installs it)")
    def test_firefox_reviewer_page_plays_the_live_video(self):
        """A reviewer at a desk may use Firefox: sign in, open the case, the live video plays."""
        # publishing as long as the page may take (it waits up to 150 s for the video): in two
        # fresh-clone runs Firefox signed in 34 s after a 30 s publisher had already left
        pub = self.server.aiortc_publisher(self.case, 300)
        self.assertTrue(wait_until(lambda: pub.events("connected"), 30), pub.lines)
        login = json.dumps({"username": "owner", "password": self.server.passwords["owner"]})
        out = subprocess.run(["node", os.path.join(PEERS, "review_firefox.mjs"), "--base", self.server.base,
                              "--case", self.case["ref"]], input=login, capture_output=True, text=True, timeout=300)
        lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
        self.assertTrue(lines, out.stderr[-1500:])
        got = json.loads(lines[-1])
        pub.stop()
        self.assertGreater(got["width"], 0, got)
        self.assertTrue(got["advanced"], got)


class RecordingTest(LiveTest):
    # A segment's tracks wait for the phone's first RTCP sender reports (their places on the
    # phone's clock, for lip sync), holding their packets meanwhile, and start together at the
    # latest first packet, video at its first keyframe (src/media/recorder.c): the archive
    # lasts the publish less the time to the first media and keyframe, never more. (Before the
    # packets were held, that wait, up to 3 s, was lost from every segment.)
    START_SLACK = 1.5

    def assert_recorded_length(self, duration, published, pub):
        """published: the wall-clock time from connected to the publisher's exit. What it sent
        can be less: a publisher starved of CPU (a busy machine) sends fewer frames than its
        wall-clock time would hold, and the archive can only hold what was sent."""
        stopped = pub.events("stopped")
        self.assertTrue(stopped, pub.lines)
        sent = stopped[-1]["frames_sent"] / 30.0
        print(f"recorded {duration:.2f} s of a {published:.2f} s publish ({sent:.2f} s of video sent)", file=sys.stderr)
        self.assertLessEqual(duration, published + 1.0, "no longer than the publish")
        self.assertGreaterEqual(duration, min(published, sent) - self.START_SLACK, "the publish less its first keyframe")

    def test_recording_has_video_audio_and_duration(self):
        pub = self.server.aiortc_publisher(self.case, 10)
        self.assertTrue(wait_until(lambda: pub.events("connected"), 30), pub.lines)
        connected_at = time.time()
        pub.wait(40)
        published = time.time() - connected_at
        self.server.stop()
        self.assertEqual(self.server.recording_files(), [], "the segment was archived and its source removed")
        files = self.server.archive_files()
        self.assertEqual([os.path.splitext(f)[1] for f in files], [".webm"], files)
        info = ffprobe(files[0])
        kinds = sorted(s["codec_type"] for s in info["streams"])
        self.assertEqual(kinds.count("video"), 1)
        self.assertGreaterEqual(kinds.count("audio"), 1)
        self.assertEqual([s["codec_name"] for s in info["streams"] if s["codec_type"] == "video"], ["vp8"])
        self.assert_recorded_length(float(info["format"]["duration"]), published, pub)
        self.assertTrue(first_video_frame_is_keyframe(files[0]))
        with self.server.db() as db:
            rows = db.execute("SELECT video_codec, audio_codec, state, archive_state, archive_path, archive_sha256 "
                              "FROM recordings").fetchall()
        self.assertEqual(rows[0][:4], ("VP8", "OPUS", "complete", "archived"))
        self.assertEqual(rows[0][4], files[0])
        self.assertEqual(rows[0][5], sha256_file(files[0]))
        with self.server.db() as db:
            actions = [a for (a,) in db.execute("SELECT action FROM audit_log ORDER BY id")]
            archived = db.execute("SELECT detail FROM audit_log WHERE action = 'recording.archived'").fetchone()[0]
        for action in ("case.created", "invite.issued", "participant.joined", "recording.started",
                       "participant.left", "recording.ended", "recording.archived"):
            self.assertIn(action, actions)
        self.assertIn(sha256_file(files[0]), archived, "the archive's hash is in the audit chain")
        self.assertIn("intact", subprocess.run(["build/kanyan", "audit", "verify"] + self.server.common_args(),
                                               capture_output=True, text=True, cwd=os.path.join(os.path.dirname(__file__), "..", "..")).stdout)

    def test_h264_archive_is_mp4_with_index_in_front(self):
        pub = self.server.aiortc_publisher(self.case, 8, codec="h264")
        self.assertTrue(wait_until(lambda: pub.events("connected"), 30), pub.lines)
        connected_at = time.time()
        pub.wait(40)
        published = time.time() - connected_at
        # the publisher left: its segment closes and is archived while the server runs
        self.assertTrue(wait_until(lambda: self.server.archive_files(), 15))
        path = self.server.archive_files()[0]
        self.assertTrue(path.endswith(".mp4"))
        self.assertTrue(mp4_index_at_front(path), "moov before mdat")
        info = ffprobe(path)
        self.assertEqual(sorted(s["codec_name"] for s in info["streams"])[:2], ["h264", "opus"])
        self.assert_recorded_length(float(info["format"]["duration"]), published, pub)
        self.assertTrue(first_video_frame_is_keyframe(path))

    def test_kill9_leaves_a_readable_recording(self):
        pub = self.server.aiortc_publisher(self.case, 20, codec="h264")
        self.assertTrue(wait_until(lambda: pub.events("connected"), 30), pub.lines)
        # media flows into the open segment: the kill comes once it holds over 4 s
        def segment_file():
            return [f for f in self.server.recording_files() if f.endswith("/segment-001.mkv")]
        self.assertTrue(wait_until(lambda: segment_file() and ffmpeg_duration(segment_file()[0]) > 4.0, 15, step=1))
        self.server.proc.send_signal(signal.SIGKILL)
        self.server.proc.wait()
        pub.stop()
        # a file per track (recorder.c): the segment's (the picture), the phone's audio and the
        # reviewers' talk-back beside it, each readable as the crash left it
        files = {os.path.basename(f): f for f in self.server.recording_files()}
        self.assertEqual(sorted(files), ["segment-001.audio.mkv", "segment-001.mkv", "segment-001.talk.mkv"])
        for name, kind in (("segment-001.mkv", "video"), ("segment-001.audio.mkv", "audio"), ("segment-001.talk.mkv", "audio")):
            self.assertEqual([s["codec_type"] for s in ffprobe(files[name])["streams"]], [kind], name)
        self.assertGreater(ffmpeg_duration(files["segment-001.mkv"]), 3.0)
        self.assertGreater(ffmpeg_duration(files["segment-001.audio.mkv"]), 3.0)
        # a restart marks what the crash left open and finalizes it into a playable archive
        self.server.start()
        self.assertTrue(wait_until(lambda: self.server.archive_files(), 15))
        archive = self.server.archive_files()[0]
        self.assertTrue(archive.endswith(".mp4") and mp4_index_at_front(archive))
        self.assertGreater(float(ffprobe(archive)["format"]["duration"]), 3.0)
        self.assertTrue(first_video_frame_is_keyframe(archive))
        # the three files joined in the archive (video, the phone's audio, the talk-back mix),
        # and the sources are gone
        self.assertEqual([s["codec_type"] for s in ffprobe(archive)["streams"]], ["video", "audio", "audio"])
        self.assertTrue(wait_until(lambda: self.server.recording_files() == [], 15), self.server.recording_files())
        with self.server.db() as db:
            state, archive_state = db.execute("SELECT state, archive_state FROM recordings").fetchone()
        self.assertEqual(state, "interrupted")
        self.assertIn(archive_state, ("archived", "salvaged"))

    def test_reconnect_makes_two_segments_while_reviewer_keeps_frames(self):
        reviewer = self.server.reviewer(self.case, 16, "R")
        pub = self.server.aiortc_publisher(self.case, 12, reconnect_after=5)
        self.assertEqual(pub.wait(60), 0, pub.lines)
        reviewer.wait(30)
        self.server.stop()
        self.assertEqual(len(pub.events("published")), 2, pub.lines)
        files = self.server.archive_files()
        self.assertEqual(len(files), 2, files)
        for f in files:
            self.assertIn("video", [s["codec_type"] for s in ffprobe(f)["streams"]])
        with self.server.db() as db:
            self.assertEqual(db.execute("SELECT COUNT(DISTINCT session_id), COUNT(*) FROM recordings").fetchone(), (1, 2))
        # frames kept coming after the reconnection (at t≈5 s of publishing)
        stats = [l for l in reviewer.lines if "frames" in l]
        late = [l["frames"] for l in stats if l["t"] >= 12]
        early = [l["frames"] for l in stats if 5 <= l["t"] <= 7]
        self.assertTrue(late and early, stats)
        self.assertGreater(max(late) - max(early), 60, stats)
        self.assertEqual(reviewer.last("pcs")["pcs"], 1, "the reviewer kept its peer connection")


if __name__ == "__main__":
    unittest.main()

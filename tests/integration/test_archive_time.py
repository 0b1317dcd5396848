"""Archive time: every finalized segment starts at media time 0 in its own file, its stored
duration_ms is the file's own duration, and that duration matches the segment's wall-clock
life. Made by the real server from a publisher that publishes, stops, and publishes again
(two segments with a gap between them), in both archive formats (H.264 → MP4, VP8 → WebM).

Which wall-clock life: a segment is opened (started_at) before its first media — the recorder
waits for the first keyframe, and the muxer waits for every track — so ended_at − started_at
counts that wait, which the file does not hold. media_started_at is the wall-clock time of the
archive's 0 (the arrival at the muxer of the least-delayed video buffer, less its distance
from the archive's earliest timestamp), and ended_at the moment the segment stopped taking
media (not the later moment its file was flushed and closed, which grows with load): from one
to the other is what the file holds."""
import os
import signal
import unittest

from kanyan import Server, ffprobe, wait_until

FRAME_S = 1 / 30       # one video frame at the test publishers' rate
STOP_SLACK_S = 0.5     # the brief allows 0.5 s between the file and the wall-clock life


class ArchiveTimeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.server.add_user("auditor", role="auditor")
        cls.cases = {}
        for codec in ("h264", "vp8"):
            case = cls.server.add_case(f"TIME-{codec.upper()}")
            for run in (1, 2):   # the publisher restarts: a second segment after a gap
                pub = cls.server.aiortc_publisher(case, 6, codec=codec, name=f"pub-{codec}-{run}")
                if not wait_until(lambda: pub.events("connected"), 60):
                    raise AssertionError(f"{codec} publisher {run} never connected: {pub.lines}")
                pub.wait(60)

            def archived():
                status, tl = cls.server.api("GET", f"/api/cases/{case['ref']}/timeline", user="auditor")
                recs = tl.get("recordings", []) if status == 200 else []
                return len(recs) >= 2 and all(r["archive_state"] in ("archived", "salvaged", "failed") for r in recs)
            if not wait_until(archived, 60):
                raise AssertionError(f"the {codec} segments were not archived")
            cls.cases[codec] = case

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def rows(self, case):
        with self.server.db() as db:
            return db.execute(
                "SELECT r.id, r.started_at, r.ended_at, r.media_started_at, r.duration_ms, r.archive_path, "
                "r.archive_state FROM recordings r JOIN live_sessions s ON s.id = r.session_id "
                "JOIN cases c ON c.id = s.case_id WHERE c.ref = ? ORDER BY r.started_at", (case["ref"],)).fetchall()

    def test_each_segment_starts_at_zero_and_lasts_its_life(self):
        for codec, case in self.cases.items():
            rows = self.rows(case)
            self.assertGreaterEqual(len(rows), 2, f"{codec}: two publishes give two segments")
            for rid, started, ended, media_started, duration_ms, path, state in rows:
                with self.subTest(codec=codec, recording=rid):
                    self.assertEqual(state, "archived")
                    info = ffprobe(path)
                    start_time = float(info["format"]["start_time"])
                    duration = float(info["format"]["duration"])
                    self.assertLessEqual(abs(start_time), FRAME_S, f"the archive starts at {start_time} s, not 0")
                    self.assertAlmostEqual(duration_ms / 1000, duration, delta=0.05,
                                           msg="the stored duration is the file's own")
                    with self.server.db() as db:
                        ref = db.execute("SELECT media_ref_at, media_ref_pts_us FROM recordings WHERE id = ?",
                                         (rid,)).fetchone()
                    self.assertIsNotNone(media_started, f"the wall-clock time of the archive's 0 is known "
                                         f"(reference {ref}, streams {[(s['codec_name'], s.get('start_time')) for s in info['streams']]})")
                    # packets already on their way when the segment opened may precede it a little
                    self.assertGreaterEqual(media_started, started - 500, "the archive's 0 is not before the segment")
                    life = (ended - media_started) / 1000
                    # what the file holds is what the segment lived on the wall clock
                    self.assertAlmostEqual(duration, life, delta=STOP_SLACK_S,
                                           msg=f"{duration:.2f} s of media for {life:.2f} s of life (opened {started}, media {media_started}, "
                                               f"ended {ended}, streams {[(s['codec_name'], s.get('start_time'), s.get('duration')) for s in info['streams']]}, "
                                               f"all {[(r[0], r[1], r[2], r[3], r[4]) for r in rows]})")
            # the two segments lie apart on the wall clock: a gap, not an overlap
            (_, _, end1, ms1, d1, *_), (_, start2, _, ms2, *_) = rows[0], rows[1]
            self.assertLess(ms1 + d1, ms2, f"{codec}: the second segment begins after the first ends")
            self.assertLessEqual(end1, start2)


class StalledPhoneTest(unittest.TestCase):
    """A phone whose link dies mid-inspection (here: its process frozen, so not one more packet
    leaves it) ends its segment when the server notices, RELAY_STALL_MS later. With nobody
    talking, the file holds the phone's media up to its last packet and no track runs past it —
    not the talk-back track either, whose idle packets the server stamps on its own clock — and
    the segment's life ends at that packet too. With a reviewer talking, their voice is recorded
    until the segment stops, and its life ends then. Either way file and life agree."""

    def setUp(self):
        self.server = Server().start()
        self.pub = None

    def tearDown(self):
        if self.pub and self.pub.proc.poll() is None:
            self.pub.proc.kill()
        self.server.stop()

    def segments(self, case):
        with self.server.db() as db:
            return db.execute(
                "SELECT r.id, r.path, r.started_at, r.ended_at, r.media_started_at, r.archive_path, r.archive_state "
                "FROM recordings r JOIN live_sessions s ON s.id = r.session_id JOIN cases c ON c.id = s.case_id "
                "WHERE c.ref = ? ORDER BY r.started_at", (case["ref"],)).fetchall()

    def stall(self, ref, talk):
        """the stalled segment's streams' ends ((kind, codec, end s)), file duration and life"""
        case = self.server.add_case(ref)
        if talk:
            talker = self.server.reviewer(case, 120, "talker", ["--talk"])
        self.pub = self.server.aiortc_publisher(case, 120, codec="h264", name="pub-stall")

        def recording():
            # a few seconds of the phone's picture in the segment's file, after the publisher's
            # first seconds: aiortc on a busy machine starts late and then sends its frames
            # faster than real time until it has caught up (seen: 1.5 s of picture in 0.8 s),
            # which a file timed on the phone's clock rightly keeps and a wall clock cannot match
            rows = self.segments(case)
            stats = self.pub.last("frames_sent")
            return (rows and os.path.exists(rows[0][1]) and os.path.getsize(rows[0][1]) > 60000 and
                    stats and stats["frames_sent"] >= 150)   # 5 s of picture
        self.assertTrue(wait_until(recording, 60), f"the segment never grew: {self.segments(case)} {self.pub.lines}")
        if talk:
            self.assertTrue(wait_until(lambda: self.pub.last("audio_rms") and self.pub.last("audio_rms")["audio_rms"] > 500,
                                       30), f"the reviewer's voice never reached the phone: {self.pub.lines[-3:]}")
        os.kill(self.pub.proc.pid, signal.SIGSTOP)   # the link dies: not one more packet
        self.assertTrue(wait_until(lambda: self.segments(case)[0][6] in ("archived", "salvaged", "failed"), 60),
                        f"the stalled segment was not archived: {self.segments(case)}")
        os.kill(self.pub.proc.pid, signal.SIGKILL)
        if talk:
            talker.stop()
        rows = self.segments(case)
        self.assertEqual(len(rows), 1, f"one segment, ended by the stall: {rows}")
        rid, _, started, ended, media_started, path, state = rows[0]
        self.assertEqual(state, "archived")
        self.assertIsNotNone(media_started)
        info = ffprobe(path)
        ends = [(s["codec_type"], s["codec_name"], float(s.get("start_time", 0)) + float(s["duration"]))
                for s in info["streams"]]
        duration = float(info["format"]["duration"])
        life = (ended - media_started) / 1000
        self.assertAlmostEqual(duration, life, delta=STOP_SLACK_S,
                               msg=f"{duration:.2f} s of media for {life:.2f} s of life (opened {started}, "
                                   f"media {media_started}, ended {ended}, streams {ends})")
        return ends

    def test_nobody_talking_the_file_ends_with_the_phones_last_packet(self):
        ends = self.stall("TIME-STALL", talk=False)
        video_end = max(end for kind, _, end in ends if kind == "video")
        for kind, codec, end in ends:
            # a few frames past the picture at most (the phone's sound and picture are placed
            # each by its own sender reports), not the 2 s of the stall
            self.assertLessEqual(end, video_end + 0.3, f"a {kind} track ({codec}) runs past the picture: {ends}")

    def test_a_talking_reviewers_voice_is_kept_to_the_segments_end(self):
        ends = self.stall("TIME-STALL-TALK", talk=True)
        video_end = max(end for kind, _, end in ends if kind == "video")
        # the talk track goes on while the picture is frozen, until the stall is noticed
        self.assertGreater(max(end for kind, _, end in ends if kind == "audio"), video_end + 1.0, ends)

if __name__ == "__main__":
    unittest.main()

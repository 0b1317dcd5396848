"""A segment ends only when the stream really changes (a reconnection, a new codec): a browser
that changes its camera's resolution mid-stream stays in one segment whose archive decodes
without an error and shows both sizes, and reviewers joining and leaving never split it."""
import os
import signal
import subprocess
import sys
import unittest

from kanyan import Server, decode_errors, nft, wait_until


def frame_sizes(path):
    """The size of every decoded video frame, in order, with how many frames had it."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=width,height",
                          "-of", "csv=p=0", path], capture_output=True, text=True)
    runs = []
    for line in out.stdout.split():
        size = tuple(int(v) for v in line.split(",")[:2])
        if runs and runs[-1][0] == size:
            runs[-1][1] += 1
        else:
            runs.append([size, 1])
    return runs


def segment_rows(server, ref):
    return server.db().execute(
        "SELECT r.seq, r.state FROM recordings r JOIN live_sessions s ON s.id = r.session_id "
        "JOIN cases c ON c.id = s.case_id WHERE c.ref = ? ORDER BY r.id", (ref,)).fetchall()


@unittest.skipUnless(os.environ.get("KANYAN_NETNS") == "1", "needs the test network namespace (tests/netns.sh)")
class SegmentTest(unittest.TestCase):
    def setUp(self):
        self.server = Server().start()

    def tearDown(self):
        self.server.stop()

    def check_resolution_change(self, codec):
        case = self.server.add_case(f"RES-{codec.upper()}")
        pub = self.server.chromium_publisher(case, 20, codec=codec, extra=["--resize-after", "8"])
        self.assertEqual(pub.wait(90), 0, pub.lines[-3:])
        resized = pub.events("resized")
        self.assertTrue(resized, pub.lines[-5:])
        self.server.stop()
        self.assertEqual(len(segment_rows(self.server, case["ref"])), 1, segment_rows(self.server, case["ref"]))
        self.assertNotIn("loop detected", self.server.log_text())
        archives = self.server.archive_files()
        self.assertEqual(len(archives), 1, archives)
        errors = decode_errors(archives[0])
        sizes = frame_sizes(archives[0])
        print(f"{codec}: {os.path.basename(archives[0])}: {len(errors)} decode errors, sizes {sizes}", file=sys.stderr)
        self.assertEqual(errors, [])
        self.assertGreaterEqual(len({size for size, _ in sizes}), 2, f"the archive shows one size only: {sizes}")

    def test_vp8_resolution_change_stays_in_one_segment(self):
        self.check_resolution_change("vp8")

    def test_h264_resolution_change_stays_in_one_segment(self):
        self.check_resolution_change("h264")

    def test_reviewers_joining_and_leaving_keep_one_segment(self):
        case = self.server.add_case("JOIN-LEAVE")
        pub = self.server.chromium_publisher(case, 180, codec="vp8")
        self.assertTrue(wait_until(lambda: pub.events("connected"), 60), pub.lines[-3:])
        # two reviewers, each joining and leaving three times while the phone publishes: each
        # leaves once it has decoded frames (SIGUSR1; the 60 s are only the bound of a slow machine)
        def has_frames(peer):
            return (peer.last("frames") or {}).get("frames", 0) > 0

        for round_ in range(3):
            a = self.server.reviewer(case, 60, name=f"A{round_}")
            self.assertTrue(wait_until(lambda: has_frames(a), 30), a.lines[-3:])
            b = self.server.reviewer(case, 60, name=f"B{round_}")
            self.assertTrue(wait_until(lambda: has_frames(b), 30), b.lines[-3:])
            for peer in (b, a):
                peer.proc.send_signal(signal.SIGUSR1)
                self.assertEqual(peer.wait(60), 0, peer.lines[-3:])
            self.assertTrue(has_frames(a) and has_frames(b), (a.lines[-3:], b.lines[-3:]))
        # the rounds are over: the phone leaves (its 180 s are only the bound of a slow machine)
        pub.proc.send_signal(signal.SIGUSR1)
        self.assertEqual(pub.wait(60), 0, pub.lines[-3:])
        self.assertTrue(pub.events("deleted"), pub.lines[-3:])
        self.server.stop()
        rows = segment_rows(self.server, case["ref"])
        self.assertEqual(len(rows), 1, rows)
        self.assertNotIn("loop detected", self.server.log_text())
        archives = self.server.archive_files()
        self.assertEqual(len(archives), 1, archives)
        self.assertEqual(decode_errors(archives[0]), [])

    def test_reconnection_starts_a_new_segment(self):
        """A reconnection is a real change: a new segment. With a reviewer talking back, the
        graph holds no loop (the mix reaches the publisher through an appsink/appsrc pair, not
        a pad link: reviewer → mix → publisher → reviewer) and the new publisher hears the
        reviewer too."""
        case = self.server.add_case("RECONNECT")
        # long enough for a slow machine; the phone leaves (SIGUSR1) once it heard the reviewer
        pub = self.server.aiortc_publisher(case, 150, reconnect_after=10)
        talker = self.server.reviewer(case, 160, "talker", ["--talk"])

        def heard_after_reconnect():
            cut = next((i for i, l in enumerate(pub.lines) if l.get("event") == "reconnecting"), None)
            return cut is not None and [l["audio_rms"] for l in pub.lines[cut:]
                                        if l.get("event") == "stats" and l["audio_rms"] > 500]
        heard = wait_until(heard_after_reconnect, 120)
        pub.proc.send_signal(signal.SIGUSR1)
        self.assertEqual(pub.wait(60), 0, pub.lines[-3:])
        talker.stop()
        self.server.stop()
        rows = segment_rows(self.server, case["ref"])
        self.assertEqual(len(rows), 2, rows)
        self.assertNotIn("loop detected", self.server.log_text())
        self.assertEqual(len(pub.events("published")), 2, pub.lines[-5:])
        cut = next(i for i, l in enumerate(pub.lines) if l.get("event") == "reconnecting")
        after = [l["audio_rms"] for l in pub.lines[cut:] if l.get("event") == "stats"]
        self.assertTrue(heard, f"the reconnected publisher hears the reviewer: {after}")

if __name__ == "__main__":
    unittest.main()


SR_TABLE = "kanyan_no_sr"


@unittest.skipUnless(os.environ.get("KANYAN_NETNS") == "1", "needs the test network namespace (tests/netns.sh)")
class ShortSessionTest(unittest.TestCase):
    """A session that ends before the phone's first RTCP sender reports came (a browser sends
    its first audio report seconds in) still has its media in the archive. The recorder holds a
    track's packets until the reports place it, up to 3 s; such a session used to end with all
    of it held, and the archive was empty (seen in tests/e2e/keyboard_walk: a 2 s session). Here
    nftables drops every sender report (the SRTCP header is in the clear: byte 1, the packet
    type, is 200), so no track ever gets one, and the publisher leaves as soon as it has sent
    some video."""

    def setUp(self):
        nft("add", "table", "inet", SR_TABLE)
        nft("add", "chain", "inet", SR_TABLE, "input", "{ type filter hook input priority 0; }")
        nft("add", "rule", "inet", SR_TABLE, "input", "meta", "l4proto", "udp", "@th,72,8", "200", "drop")
        self.server = Server()
        self.server.env["GST_DEBUG"] = "1,kanyan-segment-sync:4"   # says how the segment started
        self.server.start()

    def tearDown(self):
        self.server.stop()
        subprocess.run(["nft", "delete", "table", "inet", SR_TABLE])

    def test_media_before_any_sender_report_is_archived(self):
        case = self.server.add_case("SHORT-1")
        pub = self.server.aiortc_publisher(case, 120)
        self.assertTrue(wait_until(lambda: any(s["frames_sent"] >= 20 for s in pub.events("stats")), 60),
                        pub.lines[-3:])
        pub.proc.send_signal(signal.SIGUSR1)   # the phone leaves: WHIP DELETE
        self.assertEqual(pub.wait(60), 0, pub.lines[-3:])

        def rows():
            return self.server.db().execute(
                "SELECT r.archive_state, r.archive_path FROM recordings r JOIN live_sessions s ON s.id = r.session_id "
                "JOIN cases c ON c.id = s.case_id WHERE c.ref = ?", (case["ref"],)).fetchall()
        self.assertTrue(wait_until(lambda: rows() and all(state is not None for state, _ in rows()), 60), rows())
        (state, archive), = rows()
        self.assertIn(state, ("archived", "salvaged"), f"the session's media is not in the archive: {rows()}")
        frames = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                                 "stream=nb_read_frames", "-of", "csv=p=0", archive],
                                capture_output=True, text=True).stdout.strip()
        print(f"short session: {os.path.basename(archive)}: {frames} video frames", file=sys.stderr)
        self.assertGreaterEqual(int(frames or 0), 10, archive)
        self.assertEqual(decode_errors(archive), [])
        self.assertIn("the segment ends before its start was known", self.server.log_text())

"""The free-space floor ([archive] min_free_mb): recording stops cleanly when the recordings
volume falls under it — before the volume is full — with the same alert as a full disk, and
starts again above it; a server that starts on a volume under the floor says so clearly and
records nothing, while the live inspection works."""
import os
import subprocess
import unittest

from kanyan import Server, wait_until

TMPFS_MB = 24
FLOOR_MB = 12


def segments(server):
    return server.db().execute("SELECT seq, state, archive_state FROM recordings ORDER BY id").fetchall()


def audit_count(server, action):
    return server.db().execute("SELECT COUNT(*) FROM audit_log WHERE action = ?", (action,)).fetchone()[0]


@unittest.skipUnless(os.environ.get("KANYAN_NETNS") == "1" and os.geteuid() == 0,
                     "needs the test network namespace (tests/netns.sh) and root to mount a tmpfs")
class DiskFloorTest(unittest.TestCase):
    def setUp(self):
        self.server = Server(f"[archive]\nmin_free_mb={FLOOR_MB}\n")
        os.makedirs(self.server.recordings)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs", self.server.recordings], check=True)
        self.filler = os.path.join(self.server.recordings, "filler")

    def tearDown(self):
        self.server.stop()
        subprocess.run(["umount", "-l", self.server.recordings])

    def fill_mb(self, mb):
        with open(self.filler, "wb") as f:
            f.write(b"\0" * (mb << 20))

    def test_under_the_floor_recording_stops_before_the_disk_is_full(self):
        s = self.server.start()
        case = s.add_case("FLOOR-1")
        pub = s.aiortc_publisher(case, 120)
        reviewer = s.reviewer(case, 115, "R")
        self.assertTrue(wait_until(lambda: any(r[1] == "recording" for r in segments(s)), 60), segments(s))
        self.fill_mb(TMPFS_MB - FLOOR_MB + 2)   # under the floor, yet megabytes from full
        self.assertTrue(wait_until(lambda: audit_count(s, "recording.stopped") == 1, 60), segments(s))
        self.assertTrue(wait_until(lambda: reviewer.events("recording"), 10), reviewer.lines[-3:])
        self.assertEqual(reviewer.events("recording")[0]["reason"], "disk_full")
        free_mb = os.statvfs(s.recordings).f_bavail * os.statvfs(s.recordings).f_frsize >> 20
        self.assertGreater(free_mb, 2, "stopped at the floor, not at a write failure")
        frames = reviewer.last("frames")["frames"]
        self.assertTrue(wait_until(lambda: reviewer.last("frames")["frames"] > frames + 60, 60), "the inspection goes on")
        os.unlink(self.filler)
        self.assertTrue(wait_until(lambda: audit_count(s, "recording.resumed") == 1, 90), segments(s))
        pub.stop()
        reviewer.stop()
        s.stop()
        rows = segments(s)
        self.assertEqual(len(rows), 2, rows)
        self.assertTrue(all(r[2] in ("archived", "salvaged") for r in rows), rows)

    def test_a_server_started_under_the_floor_says_so_and_records_nothing(self):
        self.fill_mb(TMPFS_MB - FLOOR_MB + 2)
        s = self.server.start()
        self.assertTrue(wait_until(lambda: "min_free_mb" in s.log_text(), 10), s.log_text()[-500:])
        self.assertIn("nothing will be recorded until space is freed", s.log_text())
        case = s.add_case("FLOOR-2")
        pub = s.aiortc_publisher(case, 30)
        reviewer = s.reviewer(case, 25, "R")
        self.assertTrue(wait_until(lambda: (reviewer.last("frames") or {}).get("frames", 0) > 60, 60),
                        "the live inspection works")
        self.assertTrue(wait_until(lambda: reviewer.events("recording"), 10), reviewer.lines[-3:])
        self.assertEqual(reviewer.events("recording")[0]["reason"], "disk_full")
        self.assertEqual(segments(s), [])
        self.assertEqual(audit_count(s, "recording.stopped"), 1)
        pub.stop()
        reviewer.stop()


if __name__ == "__main__":
    unittest.main()

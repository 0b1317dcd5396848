"""A full recordings volume stops recording cleanly: with the recordings on a small tmpfs that
fills up during a live inspection, the server raises one typed alert to the reviewers and one
audit entry, does not loop through empty segments, keeps the live inspection going and its
database intact, and resumes recording (a new segment of the same session) once space is
freed; the segment the full disk cut is archived then."""
import os
import subprocess
import sys
import unittest

from kanyan import Server, decode_errors, ffprobe, wait_until

TMPFS_MB = 24


def audit_count(server, action):
    return server.db().execute("SELECT COUNT(*) FROM audit_log WHERE action = ?", (action,)).fetchone()[0]


def segment_bytes(server):
    """What the recorder has written so far: the sizes of every segment file of the volume."""
    total = 0
    for folder, _, files in os.walk(server.recordings):
        total += sum(os.path.getsize(os.path.join(folder, f)) for f in files if f.startswith("segment-"))
    return total


def segments(server):
    return server.db().execute("SELECT id, seq, state, archive_state FROM recordings ORDER BY id").fetchall()


@unittest.skipUnless(os.environ.get("KANYAN_NETNS") == "1" and os.geteuid() == 0,
                     "needs the test network namespace (tests/netns.sh) and root to mount a tmpfs")
class DiskFullTest(unittest.TestCase):
    def setUp(self):
        self.server = Server("[archive]\nmin_free_mb=1\n")   # the floor is test_disk_floor's
        os.makedirs(self.server.recordings)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs", self.server.recordings], check=True)
        self.filler = os.path.join(self.server.recordings, "filler")
        self.server.start()

    def tearDown(self):
        self.server.stop()
        subprocess.run(["umount", "-l", self.server.recordings])

    def fill(self):
        # unbuffered: a full buffer flushed by close() would raise ENOSPC outside the loop
        with open(self.filler, "wb", buffering=0) as f:
            block = b"\0" * (1 << 16)
            try:
                while True:
                    f.write(block)
            except OSError:
                pass

    def test_full_volume_alerts_once_and_recording_resumes(self):
        s = self.server
        case = s.add_case("DISK-1")
        s.add_user("adm", role="admin")
        pub = s.aiortc_publisher(case, 150)
        reviewer = s.reviewer(case, 145, "R")
        self.assertTrue(wait_until(lambda: any(r[2] == "recording" for r in segments(s)), 60), segments(s))
        self.assertTrue(wait_until(lambda: (reviewer.last("frames") or {}).get("frames", 0) > 30, 60),
                        reviewer.lines[-3:])
        # the segment holds media before the disk fills (its first keyframe written: more than
        # the header): on a busy machine the reviewer's 30 frames came before it once, the disk
        # filled first, and the segment rightly held nothing to archive
        self.assertTrue(wait_until(lambda: segment_bytes(s) > 16384, 60), segment_bytes(s))
        self.fill()
        self.assertTrue(wait_until(lambda: audit_count(s, "recording.stopped") == 1, 60), "no recording.stopped entry")
        self.assertTrue(wait_until(lambda: reviewer.events("recording"), 10), reviewer.lines[-3:])
        alert = reviewer.events("recording")[0]
        self.assertEqual((alert["state"], alert["reason"]), ("stopped", "disk_full"))
        # administrators see it too (the admin page shows /api/alerts); reviewers may not ask
        status, body = s.api("GET", "/api/alerts", user="adm")
        self.assertEqual(status, 200, body)
        self.assertEqual([(a["kind"], a["case"], a["reason"]) for a in body["alerts"]],
                         [("recording_stopped", "DISK-1", "disk_full")])
        self.assertEqual(s.api("GET", "/api/alerts", user="owner")[0], 403)
        # while the disk stays full: nothing loops (the retries find no room and wait, quietly),
        # and the live inspection goes on
        frames_then = reviewer.last("frames")["frames"]
        rows_then, audit_then = len(segments(s)), s.db().execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
        self.assertTrue(wait_until(lambda: reviewer.last("frames")["frames"] > frames_then + 150, 60),
                        "the reviewer keeps seeing the phone")
        self.assertEqual(len(segments(s)), rows_then, segments(s))
        self.assertLessEqual(s.db().execute("SELECT COUNT(*) FROM audit_log").fetchone()[0], audit_then + 2)
        self.assertEqual(len(reviewer.events("recording")), 1, reviewer.events("recording"))
        self.assertEqual(s.db().execute("PRAGMA integrity_check").fetchone()[0], "ok")
        # space comes back: a new segment of the same session, one "recording" message
        os.unlink(self.filler)
        self.assertTrue(wait_until(lambda: audit_count(s, "recording.resumed") == 1, 90), segments(s))
        self.assertTrue(wait_until(lambda: len(reviewer.events("recording")) == 2, 10), reviewer.events("recording"))
        self.assertEqual(reviewer.events("recording")[1]["state"], "recording")
        self.assertEqual(s.api("GET", "/api/alerts", user="adm")[1]["alerts"], [])
        sessions = {r[0] for r in s.db().execute("SELECT DISTINCT session_id FROM recordings")}
        self.assertEqual(len(sessions), 1)
        pub.stop()
        reviewer.stop()
        s.stop()
        rows = segments(s)
        print(f"segments: {rows}; warnings: {s.log_text().count('WARNING')}", file=sys.stderr)
        self.assertLessEqual(len(rows), 3, rows)
        self.assertEqual(audit_count(s, "recording.stopped"), 1)
        self.assertEqual(s.db().execute("PRAGMA integrity_check").fetchone()[0], "ok")
        # every segment that holds media got archived, the one the full disk cut included
        # (the one the full disk cut once lost its header in the sink's buffer: "Invalid data")
        for row in rows:
            self.assertIn(row[3], ("archived", "salvaged"), f"{rows}\n" + "\n".join(
                l for l in s.log_text().splitlines() if "archiv" in l or "record" in l)[-3000:])
        for (path,) in s.db().execute("SELECT archive_path FROM recordings ORDER BY id"):
            self.assertGreater(float(ffprobe(path)["format"]["duration"]), 0.5, path)
            self.assertEqual(decode_errors(path), [], path)


if __name__ == "__main__":
    unittest.main()

"""Retention: `kanyan archive purge` deletes the recordings and stills of cases decided longer ago
than [archive] retention_days, records each deletion, keeps the hashes — and the audit chain
still verifies. Undecided or recent cases keep everything."""
import json
import os
import subprocess
import unittest

import websocket

from kanyan import KANYAN, Server, ffmpeg_duration, wait_until

DAY_MS = 24 * 3600 * 1000


class RetentionTest(unittest.TestCase):
    def setUp(self):
        self.server = Server(config="[archive]\nretention_days=30\n[media]\nroom_linger_s=1\n").start()
        self.server.add_user("owner", "reviewer", "commerce")

    def tearDown(self):
        self.server.stop()

    def cli(self, *args):
        out = subprocess.run([KANYAN, *args] + self.server.common_args(), capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def inspect(self, ref, decide):
        """A real live inspection: reviewer and aiortc publisher, a still, every item passed."""
        s = self.server
        case = s.add_case(ref, owner="owner")
        ws = websocket.create_connection(s.ws_url, timeout=30, header=["Cookie: " + s.login("owner")])
        ws.send(json.dumps({"type": "join", "case": ref, "role": "reviewer"}))
        pub = s.aiortc_publisher(case, 6, name=f"pub-{ref}")
        self.assertTrue(wait_until(lambda: s.api("GET", f"/api/cases/{ref}", user="owner")[1]["live"], 20))
        self.assertEqual(s.api("POST", f"/api/cases/{ref}/stills", {"item": 1}, user="owner")[0], 201)
        for item in range(1, 9):
            s.api("POST", f"/api/cases/{ref}/marks", {"item": item, "result": "pass"}, user="owner")
        if decide:
            # an approval ends the live inspection at once (case_closed): first let the recording
            # hold some media (it begins with the phone's first sender reports), as it would in
            # any real inspection, so there is an archive to keep and later purge
            self.assertTrue(wait_until(lambda: any(f"/{ref}/" in f and ffmpeg_duration(f) > 1.0
                                                   for f in s.recording_files()), 30, step=0.5))
            self.assertEqual(s.api("POST", f"/api/cases/{ref}/decisions", {"kind": "approve", "reason": "all seen"},
                                   user="owner")[0], 201)
        self.assertEqual(pub.wait(40), 0)
        ws.close()

    def media(self, ref):
        with self.server.db() as db:
            rec = db.execute("SELECT r.archive_path, r.archive_sha256, r.purged_at FROM recordings r "
                             "JOIN live_sessions s ON s.id = r.session_id JOIN cases c ON c.id = s.case_id "
                             "WHERE c.ref = ?", (ref,)).fetchall()
            stills = db.execute("SELECT st.path, st.sha256, st.purged_at FROM stills st JOIN cases c "
                                "ON c.id = st.case_id WHERE c.ref = ?", (ref,)).fetchall()
        return rec, stills

    def test_purge_after_the_period_keeps_hashes_and_chain(self):
        self.inspect("RT-OLD", decide=True)
        self.inspect("RT-OPEN", decide=False)
        self.assertTrue(wait_until(lambda: all(r[0] for r in self.media("RT-OLD")[0] + self.media("RT-OPEN")[0]), 20),
                        "both inspections finalized into archives")
        self.assertIn("0 file(s) listed", self.cli("archive", "purge", "--dry-run"), "a fresh decision keeps its media")
        with self.server.db() as db:   # the decision is now 40 days old
            db.execute("UPDATE decisions SET at = at - ?", (40 * DAY_MS,))
        dry = self.cli("archive", "purge", "--dry-run")
        self.assertIn("2 file(s) listed", dry)
        self.assertIn("would delete recording\tRT-OLD", dry)
        self.assertIn("would delete still\tRT-OLD", dry)
        recs, stills = self.media("RT-OLD")
        self.assertTrue(all(os.path.exists(p) for p, _, _ in recs + stills), "a dry run deletes nothing")
        self.assertIn("2 file(s) deleted", self.cli("archive", "purge"))
        recs, stills = self.media("RT-OLD")
        for path, sha, purged_at in recs + stills:
            self.assertFalse(os.path.exists(path), path)
            self.assertEqual(len(sha), 64, "the hash stays")
            self.assertIsNotNone(purged_at)
        for path, _, purged_at in sum(self.media("RT-OPEN"), []):
            self.assertTrue(os.path.exists(path), "an undecided case keeps its media")
            self.assertIsNone(purged_at)
        with self.server.db() as db:
            entries = db.execute("SELECT detail FROM audit_log WHERE action = 'media.purged'").fetchall()
        self.assertEqual(len(entries), 2)
        self.assertIn(recs[0][1], "".join(e[0] for e in entries), "the deletion names the file's hash")
        self.cli("audit", "verify")   # exit 0: the chain is whole
        self.assertIn("0 file(s) deleted", self.cli("archive", "purge"), "nothing twice")


if __name__ == "__main__":
    unittest.main()

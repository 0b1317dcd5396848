"""The auditors' side over a real recorded inspection: search, the case's whole timeline with
its recordings, and the integrity check naming a tampered archive or a broken chain."""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import zipfile

import websocket

from kanyan import KANYAN, Server, wait_until


class AuditorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        s = cls.server = Server(config="[media]\nroom_linger_s=1\n").start()
        s.add_user("owner", "reviewer", "commerce")
        s.add_user("lead", "lead", "commerce")
        s.add_user("auditor", "auditor", "audit")
        cls.case = s.add_case("AU-1", owner="owner", extra=["--applicant", "Zhao Min"])
        s.add_case("AU-2", owner="lead")
        ws = websocket.create_connection(s.ws_url, timeout=30, header=["Cookie: " + s.login("owner")])
        ws.send(json.dumps({"type": "join", "case": "AU-1", "role": "reviewer"}))
        pub = s.aiortc_publisher(cls.case, 6)
        assert wait_until(lambda: s.api("GET", "/api/cases/AU-1", user="owner")[1]["live"], 20)
        s.api("POST", "/api/cases/AU-1/stills", {"item": 2}, user="owner")
        for item in range(1, 9):
            s.api("POST", "/api/cases/AU-1/marks", {"item": item, "result": "pass"}, user="owner")
        # an approval ends the live inspection at once (case_closed): let the recording run a few
        # seconds first, so the archive has something to replay
        def recording_for(seconds):
            with s.db() as db:
                row = db.execute("SELECT min(started_at) FROM recordings").fetchone()
            return row[0] is not None and time.time() * 1000 - row[0] > seconds * 1000
        assert wait_until(lambda: recording_for(4), 30)
        s.api("POST", "/api/cases/AU-1/decisions", {"kind": "approve", "reason": "all present"}, user="owner")
        pub.wait(40)
        ws.close()
        assert wait_until(lambda: s.archive_files(), 20)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_bundle_export_and_verify(self):
        s = self.server
        work = tempfile.mkdtemp(prefix="kanyan-bundle-")
        elsewhere = tempfile.mkdtemp(prefix="kanyan-elsewhere-")
        try:
            bundle = os.path.join(work, "AU-1.zip")
            out = subprocess.run([KANYAN, "case", "export", "--ref", "AU-1", "--out", bundle] + s.common_args(),
                                 capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            with zipfile.ZipFile(bundle) as z:
                names = z.namelist()
                manifest = json.loads(z.read("manifest.json"))
                members = {n: z.read(n) for n in names}
            self.assertIn("report.html", names)
            self.assertTrue(members["report.pdf"].startswith(b"%PDF-"))
            self.assertIn("audit.json", names)
            self.assertEqual(sorted(f["kind"] for f in manifest["files"]),
                             ["audit", "audit-links", "case", "recording", "report", "report", "still"])
            self.assertIn("踏勘报告".encode(), members["report.html"])   # in the bureau's language (zh-CN by default)
            items = json.loads(members["case.json"])["items"]
            self.assertEqual([i["department"] for i in items][3:5], ["fire", "fire"], "whose items they were")
            # on "another machine": a fresh directory, no database, no server
            copy = shutil.copy(bundle, elsewhere)
            verify = lambda path: subprocess.run([KANYAN, "audit", "verify", "--bundle", path], cwd=elsewhere,
                                                 capture_output=True, text=True)
            good = verify(copy)
            self.assertEqual(good.returncode, 0, good.stdout + good.stderr)
            self.assertIn("verifies", good.stdout)
            self.assertFalse(os.path.exists(os.path.join(elsewhere, "data")), "no database was made")

            def tampered(name, change):
                path = os.path.join(elsewhere, f"tampered-{len(os.listdir(elsewhere))}.zip")
                with zipfile.ZipFile(path, "w") as z:
                    for n, data in members.items():
                        z.writestr(n, change(n, data))
                return verify(path)

            archive = next(f["path"] for f in manifest["files"] if f["kind"] == "recording")
            flip = lambda n, d: d[:3000] + bytes([d[3000] ^ 1]) + d[3001:] if n == archive else d
            bad = tampered("byte", flip)
            self.assertEqual(bad.returncode, 1)
            self.assertIn(archive, bad.stdout, "the tampered file is named")
            # the file and the manifest changed together: the manifest's signature no longer verifies
            forged_sha = hashlib.sha256(flip(archive, members[archive])).hexdigest()
            def both(n, d):
                if n == "manifest.json":
                    m = json.loads(d)
                    for f in m["files"]:
                        if f["path"] == archive:
                            f["sha256"] = forged_sha
                    return json.dumps(m).encode()
                return flip(n, d)
            bad = tampered("both", both)
            self.assertEqual(bad.returncode, 1)
            self.assertIn("signature of manifest.json does not verify", bad.stdout)
            # an audit entry edited inside the bundle
            def entry(n, d):
                if n != "audit.json":
                    return d
                entries = json.loads(d)
                entries[-1]["actor"] = "someone else"
                return json.dumps(entries).encode()
            bad = tampered("entry", entry)
            self.assertEqual(bad.returncode, 1)
            self.assertIn("was altered", bad.stdout)
        finally:
            shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(elsewhere, ignore_errors=True)

    def test_report_pdf(self):
        s = self.server
        status, headers, body = s.request("GET", "/api/cases/AU-1/report.pdf", None, {"Cookie": s.login("owner")})
        headers = {k.lower(): v for k, v in headers.items()}
        self.assertEqual((status, headers["content-type"]), (200, "application/pdf"))
        self.assertIn('filename="report-AU-1.pdf"', headers["content-disposition"])
        self.assertTrue(body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF"))
        self.assertIn(b"AU-1", body, "the title metadata names the case")
        s.add_user("outsider", "reviewer", "elsewhere")
        self.assertEqual(s.request("GET", "/api/cases/AU-1/report.pdf", None, {"Cookie": s.login("outsider")})[0], 403)
        self.assertEqual(s.request("GET", "/api/cases/AU-1/report.pdf")[0], 401)
        self.assertEqual(s.request("GET", "/api/cases/AU-1/report.pdf?lang=fr", None, {"Cookie": s.login("owner")})[0], 400)
        if shutil.which("pdftotext"):
            def text_of(pdf):
                with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
                    f.write(pdf)
                    f.flush()
                    return subprocess.run(["pdftotext", f.name, "-"], capture_output=True, text=True).stdout
            # in the bureau's language (zh-CN unless [bureau] language says otherwise), or as asked
            text = text_of(body)
            for words in ("Zhao Min", "all present", "要件", "部门：消防", "符合", "准予"):
                self.assertIn(words, text)
            for english in ("Required items", "pass", "approved", "department"):
                self.assertNotIn(english, text, "a zh-CN report has no English words")
            english = text_of(s.request("GET", "/api/cases/AU-1/report.pdf?lang=en", None, {"Cookie": s.login("owner")})[2])
            for words in ("Zhao Min", "all present", "Required items", "department: fire", "pass", "approved"):
                self.assertIn(words, english)
            self.assertNotIn("要件", english)

    def test_search(self):
        s = self.server
        refs = lambda q, user="auditor": [c["ref"] for c in s.api("GET", "/api/search" + q, user=user)[1]["cases"]]
        self.assertEqual(refs(""), ["AU-1", "AU-2"])
        self.assertEqual(refs("?applicant=zhao"), ["AU-1"])
        self.assertEqual(refs("?reviewer=lead"), ["AU-2"])
        self.assertEqual(refs("?status=approved"), ["AU-1"])
        self.assertEqual(refs("?overdue=1"), [])
        self.assertEqual(refs("?from=2000-01-01&to=2999-12-31&ref=au-2"), ["AU-2"])
        self.assertEqual(refs("?to=2000-01-01"), [])
        self.assertEqual(refs("", user="owner"), ["AU-1"], "a reviewer finds only its own cases")
        self.assertEqual(s.api("GET", "/api/search?from=yesterday", user="auditor")[0], 400)
        self.assertEqual(s.api("GET", "/api/search")[0], 401)

    def integrity(self, user):
        """The check runs as a job: started (202 and its progress), then asked for until done (200)."""
        s = self.server
        status, body = s.api("GET", "/api/cases/AU-1/integrity", user=user)
        self.assertEqual(status, 202, body)
        self.assertTrue(body["running"])
        deadline = time.time() + 120
        while status == 202 and time.time() < deadline:
            time.sleep(0.1)
            status, body = s.api("GET", f"/api/cases/AU-1/integrity?job={body['job']}", user=user)
        return status, body

    def test_timeline_and_integrity(self):
        s = self.server
        self.assertEqual(s.api("GET", "/api/cases/AU-1/timeline", user="owner")[0], 403, "the log is for auditors and leads")
        status, tl = s.api("GET", "/api/cases/AU-1/timeline", user="auditor")
        self.assertEqual(status, 200)
        actions = [e["action"] for e in tl["entries"]]
        for action in ("case.created", "participant.joined", "recording.started", "still.captured", "mark", "decision",
                       "recording.archived"):
            self.assertIn(action, actions)
        rec = tl["recordings"][0]
        self.assertEqual(rec["url"], f"/media/recordings/{rec['id']}")
        # the true media duration: something was recorded, and never more than the segment lived
        # (the approval ends the live inspection within a second or two of going live)
        self.assertGreater(rec["duration_ms"], 0)
        self.assertLessEqual(rec["duration_ms"], rec["ended_at"] - rec["started_at"] + 500)
        self.assertEqual(len(rec["sha256"]), 64)
        status, check = self.integrity("lead")
        self.assertEqual(status, 200)
        self.assertTrue(check["ok"], check)
        self.assertEqual(sorted(f["kind"] for f in check["files"]), ["recording", "still"])
        # one byte changed in the archive: the check names it
        archive = s.archive_files()[0]
        with open(archive, "r+b") as f:
            f.seek(2000)
            byte = f.read(1)
            f.seek(2000)
            f.write(bytes([byte[0] ^ 0xFF]))
        check = self.integrity("auditor")[1]
        self.assertFalse(check["ok"])
        bad = [f for f in check["files"] if f["status"] != "ok"]
        self.assertEqual([(f["kind"], f["status"]) for f in bad], [("recording", "mismatch")])
        with open(archive, "r+b") as f:
            f.seek(2000)
            f.write(byte)
        # an audit entry changed behind the triggers' back breaks the chain
        with s.db() as db:
            db.execute("DROP TRIGGER audit_log_no_update")
            first = db.execute("SELECT min(id) FROM audit_log WHERE case_ref = 'AU-1' AND action = 'mark'").fetchone()[0]
            db.execute("UPDATE audit_log SET detail = replace(detail, 'pass', 'fail') WHERE id = ?", (first,))
        check = self.integrity("auditor")[1]
        self.assertFalse(check["chain"]["ok"])
        self.assertEqual(check["chain"]["first_bad_entry"], first)


if __name__ == "__main__":
    unittest.main()

"""The inspection report as JSON (GET /api/cases/{ref}/report, what the report page shows):
one model with the bundle's case.json, the same rows as the case and timeline routes send,
and the mark that counts for each item being the latest of the last live inspection."""
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


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        s = cls.server = Server(config="[media]\nroom_linger_s=1\n").start()
        s.add_user("owner", "reviewer", "commerce")
        s.add_user("auditor", "auditor", "audit")
        s.add_user("outsider", "reviewer", "elsewhere")
        cls.case = s.add_case("RP-1", owner="owner", extra=["--applicant", "Qian Li"])
        ws = websocket.create_connection(s.ws_url, timeout=30, header=["Cookie: " + s.login("owner")])
        ws.send(json.dumps({"type": "join", "case": "RP-1", "role": "reviewer"}))
        pub = s.aiortc_publisher(cls.case, 6)
        assert wait_until(lambda: s.api("GET", "/api/cases/RP-1", user="owner")[1]["live"], 20)
        status, still = s.api("POST", "/api/cases/RP-1/stills", {"item": 3}, user="owner")
        assert status in (200, 201), still
        # item 1 is marked three times: the last mark counts; item 8 is never marked
        for result in ("fail", "not_shown", "pass"):
            s.api("POST", "/api/cases/RP-1/marks", {"item": 1, "result": result, "note": result}, user="owner")
        for item in range(2, 8):
            s.api("POST", "/api/cases/RP-1/marks", {"item": item, "result": "pass"}, user="owner")
        # a rejection (awaiting its countersignature) keeps this live inspection the last one; a
        # rectification would open the next
        s.api("POST", "/api/cases/RP-1/decisions", {"kind": "reject", "reason": "item 8 not shown"}, user="owner")
        pub.wait(40)
        ws.close()
        # the inspection is over (its session ended) before any test compares two answers
        assert wait_until(lambda: all(x["ended_at"] for x in s.api("GET", "/api/cases/RP-1", user="owner")[1]["sessions"]), 30)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_report_is_the_case_in_its_rows_shapes(self):
        s = self.server
        status, report = s.api("GET", "/api/cases/RP-1/report", user="owner")
        self.assertEqual(status, 200, report)
        _, case = s.api("GET", "/api/cases/RP-1", user="owner")
        self.assertEqual(report["ref"], "RP-1")
        self.assertEqual(report["applicant_name"], "Qian Li")
        self.assertEqual(report["type_title"], case["type_title"])
        self.assertEqual(len(report["items"]), 8)
        first = report["items"][0]["mark"]
        self.assertEqual((first["result"], first["note"], first["by"]), ("pass", "pass", "owner"), "the latest mark counts")
        self.assertIsNone(report["items"][7]["mark"], "an item never marked has no mark")
        for mine, theirs in zip(report["items"], case["items"]):
            theirs = {k: v for k, v in theirs.items() if k != "may_mark"}
            self.assertEqual(mine, theirs, "an item and its mark in one shape")
        for key in ("decisions", "stills", "sessions"):
            self.assertEqual(report[key], case[key], key)
        self.assertEqual(report["decisions"][0]["kind"], "reject")
        self.assertEqual(len(report["stills"]), 1)
        # a segment may still be archiving (its state moves on between two requests): compare
        # once both answers are read while nothing moved
        def recordings():
            mine = s.api("GET", "/api/cases/RP-1/report", user="owner")[1]["recordings"]
            theirs = s.api("GET", "/api/cases/RP-1/timeline", user="auditor")[1]["recordings"]
            return mine, [{k: v for k, v in r.items() if k != "gaps"} for r in theirs]
        self.assertTrue(wait_until(lambda: (lambda m, t: m and m == t)(*recordings()), 30), recordings())

    def test_report_needs_the_case(self):
        s = self.server
        self.assertEqual(s.api("GET", "/api/cases/RP-1/report", user="outsider")[0], 403)
        self.assertEqual(s.request("GET", "/api/cases/RP-1/report")[0], 401)
        self.assertEqual(s.api("GET", "/api/cases/NO-SUCH/report", user="owner")[0], 404)

    def test_bundle_case_json_agrees_with_the_report(self):
        s = self.server
        work = tempfile.mkdtemp(prefix="kanyan-report-")
        try:
            bundle = os.path.join(work, "RP-1.zip")
            out = subprocess.run([KANYAN, "case", "export", "--ref", "RP-1", "--out", bundle] + s.common_args(),
                                 capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            with zipfile.ZipFile(bundle) as z:
                bundled = json.loads(z.read("case.json"))
                html = z.read("report.html").decode()
            _, report = s.api("GET", "/api/cases/RP-1/report", user="owner")
            got = [(i["position"], i["result"], i["note"], i["by"]) for i in bundled["items"]]
            want = [(i["position"],) + (tuple(i["mark"][k] for k in ("result", "note", "by")) if i["mark"] else ("", "", ""))
                    for i in report["items"]]
            self.assertEqual(got, want)
            self.assertEqual([d["kind"] for d in bundled["decisions"]], [d["kind"] for d in report["decisions"]])
            # in the bureau's language (zh-CN unless [bureau] language says otherwise)
            self.assertIn("<li><b>紧急切断装置</b> — 未核查", html, "report.html names the unmarked item")
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()

"""The applicant's acknowledgement of a notice (issue 18, item 5): after a rectify decision the
applicant signs with the invite (a name and strokes); the server builds the SVG itself, stores it
with its SHA-256, audits that hash, refuses a second one, one before any notice, a wrong token and
malformed strokes; the desk's case list flags an unacknowledged notice ([bureau]
notice_ack_days = 0 here: at once) and stops once it is signed; the export bundle carries the SVG,
listed with its hash, and still verifies. A countersigned rejection's notice is acknowledged with
the invite the rejection revoked (that one only, once); the invite still opens nothing live."""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import zipfile

import websocket

from kanyan import KANYAN, Server

STROKES = [[[0.1, 0.5], [0.2, 0.3], [0.3, 0.6], [0.45, 0.4]], [[0.6, 0.2], [0.9, 0.8]], [[0.95, 0.95]]]


def recv_type(ws, kind):
    while True:
        msg = json.loads(ws.recv())
        if msg.get("type") == kind:
            return msg


class AcknowledgeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        s = cls.server = Server(config="[media]\nroom_linger_s=1\n[bureau]\nnotice_ack_days=0\n").start()
        s.add_user("owner", "reviewer", "commerce")
        s.add_user("lead", "lead", "commerce")
        cls.case = s.add_case("AK-1", owner="owner", extra=["--applicant", "Qian"])
        cls.other = s.add_case("AK-2", owner="owner")
        cls.sockets = []
        for role, user, token in (("reviewer", "owner", None), ("applicant", None, cls.case["token"])):
            ws = websocket.create_connection(s.ws_url, timeout=10, header=["Cookie: " + s.login(user)] if user else [])
            msg = {"type": "join", "case": "AK-1", "role": role}
            if token:
                msg["token"] = token
            ws.send(json.dumps(msg))
            recv_type(ws, "joined")
            cls.sockets.append(ws)
        cls.work = tempfile.mkdtemp(prefix="kanyan-ack-")

    @classmethod
    def tearDownClass(cls):
        for ws in cls.sockets:
            ws.close()
        cls.server.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    def ack(self, body, token=None, ref="AK-1"):
        return self.server.api("POST", f"/api/invite/acknowledge?case={ref}", body,
                               headers={"Authorization": "Bearer " + (token or self.case["token"])})

    def rows(self):
        with self.server.db() as db:
            return db.execute("SELECT decision_id, name, svg, sha256, invite_id FROM acknowledgements").fetchall()

    def case_in_list(self):
        status, body = self.server.api("GET", "/api/cases", user="owner")
        self.assertEqual(status, 200, body)
        return next(c for c in body["cases"] if c["ref"] == "AK-1")

    def test_acknowledgement(self):
        s = self.server
        # before any notice: refused with its own code, nothing stored
        status, body = self.ack({"name": "Qian Li", "strokes": STROKES})
        self.assertEqual((status, body["code"]), (409, "no_notice"), body)
        self.assertFalse(self.case_in_list()["notice_unacknowledged"])
        for item in range(1, 9):
            self.assertIn(s.api("POST", "/api/cases/AK-1/marks", {"item": item, "result": "fail" if item == 2 else "pass"},
                                user="owner")[0], (200, 201))
        status, decision = s.api("POST", "/api/cases/AK-1/decisions", {"kind": "rectify", "reason": "fix the tank"},
                                 user="owner")
        self.assertEqual(status, 201, decision)
        # the applicant's page learns which notice to acknowledge, and that it is not yet
        status, view = s.api("GET", "/api/invite?case=AK-1", headers={"Authorization": "Bearer " + self.case["token"]})
        self.assertEqual(status, 200, view)
        self.assertIsNone(view["acknowledgement"])
        notice = view["ack_notice"]
        self.assertIsInstance(notice, int)
        # flagged on the desk: unacknowledged (0 working days allowed here)
        listed = self.case_in_list()
        self.assertTrue(listed["notice_unacknowledged"], listed)
        self.assertIsNone(listed["notice_ack"])
        # a wrong token, another case's token, no token: the capability is refused
        self.assertEqual(self.ack({"name": "X", "strokes": STROKES}, token="not-a-token")[0], 401)
        self.assertEqual(self.ack({"name": "X", "strokes": STROKES}, token=self.other["token"])[0], 401)
        self.assertEqual(s.api("POST", "/api/invite/acknowledge?case=AK-1", {"name": "X", "strokes": STROKES})[0], 401)
        # malformed: each refused with bad_field (or missing_field), nothing stored
        bad = [
            {"name": "Qian", "strokes": []},                                   # empty signature
            {"name": "Qian", "strokes": [[[0.1, 0.2], [1.5, 0.2]]]},          # outside the box
            {"name": "Qian", "strokes": [[[0.1, -0.01]]]},                    # negative
            {"name": "Qian", "strokes": [[[0.1, 0.2, 0.3]]]},                 # not a pair
            {"name": "Qian", "strokes": [[["0.1", 0.2]]]},                    # a string
            {"name": "Qian", "strokes": [[[0.1, 0.2]]] * 61},                 # too many strokes
            {"name": "Qian", "strokes": [[[0.5, 0.5]] * 1001]},               # too many points in one
            {"name": "Qian", "strokes": "<svg onload='x'/>"},                 # client SVG text
            {"name": "", "strokes": STROKES},                                 # no name
            {"name": "Q" * 101, "strokes": STROKES},                          # too long
            {"name": "Qian\u0007", "strokes": STROKES},                       # a control character
            {"name": 7, "strokes": STROKES},                                  # not a string
            {"strokes": STROKES},                                             # missing
            {"name": "Qian", "typed": True, "strokes": STROKES},              # typed, yet drawn
            {"name": "Qian", "typed": "yes"},                                 # typed is a boolean
            {"name": "Qian", "strokes": STROKES, "notice": notice + 1000},    # not the notice shown
        ]
        for body in bad:
            status, answer = self.ack(body)
            self.assertIn(status, (400, 409), (body, answer))
            self.assertIn(answer["code"], ("bad_field", "missing_field", "conflict"), (body, answer))
        self.assertEqual(self.rows(), [])
        # the real one
        status, body = self.ack({"name": "  Qian Li  ", "strokes": STROKES, "notice": notice})
        self.assertEqual(status, 201, body)
        ack = body["acknowledgement"]
        self.assertEqual((ack["name"], ack["decision"]), ("Qian Li", notice))
        [(decision_id, name, svg, sha, invite_id)] = self.rows()
        self.assertEqual(decision_id, notice)
        self.assertTrue(svg.startswith("<svg xmlns=\"http://www.w3.org/2000/svg\""), svg)
        self.assertEqual(svg.count("<path "), len(STROKES))   # built from the strokes, by the server
        self.assertEqual(hashlib.sha256(svg.encode()).hexdigest(), sha)
        self.assertEqual(ack["sha256"], sha)
        self.assertTrue(invite_id)
        with s.db() as db:
            details = [json.loads(d) for (d,) in db.execute(
                "SELECT detail FROM audit_log WHERE action = 'notice.acknowledged' AND case_ref = 'AK-1'")]
        self.assertEqual(len(details), 1)
        self.assertEqual((details[0]["sha256"], details[0]["name"], details[0]["decision"]), (sha, "Qian Li", str(notice)))
        # the reviewer in the live inspection is told
        told = recv_type(self.sockets[0], "acknowledged")
        self.assertEqual((told["name"], told["decision"]), ("Qian Li", notice))
        # a second one: refused, naming who signed
        status, body = self.ack({"name": "Someone Else", "strokes": STROKES})
        self.assertEqual((status, body["code"]), (409, "already_acknowledged"), body)
        self.assertEqual(body["acknowledgement"]["name"], "Qian Li")
        self.assertEqual(len(self.rows()), 1)
        # the desk: acknowledged by whom and when; no longer flagged
        listed = self.case_in_list()
        self.assertFalse(listed["notice_unacknowledged"])
        self.assertEqual(listed["notice_ack"]["name"], "Qian Li")
        status, full = s.api("GET", "/api/cases/AK-1", user="owner")
        self.assertEqual(full["notice_ack"]["at"], ack["at"])
        # the report carries it with its SVG, and the report's hash with a QR code
        status, report = s.api("GET", "/api/cases/AK-1/report", user="owner")
        self.assertEqual(status, 200, report)
        self.assertEqual(report["acknowledgements"][0]["svg"], svg)
        self.assertRegex(report["report_sha256"], r"^[0-9a-f]{64}$")
        self.assertEqual(report["qr_text"], f"kanyan-report:AK-1:sha256:{report['report_sha256']}")
        self.assertTrue(report["qr_svg"].startswith("<svg"))
        # the bundle: the SVG, listed in the signed manifest with its hash, and verifying
        bundle = os.path.join(self.work, "AK-1.zip")
        out = subprocess.run([KANYAN, "case", "export", "--ref", "AK-1", "--out", bundle] + s.common_args(),
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        with zipfile.ZipFile(bundle) as z:
            names = [n for n in z.namelist() if n.startswith("signatures/")]
            self.assertEqual(len(names), 1, z.namelist())
            self.assertEqual(z.read(names[0]).decode(), svg)
            manifest = json.loads(z.read("manifest.json"))
            case_json = json.loads(z.read("case.json"))
        listed = [f for f in manifest["files"] if f["path"] == names[0]]
        self.assertEqual((listed[0]["kind"], listed[0]["sha256"]), ("signature", sha))
        self.assertEqual(case_json["acknowledgements"][0]["sha256"], sha)
        out = subprocess.run([KANYAN, "audit", "verify", "--bundle", bundle] + s.common_args(), capture_output=True,
                             text=True)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIsNone(s.proc.poll())

    def join(self, ref, role, user=None, token=None):
        """a join to the case's room; (ws, first reply)"""
        ws = websocket.create_connection(self.server.ws_url, timeout=10,
                                         header=["Cookie: " + self.server.login(user)] if user else [])
        self.sockets.append(ws)
        msg = {"type": "join", "case": ref, "role": role}
        if token:
            msg["token"] = token
        ws.send(json.dumps(msg))
        return ws, json.loads(ws.recv())

    def view(self, ref, token):
        return self.server.api("GET", f"/api/invite?case={ref}", headers={"Authorization": "Bearer " + token})

    def test_countersigned_rejection_is_acknowledged_with_its_revoked_invite(self):
        s = self.server
        case = s.add_case("AK-3", owner="owner")
        # a token revoked by hand before the rejection, and the one the rejection itself revokes
        status, body = s.api("POST", "/api/cases/AK-3/revoke-invites", {}, user="owner")
        self.assertEqual(status, 200, body)
        status, fresh = s.api("POST", "/api/cases/AK-3/invite", {}, user="owner")
        self.assertEqual(status, 201, fresh)
        token, by_hand = fresh["token"], case["token"]
        _, joined = self.join("AK-3", "applicant", token=token)
        self.assertEqual(joined["type"], "joined", joined)
        # before the countersignature: nothing final, nothing to acknowledge
        status, decision = s.api("POST", "/api/cases/AK-3/decisions", {"kind": "reject", "reason": "no permit"},
                                 user="owner")
        self.assertEqual(status, 201, decision)
        status, body = self.ack({"name": "Zhao", "strokes": STROKES}, token=token, ref="AK-3")
        self.assertEqual((status, body["code"]), (409, "no_notice"), body)
        status, body = s.api("POST", "/api/cases/AK-3/countersign", {"decision": decision["decision"], "sign": True},
                             user="lead")
        self.assertEqual(status, 200, body)
        notice = decision["decision"]
        with s.db() as db:
            self.assertEqual(db.execute("SELECT count(*) FROM invites i JOIN cases c ON c.id = i.case_id "
                                        "WHERE c.ref = 'AK-3' AND i.revoked_at IS NULL").fetchone()[0], 0)
        # the invite view: still case_closed with the outcome, now with the notice to acknowledge
        status, view = self.view("AK-3", token)
        self.assertEqual((status, view["code"], view["status"]), (409, "case_closed", "rejected"), view)
        self.assertEqual((view["ack_notice"], view["acknowledgement"]), (notice, None), view)
        self.assertEqual((view["ack_decision"]["kind"], view["ack_decision"]["reason"]), ("reject", "no permit"), view)
        # the hand-revoked token learns the outcome, not a notice to sign, and cannot sign
        status, view = self.view("AK-3", by_hand)
        self.assertEqual((status, view["code"]), (409, "case_closed"), view)
        self.assertNotIn("ack_notice", view)
        refused = {"name": "X", "strokes": STROKES}
        self.assertEqual(self.ack(refused, token=by_hand, ref="AK-3")[0], 401)
        # another case's token, a wrong one, none: refused as before
        self.assertEqual(self.ack(refused, token=self.other["token"], ref="AK-3")[0], 401)
        self.assertEqual(self.ack(refused, token="x" * 43, ref="AK-3")[0], 401)
        self.assertEqual(s.api("POST", "/api/invite/acknowledge?case=AK-3", refused)[0], 401)
        # the closure-revoked token on ANOTHER case: refused (it is AK-3's only)
        self.assertEqual(self.ack(refused, token=token, ref="AK-2")[0], 401)
        # the real one
        status, body = self.ack({"name": "Zhao Wu", "strokes": STROKES, "notice": notice}, token=token, ref="AK-3")
        self.assertEqual(status, 201, body)
        ack = body["acknowledgement"]
        self.assertEqual((ack["name"], ack["decision"]), ("Zhao Wu", notice))
        with s.db() as db:
            svg, sha, invite_id = db.execute("SELECT svg, sha256, invite_id FROM acknowledgements "
                                             "WHERE decision_id = ?", (notice,)).fetchone()
            fresh_id = db.execute("SELECT id FROM invites WHERE token_hash = ?",
                                  (hashlib.sha256(token.encode()).hexdigest(),)).fetchone()[0]
            details = [json.loads(d) for (d,) in db.execute(
                "SELECT detail FROM audit_log WHERE action = 'notice.acknowledged' AND case_ref = 'AK-3'")]
        self.assertEqual(hashlib.sha256(svg.encode()).hexdigest(), sha)
        self.assertEqual((ack["sha256"], invite_id), (sha, fresh_id))
        self.assertEqual([(d["sha256"], d["kind"], d["decision"]) for d in details], [(sha, "reject", str(notice))])
        # once: a second is already_acknowledged, naming who signed
        status, body = self.ack({"name": "Someone Else", "typed": True}, token=token, ref="AK-3")
        self.assertEqual((status, body["code"]), (409, "already_acknowledged"), body)
        self.assertEqual(body["acknowledgement"]["name"], "Zhao Wu")
        # the page learns it was signed; the desk shows who and when
        status, view = self.view("AK-3", token)
        self.assertEqual((status, view["code"], view["acknowledgement"]["name"]), (409, "case_closed", "Zhao Wu"))
        status, full = s.api("GET", "/api/cases/AK-3", user="owner")
        self.assertEqual((full["status"], full["notice_ack"]["name"]), ("rejected", "Zhao Wu"), full)
        # finality holds: no join, no WHIP with that invite
        _, reply = self.join("AK-3", "applicant", token=token)
        self.assertEqual((reply["type"], reply.get("code")), ("error", "case_closed"), reply)
        status, _, text = s.request("POST", "/whip/AK-3", b"v=0\r\n",
                                    {"Content-Type": "application/sdp", "Authorization": "Bearer " + token})
        self.assertEqual((status, json.loads(text)["code"]), (409, "case_closed"))

    def test_approved_case_has_nothing_to_acknowledge(self):
        s = self.server
        case = s.add_case("AK-4", owner="owner")
        for role, user, token in (("reviewer", "owner", None), ("applicant", None, case["token"])):
            _, joined = self.join("AK-4", role, user=user, token=token)
            self.assertEqual(joined["type"], "joined", joined)
        for item in range(1, 9):
            self.assertIn(s.api("POST", "/api/cases/AK-4/marks", {"item": item, "result": "pass"}, user="owner")[0],
                          (200, 201))
        status, body = s.api("POST", "/api/cases/AK-4/decisions", {"kind": "approve", "reason": "all seen"},
                             user="owner")
        self.assertEqual(status, 201, body)
        status, view = self.view("AK-4", case["token"])
        self.assertEqual((status, view["code"], view["status"]), (409, "case_closed", "approved"), view)
        self.assertNotIn("ack_notice", view)
        status, body = self.ack({"name": "X", "strokes": STROKES}, token=case["token"], ref="AK-4")
        self.assertEqual((status, body["code"]), (401, "bad_token"), body)


if __name__ == "__main__":
    unittest.main()

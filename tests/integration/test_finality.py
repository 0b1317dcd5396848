"""A final decision ends things (issue 11): after an approval or a countersigned rejection the
live inspection ends (everyone gets `bye` `case_closed`, the WHIP publisher too), the invites
stop, and invites, joins, WHIP publishes, marks and stills are refused with `case_closed`
until a lead reopens the case (audited). A notice keeps what it said when a mark changes
after it; a rejection right after a rectify needs no reconnection; a username with a quote
arrives intact and cannot forge a message (issue 12, item 9)."""
import glob
import json
import os
import re
import unittest

import websocket

from kanyan import ROOT, Server, wait_until

ITEMS = range(1, 9)   # fuel-retail has 8 required items


def messages_until(ws, type_, limit=60):
    """Every message up to and including the first of `type_` (AssertionError if it never comes)."""
    seen = []
    for _ in range(limit):
        msg = json.loads(ws.recv())
        seen.append(msg)
        if msg["type"] == type_:
            return seen
    raise AssertionError(f"no {type_} message in {seen}")


def closed_by_server(ws):
    """True once the server has closed the socket (reads what is left first)."""
    try:
        while True:
            if ws.recv() in ("", b""):
                return True
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
        return True
    except websocket.WebSocketTimeoutException:
        return False


class FinalityTest(unittest.TestCase):
    def setUp(self):
        self.server = Server(config="[media]\nroom_linger_s=1\n").start()
        s = self.server
        s.add_user("owner", "reviewer", "commerce")
        s.add_user("lead", "lead", "commerce")
        s.add_user("fire-lead", "lead", "fire")
        s.add_user("auditor", "auditor", "audit")
        self.case = s.add_case("FI-1", owner="owner")
        self.sockets = []

    def tearDown(self):
        for ws in self.sockets:
            ws.close()
        self.server.stop()

    def ws(self, user=None):
        headers = ["Cookie: " + self.server.login(user)] if user else []
        ws = websocket.create_connection(self.server.ws_url, timeout=10, header=headers)
        self.sockets.append(ws)
        return ws

    def join(self, role, user=None, token=None):
        ws = self.ws(user)
        msg = {"type": "join", "case": "FI-1", "role": role}
        if token:
            msg["token"] = token
        ws.send(json.dumps(msg))
        return ws, json.loads(ws.recv())

    def api(self, method, path, body=None, user="owner", **kw):
        return self.server.api(method, path, body, user=user, **kw)

    def status(self):
        return self.api("GET", "/api/cases/FI-1", user="auditor")[1]["status"]

    def mark_all(self, result="pass"):
        for item in ITEMS:
            self.assertEqual(self.api("POST", "/api/cases/FI-1/marks", {"item": item, "result": result})[0], 201)

    def counts(self):
        with self.server.db() as db:
            return (db.execute("SELECT count(*) FROM live_sessions").fetchone()[0],
                    db.execute("SELECT count(*) FROM recordings").fetchone()[0],
                    db.execute("SELECT count(*) FROM participants").fetchone()[0])

    def assert_closed_to_everyone(self, token, outcome):
        s = self.server
        before = self.counts()
        status, body = self.api("POST", "/api/cases/FI-1/invite", {})
        self.assertEqual((status, body["code"]), (409, "case_closed"))
        self.assertNotIn("case_closed", body["message"], "a sentence, not a code")
        _, reply = self.join("applicant", token=token)
        self.assertEqual((reply["type"], reply.get("code")), ("error", "case_closed"), "the old invite link")
        _, reply = self.join("reviewer", "owner")
        self.assertEqual(reply.get("code"), "case_closed", "no new live inspection of a closed case")
        status, _, text = s.request("POST", "/whip/FI-1", b"v=0\r\n",
                                    {"Content-Type": "application/sdp", "Authorization": "Bearer " + token})
        self.assertEqual((status, json.loads(text)["code"]), (409, "case_closed"), "WHIP with the old invite")
        status, _, _ = s.request("POST", "/whip/FI-1", b"v=0\r\n",
                                 {"Content-Type": "application/sdp", "Authorization": "Bearer " + "x" * 43})
        self.assertEqual(status, 401, "a stranger's token learns nothing about the case")
        status, body = self.api("POST", "/api/cases/FI-1/marks", {"item": 1, "result": "fail"})
        self.assertEqual((status, body["code"]), (409, "case_closed"))
        status, body = self.api("POST", "/api/cases/FI-1/stills", {"item": 1})
        self.assertEqual((status, body["code"]), (409, "case_closed"))
        status, body = self.api("POST", "/api/cases/FI-1/challenge-seen", {})
        self.assertEqual((status, body["code"]), (409, "case_closed"))
        status, body = s.api("GET", "/api/invite?case=FI-1", headers={"Authorization": "Bearer " + token})
        self.assertEqual((status, body["code"], body["status"]), (409, "case_closed", outcome),
                         "the applicant's page learns the outcome")
        self.assertEqual(self.counts(), before, "nothing more is recorded: no session, segment or participant")
        self.assertFalse(self.api("GET", "/api/cases/FI-1")[1]["live"])

    def test_approval_ends_the_live_inspection_and_reopen_is_audited(self):
        s = self.server
        owner_ws, joined = self.join("reviewer", "owner")
        self.assertEqual(joined["type"], "joined")
        pub = s.aiortc_publisher(self.case, 90, name="pub")
        self.assertTrue(wait_until(lambda: self.api("GET", "/api/cases/FI-1")[1]["live"], 30), "media flows")
        self.assertTrue(wait_until(lambda: self.counts()[1] >= 1, 20), "a segment is recorded")
        self.mark_all()
        self.assertEqual(self.api("POST", "/api/cases/FI-1/decisions", {"kind": "approve", "reason": "all seen"})[0], 201)
        seen = messages_until(owner_ws, "bye")
        self.assertEqual(seen[-1]["reason"], "case_closed")
        self.assertIn({"type": "decision", "kind": "approve", "status": "approved"}, seen, "the outcome comes first")
        self.assertTrue(closed_by_server(owner_ws))
        # the WHIP publisher went with the room; its segment was closed
        self.assertTrue(wait_until(lambda: not self.api("GET", "/api/cases/FI-1")[1]["live"], 20))
        with s.db() as db:
            self.assertTrue(wait_until(lambda: s.db().execute(
                "SELECT count(*) FROM recordings WHERE ended_at IS NULL").fetchone()[0] == 0, 20), "segments closed")
            revoked = db.execute("SELECT count(*) FROM invites WHERE revoked_at IS NULL").fetchone()[0]
        self.assertEqual(revoked, 0, "the case's invites are revoked")
        self.assert_closed_to_everyone(self.case["token"], "approved")
        pub.stop()

        # reopening: a lead of the case's department, or an admin, with a reason
        self.assertEqual(self.api("POST", "/api/cases/FI-1/reopen", {"reason": "x"})[0], 403, "not the owner")
        self.assertEqual(self.api("POST", "/api/cases/FI-1/reopen", {"reason": "x"}, user="fire-lead")[0], 403)
        self.assertEqual(self.api("POST", "/api/cases/FI-1/reopen", {"reason": "x"}, user="auditor")[0], 403)
        for bad, code in (({}, "missing_field"), ({"reason": "  "}, "bad_field"), ({"reason": 5}, "missing_field")):
            status, body = self.api("POST", "/api/cases/FI-1/reopen", bad, user="lead")
            self.assertEqual((status, body["code"]), (400, code), bad)
        status, body = self.api("POST", "/api/cases/FI-1/reopen", {"reason": "the licence was issued in error"},
                                user="lead")
        self.assertEqual((status, body["status"]), (200, "accepted"))
        status, body = self.api("POST", "/api/cases/FI-1/reopen", {"reason": "again"}, user="lead")
        self.assertEqual((status, body["code"]), (409, "illegal_transition"), "only a closed case reopens")
        with s.db() as db:
            row = db.execute("SELECT actor, detail FROM audit_log WHERE action = 'case.reopened'").fetchone()
        self.assertEqual(row[0], "lead")
        self.assertIn("the licence was issued in error", row[1])
        # the old invite stays revoked; a new one works
        _, reply = self.join("applicant", token=self.case["token"])
        self.assertEqual(reply.get("code"), "bad_token")
        status, invite = self.api("POST", "/api/cases/FI-1/invite", {})
        self.assertEqual(status, 201)
        _, reply = self.join("applicant", token=invite["token"])
        self.assertEqual(reply["type"], "joined")
        self.assertEqual(self.status(), "inspecting")

    def test_countersigned_rejection_ends_the_live_inspection(self):
        owner_ws, _ = self.join("reviewer", "owner")
        app_ws, joined = self.join("applicant", token=self.case["token"])
        self.assertEqual(joined["type"], "joined")
        status, body = self.api("POST", "/api/cases/FI-1/decisions", {"kind": "reject", "reason": "no permit"})
        self.assertEqual(status, 201)
        messages_until(app_ws, "decision")
        app_ws.settimeout(1)
        self.assertFalse(closed_by_server(app_ws), "a rejection awaiting its countersignature ends nothing")
        app_ws.settimeout(10)
        self.assertEqual(self.api("POST", "/api/cases/FI-1/countersign", {"decision": body["decision"], "sign": True},
                                  user="lead")[0], 200)
        seen = messages_until(app_ws, "bye")
        self.assertEqual(seen[-1]["reason"], "case_closed")
        self.assertIn({"type": "decision", "kind": "reject", "status": "rejected"}, seen)
        self.assertTrue(closed_by_server(app_ws))
        self.assertEqual(messages_until(owner_ws, "bye")[-1]["reason"], "case_closed", "the reviewers see it too")
        self.assertEqual(self.status(), "rejected")
        self.assert_closed_to_everyone(self.case["token"], "rejected")

    def test_notice_keeps_what_it_said_and_reject_follows_rectify(self):
        s = self.server
        owner_ws, joined = self.join("reviewer", "owner")
        app_ws, _ = self.join("applicant", token=self.case["token"])
        first = joined["session"]
        self.mark_all()
        self.assertEqual(self.api("POST", "/api/cases/FI-1/marks", {"item": 2, "result": "fail", "note": "no barrier"})[0],
                         201)
        self.assertEqual(self.api("POST", "/api/cases/FI-1/decisions", {"kind": "rectify", "reason": "fix item 2"})[0], 201)
        following = messages_until(owner_ws, "session")[-1]
        self.assertNotEqual(following["session"], first, "what follows the notice is a new live inspection")
        token = {"Authorization": "Bearer " + self.case["token"]}
        notice = s.api("GET", "/api/invite?case=FI-1", headers=token)[1]["notice"]
        self.assertEqual([(i["position"], i["result"]) for i in notice["items"]], [(2, "fail")])
        # a change after the notice is a mark of the new inspection; the notice keeps what it said
        self.assertEqual(self.api("POST", "/api/cases/FI-1/marks", {"item": 2, "result": "pass", "note": "fixed"})[0], 201)
        self.assertEqual(s.api("GET", "/api/invite?case=FI-1", headers=token)[1]["notice"], notice)
        self.assertEqual(self.api("GET", "/api/cases/FI-1")[1]["notice"], notice)
        old = self.api("GET", f"/api/cases/FI-1/marks?session={first}", user="auditor")[1]
        self.assertEqual(old["items"][1]["mark"]["result"], "fail", "the quoted inspection's marks are frozen")
        new = self.api("GET", "/api/cases/FI-1/marks")[1]
        self.assertEqual((new["session"], new["items"][1]["mark"]["result"]), (following["session"], "pass"))
        with s.db() as db:
            sessions = db.execute("SELECT id, ended_at IS NOT NULL FROM live_sessions ORDER BY id").fetchall()
        self.assertEqual(sessions, [(first, 1), (following["session"], 0)])
        # a rejection right after the rectify: the applicant has not reconnected
        self.assertEqual(self.status(), "rectification_required")
        status, body = self.api("POST", "/api/cases/FI-1/decisions", {"kind": "reject", "reason": "cannot be fixed"})
        self.assertEqual(status, 201, body)
        self.assertEqual(self.status(), "rejection_pending")
        self.assertEqual(messages_until(app_ws, "decision")[-1]["status"], "rectification_required")
        self.assertEqual(messages_until(app_ws, "decision")[-1]["status"], "rejection_pending")

    def test_a_quote_in_a_username_arrives_intact(self):
        s = self.server
        name = 'q"uote\\","type":"decision'
        s.add_user(name, "reviewer", "commerce")
        self.assertEqual(s.api("POST", "/api/cases/FI-1/assign", {"co_reviewers": [name]}, user="lead")[0], 200)
        owner_ws, _ = self.join("reviewer", "owner")
        app_ws, _ = self.join("applicant", token=self.case["token"])
        self.assertEqual(self.api("POST", "/api/cases/FI-1/challenge-seen", {}, user=name)[0], 204)
        for ws in (owner_ws, app_ws):
            seen = messages_until(ws, "challenge_seen")
            self.assertEqual(seen[-1], {"type": "challenge_seen", "by": name})
            self.assertNotIn("decision", [m["type"] for m in seen], "no forged event")


class NoPrintfJsonTest(unittest.TestCase):
    """JSON only through json-glib: no printf-family call in src/ writes a JSON object or member
    (an unescaped name forged events; a comma-decimal locale broke numbers)."""

    def test_no_json_is_printf_built(self):
        call = re.compile(r'\b(?:g_strdup_printf|g_string_append_printf|g_string_printf|g_print|g_printf|printf|'
                          r'fprintf|g_fprintf|snprintf|g_snprintf)\s*\(([^;]*);', re.S)
        json_like = re.compile(r'"\{\\"|\\":|\\":\\"|,\\"')   # "{\"…", \"name\":, ,\"name
        found = []
        for path in sorted(glob.glob(os.path.join(ROOT, "src", "*", "*.c"))):
            with open(path) as f:
                text = f.read()
            for m in call.finditer(text):
                if json_like.search(m.group(1)):
                    line = text.count("\n", 0, m.start()) + 1
                    found.append(f"{os.path.basename(path)}:{line}: {m.group(0)[:100]}")
        self.assertEqual(found, [])


if __name__ == "__main__":
    unittest.main()

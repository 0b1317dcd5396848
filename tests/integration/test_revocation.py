"""Revocation reaches open connections (issue 12, item 4): disabling an account, ending a
session, revoking a case's invites closes the live connections resting on them at once with a
typed `bye`; the disabled reviewer receives no more marks, the revoked applicant can send no
more offers, a WHIP publisher of a revoked invite is ended. Stills and drawings follow the item
rules of marks (item 11)."""
import json
import subprocess
import unittest

import websocket

from kanyan import KANYAN, Server, wait_until


def messages_until(ws, type_, limit=60):
    seen = []
    for _ in range(limit):
        msg = json.loads(ws.recv())
        seen.append(msg)
        if msg["type"] == type_:
            return seen
    raise AssertionError(f"no {type_} message in {seen}")


def closed_by_server(ws):
    try:
        while True:
            if ws.recv() in ("", b""):
                return True
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
        return True
    except websocket.WebSocketTimeoutException:
        return False


class RevocationTest(unittest.TestCase):
    def setUp(self):
        self.server = Server().start()
        s = self.server
        self.assertTrue(s.first_admin_password())
        s.add_user("owner", "reviewer", "commerce")
        s.add_user("fire", "reviewer", "fire")
        s.add_user("lead", "lead", "commerce")
        self.case = s.add_case("RV-1", owner="owner", extra=["--co-reviewer", "fire"])
        self.sockets = []

    def tearDown(self):
        for ws in self.sockets:
            ws.close()
        self.server.stop()

    def join(self, role, user=None, token=None, cookie=None):
        headers = ["Cookie: " + (cookie or self.server.login(user))] if (user or cookie) else []
        ws = websocket.create_connection(self.server.ws_url, timeout=10, header=headers)
        self.sockets.append(ws)
        msg = {"type": "join", "case": "RV-1", "role": role}
        if token:
            msg["token"] = token
        ws.send(json.dumps(msg))
        self.assertEqual(messages_until(ws, "joined")[-1]["type"], "joined")
        return ws

    def mark(self, item, user="owner"):
        return self.server.api("POST", "/api/cases/RV-1/marks", {"item": item, "result": "pass"}, user=user)

    def test_disabled_reviewer_and_ended_session_are_let_go_at_once(self):
        s = self.server
        owner_ws = self.join("reviewer", "owner")
        fire_ws = self.join("reviewer", "fire")
        lead_ws = self.join("reviewer", "lead")
        self.join("applicant", token=self.case["token"])
        self.assertEqual(self.mark(4, "fire")[0], 201)
        messages_until(fire_ws, "mark")
        self.assertEqual(s.api("POST", "/api/users/fire/disable", {}, user="admin")[0], 204)
        self.assertEqual(messages_until(fire_ws, "bye")[-1], {"type": "bye", "reason": "account_disabled"})
        self.assertTrue(closed_by_server(fire_ws), "the disabled reviewer's socket is closed")
        self.assertEqual(self.mark(1)[0], 201)
        self.assertEqual(messages_until(owner_ws, "mark")[-1]["mark"]["item"], 4)
        self.assertEqual(messages_until(owner_ws, "mark")[-1]["mark"]["item"], 1, "the others still get marks")
        # a logout ends the sockets opened with that session
        cookie = s.login("lead")
        status, _, _ = s.request("POST", "/api/logout", b"{}", {"Cookie": cookie, "Content-Type": "application/json"})
        self.assertEqual(status, 204)
        self.assertEqual(messages_until(lead_ws, "bye")[-1], {"type": "bye", "reason": "session_ended"})
        self.assertTrue(closed_by_server(lead_ws))
        names = [p["name"] for p in messages_until(owner_ws, "participants")[-1]["participants"]]
        self.assertNotIn("fire", names)
        self.assertEqual(s.api("GET", "/api/cases/RV-1", user="owner")[0], 200, "the owner's own session goes on")

    def test_an_account_disabled_by_the_command_line_is_let_go(self):
        s = self.server
        fire_ws = self.join("reviewer", "fire")
        subprocess.run([KANYAN, "user", "disable", "-u", "fire"] + s.common_args(), check=True, capture_output=True)
        fire_ws.settimeout(30)   # another process: the server notices within its sweep (5 s)
        self.assertEqual(messages_until(fire_ws, "bye")[-1], {"type": "bye", "reason": "account_disabled"})
        self.assertTrue(closed_by_server(fire_ws))

    def test_revoked_invite_ends_the_applicant(self):
        s = self.server
        owner_ws = self.join("reviewer", "owner")
        app_ws = self.join("applicant", token=self.case["token"])
        self.assertEqual(s.api("POST", "/api/cases/RV-1/revoke-invites", {}, user="owner")[1]["revoked"], 1)
        self.assertEqual(messages_until(app_ws, "bye")[-1], {"type": "bye", "reason": "invite_revoked"})
        self.assertTrue(closed_by_server(app_ws))
        with self.assertRaises((websocket.WebSocketConnectionClosedException, ConnectionError, OSError)):
            app_ws.send(json.dumps({"type": "offer", "sdp": "v=0"}))
            app_ws.recv()
        roles = [p["role"] for p in messages_until(owner_ws, "participants")[-1]["participants"]]
        self.assertEqual(roles, ["reviewer"])

    def test_revoked_invite_ends_the_whip_publisher(self):
        s = self.server
        pub = s.aiortc_publisher(self.case, 60)
        self.assertTrue(wait_until(lambda: s.api("GET", "/api/cases/RV-1", user="owner")[1]["live"], 30), "media flows")
        self.assertEqual(s.api("POST", "/api/cases/RV-1/revoke-invites", {}, user="owner")[0], 200)
        self.assertTrue(wait_until(lambda: s.api("GET", "/api/cases/RV-1", user="owner")[1]["participants"] == 0, 10),
                        "the publisher is let go")
        self.assertFalse(s.api("GET", "/api/cases/RV-1", user="owner")[1]["live"])
        with s.db() as db:
            self.assertTrue(wait_until(lambda: s.db().execute(
                "SELECT count(*) FROM recordings WHERE ended_at IS NULL").fetchone()[0] == 0, 20))
        pub.stop()

    def test_invite_revoked_by_the_command_line_ends_the_whip_publisher(self):
        s = self.server
        pub = s.aiortc_publisher(self.case, 60)
        self.assertTrue(wait_until(lambda: s.api("GET", "/api/cases/RV-1", user="owner")[1]["live"], 30), "media flows")
        subprocess.run([KANYAN, "case", "revoke", "--ref", "RV-1"] + s.common_args(), check=True, capture_output=True)
        # another process: the room notices within its check (5 s)
        self.assertTrue(wait_until(lambda: s.api("GET", "/api/cases/RV-1", user="owner")[1]["participants"] == 0, 30),
                        "the publisher is let go")
        self.assertIn("invite_revoked", s.log_text())
        pub.stop()

    def test_stills_and_drawings_follow_the_item_rules_of_marks(self):
        s = self.server
        for user, item in (("fire", 1), ("owner", 4)):
            status, body = s.api("POST", "/api/cases/RV-1/stills", {"item": item}, user=user)
            self.assertEqual((status, body["code"]), (403, "not_your_item"), (user, item))
        status, body = s.api("POST", "/api/cases/RV-1/stills", {"item": 4}, user="fire")
        self.assertEqual((status, body["code"]), (409, "conflict"), "their own item: only the video is missing")
        with s.db() as db:   # two stills as if captured (the capture itself is test_stills.py's)
            case_id = db.execute("SELECT id FROM cases WHERE ref = 'RV-1'").fetchone()[0]
            session = db.execute("INSERT INTO live_sessions (case_id, started_at, ended_at) VALUES (?, 0, 1)",
                                 (case_id,)).lastrowid
            ids = {}
            for item, by in ((1, "owner"), (4, "fire")):
                ids[item] = db.execute("INSERT INTO stills (case_id, session_id, item, path, sha256, bytes, at, by_user) "
                                       "VALUES (?, ?, ?, '/nonexistent.jpg', 'x', 1, 0, ?)",
                                       (case_id, session, item, by)).lastrowid
        shapes = [{"kind": "box", "x1": 0.1, "y1": 0.1, "x2": 0.5, "y2": 0.5}]

        def draw(item, user):
            return s.api("POST", "/api/cases/RV-1/annotations", {"still": ids[item], "shapes": shapes}, user=user)
        self.assertEqual(draw(4, "fire")[0], 204)
        status, body = draw(4, "owner")
        self.assertEqual((status, body["code"]), (403, "not_your_item"), "the owner cannot overwrite fire's drawing")
        status, body = draw(1, "fire")
        self.assertEqual((status, body["code"]), (403, "not_your_item"))
        self.assertEqual(draw(1, "owner")[0], 204)
        self.assertEqual(draw(1, "lead")[0], 204, "the department's lead marks the owner's items, and so draws on them")
        with s.db() as db:
            self.assertEqual(db.execute("SELECT annotated_by FROM stills WHERE id = ?", (ids[4],)).fetchone()[0], "fire")


if __name__ == "__main__":
    unittest.main()

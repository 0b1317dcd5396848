"""The authorization matrix: every route, signaling message and WHIP request, tried by every
identity, must be allowed for exactly the expected set. Prints the matrix as a table."""
import datetime
import http.client
import json
import os
import unittest

import websocket

from kanyan import Server

IDENTITIES = ["nobody", "applicant", "other-applicant", "owner", "co-reviewer", "stranger", "lead",
              "other-lead", "auditor", "clerk", "admin"]
STAFF = {  # username -> (role, department)
    "owner": ("reviewer", "commerce"), "co-reviewer": ("reviewer", "fire"), "stranger": ("reviewer", "commerce"),
    "lead": ("lead", "commerce"), "other-lead": ("lead", "fire"), "auditor": ("auditor", "audit"),
    "clerk": ("clerk", "intake"), "admin": ("admin", "it"),
}
DENIED = {401, 403}


class AuthorizationMatrixTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        # the admin is the one `kanyan serve` made on its first start, with a one-time password
        assert cls.server.first_admin_password(), "first start prints the admin's one-time password"
        for name, (role, dept) in STAFF.items():
            if name != "admin":
                cls.server.add_user(name, role, dept)
        cls.case = cls.server.add_case("AZ-1", owner="owner", extra=["--co-reviewer", "co-reviewer"])
        cls.other = cls.server.add_case("AZ-2", owner="other-owner")
        cls.server.add_user("matrix-target", "reviewer", "commerce")   # reset and disabled by the matrix
        cls.created = 0

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    # ---- how each identity asks --------------------------------------------------------
    def headers(self, who):
        if who == "applicant":
            return {"Authorization": "Bearer " + self.case["token"]}
        if who == "other-applicant":
            return {"Authorization": "Bearer " + self.other["token"]}
        if who in STAFF:
            return {"Cookie": self.server.login(who)}
        return {}

    def rest(self, who, method, path, body=None):
        headers = self.headers(who)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        status, _, text = self.server.request(method, path, data, headers)
        return status, (json.loads(text) if text and text[:1] in b"{[" else None)

    def ws_join(self, who, role, keep=False):
        headers = ["Cookie: " + self.server.login(who)] if who in STAFF else []
        ws = websocket.create_connection(self.server.ws_url, timeout=30, header=headers)
        kept = False
        try:
            msg = {"type": "join", "case": "AZ-1", "role": role}
            if who in ("applicant", "other-applicant"):
                msg["token"] = (self.case if who == "applicant" else self.other)["token"]
            elif role == "applicant":
                msg["token"] = "no-invite"   # staff hold no invite: a session is not a capability to publish
            ws.send(json.dumps(msg))
            reply = json.loads(ws.recv())
            if reply["type"] == "joined":
                if keep:   # the caller goes on talking on it (self.kept) and closes it
                    self.kept, kept = ws, True
                    return True
                ws.send(json.dumps({"type": "leave"}))
                return True
            self.assertIn(reply.get("code"), ("unauthenticated", "forbidden", "bad_token"), reply)
            return False
        finally:
            if not kept:
                ws.close()

    def ws_message(self, who, msg):
        """Joins AZ-1 (an applicant as applicant, anyone else as reviewer), sends msg: allowed unless
        the join or the message is refused for who it is (a refusal for the room's state, such as
        applicant_absent or not_found, still means the message was the sender's to send)."""
        role = "applicant" if who in ("applicant", "other-applicant") else "reviewer"
        headers = ["Cookie: " + self.server.login(who)] if who in STAFF else []
        ws = websocket.create_connection(self.server.ws_url, timeout=30, header=headers)
        try:
            join = {"type": "join", "case": "AZ-1", "role": role}
            if role == "applicant":
                join["token"] = (self.case if who == "applicant" else self.other)["token"]
            ws.send(json.dumps(join))
            if json.loads(ws.recv())["type"] != "joined":
                return False
            ws.send(json.dumps({**msg, "id": "matrix"}))
            while True:
                reply = json.loads(ws.recv())
                if reply["type"] == "error" and reply.get("id") == "matrix":
                    break
            ws.send(json.dumps({"type": "leave"}))
            return reply["code"] not in ("wrong_role", "forbidden", "unauthenticated", "bad_token")
        finally:
            ws.close()

    # ---- the actions -------------------------------------------------------------------
    def act_list_shows_case(self, who):
        status, body = self.rest(who, "GET", "/api/cases")
        return status == 200 and any(c["ref"] == "AZ-1" for c in body["cases"])

    def act_read_case(self, who):
        return self.rest(who, "GET", "/api/cases/AZ-1")[0] not in DENIED

    def act_create_case(self, who):
        AuthorizationMatrixTest.created += 1
        status, _ = self.rest(who, "POST", "/api/cases", {"ref": f"AZ-NEW-{self.created}", "type": "fuel-retail",
                                                           "owner": "owner"})
        return status not in DENIED

    def act_issue_invite(self, who):
        return self.rest(who, "POST", "/api/cases/AZ-1/invite", {})[0] not in DENIED

    def act_assign(self, who):
        return self.rest(who, "POST", "/api/cases/AZ-1/assign", {"co_reviewers": ["co-reviewer"]})[0] not in DENIED

    def act_list_users(self, who):
        return self.rest(who, "GET", "/api/users")[0] not in DENIED

    def act_applicant_page(self, who):
        return self.rest(who, "GET", "/api/invite?case=AZ-1")[0] not in DENIED

    def act_ws_join_reviewer(self, who):
        return self.ws_join(who, "reviewer")

    def act_ws_join_applicant(self, who):
        return self.ws_join(who, "applicant")

    # the waiting room's `admit` (docs/protocol.md): sent on a connection joined to AZ-1 in the
    # identity's own role; "allowed" = past authorization (nobody waits: nobody_waiting)
    def act_ws_admit(self, who):
        headers = ["Cookie: " + self.server.login(who)] if who in STAFF else []
        ws = websocket.create_connection(self.server.ws_url, timeout=30, header=headers)
        try:
            join = {"type": "join", "case": "AZ-1", "role": "reviewer"}
            if who in ("applicant", "other-applicant"):
                join = {"type": "join", "case": "AZ-1", "role": "applicant", "wait": True,
                        "token": (self.case if who == "applicant" else self.other)["token"]}
            ws.send(json.dumps(join))
            ws.send(json.dumps({"type": "admit", "case": "AZ-1", "id": "admit"}))
            ws.send(json.dumps({"type": "ping", "id": "done"}))
            refused = None
            while True:
                msg = json.loads(ws.recv())
                if msg["type"] == "error" and msg.get("id") == "admit":
                    refused = msg["code"]
                if msg["type"] == "pong":
                    break
            if refused in ("unauthenticated", "forbidden", "wrong_role", "not_joined"):
                return False
            self.assertIn(refused, (None, "nobody_waiting"))
            ws.send(json.dumps({"type": "leave"}))
            return True
        finally:
            ws.close()

    def act_whip_publish(self, who):
        headers = dict(self.headers(who), **{"Content-Type": "application/sdp"})
        status, _, _ = self.server.request("POST", "/whip/AZ-1", b"v=0\r\n", headers)   # bad SDP after the check
        return status not in DENIED

    # the workflow: most calls fail after the check (unknown id, items unmarked, no video), so
    # "allowed" means "got past authorization"; at most a mark is stored
    def act_mark(self, who):
        return self.rest(who, "POST", "/api/cases/AZ-1/marks", {"item": 4, "result": "pass"})[0] not in DENIED

    def act_mark_owners_item(self, who):
        return self.rest(who, "POST", "/api/cases/AZ-1/marks", {"item": 1, "result": "pass"})[0] not in DENIED

    def act_read_marks(self, who):
        return self.rest(who, "GET", "/api/cases/AZ-1/marks")[0] not in DENIED

    def act_decide(self, who):
        return self.rest(who, "POST", "/api/cases/AZ-1/decisions", {"kind": "approve", "reason": "x"})[0] not in DENIED

    def act_countersign(self, who):
        return self.rest(who, "POST", "/api/cases/AZ-1/countersign", {"decision": 999, "sign": True})[0] not in DENIED

    def act_capture_still(self, who):
        return self.rest(who, "POST", "/api/cases/AZ-1/stills", {"item": 1})[0] not in DENIED

    def act_capture_still_fire_item(self, who):
        return self.rest(who, "POST", "/api/cases/AZ-1/stills", {"item": 4})[0] not in DENIED

    def act_reopen(self, who):   # AZ-1 is not closed: "allowed" answers 409 illegal_transition
        return self.rest(who, "POST", "/api/cases/AZ-1/reopen", {"reason": "the matrix"})[0] not in DENIED

    def act_annotate(self, who):
        return self.rest(who, "POST", "/api/cases/AZ-1/annotations", {"still": 999, "shapes": []})[0] not in DENIED

    def act_geo(self, who):
        return self.rest(who, "POST", "/api/invite/geo?case=AZ-1", {"lat": 1, "lon": 1, "accuracy": 5})[0] not in DENIED

    # photos (issue 18): asking follows the still's item rule; the upload takes the invite alone
    # ("allowed": past the invite check, then refused for want of a request — 404, never 401/403)
    def act_photo_request(self, who):
        return self.rest(who, "POST", "/api/cases/AZ-1/photo-requests", {"item": 1})[0] not in DENIED

    def act_photo_request_fire_item(self, who):
        return self.rest(who, "POST", "/api/cases/AZ-1/photo-requests", {"item": 4})[0] not in DENIED

    def act_photo_upload(self, who):
        headers = dict(self.headers(who), **{"Content-Type": "image/jpeg"})
        status, _, _ = self.server.request("POST", "/api/invite/photos?case=AZ-1&request=1&key=x", b"\xff\xd8\xff",
                                           headers)
        return status not in DENIED

    def act_ws_send_photo_request(self, who):   # server → applicant only: no client may send it
        role = "applicant" if who in ("applicant", "other-applicant") else "reviewer"
        if not self.ws_join(who, role, keep=True):
            return False
        ws = self.kept
        try:
            ws.send(json.dumps({"type": "photo_request", "id": 1, "item": 1, "key": "x"}))
            for _ in range(40):
                reply = json.loads(ws.recv())
                if reply["type"] == "error":
                    return reply.get("code") != "unknown_type"
            return True
        finally:
            ws.close()

    def act_timeline(self, who):
        return self.rest(who, "GET", "/api/cases/AZ-1/timeline")[0] not in DENIED

    def act_integrity(self, who):
        return self.rest(who, "GET", "/api/cases/AZ-1/integrity")[0] not in DENIED

    def act_search_finds_case(self, who):
        status, body = self.rest(who, "GET", "/api/search?ref=AZ-1")
        return status == 200 and [c["ref"] for c in body["cases"]] == ["AZ-1"]

    def act_read_recording(self, who):
        if not getattr(AuthorizationMatrixTest, "recording", None):   # a real file and row; no media encoded
            os.makedirs(self.server.recordings, exist_ok=True)
            path = os.path.join(self.server.recordings, "az-1.webm")
            with open(path, "wb") as f:
                f.write(b"\x1a\x45\xdf\xa3" + bytes(996))
            with self.server.db() as db:
                session = db.execute("INSERT INTO live_sessions (case_id, started_at, ended_at) SELECT id, 0, 1 "
                                     "FROM cases WHERE ref = 'AZ-1'").lastrowid
                AuthorizationMatrixTest.recording = db.execute(
                    "INSERT INTO recordings (session_id, seq, path, started_at, state, archive_path, archive_bytes, "
                    "archive_state) VALUES (?, 1, ?, 0, 'complete', ?, 1000, 'archived')",
                    (session, path + ".mkv", path)).lastrowid
        headers = dict(self.headers(who), Range="bytes=0-99")
        return self.server.request("GET", f"/media/recordings/{self.recording}", None, headers)[0] not in DENIED

    def act_report_pdf(self, who):
        return self.rest(who, "GET", "/api/cases/AZ-1/report.pdf")[0] not in DENIED

    def act_case_types(self, who):
        return self.rest(who, "GET", "/api/case-types")[0] not in DENIED

    def act_edit_case_type(self, who):   # a title change only: the same title again
        body = {"title_en": "Fuel retail station opening", "title_zh": "成品油零售经营批准", "time_limit_days": 10}
        return self.rest(who, "POST", "/api/case-types/fuel-retail", body)[0] not in DENIED

    def act_staff(self, who):
        status, body = self.rest(who, "GET", "/api/staff")
        return status == 200 and {"owner", "lead"} <= {u["username"] for u in body["staff"]}

    def act_add_user(self, who):
        AuthorizationMatrixTest.created += 1
        body = {"username": f"matrix-user-{self.created}", "role": "reviewer", "department": "commerce"}
        return self.rest(who, "POST", "/api/users", body)[0] not in DENIED

    def act_reset_password(self, who):
        return self.rest(who, "POST", "/api/users/matrix-target/reset-password", {})[0] not in DENIED

    def act_disable_user(self, who):   # after the reset: the admin's try disables the target
        return self.rest(who, "POST", "/api/users/matrix-target/disable", {})[0] not in DENIED

    # booking (issue 18): one slot of AZ-1, offered once by its owner, for the slot routes
    def az_slot(self):
        if not getattr(self.__class__, "slot_id", None):
            d = datetime.date.today() + datetime.timedelta(days=14)
            d += datetime.timedelta(days=(2 - d.weekday()) % 7)   # a Wednesday
            status, body = self.server.api("POST", "/api/cases/AZ-1/slots", {"at": f"{d.isoformat()} 10:00"},
                                           user="owner")
            assert status == 201, body
            self.__class__.slot_id = body["id"]
            self.__class__.slot_day = d
        return self.__class__.slot_id

    def act_desk_shows_slot(self, who):
        slot = self.az_slot()
        status, body = self.rest(who, "GET", "/api/slots")
        return status == 200 and slot in [s["id"] for s in body["slots"]]

    def act_case_slots(self, who):
        return self.rest(who, "GET", "/api/cases/AZ-1/slots")[0] not in DENIED

    def act_offer_slot(self, who):   # a clash (409) is still "allowed"
        self.az_slot()
        return self.rest(who, "POST", "/api/cases/AZ-1/slots",
                         {"at": f"{self.slot_day.isoformat()} 15:00"})[0] not in DENIED

    def act_book_slot(self, who):
        return self.rest(who, "POST", f"/api/cases/AZ-1/slots/{self.az_slot()}/book", {})[0] not in DENIED

    def act_move_slot(self, who):
        return self.rest(who, "POST", f"/api/cases/AZ-1/slots/{self.az_slot()}/move",
                         {"at": f"{self.slot_day.isoformat()} 11:00", "reason": "authz"})[0] not in DENIED

    def act_invite_slots(self, who):
        return self.rest(who, "GET", "/api/invite/slots?case=AZ-1")[0] not in DENIED

    def act_pick_slot(self, who):
        return self.rest(who, "POST", f"/api/invite/slots/{self.az_slot()}/pick?case=AZ-1",
                         {"reason": "authz"})[0] not in DENIED

    def act_slot_ics(self, who):
        return self.rest(who, "GET", f"/api/invite/slots/{self.az_slot()}/ics?case=AZ-1")[0] not in DENIED

    def act_applicant_cancel_slot(self, who):
        return self.rest(who, "POST", f"/api/invite/slots/{self.az_slot()}/cancel?case=AZ-1",
                         {"reason": "authz"})[0] not in DENIED

    def act_staff_cancel_slot(self, who):
        return self.rest(who, "POST", f"/api/cases/AZ-1/slots/{self.az_slot()}/cancel",
                         {"reason": "authz"})[0] not in DENIED

    def act_short_link(self, who):   # the code is the capability: anyone holding it is sent on
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        try:
            conn.request("GET", "/i/" + self.case["short_code"], headers=self.headers(who))
            return conn.getresponse().status == 302
        finally:
            conn.close()

    def act_acknowledge(self, who):   # the applicant is let in (409 no_notice, or 201): others are not
        return self.rest(who, "POST", "/api/invite/acknowledge?case=AZ-1",
                         {"name": "authz", "strokes": [[[0.1, 0.1], [0.2, 0.2]]]})[0] not in DENIED
    def act_ws_camera(self, who):   # no applicant page: a reviewer's command gets applicant_absent
        return self.ws_message(who, {"type": "camera", "action": "point", "x": 0.5, "y": 0.5})

    def act_ws_camera_result(self, who):   # no such command: the applicant's answer gets not_found
        return self.ws_message(who, {"type": "camera_result", "request": "c1", "ok": True})

    def act_revoke_invites(self, who):   # last: it ends the applicant's token
        return self.rest(who, "POST", "/api/cases/AZ-1/revoke-invites", {})[0] not in DENIED

    EXPECTED = [
        ("GET /api/cases (lists AZ-1)", act_list_shows_case, {"owner", "co-reviewer", "lead", "auditor", "clerk", "admin"}),
        ("GET /api/cases/AZ-1", act_read_case, {"owner", "co-reviewer", "lead", "auditor", "clerk", "admin"}),
        ("POST /api/cases", act_create_case, {"owner", "co-reviewer", "stranger", "lead", "other-lead", "clerk", "admin"}),
        ("POST /api/cases/AZ-1/invite", act_issue_invite, {"owner", "lead", "clerk", "admin"}),
        ("POST /api/cases/AZ-1/assign", act_assign, {"lead", "clerk", "admin"}),
        ("GET /api/users", act_list_users, {"admin"}),
        ("GET /api/invite?case=AZ-1", act_applicant_page, {"applicant"}),
        ("WS join AZ-1 as reviewer", act_ws_join_reviewer, {"owner", "co-reviewer", "lead"}),
        ("WS join AZ-1 as applicant", act_ws_join_applicant, {"applicant"}),
        ("WHIP POST /whip/AZ-1", act_whip_publish, {"applicant"}),
        ("WS admit AZ-1's waiting applicant", act_ws_admit, {"owner", "co-reviewer", "lead"}),
        ("POST /api/cases/AZ-1/marks (fire item)", act_mark, {"co-reviewer"}),
        ("POST /api/cases/AZ-1/marks (owner's item)", act_mark_owners_item, {"owner", "lead"}),
        ("GET /api/cases/AZ-1/marks", act_read_marks, {"owner", "co-reviewer", "lead", "auditor", "clerk", "admin"}),
        ("POST /api/cases/AZ-1/decisions", act_decide, {"owner"}),
        ("POST /api/cases/AZ-1/countersign", act_countersign, {"lead"}),
        ("POST /api/cases/AZ-1/stills (owner's item)", act_capture_still, {"owner", "lead"}),
        ("POST /api/cases/AZ-1/stills (fire item)", act_capture_still_fire_item, {"co-reviewer"}),
        ("POST /api/cases/AZ-1/annotations", act_annotate, {"owner", "co-reviewer", "lead"}),
        ("POST /api/invite/geo?case=AZ-1", act_geo, {"applicant"}),
        ("POST /api/cases/AZ-1/photo-requests (owner's item)", act_photo_request, {"owner", "lead"}),
        ("POST /api/cases/AZ-1/photo-requests (fire item)", act_photo_request_fire_item, {"co-reviewer"}),
        ("POST /api/invite/photos?case=AZ-1", act_photo_upload, {"applicant"}),
        ("WS photo_request sent by a client", act_ws_send_photo_request, set()),
        ("GET /api/cases/AZ-1/timeline", act_timeline, {"lead", "auditor"}),
        ("GET /api/cases/AZ-1/integrity", act_integrity, {"lead", "auditor"}),
        ("GET /api/search?ref=AZ-1 (finds it)", act_search_finds_case, {"owner", "co-reviewer", "lead", "auditor", "clerk", "admin"}),
        ("GET /media/recordings/{id}", act_read_recording, {"owner", "co-reviewer", "lead", "auditor"}),
        ("GET /api/cases/AZ-1/report.pdf", act_report_pdf, {"owner", "co-reviewer", "lead", "auditor", "clerk", "admin"}),
        ("GET /api/case-types", act_case_types, {"owner", "co-reviewer", "stranger", "lead", "other-lead", "auditor",
                                                 "clerk", "admin"}),
        ("POST /api/case-types/fuel-retail", act_edit_case_type, {"admin"}),
        ("POST /api/cases/AZ-1/reopen", act_reopen, {"lead", "admin"}),
        ("GET /api/staff", act_staff, {"owner", "co-reviewer", "stranger", "lead", "other-lead", "clerk", "admin"}),
        ("POST /api/users", act_add_user, {"admin"}),
        ("POST /api/users/{name}/reset-password", act_reset_password, {"admin"}),
        ("POST /api/users/{name}/disable", act_disable_user, {"admin"}),
        ("GET /api/slots (shows AZ-1's slot)", act_desk_shows_slot, {"owner", "co-reviewer", "lead", "auditor", "clerk",
                                                                     "admin"}),
        ("GET /api/cases/AZ-1/slots", act_case_slots, {"owner", "co-reviewer", "lead", "auditor", "clerk", "admin"}),
        # the clerk (and the admin acting as one) arranges slots as it issues invites: for the owner
        ("POST /api/cases/AZ-1/slots", act_offer_slot, {"owner", "lead", "clerk", "admin"}),
        ("GET /api/invite/slots?case=AZ-1", act_invite_slots, {"applicant"}),
        ("POST /api/invite/slots/{id}/pick", act_pick_slot, {"applicant"}),
        ("GET /api/invite/slots/{id}/ics", act_slot_ics, {"applicant"}),
        ("POST /api/invite/slots/{id}/cancel", act_applicant_cancel_slot, {"applicant"}),
        ("POST /api/cases/AZ-1/slots/{id}/book", act_book_slot, {"owner", "lead", "clerk", "admin"}),
        ("POST /api/cases/AZ-1/slots/{id}/move", act_move_slot, {"owner", "lead", "clerk", "admin"}),
        ("POST /api/cases/AZ-1/slots/{id}/cancel", act_staff_cancel_slot, {"owner", "lead", "clerk", "admin"}),
        ("GET /i/{AZ-1's short code}", act_short_link, set(IDENTITIES)),
        ("POST /api/invite/acknowledge?case=AZ-1", act_acknowledge, {"applicant"}),
        ("WS camera on AZ-1 (steer the phone)", act_ws_camera, {"owner", "co-reviewer", "lead"}),
        ("WS camera_result on AZ-1", act_ws_camera_result, {"applicant"}),
        ("POST /api/cases/AZ-1/revoke-invites", act_revoke_invites, {"owner", "lead", "clerk", "admin"}),
    ]

    def test_matrix(self):
        rows, wrong = [], []
        for label, action, allowed in self.EXPECTED:
            got = {who for who in IDENTITIES if action(self, who)}
            rows.append((label, got))
            if got != allowed:
                wrong.append(f"{label}: allowed {sorted(got)}, expected {sorted(allowed)}")
        width = max(len(r[0]) for r in rows)
        lines = ["", "authorization matrix (x = allowed)", " " * width + " | " + " | ".join(IDENTITIES)]
        for label, got in rows:
            cells = [("x" if who in got else ".").center(len(who)) for who in IDENTITIES]
            lines.append(label.ljust(width) + " | " + " | ".join(cells))
        print("\n".join(lines))
        self.assertEqual(wrong, [])
        self.assertIsNone(self.server.proc.poll())


if __name__ == "__main__":
    unittest.main()

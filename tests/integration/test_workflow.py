"""The review workflow through the API and the signaling socket: marks seen live by a
co-reviewer, the challenge code, the phone's location, the one-time notice, a rejection that
needs a lead's countersignature, re-inspection, approval, and the lifecycle refusing the rest."""
import json
import unittest

import websocket

from kanyan import Server

ALL_ITEMS = range(1, 9)   # fuel-retail has 8 required items


def recv_type(ws, type_, limit=30):
    for _ in range(limit):
        msg = json.loads(ws.recv())
        if msg["type"] == type_:
            return msg
    raise AssertionError(f"no {type_} message")


class WorkflowTest(unittest.TestCase):
    def setUp(self):
        self.server = Server(config="[media]\nroom_linger_s=1\n").start()
        s = self.server
        s.add_user("owner", "reviewer", "commerce")
        s.add_user("fire", "reviewer", "fire")
        s.add_user("lead", "lead", "commerce")
        s.add_user("fire-lead", "lead", "fire")
        s.add_user("auditor", "auditor", "audit")
        self.case = s.add_case("WF-1", owner="owner",
                               extra=["--co-reviewer", "fire", "--site", "31.2304,121.4737", "--applicant", "Wang"])
        self.sockets = []

    def tearDown(self):
        for ws in self.sockets:
            ws.close()
        self.server.stop()

    def join(self, role, user=None, token=None):
        headers = ["Cookie: " + self.server.login(user)] if user else []
        ws = websocket.create_connection(self.server.ws_url, timeout=5, header=headers)
        self.sockets.append(ws)
        msg = {"type": "join", "case": "WF-1", "role": role}
        if token:
            msg["token"] = token
        ws.send(json.dumps(msg))
        return ws, recv_type(ws, "joined")

    def status(self):
        return self.server.api("GET", "/api/cases/WF-1", user="owner")[1]["status"]

    def mark(self, item, result, note="", user="owner"):
        return self.server.api("POST", "/api/cases/WF-1/marks", {"item": item, "result": result, "note": note}, user=user)

    def decide(self, kind, reason="because", user="owner"):
        return self.server.api("POST", "/api/cases/WF-1/decisions", {"kind": kind, "reason": reason}, user=user)

    def test_inspection_notice_rejection_countersign(self):
        s = self.server
        self.assertEqual(self.status(), "awaiting_inspection", "the invite moved the case on")
        status, body = self.decide("approve")
        self.assertEqual((status, body["code"]), (409, "illegal_transition"))
        self.assertIn("awaiting_inspection", body["message"])
        status, body = self.mark(1, "pass")
        self.assertEqual((status, body["code"]), (409, "conflict"), "marks need a live inspection")

        owner_ws, joined = self.join("reviewer", "owner")
        fire_ws, _ = self.join("reviewer", "fire")
        app_ws, app_joined = self.join("applicant", token=self.case["token"])
        self.assertRegex(joined["challenge"], r"^\d{4}$")
        self.assertEqual(app_joined["challenge"], joined["challenge"], "the applicant shows the code the reviewer sees")
        self.assertEqual(self.status(), "inspecting")

        # marks: validated, stored, and seen live by the co-reviewer
        self.assertEqual(self.mark(1, "pass", "gate and plate visible")[0], 201)
        seen = recv_type(fire_ws, "mark")["mark"]
        self.assertEqual((seen["item"], seen["result"], seen["by"]), (1, "pass", "owner"))
        self.assertEqual(self.mark(2, "fail", "no leak barrier at tank 2")[0], 201)
        # parallel approval: the fire co-reviewer marks the fire department's items, not the owner's
        status, body = self.mark(2, "pass", user="fire")
        self.assertEqual((status, body["code"]), (403, "not_your_item"))
        self.assertIn("commerce", body["message"])
        self.assertEqual(self.mark(5, "not_shown", "signs hidden behind a van", user="fire")[0], 201)
        mine = {i["position"]: i["may_mark"] for i in s.api("GET", "/api/cases/WF-1/marks", user="fire")[1]["items"]}
        self.assertEqual([p for p, may in mine.items() if may], [4, 5], "the fire items are the co-reviewer's")
        owners = s.api("GET", "/api/cases/WF-1", user="owner")[1]["items"]
        self.assertEqual([i["position"] for i in owners if i["may_mark"]], [1, 2, 3, 6, 7, 8],
                         "the owner marks the rest, not the items of a department that sent its reviewer")
        self.assertEqual([i["department"] for i in owners][3:5], ["fire", "fire"])
        self.assertEqual(self.mark(4, "pass", user="owner")[1]["code"], "not_your_item")
        self.assertEqual(recv_type(owner_ws, "mark")["mark"]["by"], "owner", "everyone sees every mark, own ones too")
        self.assertEqual(recv_type(owner_ws, "mark")["mark"]["by"], "owner")
        self.assertEqual(recv_type(owner_ws, "mark")["mark"]["by"], "fire")
        for bad, code in (({"item": 99, "result": "pass"}, "bad_field"), ({"item": 1, "result": "maybe"}, "bad_field"),
                          ({"item": "1", "result": "pass"}, "missing_field"), ({"result": "pass"}, "missing_field"),
                          ({"item": 1, "result": "pass", "note": 5}, "bad_field"),
                          ({"item": 1, "result": "pass", "note": "x" * 2001}, "bad_field")):
            status, body = s.api("POST", "/api/cases/WF-1/marks", bad, user="owner")
            self.assertEqual((status, body["code"]), (400, code), bad)
        self.assertEqual(self.mark(3, "pass", user="auditor")[0], 403, "an auditor changes nothing")
        self.assertEqual(self.mark(3, "pass", user="lead")[0], 201, "a lead of the department may mark")

        # the on-site challenge and the phone's location
        self.assertEqual(s.api("POST", "/api/cases/WF-1/challenge-seen", {}, user="owner")[0], 204)
        self.assertEqual(s.api("POST", "/api/cases/WF-1/challenge-seen", {}, user="owner")[0], 409)
        geo = {"lat": 31.2313, "lon": 121.4737, "accuracy": 12}
        token = {"Authorization": "Bearer " + self.case["token"]}
        self.assertEqual(s.api("POST", "/api/invite/geo?case=WF-1", geo, headers=token)[0], 204)
        self.assertEqual(s.api("POST", "/api/invite/geo?case=WF-1", geo)[0], 401)
        self.assertEqual(s.api("POST", "/api/invite/geo?case=WF-1", {"lat": 91, "lon": 0, "accuracy": 1},
                               headers=token)[0], 400)
        location = recv_type(owner_ws, "location")
        self.assertAlmostEqual(location["distance_m"], 100, delta=5)   # 0.0009° of latitude
        case = s.api("GET", "/api/cases/WF-1", user="owner")[1]
        session = case["sessions"][-1]
        self.assertEqual(session["challenge_seen_by"], "owner")
        self.assertAlmostEqual(session["location"]["distance_m"], 100, delta=5)
        self.assertEqual([i["mark"]["result"] if i["mark"] else None for i in case["items"]][:4],
                         ["pass", "fail", "pass", None])

        # approve needs every item passed; rectify issues the complete one-time notice
        status, body = self.decide("approve")
        self.assertEqual((status, body["code"]), (409, "conflict"))
        self.assertEqual(self.decide("approve", user="fire")[0], 403, "only the owner decides")
        self.assertEqual(self.decide("rectify", reason="   ")[0], 400)
        self.assertEqual(self.decide("rectify", "fix the tank area and show the rest")[0], 201)
        self.assertEqual(recv_type(app_ws, "decision")["status"], "rectification_required")
        self.assertEqual(self.status(), "rectification_required")
        status, page = s.api("GET", "/api/invite?case=WF-1", headers=token)
        notice = page["notice"]
        self.assertEqual([i["position"] for i in notice["items"]], [2, 4, 5, 6, 7, 8], "every open item, at once")
        self.assertEqual(notice["items"][0]["note"], "no leak barrier at tank 2")
        self.assertEqual(notice["items"][1]["result"], "not_shown")
        self.assertEqual(self.decide("approve")[1]["code"], "illegal_transition", "approval needs a re-inspection")

        # re-inspection: a new live inspection with marks of its own
        for ws in self.sockets:
            ws.close()
        self.sockets = []
        import time
        time.sleep(2.5)   # the room lingers 1 s, then closes
        owner_ws, joined2 = self.join("reviewer", "owner")
        self.join("applicant", token=self.case["token"])
        self.assertEqual(self.status(), "inspecting")
        marks = s.api("GET", "/api/cases/WF-1/marks", user="owner")[1]
        self.assertNotEqual(marks["session"], session["id"])
        self.assertTrue(all(i["mark"] is None for i in marks["items"]), "a new inspection starts unmarked")
        old = s.api("GET", f"/api/cases/WF-1/marks?session={session['id']}", user="auditor")[1]
        self.assertEqual(len(old["history"]), 4, "the first inspection keeps its marks")

        # a reviewer cannot reject alone; a lead of another department cannot sign; the owner's lead can
        self.assertEqual(self.decide("reject", "the tank area is not fixed")[0], 201)
        self.assertEqual(self.status(), "rejection_pending")
        queue = s.api("GET", "/api/countersign", user="lead")[1]["decisions"]
        self.assertEqual([d["case"] for d in queue], ["WF-1"])
        self.assertEqual(s.api("GET", "/api/countersign", user="fire-lead")[1]["decisions"], [])
        decision = queue[0]["id"]
        sign = {"decision": decision, "sign": True}
        self.assertEqual(s.api("POST", "/api/cases/WF-1/countersign", sign, user="owner")[0], 403)
        self.assertEqual(s.api("POST", "/api/cases/WF-1/countersign", sign, user="fire-lead")[0], 403)
        status, body = s.api("POST", "/api/cases/WF-1/countersign", {"decision": decision, "sign": False}, user="lead")
        self.assertEqual((status, body["code"]), (400, "bad_field"), "returning needs a note")
        self.assertEqual(s.api("POST", "/api/cases/WF-1/countersign",
                               {"decision": decision, "sign": False, "note": "check item 2 again"}, user="lead")[0], 200)
        self.assertEqual(self.status(), "inspecting", "returned to the owner")
        self.assertEqual(s.api("POST", "/api/cases/WF-1/countersign", sign, user="lead")[1]["code"], "illegal_transition")
        decision = self.decide("reject", "still not fixed")[1]["decision"]
        self.assertEqual(s.api("POST", "/api/cases/WF-1/countersign", {"decision": decision, "sign": True},
                               user="lead")[0], 200)
        self.assertEqual(self.status(), "rejected")
        decisions = s.api("GET", "/api/cases/WF-1", user="auditor")[1]["decisions"]
        self.assertEqual([(d["kind"], d["state"]) for d in decisions],
                         [("rectify", "final"), ("reject", "returned"), ("reject", "final")])
        self.assertEqual(decisions[-1]["countersigned_by"], "lead")
        with s.db() as db:
            actions = [r[0] for r in db.execute("SELECT action FROM audit_log WHERE case_ref = 'WF-1' ORDER BY id")]
        for action in ("mark", "challenge.seen", "location", "decision", "decision.returned", "decision.countersigned",
                       "case.status"):
            self.assertIn(action, actions)
        self.assertIsNone(s.proc.poll())

    def test_all_items_passed_approves(self):
        self.join("reviewer", "owner")
        self.join("applicant", token=self.case["token"])
        for item in ALL_ITEMS:   # items 4 and 5 are the fire co-reviewer's
            user = "fire" if item in (4, 5) else "owner"
            self.assertEqual(self.mark(item, "fail" if item == 4 else "pass", user=user)[0], 201)
        self.assertEqual(self.decide("approve")[1]["code"], "conflict")
        self.assertEqual(self.mark(4, "pass", "extinguishers brought in", user="fire")[0], 201,
                         "a later mark replaces the earlier")
        self.assertEqual(self.decide("rectify")[1]["code"], "conflict", "nothing to rectify")
        self.assertEqual(self.decide("approve", "all items seen on site")[0], 201)
        self.assertEqual(self.status(), "approved")
        self.assertEqual(self.decide("approve")[1]["code"], "illegal_transition")
        case = self.server.api("GET", "/api/cases", user="owner")[1]["cases"][0]
        self.assertFalse(case["overdue"])
        self.assertIsInstance(case["working_days_left"], int)


if __name__ == "__main__":
    unittest.main()

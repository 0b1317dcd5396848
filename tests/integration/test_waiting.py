"""The waiting room on the signaling channel (issue 18, item 2; docs/protocol.md): the applicant's
page of a booked case that joins with "wait": true before any reviewer is shown to reviewers as
waiting (since when, and for which booked slot) and may not offer media until a reviewer of its
case admits it; an admit from the applicant, from a reviewer of another case, or with nobody
waiting is refused with its code; the admission is audited with who gave it and lasts for the
live inspection (a reconnecting page does not wait again). A case without a booking, or a page
that comes while a reviewer is in, goes in at once. Plain WebSockets against a real `kanyan serve`: no media is needed to
show who may do what (tests/e2e/waiting_room.test.mjs shows the media start)."""
import datetime
import json
import unittest

import websocket

from kanyan import Server


def connect(server, user=None):
    headers = ["Cookie: " + server.login(user)] if user else []
    return websocket.create_connection(server.ws_url, timeout=30, header=headers)


def recv_until(ws, predicate, limit=30):
    """The first message for which predicate(msg) holds (others are skipped)."""
    for _ in range(limit):
        msg = json.loads(ws.recv())
        if predicate(msg):
            return msg
    raise AssertionError("no such message")


def of_type(type_):
    return lambda m: m["type"] == type_


def booked_slot(server, ref, owner, hour=10):
    """Books a slot of the case, a Monday two weeks or more ahead (a working day): its start, ms."""
    day = datetime.date.today() + datetime.timedelta(days=14)
    day += datetime.timedelta(days=(0 - day.weekday()) % 7)
    status, slot = server.api("POST", f"/api/cases/{ref}/slots", {"at": f"{day.isoformat()} {hour}:00"}, user=owner)
    assert status == 201, slot
    status, booked = server.api("POST", f"/api/cases/{ref}/slots/{slot['id']}/book", {}, user=owner)
    assert status == 200 and booked["state"] == "booked", booked
    return booked["starts_at"]


class WaitingRoomTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.case = cls.server.add_case("WAIT-1", owner="owner")
        cls.other = cls.server.add_case("WAIT-2", owner="other-owner")
        cls.slot_at = booked_slot(cls.server, "WAIT-1", "owner")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def applicant(self, case, wait=True):
        ws = connect(self.server)
        ws.send(json.dumps({"type": "join", "case": case["ref"], "role": "applicant", "token": case["token"],
                            "wait": wait}))
        return ws, recv_until(ws, of_type("joined"))

    def reviewer(self, user, ref):
        ws = connect(self.server, user)
        ws.send(json.dumps({"type": "join", "case": ref, "role": "reviewer"}))
        recv_until(ws, of_type("joined"))
        return ws

    def error(self, ws, payload):
        ws.send(json.dumps(payload))
        return recv_until(ws, of_type("error"))

    def audit(self, action, ref="WAIT-1"):
        with self.server.db() as db:
            return [json.loads(d) | {"actor": a} for a, d in db.execute(
                "SELECT actor, detail FROM audit_log WHERE case_ref = ? AND action = ? ORDER BY id", (ref, action))]

    def test_waiting_admitting_and_who_may_admit(self):
        phone, joined = self.applicant(self.case)
        self.assertIs(joined["waiting"], True, joined)
        self.assertEqual(joined["slot_at"], self.slot_at)
        # no media before admission: the offer is refused before its SDP is even read
        err = self.error(phone, {"type": "offer", "sdp": "v=0", "id": 1})
        self.assertEqual((err["code"], err.get("id")), ("not_admitted", 1), err)
        # the applicant may not let itself in
        self.assertEqual(self.error(phone, {"type": "admit", "case": "WAIT-1"})["code"], "wrong_role")

        desk = self.reviewer("owner", "WAIT-1")
        state = recv_until(desk, of_type("state"))
        self.assertEqual(state["applicant"], "waiting", state)
        self.assertGreater(state["waiting_since"], 0)
        self.assertEqual(state["slot_at"], self.slot_at)
        self.assertEqual([e["slot_at"] for e in self.audit("applicant.waiting")], [str(self.slot_at)])
        status, body = self.server.api("GET", "/api/cases/WAIT-1", user="owner")
        self.assertEqual((status, body["live"]), (200, False), body)
        # the case list flags it for a reviewer whose desk has another case open
        listed = {c["ref"]: c for c in self.server.api("GET", "/api/cases", user="owner")[1]["cases"]}
        self.assertEqual(listed["WAIT-1"]["waiting_since"], state["waiting_since"], listed["WAIT-1"])

        # a reviewer of another case: joining this one is refused, and its own connection may not
        # admit this case's applicant
        self.assertEqual(self.error(connect(self.server, "other-owner"),
                                    {"type": "join", "case": "WAIT-1", "role": "reviewer"})["code"], "forbidden")
        stranger = self.reviewer("other-owner", "WAIT-2")
        self.assertEqual(self.error(stranger, {"type": "admit", "case": "WAIT-1"})["code"], "forbidden")
        # nobody waits in its own case
        self.assertEqual(self.error(stranger, {"type": "admit", "case": "WAIT-2"})["code"], "nobody_waiting")
        self.assertEqual(self.error(connect(self.server, "owner"), {"type": "admit", "case": "WAIT-1"})["code"],
                         "not_joined")
        self.assertEqual(self.error(desk, {"type": "admit"})["code"], "missing_field")
        self.assertEqual(self.audit("applicant.admitted"), [], "nothing refused was admitted")

        desk.send(json.dumps({"type": "admit", "case": "WAIT-1"}))
        admitted = recv_until(phone, of_type("admitted"))
        self.assertEqual(admitted["by"], "owner")
        self.assertIs(admitted["early"], True)   # called in before the booked slot
        self.assertEqual(recv_until(desk, lambda m: m["type"] == "state" and m["applicant"] != "waiting")["applicant"],
                         "connecting")
        entries = self.audit("applicant.admitted")
        self.assertEqual([(e["actor"], e["by"], e["early"]) for e in entries], [("owner", "owner", "true")], entries)
        # admitted: its offer is read now (this one is no SDP at all)
        self.assertEqual(self.error(phone, {"type": "offer", "sdp": "v=0"})["code"], "bad_sdp")
        # a second admit is no error; the case is being inspected
        desk.send(json.dumps({"type": "admit", "case": "WAIT-1", "id": "again"}))
        desk.send(json.dumps({"type": "ping", "id": "after"}))
        self.assertEqual(recv_until(desk, lambda m: m["type"] in ("pong", "error"))["type"], "pong")
        self.assertEqual(self.server.api("GET", "/api/cases/WAIT-1", user="owner")[1]["status"], "inspecting")
        self.assertIsNone(self.server.api("GET", "/api/cases/WAIT-1", user="owner")[1]["waiting_since"])

        # the page comes back (a reload, a dropped link): admitted for this live inspection, it
        # does not wait again, nor does it after the reviewer left and came back
        phone.close()
        phone, joined = self.applicant(self.case)
        self.assertIs(joined["waiting"], False, joined)
        desk.close()
        desk = self.reviewer("owner", "WAIT-1")
        phone.close()
        phone, joined = self.applicant(self.case)
        self.assertIs(joined["waiting"], False, joined)
        self.assertEqual(len(self.audit("applicant.waiting")), 1)
        for ws in (phone, desk, stranger):
            ws.close()

    def test_who_goes_in_at_once(self):
        # no booking: the reviewer sent the link for now, the page publishes at once as before
        phone, joined = self.applicant(self.other)
        self.assertIs(joined["waiting"], False, joined)
        phone.close()
        # booked, but a reviewer is in already: let in at once, the admission audited
        case = self.server.add_case("WAIT-3", owner="owner")
        booked_slot(self.server, "WAIT-3", "owner", hour=11)
        desk = self.reviewer("owner", "WAIT-3")
        phone, joined = self.applicant(case)
        self.assertIs(joined["waiting"], False, joined)
        entries = self.audit("applicant.admitted", "WAIT-3")
        self.assertEqual([(e["actor"], e["by"], e["reviewer_present"]) for e in entries], [("server", "owner", "true")])
        self.assertEqual(self.audit("applicant.waiting", "WAIT-3"), [])
        phone.close()
        desk.close()



class AlwaysWaitingTest(unittest.TestCase):
    """[bureau] waiting_room = always: a case without a booking has its waiting room too (the
    page says "the reviewer will join shortly": slot_at is null) until a reviewer admits it."""

    def test_unbooked_case_waits_when_the_bureau_says_always(self):
        server = Server(config="[bureau]\nwaiting_room = always\n").start()
        try:
            case = server.add_case("WAIT-ALL-1", owner="owner")
            phone = connect(server)
            phone.send(json.dumps({"type": "join", "case": "WAIT-ALL-1", "role": "applicant", "token": case["token"],
                                   "wait": True}))
            joined = recv_until(phone, of_type("joined"))
            self.assertIs(joined["waiting"], True, joined)
            self.assertIsNone(joined.get("slot_at"), joined)
            desk = connect(server, "owner")
            desk.send(json.dumps({"type": "join", "case": "WAIT-ALL-1", "role": "reviewer"}))
            state = recv_until(desk, lambda m: m["type"] == "state" and m["applicant"] == "waiting")
            self.assertGreater(state["waiting_since"], 0)
            desk.send(json.dumps({"type": "admit", "case": "WAIT-ALL-1"}))
            admitted = recv_until(phone, of_type("admitted"))
            self.assertEqual((admitted["by"], admitted["early"]), ("owner", False), admitted)
            phone.close()
            desk.close()
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()

"""Booking (issue 18, item 1): the owner offers inspection slots, the applicant picks one with
the invite token (or the reviewer books it for them), either side moves or cancels with a
reason; working days of the calendar and the reviewer's other slots are respected (no double
booking: slot_conflict); every step is audited; the .ics file is read back by a real parser;
invite short codes /i/CODE resolve case-insensitively to the invite's link, end with the invite,
and guessing them is rate-limited per address; `kanyan case slot add` offers from the CLI."""
import datetime
import http.client
import json
import subprocess
import unittest

import icalendar

from kanyan import KANYAN, SECRETS, Server


def day_ahead(weekday, weeks=2):
    """A date `weeks` weeks or more ahead that falls on weekday (0 = Monday), local time."""
    d = datetime.date.today() + datetime.timedelta(days=7 * weeks)
    return d + datetime.timedelta(days=(weekday - d.weekday()) % 7)


MONDAY = day_ahead(0)
HOLIDAY = MONDAY + datetime.timedelta(days=1)        # a Tuesday the calendar lists
SATURDAY = MONDAY + datetime.timedelta(days=5)
WEDNESDAY = MONDAY + datetime.timedelta(days=2)


def at(day, hm):
    return f"{day.isoformat()} {hm}"


def ms(day, hm):
    h, m = map(int, hm.split(":"))
    return int(datetime.datetime(day.year, day.month, day.day, h, m).timestamp() * 1000)


class BookingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(config=f"[calendar]\nholidays = {HOLIDAY.isoformat()}\n").start()
        cls.server.add_user("co-reviewer", "reviewer", "fire")
        cls.server.add_user("stranger", "reviewer", "commerce")
        cls.case = cls.server.add_case("BK-1", extra=["--co-reviewer", "co-reviewer"])
        cls.other = cls.server.add_case("BK-2")
        cls.slots = {}

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def as_applicant(self, method, path, body=None, token=None, ref="BK-1"):
        sep = "&" if "?" in path else "?"
        headers = {"Authorization": "Bearer " + (token or self.case["token"])}
        return self.server.api(method, f"{path}{sep}case={ref}", body, headers=headers)

    def offer(self, ref, day, hm, minutes=30, user="owner", expect=201):
        status, body = self.server.api("POST", f"/api/cases/{ref}/slots", {"at": at(day, hm), "minutes": minutes},
                                       user=user)
        self.assertEqual(status, expect, body)
        return body

    def audit_actions(self, ref):
        with self.server.db() as db:
            return [r[0] for r in db.execute("SELECT action FROM audit_log WHERE case_ref = ? ORDER BY id", (ref,))]

    def test_1_offer_pick_clash_move_cancel(self):
        a = self.offer("BK-1", MONDAY, "10:00")
        self.assertEqual((a["state"], a["reviewer"], a["minutes"]), ("offered", "owner", 30), a)
        self.assertEqual(a["starts_at"], ms(MONDAY, "10:00"), a)
        b = self.offer("BK-1", MONDAY, "11:00", minutes=60)
        # the same reviewer's other case: an overlap clashes, touching does not
        clash = self.offer("BK-2", MONDAY, "10:15", expect=409)
        self.assertEqual(clash["code"], "slot_conflict", clash)
        self.assertIn("BK-1", clash["message"])
        c = self.offer("BK-2", MONDAY, "10:30")
        self.assertEqual(c["ends_at"], b["starts_at"])   # touches both of BK-1's
        # the calendar: a listed holiday, a Saturday
        for day in (HOLIDAY, SATURDAY):
            refused = self.offer("BK-1", day, "10:00", expect=409)
            self.assertEqual(refused["code"], "not_working_day", refused)
        # the applicant sees the offered slots (not who holds them) and picks one
        status, listed = self.as_applicant("GET", "/api/invite/slots")
        self.assertEqual(status, 200, listed)
        self.assertEqual([s["id"] for s in listed["slots"]], [a["id"], b["id"]])
        self.assertNotIn("reviewer", listed["slots"][0])
        status, picked = self.as_applicant("POST", f"/api/invite/slots/{a['id']}/pick", {})
        self.assertEqual((status, picked["state"], picked["booked_by"]), (200, "booked", "applicant"), picked)
        # another pick is a move: it needs a reason, and frees the first slot
        status, refused = self.as_applicant("POST", f"/api/invite/slots/{b['id']}/pick", {})
        self.assertEqual((status, refused["code"]), (400, "missing_field"), refused)
        status, moved = self.as_applicant("POST", f"/api/invite/slots/{b['id']}/pick", {"reason": "a delivery at 10"})
        self.assertEqual((status, moved["state"]), (200, "booked"), moved)
        status, case_slots = self.server.api("GET", "/api/cases/BK-1/slots", user="owner")
        states = {s["id"]: s["state"] for s in case_slots["slots"]}
        self.assertEqual(states, {a["id"]: "offered", b["id"]: "booked"})
        # the reviewer moves it: onto the other case's slot clashes, elsewhere it goes
        status, clash = self.server.api("POST", f"/api/cases/BK-1/slots/{b['id']}/move",
                                        {"at": at(MONDAY, "10:45"), "reason": "earlier"}, user="owner")
        self.assertEqual((status, clash["code"]), (409, "slot_conflict"), clash)
        status, refused = self.server.api("POST", f"/api/cases/BK-1/slots/{b['id']}/move",
                                          {"at": at(MONDAY, "14:00")}, user="owner")
        self.assertEqual((status, refused["code"]), (400, "missing_field"), refused)
        status, moved = self.server.api("POST", f"/api/cases/BK-1/slots/{b['id']}/move",
                                        {"at": at(MONDAY, "14:00"), "minutes": 45, "reason": "a meeting came up"},
                                        user="owner")
        self.assertEqual((status, moved["starts_at"], moved["minutes"], moved["state"]),
                         (200, ms(MONDAY, "14:00"), 45, "booked"), moved)
        # the .ics of the booked slot, read back by a real parser
        status, headers, raw = self.server.request(
            "GET", f"/api/invite/slots/{b['id']}/ics?case=BK-1", headers={"Authorization": "Bearer " + self.case["token"]})
        self.assertEqual(status, 200, raw)
        self.assertTrue({k.lower(): v for k, v in headers.items()}["content-type"].startswith("text/calendar"))
        self.assertNotIn(b"\n", raw.replace(b"\r\n", b""))   # CRLF only
        cal = icalendar.Calendar.from_ical(raw)
        event = [c for c in cal.walk() if c.name == "VEVENT"][0]
        self.assertEqual(int(event.decoded("DTSTART").timestamp() * 1000), ms(MONDAY, "14:00"))
        self.assertEqual(int(event.decoded("DTEND").timestamp() * 1000), ms(MONDAY, "14:45"))
        self.assertIn("BK-1", str(event["SUMMARY"]))
        self.assertEqual(int(event["SEQUENCE"]), 2)   # booked, moved: a phone's calendar takes the new time
        self.assertTrue(str(event["UID"]))
        # an offered slot has no calendar file
        status, refused = self.as_applicant("GET", f"/api/invite/slots/{a['id']}/ics")
        self.assertEqual((status, refused["code"]), (409, "illegal_transition"), refused)
        # the applicant cancels (with a reason): the slot is offered again
        status, refused = self.as_applicant("POST", f"/api/invite/slots/{b['id']}/cancel", {})
        self.assertEqual((status, refused["code"]), (400, "missing_field"), refused)
        status, cancelled = self.as_applicant("POST", f"/api/invite/slots/{b['id']}/cancel", {"reason": "ill"})
        self.assertEqual((status, cancelled["state"]), (200, "offered"), cancelled)
        # the reviewer books for the applicant, and withdraws the other slot
        status, booked = self.server.api("POST", f"/api/cases/BK-1/slots/{a['id']}/book", {}, user="owner")
        self.assertEqual((status, booked["state"], booked["booked_by"]), (200, "booked", "owner"), booked)
        status, withdrawn = self.server.api("POST", f"/api/cases/BK-1/slots/{b['id']}/cancel",
                                            {"reason": "no longer needed"}, user="owner")
        self.assertEqual((status, withdrawn["state"], withdrawn["reason"]), (200, "cancelled", "no longer needed"))
        status, refused = self.as_applicant("POST", f"/api/invite/slots/{b['id']}/pick", {"reason": "x"})
        self.assertEqual((status, refused["code"]), (409, "illegal_transition"), refused)
        # every step is in the audit log, with its reason
        actions = self.audit_actions("BK-1")
        for action, count in (("slot.offered", 2), ("slot.booked", 2), ("slot.moved", 2), ("slot.cancelled", 2)):
            self.assertEqual(actions.count(action), count, actions)
        with self.server.db() as db:
            details = [json.loads(r[0]) for r in db.execute(
                "SELECT detail FROM audit_log WHERE case_ref = 'BK-1' AND action = 'slot.moved' ORDER BY id")]
        self.assertEqual([d["reason"] for d in details], ["a delivery at 10", "a meeting came up"])
        self.__class__.slots = {"a": a, "b": b, "c": c}

    def test_2_errors_have_their_codes(self):
        a = self.offer("BK-1", WEDNESDAY, "09:00")
        path = "/api/cases/BK-1/slots"
        body = {"at": at(WEDNESDAY, "15:00")}
        # wrong role: a co-reviewer and a stranger may not offer; nobody is asked to log in
        for who, code in (("co-reviewer", "forbidden"), ("stranger", "forbidden")):
            status, refused = self.server.api("POST", path, body, user=who)
            self.assertEqual((status, refused["code"]), (403, code), (who, refused))
        status, refused = self.server.api("POST", path, body)
        self.assertEqual((status, refused["code"]), (401, "unauthenticated"), refused)
        status, refused = self.server.api("GET", path, user="stranger")
        self.assertEqual((status, refused["code"]), (403, "forbidden"), refused)
        # wrong token: another case's invite, a made-up one, none
        for token in (self.other["token"], "not-a-token"):
            status, refused = self.as_applicant("POST", f"/api/invite/slots/{a['id']}/pick", {}, token=token)
            self.assertEqual((status, refused["code"]), (401, "bad_token"), refused)
        status, refused = self.server.api("GET", "/api/invite/slots?case=BK-1")
        self.assertEqual((status, refused["code"]), (401, "bad_token"), refused)
        # a staff session is no invite
        status, refused = self.server.api("GET", "/api/invite/slots?case=BK-1", user="owner")
        self.assertEqual((status, refused["code"]), (401, "bad_token"), refused)
        # malformed JSON, the wrong content type, missing and bad fields
        cookie = self.server.login("owner")
        status, _, raw = self.server.request("POST", path, b"{not json", {"Cookie": cookie,
                                                                           "Content-Type": "application/json"})
        self.assertEqual((status, json.loads(raw)["code"]), (400, "bad_json"))
        status, _, raw = self.server.request("POST", path, b"at=x", {"Cookie": cookie, "Content-Type": "text/plain"})
        self.assertEqual((status, json.loads(raw)["code"]), (415, "unsupported_media_type"))
        for bad, code in (({}, "missing_field"), ({"at": "next tuesday"}, "bad_field"), ({"at": 5}, "bad_field"),
                          ({"at": at(WEDNESDAY, "15:00"), "minutes": "30"}, "bad_field"),
                          ({"at": at(WEDNESDAY, "15:00"), "minutes": 1000}, "bad_field"),
                          ({"at": "2020-01-06 10:00"}, "bad_field")):   # in the past
            status, refused = self.server.api("POST", path, bad, user="owner")
            self.assertEqual((status, refused["code"]), (400, code), (bad, refused))
        # a slot of another case, an unknown one
        c = self.slots["c"]
        status, refused = self.server.api("POST", f"/api/cases/BK-1/slots/{c['id']}/book", {}, user="owner")
        self.assertEqual((status, refused["code"]), (404, "not_found"), refused)
        status, refused = self.as_applicant("POST", "/api/invite/slots/999999/pick", {})
        self.assertEqual((status, refused["code"]), (404, "not_found"), refused)
        status, refused = self.server.api("POST", f"/api/cases/BK-1/slots/{a['id']}/approve", {}, user="owner")
        self.assertEqual((status, refused["code"]), (404, "not_found"), refused)
        # nothing of this reached the audit log as a step
        self.assertEqual(self.audit_actions("BK-1").count("slot.offered"), 3)

    def test_3_desk_lists_upcoming_in_order(self):
        status, desk = self.server.api("GET", "/api/slots", user="owner")
        self.assertEqual(status, 200, desk)
        starts = [s["starts_at"] for s in desk["slots"]]
        self.assertEqual(starts, sorted(starts))
        cases = {s["case"] for s in desk["slots"]}
        self.assertEqual(cases, {"BK-1", "BK-2"})
        self.assertNotIn("cancelled", {s["state"] for s in desk["slots"]})
        status, desk = self.server.api("GET", "/api/slots", user="co-reviewer")   # BK-1 only
        self.assertEqual({s["case"] for s in desk["slots"]}, {"BK-1"})
        status, desk = self.server.api("GET", "/api/slots", user="stranger")
        self.assertEqual(desk["slots"], [])
        status, refused = self.server.api("GET", "/api/slots")
        self.assertEqual((status, refused["code"]), (401, "unauthenticated"), refused)

    def test_4_cli_slot_add(self):
        argv = [KANYAN, "case", "slot", "add", "--ref", "BK-2", "--at", at(WEDNESDAY, "13:00"), "--minutes", "45",
                "--json"] + self.server.common_args()
        done = subprocess.run(argv, capture_output=True, text=True)
        self.assertEqual(done.returncode, 0, done.stderr)
        slot = json.loads(done.stdout)
        self.assertEqual((slot["case"], slot["state"], slot["minutes"], slot["reviewer"], slot["offered_by"]),
                         ("BK-2", "offered", 45, "owner", "cli"), slot)
        self.assertEqual(slot["starts_at"], ms(WEDNESDAY, "13:00"))
        # the REST side sees it and clashes with it
        clash = self.offer("BK-1", WEDNESDAY, "13:30", expect=409)
        self.assertEqual(clash["code"], "slot_conflict")
        # the CLI is refused the same way, with the code
        argv[argv.index("--at") + 1] = at(WEDNESDAY, "13:15")
        done = subprocess.run(argv, capture_output=True, text=True)
        self.assertEqual(done.returncode, 1, done.stdout)
        self.assertIn("slot_conflict", done.stderr)
        argv[argv.index("--at") + 1] = at(SATURDAY, "13:15")
        done = subprocess.run(argv, capture_output=True, text=True)
        self.assertIn("not_working_day", done.stderr)
        self.assertIn("slot.offered", self.audit_actions("BK-2"))
        with self.server.db() as db:
            actor = db.execute("SELECT actor FROM audit_log WHERE case_ref = 'BK-2' AND action = 'slot.offered' "
                               "ORDER BY id DESC LIMIT 1").fetchone()[0]
        self.assertEqual(actor, "cli")

    def get_short(self, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def test_5_short_code_resolves_and_ends_with_the_invite(self):
        self.server.add_case("BK-4")
        status, invite = self.server.api("POST", "/api/cases/BK-4/invite", {}, user="owner")
        self.assertEqual(status, 201, invite)
        code = invite["short_code"]
        SECRETS.add(code)
        SECRETS.add(code.lower())
        self.assertRegex(code, r"^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{6}$")
        self.assertTrue(invite["short_url"].endswith("/i/" + code), invite["short_url"])
        for variant in (code, code.lower(), code[:3] + "-" + code[3:]):
            status, headers, _ = self.get_short("/i/" + variant)
            self.assertEqual(status, 302, variant)
            self.assertEqual(headers["location"], invite["invite_url"])
            self.assertEqual(headers.get("cache-control"), "no-store")
        # the same capability: the token the link carries opens the applicant's page
        status, page = self.server.api("GET", "/api/invite?case=BK-4",
                                       headers={"Authorization": "Bearer " + invite["token"]})
        self.assertEqual(status, 200, page)
        # revoked with the invite
        status, _ = self.server.api("POST", "/api/cases/BK-4/revoke-invites", {}, user="owner")
        self.assertEqual(status, 200)
        status, _, raw = self.get_short("/i/" + code)
        self.assertEqual((status, json.loads(raw)["code"]), (404, "not_found"))
        # not a code at all
        status, _, raw = self.get_short("/i/U")
        self.assertEqual(status, 404)
        # the /i route takes nothing else: pages whose names begin with "i" are still files
        status, headers, _ = self.get_short("/index.html")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/html"), headers)

    def test_9_guessing_is_rate_limited(self):   # last: it spends this address's budget
        self.server.add_case("BK-9")
        status, invite = self.server.api("POST", "/api/cases/BK-9/invite", {}, user="owner")
        SECRETS.add(invite["short_code"])
        guesses, limited = 0, None
        for i in range(60):
            guess = f"ZZZZ{i % 32:02d}"[:4] + "0123456789ABCDEFGHJKMNPQRSTVWXYZ"[i % 32] + "Y"
            status, headers, raw = self.get_short("/i/" + guess)
            if status == 429:
                limited = (headers, json.loads(raw))
                break
            self.assertEqual(status, 404)
            guesses += 1
        self.assertIsNotNone(limited, "60 wrong codes from one address were never refused")
        self.assertGreaterEqual(guesses, 5)
        self.assertEqual(limited[1]["code"], "rate_limited")
        self.assertGreaterEqual(int(limited[0]["retry-after"]), 1)
        # while the address is limited, even a right code is refused from it
        status, _, _ = self.get_short("/i/" + invite["short_code"])
        self.assertEqual(status, 429)
        self.assertIsNone(self.server.proc.poll())


if __name__ == "__main__":
    unittest.main()

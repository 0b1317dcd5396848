"""Intake and administration through the REST API, as the /intake/ and /admin/ pages use it:
the bureau's intake clerk (the role `clerk`, or an admin) creates a case with its owner and
co-reviewers, issues and revokes its invite; admins add accounts (clerks too), reset passwords
(a one-time password shown once) and disable accounts. Good and bad input for each route, the wrong role refused with its stable code, and
every action in the audit log."""
import json
import unittest

from kanyan import Server

CASE = {"ref": "IN-1", "type": "fuel-retail", "owner": "owner", "co_reviewers": ["fire1"],
        "applicant_name": "王芳", "applicant_phone": "13800000000", "site_address": "1 Riverside Rd",
        "site": {"lat": 31.2304, "lon": 121.4737}}


class IntakeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        assert cls.server.first_admin_password()
        cls.server.add_user("owner", "reviewer", "commerce")
        cls.server.add_user("fire1", "reviewer", "fire")
        cls.server.add_user("auditor", "auditor", "audit")
        cls.server.add_user("lead", "lead", "commerce")
        cls.server.add_user("clerk1", "clerk", "intake")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def audit(self, action, case_ref=None):
        """The details of every audit entry with this action (of this case, when given)."""
        with self.server.db() as db:
            rows = db.execute("SELECT actor, case_ref, detail FROM audit_log WHERE action = ? ORDER BY id",
                              (action,)).fetchall()
        return [(actor, json.loads(detail)) for actor, ref, detail in rows if case_ref in (None, ref)]

    def raw(self, method, path, data, user="admin", content_type="application/json"):
        headers = {"Cookie": self.server.login(user)}
        if content_type:
            headers["Content-Type"] = content_type
        status, _, text = self.server.request(method, path, data, headers)
        return status, (json.loads(text) if text[:1] == b"{" else None)

    def login(self, username, password):
        body = json.dumps({"username": username, "password": password}).encode()
        status, headers, text = self.server.request("POST", "/api/login", body, {"Content-Type": "application/json"})
        cookie = {k.lower(): v for k, v in headers.items()}.get("set-cookie", "").split(";")[0]
        return status, (json.loads(text) if text[:1] == b"{" else None), cookie

    def test_create_case_with_co_reviewers_and_invite(self):
        s = self.server
        status, case = s.api("POST", "/api/cases", CASE, user="clerk1")
        self.assertEqual(status, 201, case)
        self.assertEqual((case["owner"], case["department"], case["co_reviewers"]), ("owner", "commerce", ["fire1"]))
        self.assertEqual(case["site"], {"lat": 31.2304, "lon": 121.4737})
        self.assertEqual(case["applicant_name"], "王芳")
        self.assertEqual(case["status"], "accepted")
        self.assertEqual([a for a, d in self.audit("case.created", "IN-1")], ["clerk1"])
        self.assertEqual([d["username"] for a, d in self.audit("case.co_reviewer_added", "IN-1")], ["fire1"])
        # the co-reviewer sees it and marks the fire items (parallel approval, as with assign)
        detail = s.api("GET", "/api/cases/IN-1", user="fire1")[1]
        self.assertTrue(any(i["may_mark"] for i in detail["items"] if i["department"] == "fire"))
        # the clerk issues the invite: link, QR and expiry; the applicant's page opens with it
        status, invite = s.api("POST", "/api/cases/IN-1/invite", {}, user="clerk1")
        self.assertEqual(status, 201, invite)
        self.assertIn("/apply/#case=IN-1&token=", invite["invite_url"])
        self.assertTrue(invite["qr_svg"].startswith("<svg") or "<svg" in invite["qr_svg"][:200], invite["qr_svg"][:80])
        self.assertEqual(s.api("GET", "/api/cases/IN-1", user="clerk1")[1]["status"], "awaiting_inspection")
        applicant = {"Authorization": "Bearer " + invite["token"]}
        self.assertEqual(s.api("GET", "/api/invite?case=IN-1", headers=applicant)[0], 200)
        self.assertEqual([a for a, d in self.audit("invite.issued", "IN-1")], ["clerk1"])
        self.assertNotIn(invite["token"], json.dumps(self.audit("invite.issued", "IN-1")))
        # and revokes it
        status, body = s.api("POST", "/api/cases/IN-1/revoke-invites", {}, user="clerk1")
        self.assertEqual((status, body["revoked"]), (200, 1))
        self.assertEqual(s.api("GET", "/api/invite?case=IN-1", headers=applicant)[1]["code"], "bad_token")
        self.assertEqual([(a, d["count"]) for a, d in self.audit("invite.revoked", "IN-1")], [("clerk1", "1")])
        # an admin may do the same (a small bureau's admin is its clerk)
        self.assertEqual(s.api("POST", "/api/cases/IN-1/invite", {}, user="admin")[0], 201)
        # the clerk follows the case but never watches, marks, decides or reads the log
        for method, path, body in (("POST", "/api/cases/IN-1/marks", {"item": 1, "result": "pass"}),
                                   ("POST", "/api/cases/IN-1/decisions", {"kind": "approve", "reason": "x"}),
                                   ("GET", "/api/cases/IN-1/timeline", None),
                                   ("POST", "/api/case-types/fuel-retail", {"title_en": "x", "title_zh": "x",
                                                                             "time_limit_days": 3})):
            status, body = s.api(method, path, body, user="clerk1")
            self.assertEqual((status, body["code"]), (403, "forbidden"), path)

    def test_create_case_bad_input(self):
        s = self.server
        before = len(self.audit("case.created"))
        good = {**CASE, "ref": "IN-BAD"}
        cases = [
            ("malformed JSON", self.raw("POST", "/api/cases", b'{"ref": "IN-BAD",'), 400, "bad_json"),
            ("not an object", self.raw("POST", "/api/cases", b'["IN-BAD"]'), 400, "bad_json"),
            ("not JSON", self.raw("POST", "/api/cases", b"ref=IN-BAD", content_type="text/plain"), 415,
             "unsupported_media_type"),
            ("no reference", s.api("POST", "/api/cases", {k: v for k, v in good.items() if k != "ref"}, user="clerk1"),
             400, "missing_field"),
            ("no type", s.api("POST", "/api/cases", {k: v for k, v in good.items() if k != "type"}, user="clerk1"),
             400, "missing_field"),
            ("unknown case type", s.api("POST", "/api/cases", {**good, "type": "no-such-type"}, user="clerk1"),
             400, "bad_field"),
            ("owner not a reviewer", s.api("POST", "/api/cases", {**good, "owner": "auditor"}, user="clerk1"),
             400, "bad_field"),
            ("unknown co-reviewer", s.api("POST", "/api/cases", {**good, "co_reviewers": ["nobody-here"]},
                                          user="clerk1"), 400, "bad_field"),
            ("auditor as co-reviewer", s.api("POST", "/api/cases", {**good, "co_reviewers": ["auditor"]},
                                             user="clerk1"), 400, "bad_field"),
            ("the owner as co-reviewer", s.api("POST", "/api/cases", {**good, "co_reviewers": ["owner"]},
                                               user="clerk1"), 409, "conflict"),
            ("co_reviewers not a list", s.api("POST", "/api/cases", {**good, "co_reviewers": "fire1"},
                                              user="clerk1"), 400, "bad_field"),
            ("site out of range", s.api("POST", "/api/cases", {**good, "site": {"lat": 91, "lon": 0}}, user="clerk1"),
             400, "bad_field"),
            ("an auditor creates", s.api("POST", "/api/cases", good, user="auditor"), 403, "forbidden"),
            ("nobody creates", s.api("POST", "/api/cases", good), 401, "unauthenticated"),
        ]
        for label, (status, body), want_status, want_code in cases:
            with self.subTest(label):
                self.assertEqual((status, body and body.get("code")), (want_status, want_code), body)
        # nothing was made by any of them: no case, no audit entry
        self.assertEqual(s.api("GET", "/api/cases/IN-BAD", user="clerk1")[0], 404)
        self.assertEqual(len(self.audit("case.created")), before)
        # a duplicate reference
        self.assertEqual(s.api("POST", "/api/cases", {**CASE, "ref": "IN-DUP", "co_reviewers": []}, user="clerk1")[0], 201)
        status, body = s.api("POST", "/api/cases", {**CASE, "ref": "IN-DUP"}, user="clerk1")
        self.assertEqual((status, body["code"]), (409, "conflict"))
        self.assertEqual(s.api("GET", "/api/cases/IN-DUP", user="clerk1")[1]["co_reviewers"], [],
                         "the refused duplicate changed nothing of the existing case")
        # invites: the wrong role, and a case that does not exist
        self.assertEqual(s.api("POST", "/api/cases/IN-DUP/invite", {}, user="auditor")[1]["code"], "forbidden")
        self.assertEqual(s.api("POST", "/api/cases/IN-DUP/invite", {}, user="fire1")[1]["code"], "forbidden")
        self.assertEqual(s.api("POST", "/api/cases/IN-NONE/invite", {}, user="clerk1")[0], 404)
        self.assertEqual(self.raw("POST", "/api/cases/IN-DUP/invite", b"{", user="clerk1")[1]["code"], "bad_json")

    def test_password_reset(self):
        s = self.server
        s.add_user("li", "reviewer", "commerce")
        old_password = s.passwords["li"]
        old_cookie = s.login("li")
        self.assertEqual(s.api("GET", "/api/me", user="li")[0], 200)
        # the wrong role, an unknown account, the admin itself, bad bodies
        for who in ("owner", "lead", "auditor", "clerk1"):
            status, body = s.api("POST", "/api/users/li/reset-password", {}, user=who)
            self.assertEqual((status, body["code"]), (403, "forbidden"), who)
        self.assertEqual(s.api("POST", "/api/users/li/reset-password", {})[1]["code"], "unauthenticated")
        self.assertEqual(s.api("POST", "/api/users/no-such/reset-password", {}, user="admin")[1]["code"], "not_found")
        self.assertEqual(s.api("POST", "/api/users/admin/reset-password", {}, user="admin")[1]["code"], "conflict")
        self.assertEqual(self.raw("POST", "/api/users/li/reset-password", b"{oops")[1]["code"], "bad_json")
        self.assertEqual(self.raw("POST", "/api/users/li/reset-password", b"{}", content_type=None)[0], 415)
        self.assertEqual(self.audit("user.password_reset"), [], "refused resets leave no entry")
        # the reset: a one-time password, shown in this answer only
        status, body = s.api("POST", "/api/users/li/reset-password", {}, user="admin")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["username"], "li")
        one_time = body["password"]
        self.assertGreaterEqual(len(one_time), 10)
        self.assertEqual(self.audit("user.password_reset"), [("admin", {"username": "li"})])
        with s.db() as db:
            self.assertEqual(db.execute("SELECT count(*) FROM audit_log WHERE detail LIKE ?",
                                        (f"%{one_time}%",)).fetchone()[0], 0, "the password is never audited")
        # the session signed in with the old password ended
        status, _, _ = s.request("GET", "/api/me", None, {"Cookie": old_cookie})
        self.assertEqual(status, 401)
        # the one-time password signs in; the old one no longer does
        status, me, cookie = self.login("li", one_time)
        self.assertEqual((status, me["username"]), (200, "li"))
        self.assertEqual(s.request("GET", "/api/me", None, {"Cookie": cookie})[0], 200)
        status, body, _ = self.login("li", old_password)
        self.assertEqual((status, body["code"]), (401, "bad_token"))
        users = {u["username"]: u for u in s.api("GET", "/api/users", user="admin")[1]["users"]}
        self.assertNotIn("password", users["li"], "the user list never shows a password")

    def test_disabled_account_cannot_sign_in(self):
        s = self.server
        s.add_user("zhao", "reviewer", "commerce")
        password = s.passwords["zhao"]
        self.assertEqual(s.api("POST", "/api/users/zhao/disable", {}, user="lead")[1]["code"], "forbidden")
        self.assertEqual(s.api("POST", "/api/users/zhao/disable", {}, user="clerk1")[1]["code"], "forbidden")
        self.assertEqual(s.api("POST", "/api/users/no-such/disable", {}, user="admin")[1]["code"], "not_found")
        self.assertEqual(s.api("POST", "/api/users/zhao/disable", {}, user="admin")[0], 204)
        self.assertEqual([d for a, d in self.audit("user.disabled")], [{"username": "zhao"}])
        status, body, cookie = self.login("zhao", password)
        self.assertEqual((status, body["code"], cookie), (403, "forbidden", ""))
        # a disabled account is no owner or co-reviewer for a new case either
        status, body = s.api("POST", "/api/cases", {**CASE, "ref": "IN-Z", "owner": "zhao", "co_reviewers": []},
                             user="clerk1")
        self.assertEqual((status, body["code"]), (400, "bad_field"))
        status, body = s.api("POST", "/api/cases", {**CASE, "ref": "IN-Z", "co_reviewers": ["zhao"]}, user="admin")
        self.assertEqual((status, body["code"]), (400, "bad_field"))

    def test_add_user_bad_input_and_audit(self):
        s = self.server
        # a clerk account, made through the API, is a clerk
        status, body = s.api("POST", "/api/users", {"username": "zhou", "role": "clerk", "department": "intake"},
                             user="admin")
        self.assertEqual(status, 201, body)
        s.passwords["zhou"] = body["password"]
        me = s.api("GET", "/api/me", user="zhou")[1]
        self.assertEqual(me["role"], "clerk")
        self.assertEqual(sorted(me["can"]), ["assign_case", "create_case", "list_cases", "manage_invites", "read_case"])
        # who may own or co-review: active reviewers and leads only, for whoever creates cases
        status, body = s.api("GET", "/api/staff", user="zhou")
        self.assertEqual(status, 200)
        staff = {u["username"]: u for u in body["staff"]}
        self.assertEqual(staff["fire1"], {"username": "fire1", "role": "reviewer", "department": "fire"})
        self.assertIn("lead", staff)
        self.assertTrue({"admin", "auditor", "clerk1", "zhou"}.isdisjoint(staff), sorted(staff))
        self.assertEqual(s.api("GET", "/api/staff", user="auditor")[1]["code"], "forbidden")
        self.assertEqual(s.api("GET", "/api/staff")[1]["code"], "unauthenticated")
        status, body = s.api("POST", "/api/users", {"username": "wu", "role": "reviewer", "department": "fire"},
                             user="admin")
        self.assertEqual(status, 201, body)
        self.assertEqual(self.audit("user.created")[-1], ("admin", {"username": "wu", "role": "reviewer",
                                                                    "department": "fire"}))
        for label, (status, body), want in [
            ("malformed", self.raw("POST", "/api/users", b'{"username":'), "bad_json"),
            ("no role", s.api("POST", "/api/users", {"username": "x1"}, user="admin"), "missing_field"),
            ("unknown role", s.api("POST", "/api/users", {"username": "x1", "role": "clerk-king"}, user="admin"),
             "bad_field"),
            ("duplicate", s.api("POST", "/api/users", {"username": "wu", "role": "lead"}, user="admin"), "conflict"),
            ("a reviewer adds", s.api("POST", "/api/users", {"username": "x1", "role": "admin"}, user="owner"),
             "forbidden"),
            ("a clerk adds", s.api("POST", "/api/users", {"username": "x1", "role": "clerk"}, user="clerk1"),
             "forbidden"),
        ]:
            with self.subTest(label):
                self.assertEqual(body and body.get("code"), want, (label, status, body))


if __name__ == "__main__":
    unittest.main()

"""Administration through the API: admins add case types (items in two languages, a time limit
in working days) and accounts; nobody else can; items in use cannot change under their cases."""
import unittest

from kanyan import Server

SALON = {"key": "hair-salon", "title_en": "Hair salon licence", "title_zh": "美发店许可", "time_limit_days": 5,
         "items": [{"title_en": "Sterilizer cabinet", "title_zh": "消毒柜", "guidance": "Open it to the camera"},
                   {"title_en": "Price list posted", "title_zh": "价目表公示", "department": "pricing"}]}


class AdminTest(unittest.TestCase):
    def setUp(self):
        self.server = Server().start()
        self.assertTrue(self.server.first_admin_password())
        self.server.add_user("owner", "reviewer", "commerce")
        self.server.add_user("auditor", "auditor", "audit")

    def tearDown(self):
        self.server.stop()

    def test_case_types(self):
        s = self.server
        self.assertEqual(s.api("POST", "/api/case-types", SALON)[0], 401)
        self.assertEqual(s.api("POST", "/api/case-types", SALON, user="owner")[0], 403)
        self.assertEqual(s.api("POST", "/api/case-types", SALON, user="auditor")[0], 403)
        self.assertEqual(s.api("POST", "/api/case-types", SALON, user="admin")[0], 201)
        self.assertEqual(s.api("POST", "/api/case-types", SALON, user="admin")[1]["code"], "conflict")
        salon2 = {**SALON, "key": "salon-2"}
        for bad in ({**SALON, "key": "Bad Key"}, {**salon2, "time_limit_days": 0}, {**salon2, "items": []},
                    {**salon2, "items": [{"title_en": "x"}]}, {k: v for k, v in salon2.items() if k != "items"},
                    {**salon2, "title_zh": 5},
                    {**salon2, "items": [{"title_en": "x", "title_zh": "x", "department": 7}]},
                    {**salon2, "items": [{"title_en": "x", "title_zh": "x", "department": "d" * 101}]}):
            status, body = s.api("POST", "/api/case-types", bad, user="admin")
            self.assertEqual(status, 400, (bad, body))
        types = {t["key"]: t for t in s.api("GET", "/api/case-types", user="owner")[1]["types"]}
        self.assertEqual([i["title_zh"] for i in types["hair-salon"]["items"]], ["消毒柜", "价目表公示"])
        self.assertIn("fuel-retail", types)
        # a reviewer accepts a case of the new type: its items and a 5-working-day deadline
        status, case = s.api("POST", "/api/cases", {"ref": "SALON-1", "type": "hair-salon", "applicant_name": "Li"},
                             user="owner")
        self.assertEqual(status, 201, case)
        self.assertEqual(case["owner"], "owner", "the reviewer who accepts a case owns it")
        self.assertLessEqual(case["working_days_left"], 5)
        detail = s.api("GET", "/api/cases/SALON-1", user="owner")[1]
        self.assertEqual(detail["items"][0]["guidance"], "Open it to the camera")
        self.assertEqual([i["department"] for i in detail["items"]], ["", "pricing"],
                         "an item may belong to another department (parallel approval)")
        # titles and the time limit may change; items under a case may not
        edit = {k: v for k, v in SALON.items() if k not in ("key", "items")}
        self.assertEqual(s.api("POST", "/api/case-types/hair-salon", {**edit, "time_limit_days": 7}, user="admin")[0], 200)
        status, body = s.api("POST", "/api/case-types/hair-salon", {**edit, "items": SALON["items"][:1]}, user="admin")
        self.assertEqual((status, body["code"]), (409, "conflict"))
        self.assertEqual(s.api("POST", "/api/case-types/no-such", edit, user="admin")[0], 404)
        with s.db() as db:
            actions = [r[0] for r in db.execute("SELECT action FROM audit_log WHERE action LIKE 'case_type.%'")]
        self.assertEqual(actions, ["case_type.created", "case_type.edited"])

    def test_accounts(self):
        s = self.server
        self.assertEqual(s.api("POST", "/api/users", {"username": "zhang", "role": "lead"}, user="owner")[0], 403)
        status, body = s.api("POST", "/api/users", {"username": "zhang", "role": "lead", "department": "commerce"},
                             user="admin")
        self.assertEqual(status, 201)
        s.passwords["zhang"] = body["password"]
        self.assertEqual(s.api("GET", "/api/me", user="zhang")[1]["role"], "lead")
        self.assertEqual(s.api("POST", "/api/users", {"username": "zhang", "role": "lead"}, user="admin")[1]["code"],
                         "conflict")
        self.assertEqual(s.api("POST", "/api/users", {"username": "x", "role": "king"}, user="admin")[0], 400)
        self.assertEqual(s.api("POST", "/api/users/admin/disable", {}, user="admin")[0], 409)
        self.assertEqual(s.api("POST", "/api/users/zhang/disable", {}, user="owner")[0], 403)
        self.assertEqual(s.api("POST", "/api/users/zhang/disable", {}, user="admin")[0], 204)
        self.assertEqual(s.api("GET", "/api/me", user="zhang")[0], 401, "a disabled account's sessions end")
        users = {u["username"]: u for u in s.api("GET", "/api/users", user="admin")[1]["users"]}
        self.assertTrue(users["zhang"]["disabled"])


if __name__ == "__main__":
    unittest.main()

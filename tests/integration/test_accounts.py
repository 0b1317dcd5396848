"""Accounts: Argon2id passwords, session cookies (HttpOnly, SameSite=Strict), login back-off,
logout, disabling, and that neither passwords nor tokens are stored or audited in clear."""
import json
import subprocess
import time
import unittest

from kanyan import KANYAN, Server

PASSWORD = "correct horse battery staple"


class AccountsTest(unittest.TestCase):
    def setUp(self):
        self.server = Server().start()
        out = subprocess.run([KANYAN, "user", "add", "-u", "li", "--role", "reviewer", "--password-stdin"]
                             + self.server.common_args(), input=PASSWORD + "\n", capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)

    def tearDown(self):
        self.server.stop()

    def login(self, username="li", password=PASSWORD, ctype="application/json"):
        body = json.dumps({"username": username, "password": password}).encode()
        return self.server.request("POST", "/api/login", body, {"Content-Type": ctype})

    def cookie(self, headers):
        value = {k.lower(): v for k, v in headers.items()}.get("set-cookie", "")
        return value, value.split(";")[0]

    def test_login_me_logout(self):
        status, headers, body = self.login()
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["role"], "reviewer")
        full, pair = self.cookie(headers)
        self.assertIn("HttpOnly", full)
        self.assertIn("SameSite=Strict", full)
        self.assertNotIn("Secure", full, "plain HTTP under --no-tls")
        token = pair.split("=", 1)[1]
        self.assertGreaterEqual(len(token), 43)
        status, _, body = self.server.request("GET", "/api/me", None, {"Cookie": pair})
        self.assertEqual((status, json.loads(body)["username"]), (200, "li"))
        status, _, _ = self.server.request("POST", "/api/logout", b"{}", {"Cookie": pair, "Content-Type": "application/json"})
        self.assertEqual(status, 204)
        status, _, body = self.server.request("GET", "/api/me", None, {"Cookie": pair})
        self.assertEqual((status, json.loads(body)["code"]), (401, "unauthenticated"))
        with self.server.db() as db:
            rows = db.execute("SELECT token_hash FROM sessions").fetchall() + db.execute("SELECT detail FROM audit_log").fetchall()
            hashes = db.execute("SELECT password_hash FROM users").fetchall()
        self.assertFalse(any(token in r[0] or PASSWORD in r[0] for r in rows))
        self.assertTrue(hashes[0][0].startswith("$argon2id$"))

    def test_wrong_password_then_backoff(self):
        status, _, body = self.login(password="not the password")
        self.assertEqual((status, json.loads(body)["code"]), (401, "bad_token"))
        status, headers, body = self.login()           # at once: the delay applies even to the right password
        self.assertEqual((status, json.loads(body)["code"]), (429, "rate_limited"))
        self.assertIn("retry-after", {k.lower() for k in headers})
        time.sleep(0.3)                                 # past the first delay (250 ms)
        self.assertEqual(self.login(password="still wrong!")[0], 401)
        status, headers, _ = self.login()              # the second failure doubled the delay to 500 ms
        self.assertEqual(status, 429)
        time.sleep(0.6)
        self.assertEqual(self.login()[0], 200)
        status, _, body = self.login(username="nobody")
        self.assertEqual((status, json.loads(body)["code"]), (401, "bad_token"))
        self.server.stop()   # the failed logins are counted per window: stopping writes what is open
        with self.server.db() as db:
            rows = db.execute("SELECT actor, action, detail FROM audit_log WHERE action LIKE 'login%'").fetchall()
        failed = {}
        for actor, action, detail in rows:
            if action == "login.failed":
                failed[actor] = failed.get(actor, 0) + int(json.loads(detail)["count"])
        self.assertEqual(failed, {"li": 2, "nobody": 1}, "each failure counted, aggregated per account and address")
        self.assertIn("login", [action for _, action, _ in rows])

    def test_bad_bodies(self):
        self.assertEqual(self.login(ctype="application/x-www-form-urlencoded")[0], 415)
        status, _, body = self.server.request("POST", "/api/login", b"{nope", {"Content-Type": "application/json"})
        self.assertEqual((status, json.loads(body)["code"]), (400, "bad_json"))
        status, _, body = self.server.request("POST", "/api/login", b'{"username":"li","password":7}',
                                              {"Content-Type": "application/json"})
        self.assertEqual((status, json.loads(body)["code"]), (400, "missing_field"))
        status, _, body = self.server.request("POST", "/api/login", b"x" * 70000, {"Content-Type": "application/json"})
        self.assertEqual((status, json.loads(body)["code"]), (413, "too_large"))

    def test_disabled_account(self):
        _, headers, _ = self.login()
        _, pair = self.cookie(headers)
        subprocess.run([KANYAN, "user", "disable", "-u", "li"] + self.server.common_args(), check=True)
        self.assertEqual(self.server.request("GET", "/api/me", None, {"Cookie": pair})[0], 401, "sessions end at once")
        status, _, body = self.login()
        self.assertEqual((status, json.loads(body)["code"]), (403, "forbidden"))

    def test_cli_refuses_bad_input(self):
        bad_role = subprocess.run([KANYAN, "user", "add", "-u", "x", "--role", "king"] + self.server.common_args(),
                                  capture_output=True, text=True)
        self.assertEqual(bad_role.returncode, 1)
        short = subprocess.run([KANYAN, "user", "add", "-u", "y", "--role", "auditor", "--password-stdin"]
                               + self.server.common_args(), input="short\n", capture_output=True, text=True)
        self.assertEqual(short.returncode, 1)
        self.assertIn("10 to 256", short.stderr)
        made = subprocess.run([KANYAN, "user", "add", "-u", "z", "--role", "auditor"] + self.server.common_args(),
                              capture_output=True, text=True)
        password = made.stdout.split(": ", 1)[1].strip()
        self.assertEqual(self.login("z", password)[0], 200)


    def test_sessions_expire_idle_and_absolute(self):
        s = self.server
        for column, minutes in (("last_seen_at", 31), ("created_at", 12 * 60 + 1)):
            name = f"exp-{column}"
            s.add_user(name)
            self.assertEqual(s.api("GET", "/api/me", user=name)[0], 200)
            with s.db() as db:   # the session, as if it had been idle / alive that long
                db.execute(f"UPDATE sessions SET {column} = {column} - ? WHERE user_id = "
                           "(SELECT id FROM users WHERE username = ?)", (minutes * 60 * 1000, name))
                if column == "created_at":
                    db.execute("UPDATE sessions SET last_seen_at = ? WHERE user_id = (SELECT id FROM users WHERE "
                               "username = ?)", (int(time.time() * 1000), name))
            status, body = s.api("GET", "/api/me", user=name)
            self.assertEqual((status, body["code"]), (401, "unauthenticated"), column)

    def test_state_changes_refuse_anything_but_json(self):
        s = self.server
        s.add_case("CSRF-1", owner="owner")
        cookie = {"Cookie": s.login("owner")}
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
            status, _, body = s.request("POST", "/api/cases/CSRF-1/invite", b"{}", dict(cookie, **{"Content-Type": ctype}))
            self.assertEqual((status, json.loads(body)["code"]), (415, "unsupported_media_type"), ctype)
        status, _, _ = s.request("POST", "/api/cases/CSRF-1/invite", b"{}", dict(cookie, **{"Content-Type": "application/json"}))
        self.assertEqual(status, 201)


class TlsCookieTest(unittest.TestCase):
    def test_cookie_is_secure_under_tls(self):
        server = Server(tls=True).start()
        try:
            server.add_user("li")
            body = json.dumps({"username": "li", "password": server.passwords["li"]}).encode()
            status, headers, _ = server.request("POST", "/api/login", body, {"Content-Type": "application/json"})
            cookie = {k.lower(): v for k, v in headers.items()}["set-cookie"]
            self.assertEqual(status, 200)
            for flag in ("HttpOnly", "SameSite=Strict", "Secure"):
                self.assertIn(flag, cookie)
        finally:
            server.stop()

if __name__ == "__main__":
    unittest.main()

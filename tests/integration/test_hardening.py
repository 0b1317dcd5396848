"""Hostile-input checks on the HTTP side: no way out of the web root, security headers on
every answer, body limits, and no invite token in the server's log after a whole session."""
import http.client
import json
import unittest

import signal
import subprocess

import kanyan
from kanyan import KANYAN, Server, wait_until


class HardeningTest(unittest.TestCase):
    def setUp(self):
        self.server = Server().start()
        self.case = self.server.add_case("HARD-1")

    def tearDown(self):
        self.server.stop()

    def raw_get(self, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        return resp.status, body

    def test_no_way_out_of_the_web_root(self):
        for path in ("/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/apply/..%2f..%2f..%2fetc/passwd",
                     "/..%252f..%252fetc/passwd", "/.%2e/.%2e/data/kanyan.db", "/../data/kanyan.db"):
            status, body = self.raw_get(path)
            self.assertNotIn(b"root:", body, path)
            self.assertNotIn(b"SQLite format", body, path)
            self.assertIn(status, (400, 403, 404), path)
        status, body = self.raw_get("/apply/")
        self.assertEqual(status, 200)

    def test_security_headers_everywhere(self):
        for path in ("/", "/review/", "/api/health", "/api/nope"):
            status, headers, _ = self.server.request("GET", path)
            lower = {k.lower(): v for k, v in headers.items()}
            self.assertIn("frame-ancestors 'none'", lower.get("content-security-policy", ""), path)
            self.assertNotIn("unsafe-inline", lower.get("content-security-policy", ""), path)
            self.assertEqual(lower.get("x-content-type-options"), "nosniff", path)
            self.assertEqual(lower.get("referrer-policy"), "no-referrer", path)

    def test_unknown_api_routes_and_methods(self):
        status, _, body = self.server.request("GET", "/api/cases/NOPE")
        self.assertEqual((status, json.loads(body)["code"]), (401, "unauthenticated"))
        status, body = self.server.api("GET", "/api/cases/NOPE", user="owner")
        self.assertEqual((status, body["code"]), (404, "unknown_case"))
        status, body = self.server.api("DELETE", "/api/cases/HARD-1", {}, user="owner")
        self.assertEqual((status, body["code"]), (404, "not_found"))
        status, _, body = self.server.request("GET", "/api/invite?case=HARD-1", None, {"Authorization": "Bearer nope"})
        self.assertEqual((status, json.loads(body)["code"]), (401, "bad_token"))
        status, _, body = self.server.request("GET", "/api/invite?case=HARD-1",
                                              None, {"Authorization": "Bearer " + self.case["token"]})
        self.assertEqual(status, 200)
        self.assertEqual(len(json.loads(body)["items"]), 8)

    def test_revoked_invite_no_longer_opens_the_case(self):
        headers = {"Authorization": "Bearer " + self.case["token"]}
        self.assertEqual(self.server.request("GET", "/api/invite?case=HARD-1", None, headers)[0], 200)
        out = subprocess.run([KANYAN, "case", "revoke", "--ref", "HARD-1"] + self.server.common_args(),
                             capture_output=True, text=True)
        self.assertIn("1 invite(s) of case HARD-1 revoked", out.stdout)
        status, _, body = self.server.request("GET", "/api/invite?case=HARD-1", None, headers)
        self.assertEqual((status, json.loads(body)["code"]), (401, "bad_token"))
        status, _, _ = self.server.request("POST", "/whip/HARD-1", b"v=0\r\n",
                                           dict(headers, **{"Content-Type": "application/sdp"}))
        self.assertEqual(status, 401)
        with self.server.db() as db:
            self.assertEqual(db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'invite.revoked'").fetchone()[0], 1)

    def test_connections_closed_before_a_request_are_harmless(self):
        # lws reports CLOSED_HTTP for a connection that never sent a request (no session data)
        import socket
        for i in range(50):
            sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
            if i % 2:
                sock.sendall(b"GET /api/hea")   # half a request line, then gone
            sock.close()
        self.assertEqual(self.server.get_json("/api/health")["ok"], True)
        self.assertIsNone(self.server.proc.poll())

    def test_no_token_in_the_log(self):
        pub = self.server.aiortc_publisher(self.case, 5)
        reviewer = self.server.reviewer(self.case, 7, "R")
        self.assertEqual(pub.wait(40), 0)
        reviewer.wait(30)
        self.server.request("GET", "/api/invite?case=HARD-1", None, {"Authorization": "Bearer " + self.case["token"]})
        self.server.api("POST", "/api/cases/HARD-1/invite", {}, user="owner")
        self.server.stop()
        log = self.server.log_text()
        self.assertIn("answer for", log, "the log ran at debug level, SDP included")
        self.assertNotIn(self.case["token"], log)
        for user, password in self.server.passwords.items():
            self.assertNotIn(password, log)
        for cookie in self.server.cookies.values():
            self.assertNotIn(cookie.split("=", 1)[1], log)

    def test_a_fatal_signal_leaves_its_backtrace_in_the_log(self):
        """A server that dies of a segfault says so in its log, with a backtrace naming its
        own functions (src/app/crash.c), and still dies of that signal (a service manager's
        restart policy and a test's exit check see what they saw before)."""
        s = self.server
        kanyan.SERVER_LOGS.remove(s.log_path)   # this death is wanted: the run's crash check skips it
        s.proc.send_signal(signal.SIGSEGV)
        self.assertEqual(s.proc.wait(timeout=60), -signal.SIGSEGV, "it dies of the signal it got")
        log = s.log_text()
        self.assertIn("kanyan: fatal signal SIGSEGV", log)
        frames = log[log.index("kanyan: fatal signal"):].splitlines()[1:]
        self.assertTrue(any("build/kanyan(" in f and "+0x" in f for f in frames), "\n".join(frames[:20]))


if __name__ == "__main__":
    unittest.main()

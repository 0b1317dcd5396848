"""A string holding U+0000 is refused, never cut short: json-glib reads "r1\\u0000X" as "r1",
so without the check such a body would sign in as r1 (issue 12). Over real HTTP and the real
WebSocket, against a running server."""
import json
import unittest

import websocket

from kanyan import Server


class NulTest(unittest.TestCase):
    def setUp(self):
        self.server = Server().start()
        self.server.add_user("r1")

    def tearDown(self):
        self.server.stop()

    def post_raw(self, path, text):
        status, _, body = self.server.request("POST", path, text.encode(), {"Content-Type": "application/json"})
        return status, json.loads(body) if body else None

    def test_login_with_nul_in_the_name_is_refused(self):
        password = self.server.passwords["r1"]
        # the raw JSON text carries the escape itself: json.dumps would write it the same way
        status, body = self.post_raw("/api/login", '{"username":"r1\\u0000X","password":%s}' % json.dumps(password))
        self.assertEqual(status, 400, body)
        self.assertEqual(body["code"], "bad_field")
        self.assertIn("'username'", body["message"])
        status, body = self.post_raw("/api/login", '{"username":"r1","password":%s}' % json.dumps(password + "\u0000"))
        self.assertEqual((status, body["code"]), (400, "bad_field"), body)
        # the same account signs in with the plain name: nothing else changed
        status, body = self.post_raw("/api/login", json.dumps({"username": "r1", "password": password}))
        self.assertEqual(status, 200, body)

    def test_signaling_message_with_nul_is_refused(self):
        case = self.server.add_case("NUL-1", owner="r1")
        ws = websocket.create_connection(self.server.ws_url, timeout=30, header=["Cookie: " + self.server.login("r1")])
        try:
            ws.send('{"type":"join","case":"NUL-1","role":"reviewer","name":"r1\\u0000X","id":"j1"}')
            msg = json.loads(ws.recv())
            # refused as text that cannot be read faithfully: like unreadable JSON, no id comes back
            self.assertEqual((msg["type"], msg["code"]), ("error", "bad_field"), msg)
            self.assertIn("'name'", msg["message"])
            ws.send(json.dumps({"type": "join", "case": case["ref"], "role": "reviewer", "name": "r1"}))
            while (msg := json.loads(ws.recv()))["type"] != "joined":
                self.assertNotEqual(msg["type"], "error", msg)
        finally:
            ws.close()


if __name__ == "__main__":
    unittest.main()

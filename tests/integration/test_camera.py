"""The reviewer's hands on the phone's camera, on the wire (issue 18, docs/protocol.md): a
reviewer's `camera` command reaches the applicant's connection alone, numbered; the answer
reaches every reviewer with who asked; what the camera can do reaches a reviewer who joins
later; a command nobody answers times out after 10 s; an answer counts once. Each command and
outcome is an audit row. Plain WebSockets (no media: the phone's page is played by the test),
a real `kanyan serve`."""
import json
import time
import unittest

import websocket

from kanyan import Server


class Socket:
    def __init__(self, server, join, cookie=None):
        self.ws = websocket.create_connection(server.ws_url, timeout=30,
                                              header=["Cookie: " + cookie] if cookie else [])
        self.got = []
        self.send(join)
        self.wait(lambda m: m["type"] == "joined")

    def send(self, msg):
        self.ws.send(json.dumps(msg))

    def wait(self, match, patience=30):
        """the first message (received so far, or next) that matches"""
        for m in self.got:
            if match(m):
                self.got.remove(m)
                return m
        deadline = time.time() + patience
        while time.time() < deadline:
            self.ws.settimeout(max(0.1, deadline - time.time()))
            m = json.loads(self.ws.recv())
            if match(m):
                return m
            self.got.append(m)
        raise AssertionError("no matching message")

    def close(self):
        self.ws.close()


class CameraWireTest(unittest.TestCase):
    def setUp(self):
        self.server = Server().start()
        self.case = self.server.add_case("CW-1")
        self.sockets = []

    def tearDown(self):
        for s in self.sockets:
            s.close()
        self.server.stop()

    def reviewer(self, who="owner"):
        s = Socket(self.server, {"type": "join", "case": "CW-1", "role": "reviewer"}, self.server.login(who))
        self.sockets.append(s)
        return s

    def test_command_answer_caps_timeout(self):
        phone = Socket(self.server, {"type": "join", "case": "CW-1", "role": "applicant", "token": self.case["token"]})
        self.sockets.append(phone)
        desk = self.reviewer()

        # the command goes to the phone alone, numbered; its answer to the reviewers, with who asked
        desk.send({"type": "camera", "action": "point", "x": 0.25, "y": 1, "id": 7})
        cmd = phone.wait(lambda m: m["type"] == "camera")
        self.assertEqual((cmd["action"], cmd["x"], cmd["y"]), ("point", 0.25, 1))
        phone.send({"type": "camera_result", "request": cmd["request"], "ok": True})
        result = desk.wait(lambda m: m["type"] == "camera_result")
        self.assertEqual((result["request"], result["action"], result["by"], result["ok"]),
                         (cmd["request"], "point", "owner", True))
        # an answer counts once
        phone.send({"type": "camera_result", "request": cmd["request"], "ok": True, "id": "again"})
        self.assertEqual(phone.wait(lambda m: m.get("id") == "again")["code"], "not_found")

        # what the camera can do: to the reviewers now, and to one who joins later
        phone.send({"type": "camera_caps", "facing": True, "torch": False, "focus": False,
                    "zoom": {"min": 1, "max": 8, "step": 0.5, "value": 1}})
        caps = desk.wait(lambda m: m["type"] == "camera_caps")
        self.assertEqual((caps["torch"], caps["zoom"]["max"]), (False, 8))
        late = self.reviewer()
        self.assertEqual(late.wait(lambda m: m["type"] == "camera_caps")["zoom"]["min"], 1)

        # a zoom the phone answers with what it applied; a torch it never answers times out
        desk.send({"type": "camera", "action": "zoom", "value": 2.5})
        zoom = phone.wait(lambda m: m["type"] == "camera")
        self.assertEqual(zoom["value"], 2.5)
        phone.send({"type": "camera_result", "request": zoom["request"], "ok": True, "value": 2.5})
        self.assertEqual(late.wait(lambda m: m["type"] == "camera_result")["value"], 2.5)
        desk.send({"type": "camera", "action": "torch", "value": True})
        torch = phone.wait(lambda m: m["type"] == "camera")
        timed_out = desk.wait(lambda m: m["type"] == "camera_result" and m["action"] == "torch", patience=60)
        self.assertEqual((timed_out["ok"], timed_out["reason"], timed_out["request"]), (False, "timeout", torch["request"]))
        phone.send({"type": "camera_result", "request": torch["request"], "ok": True, "id": "late"})
        self.assertEqual(phone.wait(lambda m: m.get("id") == "late")["code"], "not_found")

        rows = [(a, json.loads(d)) for a, d in self.server.db().execute(
            "SELECT action, detail FROM audit_log WHERE action LIKE 'camera.%' ORDER BY id")]
        self.assertEqual([(a, d.get("action"), d.get("ok"), d.get("reason"), d.get("value")) for a, d in rows], [
            ("camera.command", "point", None, None, None),
            ("camera.result", "point", "true", None, None),
            ("camera.capabilities", None, None, None, None),
            ("camera.command", "zoom", None, None, "2.5"),
            ("camera.result", "zoom", "true", None, "2.5"),
            ("camera.command", "torch", None, None, "true"),
            ("camera.result", "torch", "false", "timeout", None),
        ])
        self.assertEqual((rows[0][1]["x"], rows[0][1]["y"], rows[0][1]["by"]), ("0.25", "1", "owner"))


if __name__ == "__main__":
    unittest.main()

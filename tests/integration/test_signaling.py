"""Bad input on the WebSocket and WHIP entry points gets a typed error and loses nothing:
a live inspection on the same server keeps delivering frames while a hostile client talks."""
import json
import unittest

import websocket

from kanyan import Server, wait_until


def connect(server, user=None):
    """A signaling socket; as `user` (their session cookie on the upgrade) when given."""
    headers = ["Cookie: " + server.login(user)] if user else []
    return websocket.create_connection(server.ws_url, timeout=30, header=headers)


def recv_until(ws, type_, limit=20):
    for _ in range(limit):
        msg = json.loads(ws.recv())
        if msg["type"] == type_:
            return msg
    raise AssertionError(f"no {type_} message")


class SignalingErrorsTest(unittest.TestCase):
    def setUp(self):
        self.server = Server().start()
        self.case = self.server.add_case("SIG-1")

    def tearDown(self):
        self.server.stop()

    def expect_error(self, ws, payload, code):
        if isinstance(payload, bytes):
            ws.send_binary(payload)
        else:
            ws.send(payload)
        msg = recv_until(ws, "error")
        self.assertEqual(msg["code"], code, (payload[:80], msg))
        self.assertTrue(msg["message"])
        return msg

    def test_malformed_messages_get_errors_while_live_session_runs(self):
        # the peers outlive the test (tearDown stops them): a slow machine stretches the test
        reviewer = self.server.reviewer(self.case, 120, "R")
        pub = self.server.aiortc_publisher(self.case, 120)
        self.assertTrue(wait_until(lambda: (reviewer.last("frames") or {}).get("frames", 0) > 10, 20))
        ws = connect(self.server)
        self.expect_error(ws, "not json", "bad_json")
        self.expect_error(ws, "[1,2]", "bad_json")
        self.expect_error(ws, "{\"type\":42}", "bad_field")
        self.expect_error(ws, "{}", "missing_field")
        self.expect_error(ws, "{\"type\":\"dance\"}", "unknown_type")
        self.expect_error(ws, "{\"type\":\"offer\",\"sdp\":\"v=0\"}", "not_joined")
        self.expect_error(ws, "x" * 70000, "too_large")
        self.expect_error(ws, b"\x00\x01binary", "bad_json")
        # nobody learns whether a case exists: no session, no answer about the case
        self.expect_error(ws, json.dumps({"type": "join", "case": "NOPE", "role": "reviewer"}), "unauthenticated")
        self.expect_error(ws, json.dumps({"type": "join", "case": "SIG-1", "role": "reviewer"}), "unauthenticated")
        self.expect_error(ws, json.dumps({"type": "join", "case": "NOPE", "role": "applicant", "token": "x"}), "unknown_case")
        self.expect_error(ws, json.dumps({"type": "join", "case": "SIG-1", "role": "applicant", "token": "wrong"}), "bad_token")
        self.expect_error(ws, json.dumps({"type": "join", "case": "SIG-1", "role": "judge"}), "bad_field")
        err = self.expect_error(ws, json.dumps({"type": "ping", "id": 7, "extra": {"deep": [1] * 1000}}) + "x", "bad_json")
        ws.close()
        # a reviewer not on the case is refused; an unknown case is named only to staff
        self.server.add_user("stranger", department="elsewhere")
        ws = connect(self.server, "stranger")
        self.expect_error(ws, json.dumps({"type": "join", "case": "SIG-1", "role": "reviewer"}), "forbidden")
        self.expect_error(ws, json.dumps({"type": "join", "case": "NOPE", "role": "reviewer"}), "unknown_case")
        ws.close()
        # a reviewer may not offer, nor answer a connection it does not have
        ws = connect(self.server, "owner")
        ws.send(json.dumps({"type": "join", "case": "SIG-1", "role": "reviewer", "name": "mallory"}))
        self.assertEqual(recv_until(ws, "joined")["type"], "joined")
        self.expect_error(ws, json.dumps({"type": "offer", "sdp": "v=0", "id": "o1"}), "wrong_role")
        self.expect_error(ws, json.dumps({"type": "answer", "pc": "nope", "sdp": "v=0"}), "bad_field")
        self.expect_error(ws, json.dumps({"type": "ice", "pc": "x", "candidate": "c", "sdpMLineIndex": "0"}), "bad_field")
        self.expect_error(ws, json.dumps({"type": "join", "case": "SIG-1", "role": "reviewer"}), "already_joined")
        ws.send(json.dumps({"type": "ping", "id": "p"}))
        self.assertEqual(recv_until(ws, "pong")["type"], "pong")
        ws.close()
        before = reviewer.last("frames")["frames"]
        self.assertTrue(wait_until(lambda: reviewer.last("frames")["frames"] > before + 30, 20),
                        "the live session kept running")
        self.assertIsNone(self.server.proc.poll())

    def test_flood_is_rate_limited_while_live_session_runs(self):
        reviewer = self.server.reviewer(self.case, 120, "R")   # outlives the test, stopped by tearDown
        self.server.aiortc_publisher(self.case, 120)
        self.assertTrue(wait_until(lambda: (reviewer.last("frames") or {}).get("frames", 0) > 10, 20))
        idle = [connect(self.server) for _ in range(50)]   # under [server] max_ws_per_ip (64)
        flood = connect(self.server)
        for i in range(3000):
            flood.send('{"type":"ping"}')
        codes = set()
        flood.settimeout(2)
        try:
            while True:
                msg = json.loads(flood.recv())
                codes.add(msg.get("code", msg["type"]))
        except websocket.WebSocketTimeoutException:
            pass
        self.assertIn("rate_limited", codes)
        self.assertIn("pong", codes)
        before = reviewer.last("frames")["frames"]
        self.assertTrue(wait_until(lambda: reviewer.last("frames")["frames"] > before + 30, 20),
                        "the live session kept running")
        for ws in idle:
            ws.close()
        self.assertIsNone(self.server.proc.poll())

    def test_cross_origin_websocket_is_refused(self):
        with self.assertRaises(websocket.WebSocketException):   # the handshake is closed, no upgrade
            websocket.create_connection(self.server.ws_url, timeout=30, origin="http://evil.example")
        ws = websocket.create_connection(self.server.ws_url, timeout=30, origin=self.server.base)
        ws.send('{"type":"ping"}')
        self.assertEqual(recv_until(ws, "pong")["type"], "pong")

    def test_error_echoes_id(self):
        ws = connect(self.server)
        ws.send(json.dumps({"type": "offer", "sdp": "x", "id": "abc"}))
        self.assertEqual(recv_until(ws, "error")["id"], "abc")
        ws.send(json.dumps({"type": "nope", "id": 5}))
        self.assertEqual(recv_until(ws, "error")["id"], 5)

    def test_applicant_bad_offer_is_refused(self):
        ws = connect(self.server)
        ws.send(json.dumps({"type": "join", "case": "SIG-1", "role": "applicant", "token": self.case["token"]}))
        self.assertEqual(recv_until(ws, "joined")["role"], "applicant")
        self.expect_error(ws, json.dumps({"type": "offer", "sdp": "garbage"}), "bad_sdp")
        audio_only = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"
        self.expect_error(ws, json.dumps({"type": "offer", "sdp": audio_only}), "bad_sdp")

    def test_reviewer_sees_participants_and_state(self):
        ws = connect(self.server, "owner")
        ws.send(json.dumps({"type": "join", "case": "SIG-1", "role": "reviewer", "name": "Li"}))
        joined = recv_until(ws, "joined")
        self.assertEqual(joined["case"], "SIG-1")
        # a reviewer is shown under its account, whatever name it asks for
        self.assertEqual(recv_until(ws, "participants")["participants"][0]["name"], "owner")
        self.assertEqual(recv_until(ws, "state")["applicant"], "absent")
        ws.send(json.dumps({"type": "leave"}))
        self.assertEqual(recv_until(ws, "bye")["reason"], "left")


class WhipErrorsTest(unittest.TestCase):
    def setUp(self):
        self.server = Server().start()
        self.case = self.server.add_case("WHIP-1")

    def tearDown(self):
        self.server.stop()

    def post(self, path, body=b"v=0\r\n", token=None, ctype="application/sdp"):
        headers = {"Content-Type": ctype}
        if token:
            headers["Authorization"] = "Bearer " + token
        return self.server.request("POST", path, body, headers)

    def test_whip_status_codes(self):
        status, _, body = self.post("/whip/WHIP-1")
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(body)["code"], "bad_token")
        status, _, _ = self.post("/whip/WHIP-1", token="not-the-token")
        self.assertEqual(status, 401)
        status, _, body = self.post("/whip/NOPE", token=self.case["token"])
        self.assertEqual((status, json.loads(body)["code"]), (404, "unknown_case"))
        status, _, body = self.post("/whip/WHIP-1", b"this is not sdp", token=self.case["token"])
        self.assertEqual((status, json.loads(body)["code"]), (400, "bad_sdp"))
        status, _, body = self.post("/whip/WHIP-1", token=self.case["token"], ctype="text/plain")
        self.assertEqual(status, 415)
        status, _, body = self.post("/whip/WHIP-1", b"v=0\r\n" + b"a" * 70000, token=self.case["token"])
        self.assertEqual((status, json.loads(body)["code"]), (413, "too_large"))
        status, _, _ = self.server.request("PATCH", "/whip/WHIP-1/abc", b"", {"Authorization": "Bearer " + self.case["token"]})
        self.assertEqual(status, 405)
        status, _, _ = self.server.request("DELETE", "/whip/WHIP-1/unknown", None, {"Authorization": "Bearer " + self.case["token"]})
        self.assertEqual(status, 404)
        status, _, _ = self.server.request("DELETE", "/whip/WHIP-1/unknown")
        self.assertEqual(status, 401)
        self.assertIsNone(self.server.proc.poll())

    def test_whip_publish_gives_location_and_delete_ends_it(self):
        pub = self.server.aiortc_publisher(self.case, 4)
        self.assertEqual(pub.wait(30), 0, pub.lines)
        published = pub.events("published")[0]
        self.assertRegex(published["location"], r"^/whip/WHIP-1/[0-9a-f]{24}$")
        self.assertEqual(pub.events("deleted")[0]["status"], 200)


if __name__ == "__main__":
    unittest.main()

"""Evidence stills from a real publisher's stream: the server takes the next keyframe, decodes
that one frame, stores a JPEG with its SHA-256 and media time, and every reviewer hears of it.
A drawing is stored beside it; the image never changes."""
import hashlib
import json
import os
import unittest

import websocket

from kanyan import Server, ffprobe, wait_until


def recv_type(ws, type_, limit=40):
    for _ in range(limit):
        msg = json.loads(ws.recv())
        if msg["type"] == type_:
            return msg
    raise AssertionError(f"no {type_} message")


class StillsTest(unittest.TestCase):
    def setUp(self):
        self.server = Server().start()
        self.server.add_user("owner", "reviewer", "commerce")
        self.server.add_user("fire", "reviewer", "fire")
        self.server.add_user("auditor", "auditor", "audit")

    def tearDown(self):
        self.server.stop()

    def live_case(self, ref, codec):
        case = self.server.add_case(ref, owner="owner", extra=["--co-reviewer", "fire"])
        ws = websocket.create_connection(self.server.ws_url, timeout=30, header=["Cookie: " + self.server.login("fire")])
        ws.send(json.dumps({"type": "join", "case": ref, "role": "reviewer"}))
        recv_type(ws, "joined")
        pub = self.server.aiortc_publisher(case, 20, codec=codec, name=f"pub-{codec}")
        self.assertTrue(wait_until(lambda: self.server.api("GET", "/api/cases", user="owner")[1]["cases"][0]["live"], 20),
                        "the applicant's media flows")
        return case, ws, pub

    def capture(self, ref, item):
        return self.server.api("POST", f"/api/cases/{ref}/stills", {"item": item}, user="owner")

    def check_still(self, ref, codec):
        status, body = self.capture(ref, 99)
        self.assertEqual((status, body["code"]), (400, "bad_field"))
        status, still = self.capture(ref, 3)
        self.assertEqual(status, 201, still)
        self.assertEqual(still["item"], 3)
        self.assertGreaterEqual(still["media_ms"], 0)
        with self.server.db() as db:
            path, sha = db.execute("SELECT path, sha256 FROM stills WHERE id = ?", (still["id"],)).fetchone()
        with open(path, "rb") as f:
            data = f.read()
        self.assertEqual(data[:2], b"\xff\xd8", "a JPEG")
        self.assertEqual(hashlib.sha256(data).hexdigest(), sha)
        self.assertEqual(still["sha256"], sha)
        probe = ffprobe(path)["streams"][0]
        self.assertEqual(probe["codec_name"], "mjpeg")
        self.assertGreater(probe["width"], 0, codec)
        self.assertTrue(path.startswith(os.path.realpath(self.server.recordings)) or path.startswith(self.server.recordings))
        return still, path, data

    def test_still_from_vp8_with_annotation_and_notice(self):
        case, ws, pub = self.live_case("ST-VP8", "vp8")
        still, path, data = self.check_still("ST-VP8", "vp8")
        told = recv_type(ws, "still")["still"]
        self.assertEqual((told["id"], told["item"], told["by"]), (still["id"], 3, "owner"))
        # a drawing is a separate layer
        shapes = [{"kind": "arrow", "x1": 0.1, "y1": 0.2, "x2": 0.5, "y2": 0.5},
                  {"kind": "box", "x1": 0.6, "y1": 0.6, "x2": 0.9, "y2": 0.8}]
        self.assertEqual(self.server.api("POST", "/api/cases/ST-VP8/annotations", {"still": still["id"], "shapes": shapes},
                                         user="owner")[0], 204)
        for bad in ([{"kind": "star", "x1": 0, "y1": 0, "x2": 1, "y2": 1}],
                    [{"kind": "box", "x1": 0, "y1": 0, "x2": 2, "y2": 1}], "not a list",
                    [{"kind": "box", "x1": 0, "y1": 0, "x2": 1, "y2": 1, "script": "x"}]):
            status, body = self.server.api("POST", "/api/cases/ST-VP8/annotations", {"still": still["id"], "shapes": bad},
                                           user="owner")
            self.assertEqual((status, body["code"]), (400, "bad_field"), bad)
        self.assertEqual(self.server.api("POST", "/api/cases/ST-VP8/annotations", {"still": 999, "shapes": []},
                                         user="owner")[0], 404)
        self.assertEqual(self.server.api("POST", "/api/cases/ST-VP8/stills", {"item": 1}, user="auditor")[0], 403)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), data, "the original stays untouched")
        # served to those who may read the case's media, audited; refused to others
        status, headers, body = self.server.request("GET", still["url"], None, {"Cookie": self.server.login("auditor")})
        self.assertEqual((status, {k.lower(): v for k, v in headers.items()}["content-type"]), (200, "image/jpeg"))
        self.assertEqual(body, data)
        self.server.add_user("stranger", "reviewer", "elsewhere")
        self.assertEqual(self.server.request("GET", still["url"], None, {"Cookie": self.server.login("stranger")})[0], 403)
        self.assertEqual(self.server.request("GET", still["url"])[0], 401)
        with self.server.db() as db:
            self.assertEqual(db.execute("SELECT actor FROM audit_log WHERE action = 'still.accessed'").fetchall(),
                             [("auditor",)])
        listed = self.server.api("GET", "/api/cases/ST-VP8", user="auditor")[1]["stills"]
        self.assertEqual(listed[0]["annotation"], shapes)
        # the notice lists the still with its failed item
        self.server.api("POST", "/api/cases/ST-VP8/marks", {"item": 3, "result": "fail", "note": "seal broken"}, user="owner")
        self.assertEqual(self.server.api("POST", "/api/cases/ST-VP8/decisions",
                                         {"kind": "rectify", "reason": "renew the seal"}, user="owner")[0], 201)
        notice = self.server.api("GET", "/api/cases/ST-VP8", user="owner")[1]["notice"]
        item3 = [i for i in notice["items"] if i["position"] == 3][0]
        self.assertEqual(item3["stills"], [{"id": still["id"], "sha256": still["sha256"]}])
        # the applicant sees the notice's stills with the invite token, and nothing else
        other = self.capture("ST-VP8", 1)[1]     # item 1 is not in the notice (taken after it, too)
        other_case = self.server.add_case("ST-OTHER", owner="owner")

        def as_applicant(still_id, token):
            return self.server.request("GET", f"/media/stills/{still_id}",
                                       headers={"Authorization": "Bearer " + token} if token else {})
        status, headers, body = as_applicant(still["id"], case["token"])
        self.assertEqual((status, {k.lower(): v for k, v in headers.items()}.get("content-type")), (200, "image/jpeg"))
        self.assertEqual(hashlib.sha256(body).hexdigest(), still["sha256"])
        self.assertEqual(as_applicant(other["id"], case["token"])[0], 403, "not in the notice")
        self.assertEqual(as_applicant(still["id"], other_case["token"])[0], 401, "another case's invite")
        self.assertEqual(as_applicant(still["id"], "x" * 43)[0], 401, "a made-up token")
        self.assertEqual(as_applicant(999999, case["token"])[0], 401, "an unknown still looks like a wrong token")
        self.assertEqual(as_applicant(still["id"], None)[0], 401)
        self.assertEqual(self.server.request("GET", "/media/recordings/1",
                                             headers={"Authorization": "Bearer " + case["token"]})[0], 401,
                         "an invite never opens a recording")
        with self.server.db() as db:
            who = db.execute("SELECT actor FROM audit_log WHERE action = 'still.accessed' ORDER BY id DESC LIMIT 1").fetchone()
        self.assertEqual(who, ("applicant",), "the applicant's view is in the audit log")
        with self.server.db() as db:
            self.assertEqual(db.execute("SELECT count(*) FROM audit_log WHERE action = 'still.captured'").fetchone()[0], 2)
        ws.close()

    def test_still_from_h264(self):
        case, ws, pub = self.live_case("ST-H264", "h264")
        self.check_still("ST-H264", "h264")
        ws.close()

    def test_no_still_without_video(self):
        self.server.add_case("ST-NONE", owner="owner")
        status, body = self.capture("ST-NONE", 1)
        self.assertEqual((status, body["code"]), (409, "conflict"))


if __name__ == "__main__":
    unittest.main()

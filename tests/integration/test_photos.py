"""Photo-grade evidence (issue 18): a reviewer asks the applicant's phone for a photograph of an
item, the phone (here its WebSocket protocol, spoken from Python) hears `photo_request` and
uploads a real JPEG or PNG (made by ffmpeg at phone-camera size) with its invite and the request's
id and key; the server hashes it, keeps it as a still with source "photo", puts its SHA-256 in the
audit chain and tells the reviewers. Everything else — no request, a used one, another case's, a
wrong key, HEIC, too large, another case's reviewer — is refused and stores nothing."""
import hashlib
import json
import os
import subprocess
import tempfile
import unittest

import websocket

from kanyan import Server, ffprobe

MAX_BYTES = 4 * 1024 * 1024   # [photos] max_bytes: a phone's 12 MP JPEG fits, a bigger body does not


def recv_type(ws, type_, limit=40):
    for _ in range(limit):
        msg = json.loads(ws.recv())
        if msg["type"] == type_:
            return msg
    raise AssertionError(f"no {type_} message")


def image(ext, size, quality=None, noise=0):
    path = os.path.join(tempfile.mkdtemp(prefix="kanyan-photo-"), "photo." + ext)
    source = f"testsrc2=size={size}" + (f",noise=alls={noise}:allf=t" if noise else "")   # noise: a camera's grain
    args = ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", source, "-frames:v", "1"]
    if quality:
        args += ["-q:v", str(quality)]
    subprocess.run(args + [path], check=True)
    with open(path, "rb") as f:
        return f.read()


class PhotosTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(config=f"[photos]\nmax_bytes = {MAX_BYTES}\n").start()
        cls.server.add_user("owner", "reviewer", "commerce")
        cls.server.add_user("other", "reviewer", "commerce")
        cls.case = cls.server.add_case("PH-1", owner="owner")
        cls.other = cls.server.add_case("PH-2", owner="other")
        cls.reviewer = cls.ws_join("PH-1", "reviewer", cookie=cls.server.login("owner"))
        cls.phone = cls.ws_join("PH-1", "applicant", token=cls.case["token"])
        cls.other_phone = cls.ws_join("PH-2", "applicant", token=cls.other["token"])
        cls.jpeg = image("jpg", "4000x3000", quality=3, noise=8)   # photo-sized: a few MB, over the 64 KiB of JSON bodies
        cls.png = image("png", "320x240")

    @classmethod
    def tearDownClass(cls):
        for ws in (cls.reviewer, cls.phone, cls.other_phone):
            ws.close()
        cls.server.stop()

    @classmethod
    def ws_join(cls, ref, role, token=None, cookie=None):
        ws = websocket.create_connection(cls.server.ws_url, timeout=30, header=["Cookie: " + cookie] if cookie else [])
        msg = {"type": "join", "case": ref, "role": role}
        if token:
            msg["token"] = token
        ws.send(json.dumps(msg))
        recv_type(ws, "joined")
        return ws

    def ask(self, item, user="owner", ref="PH-1"):
        return self.server.api("POST", f"/api/cases/{ref}/photo-requests", {"item": item}, user=user)

    def upload(self, request, key, data, ref="PH-1", token=None, content_type="image/jpeg", extra=""):
        headers = {"Authorization": "Bearer " + (token or self.case["token"]), "Content-Type": content_type}
        status, _, text = self.server.request("POST", f"/api/invite/photos?case={ref}&request={request}&key={key}{extra}",
                                              data, headers)
        return status, json.loads(text) if text else None

    def requested(self, item):
        status, body = self.ask(item)
        self.assertEqual(status, 201, body)
        msg = recv_type(self.phone, "photo_request")
        self.assertEqual((msg["id"], msg["item"]), (body["request"], item))
        self.assertGreater(len(msg["key"]), 20)
        return msg

    def photo_rows(self):
        with self.server.db() as db:
            return db.execute("SELECT count(*) FROM stills WHERE source = 'photo'").fetchone()[0]

    def test_1_requested_jpeg_is_hashed_shown_and_audited(self):
        self.assertGreater(len(self.jpeg), 1024 * 1024, "the test JPEG is photo-sized")
        self.assertLess(len(self.jpeg), MAX_BYTES)
        msg = self.requested(2)
        status, still = self.upload(msg["id"], msg["key"], self.jpeg, extra="&lat=31.230416&lon=121.473701&accuracy=8")
        self.assertEqual(status, 201, still)
        sha = hashlib.sha256(self.jpeg).hexdigest()
        self.assertEqual((still["source"], still["request"], still["item"], still["sha256"], still["bytes"]),
                         ("photo", msg["id"], 2, sha, len(self.jpeg)))
        self.assertEqual((still["width"], still["height"]), (4000, 3000))
        self.assertEqual(still["location"], {"lat": 31.230416, "lon": 121.473701, "accuracy_m": 8})
        with self.server.db() as db:
            path, stored_sha, source, request = db.execute(
                "SELECT path, sha256, source, request_id FROM stills WHERE id = ?", (still["id"],)).fetchone()
            fulfilled, still_id = db.execute("SELECT fulfilled_at, still_id FROM photo_requests WHERE id = ?",
                                             (msg["id"],)).fetchone()
        with open(path, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), sha, "the file on disk is the bytes sent")
        self.assertEqual((stored_sha, source, request, still_id), (sha, "photo", msg["id"], still["id"]))
        self.assertIsNotNone(fulfilled)
        self.assertEqual(ffprobe(path)["streams"][0]["width"], 4000)
        # the reviewers hear of it as a still (the checklist shows it beside item 2); the phone does not
        told = recv_type(self.reviewer, "still")["still"]
        self.assertEqual((told["id"], told["source"], told["sha256"]), (still["id"], "photo", sha))
        # the case detail lists it with the other stills; the still's media route serves its bytes
        detail = self.server.api("GET", "/api/cases/PH-1", user="owner")[1]
        self.assertIn(still["id"], [s["id"] for s in detail["stills"] if s["source"] == "photo"])
        status, headers, body = self.server.request("GET", still["url"], headers={"Cookie": self.server.login("owner")})
        self.assertEqual((status, hashlib.sha256(body).hexdigest()), (200, sha))
        # the audit chain: requested, then captured with the hash
        with self.server.db() as db:
            rows = db.execute("SELECT action, actor, detail FROM audit_log WHERE case_ref = 'PH-1' AND action LIKE "
                              "'photo.%' ORDER BY id").fetchall()
        actions = [(a, actor) for a, actor, _ in rows]
        self.assertIn(("photo.requested", "owner"), actions)
        self.assertIn(("photo.captured", "applicant"), actions)
        captured = json.loads([d for a, _, d in rows if a == "photo.captured"][-1])
        self.assertEqual((captured["sha256"], captured["still"], captured["request"]), (sha, str(still["id"]), str(msg["id"])))
        # annotation works the same as on any still
        shapes = [{"kind": "box", "x1": 0.1, "y1": 0.1, "x2": 0.4, "y2": 0.5}]
        self.assertEqual(self.server.api("POST", "/api/cases/PH-1/annotations", {"still": still["id"], "shapes": shapes},
                                         user="owner")[0], 204)
        # the same request again: refused, nothing more stored
        before = self.photo_rows()
        status, body = self.upload(msg["id"], msg["key"], self.jpeg)
        self.assertEqual((status, body["code"]), (409, "photo_request_used"))
        self.assertEqual(self.photo_rows(), before)

    def test_2_png_accepted(self):
        msg = self.requested(1)
        status, still = self.upload(msg["id"], msg["key"], self.png, content_type="image/png")
        self.assertEqual(status, 201, still)
        self.assertEqual((still["source"], still["width"], still["height"], still["sha256"]),
                         ("photo", 320, 240, hashlib.sha256(self.png).hexdigest()))
        status, headers, _ = self.server.request("GET", still["url"], headers={"Cookie": self.server.login("owner")})
        self.assertEqual((status, {k.lower(): v for k, v in headers.items()}["content-type"]), (200, "image/png"))

    def test_3_refusals_store_nothing(self):
        msg = self.requested(3)
        before = self.photo_rows()
        files_before = sorted(os.listdir(os.path.dirname(self.any_photo_path())))
        heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + os.urandom(4096)
        cases = [
            # no request at all, an unknown one, a wrong key
            (self.upload("", "", self.jpeg), 404, "photo_not_requested"),
            (self.upload(999999, msg["key"], self.jpeg), 404, "photo_not_requested"),
            (self.upload(msg["id"], "not-the-key", self.jpeg), 404, "photo_not_requested"),
            # another case's page (its own valid invite) using this case's request
            (self.upload(msg["id"], msg["key"], self.jpeg, ref="PH-2", token=self.other["token"]), 404,
             "photo_not_requested"),
            # this case's request with another case's invite: the invite is wrong for PH-1
            (self.upload(msg["id"], msg["key"], self.jpeg, token=self.other["token"]), 401, "bad_token"),
            # HEIC and bytes that are no image
            (self.upload(msg["id"], msg["key"], heic, content_type="image/heic"), 415, "photo_type_refused"),
            (self.upload(msg["id"], msg["key"], b"GIF89a" + os.urandom(2000), content_type="image/gif"), 415,
             "photo_type_refused"),
            # a form post (what another site's page could send without a preflight)
            (self.upload(msg["id"], msg["key"], self.jpeg, content_type="text/plain"), 415, "unsupported_media_type"),
            # one byte over [photos] max_bytes: read whole, then refused by name
            (self.upload(msg["id"], msg["key"], self.jpeg[:3] + b"\x00" * (MAX_BYTES - 2)), 413, "photo_too_large"),
        ]
        for (status, body), want_status, want_code in cases:
            self.assertEqual((status, body and body.get("code")), (want_status, want_code), body)
        self.assertEqual(self.photo_rows(), before)
        self.assertEqual(sorted(os.listdir(os.path.dirname(self.any_photo_path()))), files_before, "no file left behind")
        # a body far over the limit is answered by its Content-Length, before it is read
        status, body = self.upload(msg["id"], msg["key"], self.jpeg + b"\x00" * MAX_BYTES)
        self.assertEqual((status, body["code"]), (413, "photo_too_large"))
        self.assertEqual(self.photo_rows(), before)
        # the request survived every refusal: the right photo still goes in
        status, still = self.upload(msg["id"], msg["key"], self.png, content_type="image/png")
        self.assertEqual((status, still["item"]), (201, 3), still)

    def test_3b_expired_request_refused(self):
        msg = self.requested(4)
        with self.server.db() as db:   # as if [photos] request_ttl_s had passed
            db.execute("UPDATE photo_requests SET expires_at = requested_at - 1 WHERE id = ?", (msg["id"],))
        before = self.photo_rows()
        status, body = self.upload(msg["id"], msg["key"], self.png, content_type="image/png")
        self.assertEqual((status, body["code"]), (409, "photo_request_expired"))
        self.assertEqual(self.photo_rows(), before)

    def test_4_who_may_ask(self):
        # another case's reviewer may not ask this case's phone
        status, body = self.ask(1, user="other")
        self.assertEqual((status, body["code"]), (403, "forbidden"))
        # a bad item, and a case whose phone is not on a live inspection
        self.assertEqual(self.ask(99)[1]["code"], "bad_field")
        self.server.add_case("PH-3", owner="owner")
        self.assertEqual(self.ask(1, ref="PH-3")[1]["code"], "conflict")
        with self.server.db() as db:
            self.assertEqual(db.execute("SELECT count(*) FROM photo_requests p JOIN cases c ON c.id = p.case_id "
                                        "WHERE c.ref = 'PH-3'").fetchone()[0], 0, "a refused request is not kept")
        self.assertIsNone(self.server.proc.poll())

    def test_5_large_bodies_only_on_the_photo_route(self):
        # a photo-sized body anywhere else under /api/ is still refused at 64 KiB
        big = json.dumps({"item": 1, "pad": "x" * (len(self.jpeg))}).encode()
        for path, headers in (("/api/cases/PH-1/stills", {"Cookie": self.server.login("owner")}),
                              ("/api/invite/geo?case=PH-1", {"Authorization": "Bearer " + self.case["token"]})):
            status, _, text = self.server.request("POST", path, big, dict(headers, **{"Content-Type": "application/json"}))
            self.assertEqual((status, json.loads(text)["code"]), (413, "too_large"), path)

    def any_photo_path(self):
        with self.server.db() as db:
            return db.execute("SELECT path FROM stills WHERE source = 'photo' ORDER BY id LIMIT 1").fetchone()[0]


if __name__ == "__main__":
    unittest.main()

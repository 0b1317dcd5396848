"""WHEP egress (issue 19, item 1): a third-party player watches a live inspection with a
short-lived viewing token a reviewer issued for that case. aiortc as the WHEP client gets
decoded video and audio; wrong, expired, revoked and other-case tokens and a bad offer get
their stable codes; the watcher is listed among the participants and audited with who issued
its token and from where it came; it sends nothing, and the server's answer only sends."""
import json
import os
import subprocess
import time
import unittest

import websocket

from kanyan import KANYAN, PEERS, PYTHON, SECRETS, SLACK, JsonLines, Server, wait_until

OFFER_HEADERS = {"Content-Type": "application/sdp"}
# a syntactically valid offer the server can check without media: one recvonly video m-line
TINY_OFFER = ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
              "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n")


class WhepTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.case = cls.server.add_case("WHEP-1")
        cls.other = cls.server.add_case("WHEP-2")
        cls.publisher = cls.server.aiortc_publisher(cls.case, duration=120 * SLACK)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def issue(self, ref, ttl_s=600, user="owner"):
        status, body = self.server.api("POST", f"/api/cases/{ref}/watch-tokens", {"ttl_s": ttl_s}, user=user)
        self.assertEqual(status, 201, body)
        self.assertEqual(body["whep_url"], f"/whep/{ref}")
        return body

    def post_offer(self, token, sdp=TINY_OFFER, ref="WHEP-1"):
        headers = dict(OFFER_HEADERS, Authorization="Bearer " + token)
        status, _, text = self.server.request("POST", f"/whep/{ref}", sdp.encode(), headers)
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def player(self, token, duration, name):
        argv = [PYTHON, os.path.join(PEERS, "whep_aiortc.py"), "--url", f"{self.server.base}/whep/WHEP-1",
                "--token=" + token, "--duration", str(duration), "--wait-live", str(60 * SLACK)]
        peer = JsonLines(argv, os.path.join(self.server.dir, f"{name}.log"))
        self.server.children.append(peer)
        return peer

    def test_1_player_receives_video_and_audio(self):
        token = self.issue("WHEP-1")
        player = self.player(token["token"], duration=15, name="whep-a")
        self.assertTrue(wait_until(lambda: player.events("answered") or player.events("error"), 90), player.lines)
        answered = player.events("answered")
        self.assertTrue(answered, player.lines)
        # receive-only: the server's answer only sends, and the player has nothing to send
        self.assertEqual(answered[0]["directions"].get("video"), "sendonly", answered[0])
        self.assertEqual(answered[0]["directions"].get("audio"), "sendonly", answered[0])
        self.assertTrue(answered[0]["location"].startswith("/whep/WHEP-1/"), answered[0])
        # the watcher is in the live inspection's participants, while it watches
        with self.server.db() as db:
            self.assertTrue(wait_until(lambda: db.execute(
                "SELECT count(*) FROM participants WHERE role = 'watcher'").fetchone()[0] >= 1, 30))
        self.assertEqual(player.wait(timeout=120), 0, player.lines)
        last = player.last("video")
        self.assertGreaterEqual(last["video"], 10, player.lines)    # decoded video frames
        self.assertEqual((last["width"], last["height"]), (640, 480), last)
        self.assertGreater(last["audio"], 0, player.lines)          # decoded audio frames
        self.assertEqual([l["sending"] for l in player.events("frames") if l["sending"]], [], player.lines)
        self.assertEqual(player.events("deleted")[0]["status"], 200)
        with self.server.db() as db:
            # left when it DELETEd
            self.assertTrue(wait_until(lambda: db.execute(
                "SELECT count(*) FROM participants WHERE role = 'watcher' AND left_at IS NULL").fetchone()[0] == 0,
                30))
            used = db.execute("SELECT detail, actor FROM audit_log WHERE action = 'watch_token.used' "
                              "AND case_ref = 'WHEP-1'").fetchall()
            joined = db.execute("SELECT detail FROM audit_log WHERE action = 'participant.joined' "
                                "AND actor LIKE 'watcher:%'").fetchall()
            issued = db.execute("SELECT actor FROM audit_log WHERE action = 'watch_token.issued' "
                                "AND case_ref = 'WHEP-1'").fetchall()
            row = db.execute("SELECT issued_by, used_at, used_from FROM watch_tokens WHERE id = ?",
                             (token["id"],)).fetchone()
        self.assertTrue(any('"issued_by":"owner"' in d.replace(" ", "") and "127.0.0.1" in d for d, _ in used), used)
        self.assertTrue(all(a.startswith("watcher:") for _, a in used), used)
        self.assertIn(("owner",), issued)
        self.assertTrue(joined and all('"whep"' in d for (d,) in joined), joined)
        self.assertEqual(row[0], "owner")
        self.assertIsNotNone(row[1])
        self.assertEqual(row[2], "127.0.0.1")
        # the watcher was never heard by the applicant: its talk-back stayed silent
        levels = [l.get("audio_rms", 0) for l in self.publisher.events("stats")]
        self.assertTrue(levels, self.publisher.lines[-5:])
        self.assertLess(max(levels), 50, levels)

    def test_2_tokens_that_do_not_admit(self):
        # wrong token
        status, body = self.post_offer("not-a-token")
        self.assertEqual((status, body["code"]), (401, "bad_token"), body)
        # a token of another case
        other = self.issue("WHEP-2")
        status, body = self.post_offer(other["token"])
        self.assertEqual((status, body["code"]), (403, "watch_token_wrong_case"), body)
        # revoked
        revoked = self.issue("WHEP-1")
        status, body = self.server.api("DELETE", f"/api/cases/WHEP-1/watch-tokens/{revoked['id']}", {}, user="owner")
        self.assertEqual(status, 200, body)
        status, body = self.post_offer(revoked["token"])
        self.assertEqual((status, body["code"]), (401, "watch_token_revoked"), body)
        # revoking twice finds nothing live
        status, body = self.server.api("DELETE", f"/api/cases/WHEP-1/watch-tokens/{revoked['id']}", {}, user="owner")
        self.assertEqual((status, body["code"]), (404, "not_found"), body)
        # expired: a one-second token, tried once its expiry has passed
        short = self.issue("WHEP-1", ttl_s=1)
        self.assertTrue(wait_until(lambda: time.time() * 1000 > short["expires_at"] + 50, 10))
        status, body = self.post_offer(short["token"])
        self.assertEqual((status, body["code"]), (401, "watch_token_expired"), body)
        with self.server.db() as db:
            revokes = db.execute("SELECT actor FROM audit_log WHERE action = 'watch_token.revoked'").fetchall()
        self.assertEqual(revokes, [("owner",)])

    def test_3_issuing_needs_the_case(self):
        status, body = self.server.api("POST", "/api/cases/WHEP-1/watch-tokens", {"ttl_s": 60})
        self.assertEqual(status, 401, body)
        self.server.add_user("stranger", department="fire")
        status, body = self.server.api("POST", "/api/cases/WHEP-1/watch-tokens", {"ttl_s": 60}, user="stranger")
        self.assertEqual(status, 403, body)
        status, body = self.server.api("POST", "/api/cases/WHEP-1/watch-tokens", {"ttl_s": 0}, user="owner")
        self.assertEqual((status, body["code"]), (400, "bad_field"), body)

    def test_4_bad_offer(self):
        token = self.issue("WHEP-1")
        # wait for the applicant's media: before it, any offer is not_live
        self.assertTrue(wait_until(lambda: self.post_offer(token["token"], sdp="garbage")[0] != 409, 60))
        status, body = self.post_offer(token["token"], sdp="garbage")
        self.assertEqual((status, body["code"]), (400, "bad_sdp"), body)
        audio_only = TINY_OFFER.replace("m=video", "m=audio").replace("VP8/90000", "opus/48000/2")
        status, body = self.post_offer(token["token"], sdp=audio_only)
        self.assertEqual((status, body["code"]), (400, "bad_sdp"), body)

    def test_5_cli_watch_token(self):
        argv = [KANYAN, "case", "watch-token", "--ref", "WHEP-1", "--ttl", "1h30m", "--json"] + self.server.common_args()
        before = time.time() * 1000
        out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
        token = json.loads(out)
        SECRETS.add(token["token"])
        self.assertGreaterEqual(token["expires_at"], before + 5400 * 1000)
        self.assertLessEqual(token["expires_at"], time.time() * 1000 + 5400 * 1000)
        # it admits (the garbage offer is then what is refused, or the room is not live yet)
        status, body = self.post_offer(token["token"], sdp="garbage")
        self.assertIn(body["code"], ("bad_sdp", "not_live"), body)
        with self.server.db() as db:
            self.assertEqual(db.execute("SELECT issued_by FROM watch_tokens WHERE id = ?", (token["id"],)).fetchone(),
                             ("cli",))
        bad = subprocess.run(argv[:5] + ["--ttl", "3d"] + self.server.common_args(), capture_output=True, text=True)
        self.assertEqual(bad.returncode, 2, bad.stderr)


    def test_6_revoking_lets_the_player_go(self):
        token = self.issue("WHEP-1")
        player = self.player(token["token"], duration=120 * SLACK, name="whep-revoked")
        self.assertTrue(wait_until(lambda: player.events("answered") or player.events("error"), 90), player.lines)
        self.assertTrue(player.events("answered"), player.lines)
        self.assertTrue(wait_until(lambda: (player.last("video") or {}).get("video", 0) > 0, 60), player.lines[-3:])
        # reviewers see the player among the participants, as a watcher, named with its token's issuer
        ws = websocket.create_connection(self.server.ws_url, timeout=10 * SLACK,
                                         header=["Cookie: " + self.server.login("owner")])
        self.addCleanup(ws.close)
        ws.send(json.dumps({"type": "join", "case": "WHEP-1", "role": "reviewer"}))

        def participants_until(predicate):
            for _ in range(200):
                msg = json.loads(ws.recv())
                if msg["type"] == "participants" and predicate(msg["participants"]):
                    return msg["participants"]
            return None
        seen = participants_until(lambda ps: any(p["role"] == "watcher" for p in ps))
        self.assertIsNotNone(seen)
        watcher = [p for p in seen if p["role"] == "watcher"][0]
        self.assertIn(f"token {token['id']} of owner", watcher["name"])
        with self.server.db() as db:
            def watching():
                return db.execute("SELECT count(*) FROM participants WHERE role = 'watcher' AND left_at IS NULL"
                                  ).fetchone()[0]
            self.assertEqual(watching(), 1)
            status, body = self.server.api("DELETE", f"/api/cases/WHEP-1/watch-tokens/{token['id']}", {},
                                           user="owner")
            self.assertEqual((status, body["players_ended"]), (200, 1), body)
            self.assertTrue(wait_until(lambda: watching() == 0, 30))
        self.assertIsNotNone(participants_until(lambda ps: not any(p["role"] == "watcher" for p in ps)))
        player.stop()


class WhepChromiumTest(unittest.TestCase):
    """Chromium as the WHEP player, with a Chromium publisher (same payload types) and with an
    aiortc publisher (VP8 97 / Opus 96 against Chromium's 96 / 111: the watcher's branch
    rewrites the payload types to those its answer chose, docs/whep.md)."""

    def watch(self, publisher):
        server = Server().start()
        self.addCleanup(server.stop)
        case = server.add_case("WHEP-C")
        if publisher == "chromium":
            server.chromium_publisher(case, duration=120 * SLACK, codec="vp8")
        else:
            server.aiortc_publisher(case, duration=120 * SLACK)
        status, token = server.api("POST", "/api/cases/WHEP-C/watch-tokens", {"ttl_s": 600}, user="owner")
        self.assertEqual(status, 201, token)
        argv = ["node", os.path.join(PEERS, "whep_chromium.mjs"), "--url", f"{server.base}/whep/WHEP-C",
                "--token", token["token"], "--duration", "15", "--wait-live", str(60 * SLACK)]
        player = JsonLines(argv, os.path.join(server.dir, "whep-chromium.log"))
        server.children.append(player)
        self.assertEqual(player.wait(timeout=180), 0, player.lines[-5:])
        last = player.last("framesDecoded")
        self.assertGreaterEqual(last["framesDecoded"], 10, player.lines[-5:])
        # the camera's 640×480, or less: a Chromium publisher on a busy machine scales its
        # picture down (480×360 seen) to keep its frame rate — the same picture either way
        w, h = last["frameWidth"], last["frameHeight"]
        self.assertTrue(0 < w <= 640 and w * 3 == h * 4, last)
        self.assertGreater(last["audioPacketsReceived"], 0, last)
        self.assertEqual(last["packetsSent"], 0, last)   # receive-only: no RTP from the player
        self.assertEqual(player.events("deleted")[0]["status"], 200)

    def test_chromium_player_chromium_publisher(self):
        self.watch("chromium")

    def test_chromium_player_aiortc_publisher(self):
        self.watch("aiortc")


if __name__ == "__main__":
    unittest.main()

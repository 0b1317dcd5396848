"""Sound before picture on a weak uplink (issue 14, item 2): the real applicant page, its
uplink capped with tc well under [media] audio_first_kbps, drops its picture to the lowest
(a quarter of the size, a frame a second) and says so; the reviewers are told (`link_mode`)
and the audit log notes it; the sound keeps reaching the reviewer all along; with the cap
lifted the page returns to full video by itself and the reviewers are told again."""
import os
import sys
import time
import json
import unittest

import websocket

from kanyan import PEERS, SLACK, JsonLines, Server, wait_until
from test_bitrate import Cap, sh

FLOOR_KBPS = 250
CAP_KBIT = 120


def audio(peer):
    return (peer.last("audio_buffers") or {}).get("audio_buffers", 0)


@unittest.skipUnless(os.environ.get("KANYAN_NETNS") == "1", "needs the test network namespace (tests/netns.sh)")
class AudioFirstTest(unittest.TestCase):
    def setUp(self):
        self.server = Server(f"[media]\naudio_first_kbps={FLOOR_KBPS}\n").start()
        self.case = self.server.add_case("AF-1")

    def tearDown(self):
        for dev in Cap.DEVICES:
            sh("tc", "qdisc", "del", "dev", dev, "root", check=False)
        self.server.stop()

    def test_weak_uplink_sends_sound_first_and_recovers(self):
        s, duration = self.server, int(150 * SLACK)
        reviewer = s.reviewer(self.case, duration, "R")
        page = JsonLines(["node", os.path.join(PEERS, "apply_chromium.mjs"), "--base", s.base, "--case", self.case["ref"],
                          "--token=" + self.case["token"], "--duration", str(duration)], os.path.join(s.dir, "page.log"))
        s.children.append(page)
        self.assertTrue(wait_until(lambda: page.events("socket"), 90), page.lines[-3:])
        local = page.events("socket")[0]["local"]
        self.assertTrue(local, page.lines[-3:])
        self.assertTrue(wait_until(lambda: (reviewer.last("frames") or {}).get("frames", 0) > 30, 60), reviewer.lines[-3:])
        self.assertEqual(page.events("link_mode"), [], "full video on a clean link")

        with Cap(local, CAP_KBIT):
            capped_at = time.time()
            self.assertTrue(wait_until(lambda: page.events("link_mode"), 40), page.lines[-3:])
            t_weak = time.time() - capped_at
            self.assertEqual(page.events("link_mode")[0]["mode"], "audio_first")
            self.assertTrue(wait_until(lambda: reviewer.events("link_mode"), 10), reviewer.lines[-3:])
            self.assertEqual(reviewer.events("link_mode")[0]["mode"], "audio_first")
            # the sound goes on while the picture is at its lowest
            heard = audio(reviewer)
            self.assertTrue(wait_until(lambda: audio(reviewer) > heard + 100, 30), reviewer.lines[-3:])
        lifted_at = time.time()
        self.assertTrue(wait_until(lambda: [e for e in page.events("link_mode") if e["mode"] == "full"], 60),
                        page.lines[-3:])
        t_back = time.time() - lifted_at
        self.assertTrue(wait_until(lambda: [e for e in reviewer.events("link_mode") if e["mode"] == "full"], 10),
                        reviewer.lines[-3:])
        print(f"\naudio first after {t_weak:.1f} s under a {CAP_KBIT} kbit/s cap; full video {t_back:.1f} s "
              f"after it was lifted", file=sys.stderr)
        actions = [a for (a,) in s.db().execute("SELECT action FROM audit_log WHERE action LIKE 'link.%' ORDER BY id")]
        self.assertEqual(actions[:2], ["link.audio_first", "link.full"])


    def test_only_the_applicant_reports_its_link(self):
        """A reviewer's link_mode is refused with wrong_role; a bad mode with bad_field."""
        s = self.server
        ws = websocket.create_connection(s.ws_url, timeout=10, header=["Cookie: " + s.login("owner")])
        try:
            ws.send(json.dumps({"type": "join", "case": self.case["ref"], "role": "reviewer"}))
            self.assertTrue(any(json.loads(ws.recv())["type"] == "joined" for _ in range(5)))
            for msg, code in (({"type": "link_mode", "mode": "audio_first"}, "wrong_role"),
                              ({"type": "link_mode", "mode": "loud"}, "bad_field")):
                ws.send(json.dumps(msg))
                errors = None
                for _ in range(20):
                    m = json.loads(ws.recv())
                    if m["type"] == "error":
                        errors = m
                        break
                self.assertEqual((errors or {}).get("code"), code, errors)
        finally:
            ws.close()
        self.assertEqual(s.db().execute("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'link.%'").fetchone()[0], 0)


if __name__ == "__main__":
    unittest.main()

"""Every resource an outside party can make the server hold is bounded and released (issue 12):
abandoned WHIP offers give back their webrtcbins, an invalid WHIP offer changes nothing, idle
and slow connections are dropped, the fd limit is survived, sockets per address, account and
case are capped, and HSTS is sent under TLS. Each test is the probe that found the problem."""
import asyncio
import concurrent.futures
import json
import os
import socket
import sys
import time
import unittest
import urllib.error
import urllib.request

import websocket

from kanyan import PEERS, Server, wait_until

sys.path.insert(0, PEERS)


def make_offer():
    """A real max-bundle WHIP offer from aiortc, without candidates: ICE can never connect."""
    from aiortc import RTCPeerConnection
    from whip_aiortc import bundle_offer

    async def offer():
        pc = RTCPeerConnection()
        pc.addTransceiver("video", direction="sendonly")
        pc.addTransceiver("audio", direction="sendrecv")
        await pc.setLocalDescription(await pc.createOffer())
        sdp = bundle_offer(pc.localDescription.sdp)
        await pc.close()
        return sdp

    sdp = asyncio.run(offer())
    lines = [l for l in sdp.replace("\r\n", "\n").split("\n") if not l.startswith(("a=candidate", "a=end-of-cand"))]
    return "\r\n".join(lines).encode()


def proc_usage(pid):
    """(open fds, threads, RSS in KiB) of a process, from /proc."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    threads = len(os.listdir(f"/proc/{pid}/task"))
    with open(f"/proc/{pid}/status") as f:
        rss = int(next(l for l in f if l.startswith("VmRSS:")).split()[1])
    return fds, threads, rss


def whip_post(server, ref, token, body, timeout=20):
    req = urllib.request.Request(f"{server.base}/whip/{ref}", data=body, method="POST",
                                 headers={"Content-Type": "application/sdp", "Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def open_sessions(server):
    with server.db() as db:
        return db.execute("SELECT COUNT(*) FROM live_sessions WHERE ended_at IS NULL").fetchone()[0]


class WhipLimitsTest(unittest.TestCase):
    def setUp(self):
        self.server = Server(config="[media]\nroom_linger_s=1\npublisher_connect_timeout_s=3\n").start()
        self.case = self.server.add_case("LIM-1")
        self.offer = make_offer()

    def tearDown(self):
        self.server.stop()

    def burst(self, n, parallel=4):
        with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
            return list(pool.map(lambda _: whip_post(self.server, "LIM-1", self.case["token"], self.offer)[0], range(n)))

    def settled_usage(self):
        """Usage once nothing changes any more: the lowest of a few samples a second apart."""
        samples = []
        for _ in range(5):
            samples.append(proc_usage(self.server.proc.pid))
            time.sleep(1)
        return tuple(min(s[i] for s in samples) for i in range(3))

    def test_parallel_abandoned_offers_release_everything(self):
        # warm up (plugins loaded, thread pools made), then let the live inspection close
        statuses = self.burst(8)
        self.assertTrue(all(s in (201, 409, 429) for s in statuses), statuses)
        self.assertTrue(wait_until(lambda: open_sessions(self.server) == 0, 120, step=0.5), "the inspection never closed")
        start = self.settled_usage()
        # 200 offers, 4 at a time, each replacing a publisher whose answer may still be pending;
        # none ever connects (no candidates): replaced ones and the last one (timeout) must go
        statuses = self.burst(200)
        # answered (201), replaced while pending (409), or refused while another offer of the
        # case is being answered (429); never a server error
        self.assertTrue(all(s in (201, 409, 429) for s in statuses), sorted(set(statuses)))
        self.assertGreaterEqual(sum(s in (201, 409) for s in statuses), 10, "offers were answered and replaced")
        peak = proc_usage(self.server.proc.pid)
        self.assertTrue(wait_until(lambda: open_sessions(self.server) == 0, 120, step=0.5), "the inspection never closed")

        def back():
            fds, threads, rss = proc_usage(self.server.proc.pid)
            return fds <= start[0] * 1.1 and threads <= start[1] * 1.1 and rss <= start[2] * 1.1
        ok = wait_until(back, 150, step=1)
        self.assertTrue(ok, f"start {start}, peak {peak}, now {proc_usage(self.server.proc.pid)} (fds, threads, RSS KiB)")

    def test_invalid_offer_changes_nothing(self):
        # a publisher is connected (its answer delivered); then garbage arrives with the same token
        status, _ = whip_post(self.server, "LIM-1", self.case["token"], self.offer)
        self.assertEqual(status, 201)
        with self.server.db() as db:
            before = (db.execute("SELECT status FROM cases WHERE ref = 'LIM-1'").fetchone(),
                      db.execute("SELECT COUNT(*) FROM participants").fetchone()[0],
                      db.execute("SELECT COUNT(*) FROM participants WHERE left_at IS NULL").fetchone()[0],
                      db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0],
                      db.execute("SELECT COUNT(*) FROM live_sessions").fetchone()[0])
        for body in (b"v=0\r\n", b"garbage", b"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\n",
                     b"\xff\xfe" * 100):
            status, text = whip_post(self.server, "LIM-1", self.case["token"], body)
            self.assertEqual(status, 400, (body[:40], text))
            self.assertEqual(json.loads(text)["code"], "bad_sdp")
        with self.server.db() as db:
            after = (db.execute("SELECT status FROM cases WHERE ref = 'LIM-1'").fetchone(),
                     db.execute("SELECT COUNT(*) FROM participants").fetchone()[0],
                     db.execute("SELECT COUNT(*) FROM participants WHERE left_at IS NULL").fetchone()[0],
                     db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0],
                     db.execute("SELECT COUNT(*) FROM live_sessions").fetchone()[0])
        self.assertEqual(before, after, "(case state, participants, still present, audit rows, sessions)")
        self.assertEqual(before[2], 1, "the connected publisher stays")

    def test_invalid_offer_on_an_idle_case_opens_nothing(self):
        with self.server.db() as db:
            status_before = db.execute("SELECT status FROM cases WHERE ref = 'LIM-1'").fetchone()[0]
            audit_before = db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
        status, _ = whip_post(self.server, "LIM-1", self.case["token"], b"v=0\r\n")
        self.assertEqual(status, 400)
        with self.server.db() as db:
            self.assertEqual(db.execute("SELECT COUNT(*) FROM live_sessions").fetchone()[0], 0)
            self.assertEqual(db.execute("SELECT COUNT(*) FROM participants").fetchone()[0], 0)
            self.assertEqual(db.execute("SELECT status FROM cases WHERE ref = 'LIM-1'").fetchone()[0], status_before)
            self.assertEqual(db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0], audit_before)


if __name__ == "__main__":
    unittest.main()

"""Reachability, part two (issue 13): networks that drop UDP, NATs, and saying what is wrong.

Every case runs the real applicant page (web/apply) in headless Chromium with its fake camera,
a reviewer peer that decodes frames, and asserts which candidate pair the server recorded for
the applicant (GET /api/cases/REF: sessions[].peers[].ice, migration 12):

- every UDP packet to and from the server's ICE ports dropped: the page connects over ICE-TCP
  (the server's passive TCP host candidates), pair host/tcp;
- the same with ICE-TCP off ([ice] tcp=false) and UDP to coturn's port dropped too: the page
  connects through coturn's relay, reached over TCP (turn:…?transport=tcp);
- coturn stopped and UDP dropped: the page's pre-flight check says neither UDP nor a relay is
  reachable, the page shows what to try 15 s after Start, the reviewer is told "connected on
  signaling but not on media" with the kinds of candidates each side offered (and the audit
  trail keeps it); the server keeps running.
"""
import json
import os
import re
import shutil
import subprocess
import time
import unittest

import websocket

import kanyan
from kanyan import PEERS, SLACK, JsonLines, Server, free_port, wait_until
from test_reach import TURN_SECRET, Coturn

PORTS = "40000-40100"   # the server's [media] ICE port range (UDP and, for ICE-TCP, TCP)
MEDIA = "[media]\nice_port_min=40000\nice_port_max=40100\nviewer_answer_timeout_s=300\n"


def nft(*args):
    subprocess.run(["nft"] + list(args), check=True, capture_output=True, text=True)


def nft_counter(table, chain):
    out = subprocess.run(["nft", "list", "chain", "inet", table, chain], capture_output=True, text=True).stdout
    return sum(int(n) for n in re.findall(r"counter packets (\d+)", out))


def applicant_page(server, case, duration, name="apply", extra=()):
    argv = ["node", os.path.join(PEERS, "apply_chromium.mjs"), "--base", server.base, "--case", case["ref"],
            "--token=" + case["token"], "--duration", str(duration)] + list(extra)
    peer = JsonLines(argv, os.path.join(server.dir, f"{name}.log"))
    server.children.append(peer)
    return peer


def frames(reviewer):
    last = reviewer.last("frames")
    return last["frames"] if last else 0


def applicant_pairs(server, case):
    """the ice pairs the server recorded for the applicant's connections, newest session last"""
    status, body = server.api("GET", f"/api/cases/{case['ref']}", user="owner")
    if status != 200:
        return []
    return [p["ice"] for s in body["sessions"] for p in s.get("peers", []) if p["role"] == "applicant" and p["ice"]]


def timeline(server, case):
    if "auditor" not in server.passwords:
        server.add_user("auditor", role="auditor")
    status_code, body = server.api("GET", f"/api/cases/{case['ref']}/timeline", user="auditor")
    assert status_code == 200, body
    return body["entries"]


def status(page):
    states = page.events("status")
    return states[-1]["state"] if states else None


class ReachCase(unittest.TestCase):
    TABLE = "kanyan_reach2"

    def tearDown(self):
        for thing in getattr(self, "cleanup", []):
            thing()
        subprocess.run(["nft", "delete", "table", "inet", self.TABLE], capture_output=True)

    def drop_udp(self, except_sport=None, except_dport=None, also_dport=None):
        """drop every UDP packet to or from the server's ICE ports (but those from/to except_*)"""
        nft(f"add table inet {self.TABLE}")
        nft(f"add chain inet {self.TABLE} out {{ type filter hook output priority 0 ; }}")
        keep_in = f" udp sport != {except_sport}" if except_sport else ""
        keep_out = f" udp dport != {except_dport}" if except_dport else ""
        nft(f"add rule inet {self.TABLE} out udp dport {PORTS}{keep_in} counter drop")
        nft(f"add rule inet {self.TABLE} out udp sport {PORTS}{keep_out} counter drop")
        if also_dport:
            nft(f"add rule inet {self.TABLE} out udp dport {also_dport} counter drop")

    def start_server(self, config):
        self.server = Server(config=config).start()
        self.cleanup = [self.server.stop] + getattr(self, "cleanup", [])
        self.case = self.server.add_case("REACH-" + self._testMethodName[-12:].upper().replace("_", "-"))
        return self.server


class IceTcpTest(ReachCase):
    def test_no_udp_connects_over_ice_tcp(self):
        self.drop_udp()
        server = self.start_server(MEDIA)
        reviewer = server.reviewer(self.case, 120, "R")
        page = applicant_page(server, self.case, 120)
        self.assertTrue(wait_until(lambda: frames(reviewer) > 30, 60 * SLACK),
                        (page.lines[-5:], reviewer.lines[-3:], server.log_text()[-3000:]))
        self.assertTrue(wait_until(lambda: applicant_pairs(server, self.case), 20 * SLACK), server.log_text()[-2000:])
        pair = applicant_pairs(server, self.case)[-1]
        self.assertEqual(pair["server"], "host/tcp", pair)
        self.assertRegex(pair["peer"], r"^(host|prflx)/tcp$", pair)
        self.assertEqual(status(page), "live", page.lines[-5:])
        # UDP was tried and dropped, not merely unused
        self.assertGreater(nft_counter(self.TABLE, "out"), 0)
        # the auditor's session facts and the audit trail name it
        entries = timeline(server, self.case)
        connected = [e for e in entries if e["action"] == "participant.connected" and e["actor"].startswith("applicant:")]
        self.assertTrue(connected and connected[-1]["detail"]["server"] == "host/tcp", connected)


@unittest.skipUnless(shutil.which("turnserver"), "coturn is not installed (tools/install-deps.sh)")
class TurnTcpTest(ReachCase):
    """ICE-TCP off: with UDP dropped between the phone and the server and to coturn's own
    port, the only way left is TURN over TCP to coturn, which relays to the server over UDP."""

    def test_no_udp_no_ice_tcp_connects_through_turn_tcp(self):
        kanyan.SECRETS.add(TURN_SECRET)
        self.turn = Coturn(free_port())
        self.cleanup = [self.turn.stop]
        p = self.turn.port
        # relayed media (coturn's relay ports 49160-49260 ↔ the server's ICE ports) passes; the rest is dropped
        self.drop_udp(except_sport="49160-49260", except_dport="49160-49260", also_dport=p)
        nft(f"add chain inet {self.TABLE} tcpcount {{ type filter hook output priority 0 ; }}")
        nft(f"add rule inet {self.TABLE} tcpcount tcp dport {p} counter")
        # coturn answers STUN and TURN over UDP and TCP, as deployed; UDP never gets there
        server = self.start_server(MEDIA + f"[ice]\ntcp=false\nstun_servers=stun:10.77.0.1:{p}\n"
                                   f"turn_servers=turn:10.77.0.1:{p}?transport=udp;turn:10.77.0.1:{p}?transport=tcp\n"
                                   f"turn_secret={TURN_SECRET}\n")
        reviewer = server.reviewer(self.case, 120, "R")
        page = applicant_page(server, self.case, 120)
        self.assertTrue(wait_until(lambda: page.events("check"), 60 * SLACK), page.lines)
        check = page.events("check")[0]
        self.assertEqual(check["result"], "no_udp", check)    # UDP dropped, the relay over TCP reached
        self.assertIn("relay/udp(tcp)", check["kinds"], check)
        self.assertTrue(wait_until(lambda: frames(reviewer) > 30, 60 * SLACK),
                        (page.lines[-5:], reviewer.lines[-3:], self.turn.log()[-2000:]))
        self.assertTrue(wait_until(lambda: applicant_pairs(server, self.case), 20 * SLACK), server.log_text()[-2000:])
        pair = applicant_pairs(server, self.case)[-1]
        self.assertEqual(pair["peer"].split("/")[0], "relay", pair)
        self.assertNotIn("/tcp", pair["server"], pair)     # no ICE-TCP candidate on the server's side
        # and the phone's media went to coturn over TCP: hundreds of segments, not a few checks
        self.assertTrue(wait_until(lambda: nft_counter(self.TABLE, "tcpcount") > 200, 20 * SLACK), nft_counter(self.TABLE, "tcpcount"))


class NoPathTest(ReachCase):
    """coturn is not running and no UDP passes: nothing can connect, and everyone is told why."""

    def test_check_and_no_media_notice(self):
        dead = free_port()   # nobody listens here: the configured STUN/TURN server is down
        self.drop_udp(also_dport="1-65535")
        server = self.start_server(MEDIA + f"[ice]\ntcp=false\nstun_servers=stun:10.77.0.1:{dead}\n"
                                   f"turn_servers=turn:10.77.0.1:{dead}?transport=udp;turn:10.77.0.1:{dead}?transport=tcp\n"
                                   f"turn_secret={TURN_SECRET}\n")
        kanyan.SECRETS.add(TURN_SECRET)
        ws = websocket.create_connection(server.ws_url, timeout=5, header=["Cookie: " + server.login("owner")])
        self.cleanup = [ws.close] + self.cleanup
        ws.send(json.dumps({"type": "join", "case": self.case["ref"], "role": "reviewer"}))
        page = applicant_page(server, self.case, 60 * SLACK, extra=["--lang", "zh-CN"])
        self.assertTrue(wait_until(lambda: page.events("check"), 60 * SLACK), page.lines)
        check = page.events("check")[0]
        self.assertEqual(check["result"], "no_udp_no_relay", check)
        self.assertIn("UDP", check["text"])
        self.assertIn("中继", check["text"])               # the zh-CN words for the relay
        # the reviewer hears that the applicant is connected on signaling but not on media
        reach, deadline = None, time.time() + 90 * SLACK
        while not reach and time.time() < deadline:
            try:
                msg = json.loads(ws.recv())
            except websocket.WebSocketTimeoutException:
                continue
            if msg["type"] == "reach":
                reach = msg
        self.assertIsNotNone(reach, "no reach message reached the reviewer")
        self.assertEqual(reach["state"], "no_media")
        self.assertIn("host/udp", reach["applicant_candidates"], reach)
        self.assertIn("host/udp", reach["server_candidates"], reach)
        # the page shows what to try
        self.assertTrue(wait_until(lambda: any(e["visible"] for e in page.events("help")), 30 * SLACK), page.lines[-5:])
        help_text = [e for e in page.events("help") if e["visible"]][-1]["text"]
        self.assertIn("移动数据", help_text)                # switch Wi-Fi / mobile data
        self.assertNotEqual(status(page), "live")
        # the audit trail keeps the reason; the server is still serving
        entries = timeline(server, self.case)
        self.assertTrue([e for e in entries if e["action"] == "reach.no_media"], entries[-5:])
        self.assertIsNone(server.proc.poll())
        self.assertEqual(server.get_json("/api/health").get("ok", True), True)


if __name__ == "__main__":
    unittest.main()

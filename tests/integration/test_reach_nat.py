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
  trail keeps it); the server keeps running;
- the phone in a namespace of its own behind a router namespace that masquerades (PhoneNat):
  connects host/udp ↔ prflx (or srflx);
- the phone behind a NAT that maps every destination to a new port (masquerade random) and the
  server behind one that takes nothing unsolicited on its ICE ports and maps its own sends the
  same way: the page, and an aiortc WHIP publisher configured only from the Link headers,
  connect through coturn's relay;
- UDP out but coturn refusing the credential: the check says "no relay", not "no UDP".
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
from kanyan import JsonLines, PEERS, SLACK, Server, free_port, nft, wait_until
from test_reach import TURN_SECRET, Coturn

PORTS = "40000-40100"   # the server's [media] ICE port range (UDP and, for ICE-TCP, TCP)
REVIEWER_PORTS = "41000-41100"   # a reviewer peer's, where a test tells it apart from the phone
MEDIA = "[media]\nice_port_min=40000\nice_port_max=40100\nviewer_answer_timeout_s=300\n"


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
    """ICE-TCP off: with UDP dropped between the phone and the server, to coturn's own port and
    from anyone but the server to coturn's relay ports, the only way left is the phone's TURN
    over TCP to coturn, which relays to the server over UDP."""

    def test_no_udp_no_ice_tcp_connects_through_turn_tcp(self):
        kanyan.SECRETS.add(TURN_SECRET)
        self.turn = Coturn(free_port())
        self.cleanup = [self.turn.stop]
        p = self.turn.port
        # relayed media (coturn's relay ports 49160-49260 ↔ the server's ICE ports) passes; the rest is dropped
        self.drop_udp(except_sport="49160-49260", except_dport="49160-49260", also_dport=p)
        # the phone may not reach the server's own allocation by UDP either (else ICE may pick
        # phone host ↔ server relay, which is no TURN over TCP), nor may two relays talk
        # (the reviewer, which uses no ICE servers, reaches the server through the server's
        # allocation from ports of its own)
        nft(f"add rule inet {self.TABLE} out udp dport 49160-49260 udp sport != {{ {PORTS}, {REVIEWER_PORTS} }} "
            "counter drop")
        nft(f"add chain inet {self.TABLE} tcpcount {{ type filter hook output priority 0 ; }}")
        nft(f"add rule inet {self.TABLE} tcpcount tcp dport {p} counter")
        # coturn answers STUN and TURN over UDP and TCP, as deployed; UDP never gets there
        server = self.start_server(MEDIA + f"[ice]\ntcp=false\nstun_servers=stun:10.77.0.1:{p}\n"
                                   f"turn_servers=turn:10.77.0.1:{p}?transport=udp;turn:10.77.0.1:{p}?transport=tcp\n"
                                   f"turn_secret={TURN_SECRET}\n")
        reviewer = server.reviewer(self.case, 120, "R", extra=["--ports", REVIEWER_PORTS])
        page = applicant_page(server, self.case, 120)
        self.assertTrue(wait_until(lambda: page.events("check"), 60 * SLACK), page.lines)
        check = page.events("check")[0]
        self.assertEqual(check["result"], "no_udp", check)    # UDP dropped, the relay over TCP reached
        self.assertIn("relay/udp(tcp)", check["kinds"], check)
        self.assertTrue(wait_until(lambda: frames(reviewer) > 30, 60 * SLACK),
                        (page.lines[-5:], reviewer.lines[-3:], self.turn.log()[-2000:]))
        self.assertTrue(wait_until(lambda: applicant_pairs(server, self.case), 20 * SLACK), server.log_text()[-2000:])
        pair = applicant_pairs(server, self.case)[-1]
        self.assertNotIn("/tcp", pair["server"], pair)     # no ICE-TCP candidate on the server's side
        # through the phone's relay (its TURN allocation over TCP): hundreds of TCP segments
        self.assertTrue(pair["peer"].startswith("relay/"), pair)
        self.assertTrue(wait_until(lambda: nft_counter(self.TABLE, "tcpcount") > 200, 20 * SLACK),
                        nft_counter(self.TABLE, "tcpcount"))


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


# ---- a phone behind a NAT router, in namespaces of their own ----------------------------------

class PhoneNat:
    """Two network namespaces inside the test's own: a router and a phone behind it.

        phone ns  kp1 10.78.0.2 ──veth── kp0 10.78.0.1  router ns  kr1 10.79.0.2 ──veth── kr0 10.79.0.1  test ns
                                                          (masquerade out of kr1)        (server 10.77.0.1, coturn)

    The test namespace has no route to 10.78.0.0/24: the phone's private address is unreachable,
    as behind a carrier's NAT; only what its router maps comes back. `symmetric` makes the router
    map each destination to a new random port (nftables `masquerade random`), as carrier-grade
    NATs do. Each namespace is held by a `sleep` started with `unshare --net`; commands run in it
    through nsenter."""

    def __init__(self, symmetric=False):
        self.holders = []
        self.router = self._namespace()
        self.phone = self._namespace()
        run = lambda *cmd: subprocess.run(list(cmd), check=True, capture_output=True, text=True)
        run("ip", "link", "add", "kr0", "type", "veth", "peer", "name", "kr1")
        run("ip", "link", "set", "kr1", "netns", str(self.router))
        run("ip", "addr", "add", "10.79.0.1/24", "dev", "kr0")
        run("ip", "link", "set", "kr0", "up")
        run("ip", "link", "add", "kp0", "type", "veth", "peer", "name", "kp1")
        run("ip", "link", "set", "kp0", "netns", str(self.router))
        run("ip", "link", "set", "kp1", "netns", str(self.phone))
        self.inside(self.router, "ip link set lo up; ip addr add 10.79.0.2/24 dev kr1; ip link set kr1 up;"
                                 "ip addr add 10.78.0.1/24 dev kp0; ip link set kp0 up;"
                                 "ip route add default via 10.79.0.1; sysctl -qw net.ipv4.ip_forward=1;"
                                 "nft add table ip nat; nft 'add chain ip nat post { type nat hook postrouting priority 100 ; }';"
                                 f"nft add rule ip nat post oifname kr1 counter masquerade{' random' if symmetric else ''}")
        self.inside(self.phone, "ip link set lo up; ip addr add 10.78.0.2/24 dev kp1; ip link set kp1 up;"
                                "ip route add default via 10.78.0.1")

    def _namespace(self):
        proc = subprocess.Popen(["unshare", "--net", "sleep", "infinity"])
        self.holders.append(proc)
        path = f"/proc/{proc.pid}/ns/net"
        # the namespace exists once the sleep runs in it (its net namespace differs from ours)
        if not wait_until(lambda: os.path.exists(path) and os.readlink(path) != os.readlink("/proc/self/ns/net"), 10):
            raise RuntimeError("the namespace did not come up")
        return proc.pid

    @staticmethod
    def inside(pid, script):
        subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "sh", "-ec", script],
                       check=True, capture_output=True, text=True)

    def argv(self, argv):
        """argv run in the phone's namespace"""
        return ["nsenter", f"--net=/proc/{self.phone}/ns/net"] + list(argv)

    def masqueraded(self):
        out = subprocess.run(["nsenter", f"--net=/proc/{self.router}/ns/net", "nft", "list", "chain", "ip", "nat", "post"],
                             capture_output=True, text=True).stdout
        m = re.search(r"counter packets (\d+)", out)
        return int(m.group(1)) if m else 0

    def stop(self):
        subprocess.run(["ip", "link", "del", "kr0"], capture_output=True)
        for proc in self.holders:   # the namespaces (and the veths in them) go with their holders
            proc.terminate()
            proc.wait()


class OpenServer(Server):
    """The server listening on every address, so the phone reaches it as http://10.77.0.1:PORT,
    and gathering ICE candidates on 10.79.0.1 (the link to the phone's router) as well. Seen
    here: with 10.77.0.1 alone, the server's ICE answers to the router's 10.79.0.2 never left
    through kr0 (its answers keep to the candidate's own interface, kt0), while a plain socket's
    did; a candidate on the interface that faces the phone's network is what a real server has."""

    listen_all = False

    def common_args(self):
        return super().common_args() + (["--bind", "0.0.0.0", "--ice-address", "10.79.0.1"] if self.listen_all else [])

    def start(self):
        self.listen_all = True
        try:
            return super().start()
        finally:
            self.listen_all = False

    @property
    def phone_base(self):
        return f"http://10.77.0.1:{self.port}"


def phone_page(server, nat, case, duration, name="phone"):
    argv = nat.argv(["node", os.path.join(PEERS, "apply_chromium.mjs"), "--base", server.phone_base,
                     "--case", case["ref"], "--token=" + case["token"], "--duration", str(duration),
                     f"--chromium-arg=--unsafely-treat-insecure-origin-as-secure={server.phone_base}"])
    peer = JsonLines(argv, os.path.join(server.dir, f"{name}.log"))
    server.children.append(peer)
    return peer


class NatCase(ReachCase):
    def make_nat(self, symmetric=False):
        self.nat = PhoneNat(symmetric)
        self.cleanup = getattr(self, "cleanup", []) + [self.nat.stop]
        return self.nat

    def start_open_server(self, config):
        self.server = OpenServer(config=config).start()
        self.cleanup = [self.server.stop] + getattr(self, "cleanup", [])
        self.case = self.server.add_case("NAT-" + self._testMethodName[-10:].upper().replace("_", "-"))
        return self.server


class PhoneBehindNatTest(NatCase):
    def test_phone_behind_nat_connects_prflx_to_host(self):
        nat = self.make_nat()
        # UDP through the NAT is what is shown: ICE-TCP, which would also connect, is off
        server = self.start_open_server(MEDIA + "[ice]\ntcp=false\n")
        reviewer = server.reviewer(self.case, 120, "R")
        page = phone_page(server, nat, self.case, 120)
        self.assertTrue(wait_until(lambda: frames(reviewer) > 30, 60 * SLACK),
                        (page.lines[-5:], reviewer.lines[-3:], server.log_text()[-2000:]))
        self.assertTrue(wait_until(lambda: applicant_pairs(server, self.case), 20 * SLACK), server.log_text()[-2000:])
        pair = applicant_pairs(server, self.case)[-1]
        # the server saw the phone only as its router's mapping: a peer-reflexive (or server-reflexive) candidate
        self.assertEqual(pair["server"], "host/udp", pair)
        self.assertIn(pair["peer"], ("prflx/udp", "srflx/udp"), pair)
        self.assertGreater(nat.masqueraded(), 0)
        self.assertIn("10.79.0.2", server.log_text())   # the mapped address, not the phone's 10.78.0.2


@unittest.skipUnless(shutil.which("turnserver"), "coturn is not installed (tools/install-deps.sh)")
class SymmetricNatsTest(NatCase):
    """The phone behind a NAT that maps every destination to a new port, the server behind one
    that takes no unsolicited packets on its ICE ports and maps what it sends out the same way:
    only coturn's relay connects them."""

    def server_nat(self):
        # the server's side: nothing new comes in to its ICE ports (UDP or TCP) from the phone's side (kr0);
        # what it sends there leaves from a new random port per destination
        nft(f"add table inet {self.TABLE}")
        nft(f"add chain inet {self.TABLE} in {{ type filter hook input priority 0 ; }}")
        nft(f"add rule inet {self.TABLE} in iifname kr0 udp dport {PORTS} ct state new counter drop")
        nft(f"add rule inet {self.TABLE} in iifname kr0 tcp dport {PORTS} ct state new counter drop")   # no ICE-TCP in
        nft("add table ip kanyan_snat")
        nft("add chain ip kanyan_snat post { type nat hook postrouting priority 100 ; }")
        nft(f"add rule ip kanyan_snat post oifname kr0 udp sport {PORTS} masquerade random")
        self.cleanup = getattr(self, "cleanup", []) + [
            lambda: subprocess.run(["nft", "delete", "table", "ip", "kanyan_snat"], capture_output=True)]

    def setUp(self):
        kanyan.SECRETS.add(TURN_SECRET)
        self.turn = Coturn(free_port())
        self.cleanup = [self.turn.stop]
        self.nat = self.make_nat(symmetric=True)
        self.server_nat()
        p = self.turn.port
        self.start_open_server(MEDIA + f"[ice]\nstun_servers=stun:10.77.0.1:{p}\n"
                               f"turn_servers=turn:10.77.0.1:{p}?transport=udp\nturn_secret={TURN_SECRET}\n")

    def check_relayed(self, pair):
        self.assertTrue(pair["server"].startswith("relay/") or pair["peer"].startswith("relay/"), pair)

    def test_page_connects_through_relay(self):
        server = self.server
        reviewer = server.reviewer(self.case, 120, "R")
        page = phone_page(server, self.nat, self.case, 120)
        self.assertTrue(wait_until(lambda: frames(reviewer) > 30, 60 * SLACK),
                        (page.lines[-5:], reviewer.lines[-3:], self.turn.log()[-2000:]))
        self.assertTrue(wait_until(lambda: applicant_pairs(server, self.case), 20 * SLACK), server.log_text()[-2000:])
        self.check_relayed(applicant_pairs(server, self.case)[-1])

    def test_whip_publisher_uses_link_headers(self):
        server = self.server
        reviewer = server.reviewer(self.case, 120, "R")
        argv = self.nat.argv([kanyan.PYTHON, os.path.join(PEERS, "whip_aiortc.py"),
                              "--url", f"{server.phone_base}/whip/{self.case['ref']}", "--token=" + self.case["token"],
                              "--duration", "120", "--ice-from-links"])
        pub = JsonLines(argv, os.path.join(server.dir, "whip.log"))
        server.children.append(pub)
        self.assertTrue(wait_until(lambda: pub.events("ice_servers") or pub.proc.poll() is not None, 60 * SLACK), pub.lines)
        urls = pub.events("ice_servers")[0]["urls"]
        self.assertIn(f"turn:10.77.0.1:{self.turn.port}?transport=udp", urls)
        self.assertTrue(wait_until(lambda: frames(reviewer) > 30, 60 * SLACK),
                        (pub.lines[-5:], reviewer.lines[-3:], self.turn.log()[-2000:]))
        self.assertTrue(wait_until(lambda: len(applicant_pairs(server, self.case)) >= 1, 20 * SLACK), server.log_text()[-2000:])
        self.check_relayed(applicant_pairs(server, self.case)[-1])
        # the publisher's own allocation, with the credential from its Link header
        self.assertRegex(self.turn.log(), r"user <\d+:NAT-[^>]*\.whip-[^>]*>: incoming packet ALLOCATE processed, success")


@unittest.skipUnless(shutil.which("turnserver"), "coturn is not installed (tools/install-deps.sh)")
class RelayRefusedCheckTest(NatCase):
    """UDP gets out (coturn answers STUN) but coturn refuses the TURN credential (the server's
    secret differs from coturn's): the page's check says the relay cannot be reached, not that
    UDP is blocked — and the phone behind its NAT still connects directly."""

    def test_check_tells_no_relay_from_no_udp(self):
        kanyan.SECRETS.add(TURN_SECRET)
        self.turn = Coturn(free_port())
        self.cleanup = [self.turn.stop]
        nat = self.make_nat()
        p = self.turn.port
        server = self.start_open_server(MEDIA + f"[ice]\nstun_servers=stun:10.77.0.1:{p}\n"
                                        f"turn_servers=turn:10.77.0.1:{p}?transport=udp\nturn_secret=not-coturns-secret\n")
        reviewer = server.reviewer(self.case, 120, "R")
        page = phone_page(server, nat, self.case, 120)
        self.assertTrue(wait_until(lambda: page.events("check"), 60 * SLACK), page.lines)
        check = page.events("check")[0]
        self.assertEqual(check["result"], "no_relay", check)
        self.assertIn("srflx/udp", check["kinds"], check)
        self.assertNotIn("relay", check["kinds"], check)
        self.assertIn("relay server cannot be reached", check["text"])
        self.assertTrue(wait_until(lambda: frames(reviewer) > 30, 60 * SLACK), (page.lines[-5:], reviewer.lines[-3:]))


if __name__ == "__main__":
    unittest.main()

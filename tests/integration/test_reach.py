"""Reachability (issue 13): the [ice] settings reach every peer, with real parts.

- A real coturn (use-auth-secret) in the test's namespace: a WHIP publish (aiortc) gets RFC
  9725 Link headers whose TURN credential verifies with python's hmac and expires turn_ttl_s
  later; the server's own webrtcbins allocate on that coturn with the credential they computed
  (coturn's log says so), and a reviewer decodes frames meanwhile.
- Every UDP packet between the peers and the server's ICE ports dropped, except coturn's: the
  publisher reaches a reviewer only through the relay the server allocated on coturn.
- The WebSocket `joined` message carries iceServers (verifiable credentials) to the applicant
  and the reviewer; without [ice] it carries an empty list.
- A server behind a 1:1 NAT (nftables DNAT 10.77.0.3 → 10.77.0.1 in the namespace) with
  public_addresses and keep_private=false: its only candidates name 10.77.0.3, and the
  publisher's media reaches it through that address.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

import websocket

import kanyan
from kanyan import SLACK, Server, free_port, wait_until

TURN_SECRET = "reach-test-secret-0123456789abcdef"
TTL = 1800


def rest_password(secret, username):
    return base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()


def parse_link(value):
    """'<uri>; rel="ice-server"; username="…"; …' → (uri, {param: value})"""
    m = re.match(r'^<([^>]*)>((?:\s*;\s*[a-z-]+="(?:[^"\\]|\\.)*")*)$', value)
    if not m:
        raise AssertionError(f"not a Link header value: {value!r}")
    params = {k: re.sub(r'\\(.)', r'\1', v) for k, v in re.findall(r';\s*([a-z-]+)="((?:[^"\\]|\\.)*)"', m.group(2))}
    return m.group(1), params


class Coturn:
    """A real coturn on the namespace's veth, time-limited credentials from a shared secret."""

    def __init__(self, port):
        self.dir = tempfile.mkdtemp(prefix="kanyan-coturn-")
        self.port = port
        self.log_path = os.path.join(self.dir, "turn.log")
        conf = os.path.join(self.dir, "turnserver.conf")
        with open(conf, "w") as f:
            f.write("\n".join([
                "listening-ip=10.77.0.1", f"listening-port={port}", "relay-ip=10.77.0.1",
                "min-port=49160", "max-port=49260", "use-auth-secret", f"static-auth-secret={TURN_SECRET}",
                "realm=kanyan.test", "no-tls", "no-dtls", "no-cli", "no-multicast-peers", "fingerprint",
                f"userdb={os.path.join(self.dir, 'turndb')}", f"pidfile={os.path.join(self.dir, 'turn.pid')}",
                f"log-file={self.log_path}", "simple-log", "verbose", ""]))
        self.proc = subprocess.Popen(["turnserver", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until(lambda: "listener opened on" in self.log() or self.proc.poll() is not None, 10):
            self.stop()
            raise RuntimeError("coturn did not start: " + self.log()[-2000:])
        if self.proc.poll() is not None:
            raise RuntimeError("coturn exited: " + self.log()[-2000:])

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10 * SLACK)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def join(server, case, role, user=None):
    headers = ["Cookie: " + server.login(user)] if user else []
    ws = websocket.create_connection(server.ws_url, timeout=30, header=headers)
    msg = {"type": "join", "case": case["ref"], "role": role}
    if role == "applicant":
        msg["token"] = case["token"]
    ws.send(json.dumps(msg))
    for _ in range(20):
        reply = json.loads(ws.recv())
        if reply["type"] == "joined":
            ws.close()
            return reply
        if reply["type"] == "error":
            raise AssertionError(reply)
    raise AssertionError("no joined message")


def applicant_pair(server, case):
    """the candidate pair the server recorded for the applicant's latest connection, or None"""
    status, body = server.api("GET", f"/api/cases/{case['ref']}", user="owner")
    pairs = [p["ice"] for s in (body or {}).get("sessions", []) for p in s.get("peers", [])
             if p["role"] == "applicant" and p["ice"]] if status == 200 else []
    return pairs[-1] if pairs else None


def frames(reviewer):
    last = reviewer.last("frames")
    return last["frames"] if last else 0


@unittest.skipUnless(shutil.which("turnserver"), "coturn is not installed (tools/install-deps.sh)")
class TurnSecretTest(unittest.TestCase):
    def setUp(self):
        kanyan.SECRETS.add(TURN_SECRET)   # the run's log check: the server never logs it
        self.turn = Coturn(free_port())
        self.uri = f"turn:10.77.0.1:{self.turn.port}?transport=udp"
        self.server = Server(config="\n".join([
            "[ice]", f"stun_servers=stun:10.77.0.1:{self.turn.port}", f"turn_servers={self.uri}",
            f"turn_secret={TURN_SECRET}", f"turn_ttl_s={TTL}", ""])).start()
        self.case = self.server.add_case("REACH-1")

    def tearDown(self):
        self.server.stop()
        self.turn.stop()

    def check_credential(self, username, credential, before, after):
        expiry, _, label = username.partition(":")
        self.assertTrue(label and ":" not in label, username)
        self.assertGreaterEqual(int(expiry), before + TTL)
        self.assertLessEqual(int(expiry), after + TTL)
        self.assertEqual(credential, rest_password(TURN_SECRET, username))
        self.assertNotEqual(credential, rest_password(TURN_SECRET + "x", username))

    def test_whip_link_headers_and_server_allocates_on_coturn(self):
        reviewer = self.server.reviewer(self.case, 120, "R")
        before = int(time.time())
        pub = self.server.aiortc_publisher(self.case, 120)
        self.assertTrue(wait_until(lambda: pub.events("published") or pub.proc.poll() is not None, 30), pub.lines)
        after = int(time.time())
        links = [parse_link(v) for v in pub.events("published")[0]["links"]]
        self.assertEqual([u for u, _ in links], [f"stun:10.77.0.1:{self.turn.port}", self.uri], links)
        self.assertEqual(links[0][1], {"rel": "ice-server"})
        turn = links[1][1]
        self.assertEqual(turn["rel"], "ice-server")
        self.assertEqual(turn["credential-type"], "password")
        self.assertIn(".whip-", turn["username"])
        self.check_credential(turn["username"], turn["credential"], before, after)
        # the server's webrtcbins allocated relays with the credential they computed themselves
        self.assertTrue(wait_until(lambda: re.search(r"user <\d+:kanyan-server>: incoming packet ALLOCATE processed, success",
                                                     self.turn.log()), 30), self.turn.log()[-3000:])
        self.assertTrue(wait_until(lambda: frames(reviewer) > 30, 30), reviewer.lines[-3:])

    def test_joined_carries_ice_servers(self):
        before = int(time.time())
        for role, user in (("applicant", None), ("reviewer", "owner")):
            msg = join(self.server, self.case, role, user)
            after = int(time.time())
            servers = msg["iceServers"]
            self.assertEqual(servers[0], {"urls": [f"stun:10.77.0.1:{self.turn.port}"]}, msg)
            self.assertEqual(servers[1]["urls"], [self.uri])
            self.assertTrue(servers[1]["username"].split(":", 1)[1].startswith("REACH-1."), servers)
            self.check_credential(servers[1]["username"], servers[1]["credential"], before, after)
            # a credential coturn itself accepts: turnutils_uclient allocates with it
            if shutil.which("turnutils_uclient"):
                subprocess.run(["turnutils_uclient", "-y", "-n", "1", "-m", "1", "-p", str(self.turn.port),
                                "-u", servers[1]["username"], "-w", servers[1]["credential"], "10.77.0.1"],
                               capture_output=True, text=True, timeout=60 * SLACK)
                accepted = re.escape(f"user <{servers[1]['username']}>: incoming packet ALLOCATE processed, success")
                self.assertTrue(wait_until(lambda: re.search(accepted, self.turn.log()), 10), self.turn.log()[-3000:])


@unittest.skipUnless(shutil.which("turnserver"), "coturn is not installed (tools/install-deps.sh)")
class TurnRelayTest(unittest.TestCase):
    """No UDP passes between the peers and the server's ICE ports, except to and from coturn's
    listening port: media flows only through the relay the server allocated on coturn with the
    credential it computed from turn_secret."""

    PORTS = "40000-40100"   # the server's [media] ICE port range

    def nft(self, *args):
        subprocess.run(["nft"] + list(args), check=True, capture_output=True, text=True)

    def setUp(self):
        kanyan.SECRETS.add(TURN_SECRET)
        self.turn = Coturn(free_port())
        p = self.turn.port
        self.nft("add table inet kanyan_relay")
        self.nft("add chain inet kanyan_relay out { type filter hook output priority 0 ; }")
        self.nft(f"add rule inet kanyan_relay out udp dport {self.PORTS} udp sport != {p} drop")
        self.nft(f"add rule inet kanyan_relay out udp sport {self.PORTS} udp dport != {p} drop")
        # what passes coturn's relay ports either way: the phone's media into the server's relay,
        # the server's out of it (talk-back idles until a reviewer talks: the phone may get little)
        self.nft("add rule inet kanyan_relay out udp sport 49160-49260 counter")
        self.nft("add rule inet kanyan_relay out udp dport 49160-49260 counter")
        self.server = Server(config="\n".join([
            "[media]", "ice_port_min=40000", "ice_port_max=40100",
            "[ice]", f"turn_servers=turn:10.77.0.1:{p}?transport=udp", f"turn_secret={TURN_SECRET}", ""]))
        self.server.env["G_MESSAGES_DEBUG"] = "kanyan libnice"   # its ICE agents' story, for a failure's message
        self.server.start()
        self.case = self.server.add_case("REACH-TURN")

    def tearDown(self):
        self.server.stop()
        self.turn.stop()
        subprocess.run(["nft", "delete table inet kanyan_relay"], capture_output=True)

    def relayed(self):
        out = subprocess.run(["nft", "list chain inet kanyan_relay out"], capture_output=True, text=True).stdout
        return sum(int(n) for n in re.findall(r"counter packets (\d+)", out))

    def test_media_flows_through_coturn(self):
        reviewer = self.server.reviewer(self.case, 120, "R")
        pub = self.server.aiortc_publisher(self.case, 120)
        # a bound scaled like its neighbours' (a loaded machine: 40 s once passed without 30 frames)
        # on failure, what each side saw last (the runner keeps a message's last 1500 characters);
        # a publisher that is gone ends the wait (once, in a fresh-clone run, it left after 5 s)
        wait_until(lambda: frames(reviewer) > 30 or pub.proc.poll() is not None, 40)
        self.assertGreater(frames(reviewer), 30,
                           (self.turn.log()[-500:], f"relayed {self.relayed()}", peer_pairs(self.server, self.case, "applicant"),
                            peer_pairs(self.server, self.case, "reviewer"), reviewer.lines[-1:], pub.lines[-3:],
                            f"publisher exit {pub.proc.poll()}", open(pub.log.name, errors="replace").read()[-400:],
                            ice_story(self.server.log_path)))
        self.assertRegex(self.turn.log(), r"user <\d+:kanyan-server>: incoming packet ALLOCATE processed, success")
        # the media left coturn's relay ports: hundreds of packets, not a few checks
        self.assertTrue(wait_until(lambda: self.relayed() > 200, 20), self.relayed())
        # and the pair the server recorded has the relay on its side
        self.assertTrue(wait_until(lambda: applicant_pair(self.server, self.case), 20))
        self.assertEqual(applicant_pair(self.server, self.case)["server"], "relay/udp")


@unittest.skipUnless(os.environ.get("KANYAN_NETNS") == "1", "needs the test network namespace (tests/netns.sh)")
class LateNominationTest(unittest.TestCase):
    """The phone's connectivity checks are lost for its first 10 s; its answers to the server's
    checks get through (a congested uplink at the start of a call, say). The server's own checks
    succeed at once, but only the phone, the offerer and so the controlling side, can nominate a
    pair, and aioice's next retransmission comes 15.5 s after its first check (0.5 s, doubling).
    libnice's controlled agent declared the connection failed 5 s after its own checks ended
    (its idle-timeout), long before [media] publisher_connect_timeout_s (30 s), and the WHIP
    publish was dropped; the server now waits as long as that setting says."""

    PORTS = "40000-40100"   # the server's [media] ICE port range
    DROP_S = 10

    def nft(self, *args):
        return subprocess.run(["nft"] + list(args), check=True, capture_output=True, text=True).stdout

    def setUp(self):
        self.nft("add table inet kanyan_latenom")
        self.nft("add chain inet kanyan_latenom out { type filter hook output priority 0 ; }")
        # a STUN Binding request (type 0x0001, right after the UDP header) to the server's ICE
        # ports from anything but those ports: the publisher's checks, not the server's
        self.nft(f"add rule inet kanyan_latenom out udp sport != {self.PORTS} udp dport {self.PORTS} "
                 "@th,64,16 0x0001 counter drop")
        self.server = Server(config="[media]\nice_port_min=40000\nice_port_max=40100\n").start()
        self.case = self.server.add_case("REACH-LATE")

    def tearDown(self):
        self.server.stop()
        subprocess.run(["nft", "delete table inet kanyan_latenom"], capture_output=True)

    def dropped(self):
        out = self.nft("list chain inet kanyan_latenom out")
        return sum(int(n) for n in re.findall(r"counter packets (\d+)", out))

    def test_server_waits_for_the_phones_nomination(self):
        pub = self.server.aiortc_publisher(self.case, 45)   # a failure ends with it
        self.assertTrue(wait_until(lambda: pub.events("published") or pub.proc.poll() is not None, 30), pub.lines)
        time.sleep(self.DROP_S)   # the emulated loss lasts this long: a scenario, not a wait for a condition
        self.assertGreater(self.dropped(), 0, "the rule caught none of the publisher's checks")
        self.assertFalse(pub.events("connected"), "connected while its checks were lost")
        self.nft("delete table inet kanyan_latenom")
        self.assertTrue(wait_until(lambda: pub.events("connected") or pub.proc.poll() is not None, 40),
                        pub.lines[-3:])
        self.assertTrue(pub.events("connected"), (pub.lines[-3:], open(self.server.log_path).read()[-1000:]))
        self.assertTrue(wait_until(lambda: applicant_pair(self.server, self.case), 20))


class NoIceSettingsTest(unittest.TestCase):
    def test_joined_has_empty_ice_servers(self):
        server = Server().start()
        try:
            case = server.add_case("REACH-0")
            self.assertEqual(join(server, case, "applicant")["iceServers"], [])
        finally:
            server.stop()


def ice_story(log_path):
    """libnice's component state changes and nominations, one short line each (G_MESSAGES_DEBUG=libnice)"""
    story = []
    with open(log_path, errors="replace") as f:
        for line in f:
            m = re.search(r"(\d\d:\d\d:\d\d\.\d+): Agent 0x\w*(\w{4}) : (?:stream \d+ component \d+ STATE-CHANGE (\S+ -> \S+)|"
                          r"marking pair \S+ \(\S+\) as (nominated)|waiting (\d+) msecs before checking for failed)", line)
            if m:
                what = m.group(3) or m.group(4) or f"idle {m.group(5)} ms"
                story.append(f"{m.group(1)} {m.group(2)} {what}")
    return "ICE: " + "; ".join(story)[-700:]


def peer_pairs(server, case, role):
    """the candidate pairs the server recorded for every connection of `role` in the case"""
    status, body = server.api("GET", f"/api/cases/{case['ref']}", user="owner")
    return [p["ice"] for s in (body or {}).get("sessions", []) for p in s.get("peers", [])
            if p["role"] == role and p["ice"]] if status == 200 else []


@unittest.skipUnless(os.environ.get("KANYAN_NETNS") == "1", "needs the test network namespace (tests/netns.sh)")
class UdpOnTheVethTest(unittest.TestCase):
    """A libnice peer on the other veth end (10.77.0.2, as the bench's publishers) reaches the
    server (10.77.0.1) over UDP. libnice pins its UDP sockets to their address's interface, so
    without accept_local (tests/netns.sh) kt1 dropped every datagram from 10.77.0.1 and the
    pair fell back to ICE-TCP: the bench measured TCP for weeks without saying so. (Peers that
    gather on both veth addresses pair 10.77.0.1 with itself and never showed it.)"""

    def setUp(self):
        from test_aud_publisher import ROOT, make_clip
        subprocess.run(["make", "--no-print-directory", "-s", "-f", "bench/bench.mk", "build/bench-loadgen"],
                       cwd=ROOT, check=True, timeout=600)
        self.work = tempfile.mkdtemp(prefix="kanyan-udp-")
        self.clip = os.path.join(self.work, "clip.mkv")
        make_clip(self.clip)
        self.server = Server().start()
        self.case = self.server.add_case("REACH-UDP")
        self.loadgen = None

    def tearDown(self):
        if self.loadgen and self.loadgen.poll() is None:
            self.loadgen.kill()
            self.loadgen.wait()
        self.server.stop()

    def test_publisher_on_the_other_veth_end_uses_udp(self):
        from test_aud_publisher import LOADGEN
        cases = os.path.join(self.work, "cases.jsonl")
        with open(cases, "w") as f:
            f.write('{"ref": "%s", "token": "%s"}\n' % (self.case["ref"], self.case["token"]))
        self.loadgen = subprocess.Popen([LOADGEN, "--base", self.server.base, "--cases", cases, "--clip", self.clip,
                                         "--reviewers", "0", "--seconds", "20", "--ice-address", "10.77.0.2"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.assertTrue(wait_until(lambda: peer_pairs(self.server, self.case, "applicant"), 30))
        pair = peer_pairs(self.server, self.case, "applicant")[-1]
        self.assertEqual(pair["server"], "host/udp", pair)
        self.assertIn(pair["peer"], ("host/udp", "prflx/udp"), pair)


class OneToOneNatTest(unittest.TestCase):
    """The server's ICE ports on 10.77.0.1 are reachable only as 10.77.0.3, through a DNAT in and
    an SNAT out, as behind a data centre's 1:1 NAT; packets to the private address are dropped,
    and so is every flow the server starts (the peers sit behind NATs too). The server
    advertises 10.77.0.3 and nothing else. Without public_addresses this test fails (checked
    by hand: no frames)."""

    PUBLIC = "10.77.0.3"
    PORTS = "40000-40100"   # the server's [media] ICE port range: the NAT maps only these

    def nft(self, *args):
        subprocess.run(["nft"] + list(args), check=True, capture_output=True, text=True)

    def setUp(self):
        self.nft("add table ip kanyan_reach")
        # before any NAT: count what is sent to the public address, drop what targets the private one
        self.nft("add chain ip kanyan_reach raw_out { type filter hook output priority -150 ; }")
        self.nft(f"add rule ip kanyan_reach raw_out ip daddr {self.PUBLIC} meta l4proto udp counter")
        self.nft(f"add rule ip kanyan_reach raw_out ip daddr 10.77.0.1 udp dport {self.PORTS} drop")
        # the peers are behind NATs of their own: nothing the server starts reaches them, only
        # answers to what they sent (else ICE would connect peer-reflexively without the rewrite)
        self.nft(f"add rule ip kanyan_reach raw_out ip saddr 10.77.0.1 udp sport {self.PORTS} ct state new drop")
        self.nft("add chain ip kanyan_reach nat_out { type nat hook output priority -100 ; }")
        self.nft(f"add rule ip kanyan_reach nat_out ip daddr {self.PUBLIC} dnat to 10.77.0.1")
        self.nft("add chain ip kanyan_reach nat_post { type nat hook postrouting priority 100 ; }")
        self.nft(f"add rule ip kanyan_reach nat_post ip saddr 10.77.0.1 udp sport {self.PORTS} snat to {self.PUBLIC}")
        self.server = Server(config="[media]\nice_port_min=40000\nice_port_max=40100\n"
                                    f"[ice]\npublic_addresses={self.PUBLIC}\nkeep_private=false\n").start()
        self.case = self.server.add_case("REACH-NAT")

    def tearDown(self):
        self.server.stop()
        subprocess.run(["nft", "delete table ip kanyan_reach"], capture_output=True)

    def udp_to_public(self):
        out = subprocess.run(["nft", "list chain ip kanyan_reach raw_out"], capture_output=True, text=True).stdout
        m = re.search(r"counter packets (\d+)", out)
        return int(m.group(1)) if m else 0

    def test_publisher_reaches_server_through_public_address(self):
        reviewer = self.server.reviewer(self.case, 120, "R")
        pub = self.server.aiortc_publisher(self.case, 120)
        self.assertTrue(wait_until(lambda: frames(reviewer) > 30, 30), (reviewer.lines[-3:], pub.lines[-3:]))
        # media from the publisher went to the public address: hundreds of packets, not a few checks
        self.assertTrue(wait_until(lambda: self.udp_to_public() > 200, 20), self.udp_to_public())
        # no relay: the server's own candidate — its host one, or (as libnice learns it from the
        # publisher's answers through the SNAT) the same socket seen as peer-reflexive 10.77.0.3
        self.assertTrue(wait_until(lambda: applicant_pair(self.server, self.case), 20))
        self.assertIn(applicant_pair(self.server, self.case)["server"], ("host/udp", "prflx/udp"))

    def test_applicant_page_reaches_server_through_public_address(self):
        from test_reach_nat import applicant_page   # the real page in headless Chromium (fake camera)
        reviewer = self.server.reviewer(self.case, 120, "R")
        page = applicant_page(self.server, self.case, 120)
        self.assertTrue(wait_until(lambda: frames(reviewer) > 30, 60), (reviewer.lines[-3:], page.lines[-5:]))
        self.assertTrue(wait_until(lambda: self.udp_to_public() > 200, 20), self.udp_to_public())
        self.assertTrue(wait_until(lambda: applicant_pair(self.server, self.case), 20))
        pair = applicant_pair(self.server, self.case)
        self.assertIn(pair["server"], ("host/udp", "prflx/udp"), pair)   # no relay, no TCP


if __name__ == "__main__":
    unittest.main()

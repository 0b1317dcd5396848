"""GET /metrics (docs/metrics.md) read by the Prometheus project's own text-format parser
(python3-prometheus-client) during a live inspection: an aiortc publisher, a webrtcbin reviewer,
a mark and a still. Every documented family is there with its type; the counters match what
the test did (HTTP requests by route and status, one live inspection, one applicant and one
reviewer, bytes in growing while media flows, a finalized segment); no label carries the case
reference; counters never go down between scrapes; the bearer token is enforced; and with
[metrics] bind the metrics live on their own listener only."""
import collections
import json
import os
import re
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from kanyan import ICE_ADDRESS, ROOT, Server, free_port, wait_until

TOKEN = "metrics-" + os.urandom(8).hex()
REF = "MX-1"

# every family docs/metrics.md lists, by the parser's name (a counter's without "_total")
FAMILIES = {
    "kanyan_live_inspections": "gauge",
    "kanyan_live_inspections_media_flowing": "gauge",
    "kanyan_peers": "gauge",
    "kanyan_audit_chain_length": "gauge",
    "kanyan_recordings_volume_free_bytes": "gauge",
    "kanyan_recordings_volume_size_bytes": "gauge",
    "kanyan_rtp_packets": "counter",
    "kanyan_rtp_bytes": "counter",
    "kanyan_rtp_packets_lost": "counter",
    "kanyan_rtp_packets_retransmitted": "counter",
    "kanyan_rtcp_nacks": "counter",
    "kanyan_keyframe_requests": "counter",
    "kanyan_viewer_join_to_keyframe_seconds": "histogram",
    "kanyan_websocket_connections": "gauge",
    "kanyan_websocket_connections_opened": "counter",
    "kanyan_http_requests": "counter",
    "kanyan_recording_bytes_written": "counter",
    "kanyan_recording_segments": "counter",
    "kanyan_archive_finalize_duration_seconds": "histogram",
    "kanyan_db_write_duration_seconds": "histogram",
    "process_cpu_seconds": "counter",
    "process_resident_memory_bytes": "gauge",
    "process_virtual_memory_bytes": "gauge",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
    "process_start_time_seconds": "gauge",
    "process_threads": "gauge",
}


class Scrape:
    """One parsed answer: families by name, and a sample's value by (sample name, labels)."""

    def __init__(self, text):
        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}

    def value(self, sample, **labels):
        for family in self.families.values():
            for s in family.samples:
                if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                    return s.value
        raise KeyError(f"{sample} {labels}")

    def http(self, route, status):
        try:
            return self.value("kanyan_http_requests_total", route=route, status=str(status))
        except KeyError:
            return 0

    def monotonic_samples(self):
        """(name, labels) -> value of every sample that may only grow: counters, histograms."""
        out = {}
        for family in self.families.values():
            if family.type in ("counter", "histogram"):
                for s in family.samples:
                    out[(s.name, tuple(sorted(s.labels.items())))] = s.value
        return out


def get(url, token=None):
    headers = {"Authorization": "Bearer " + token} if token else {}
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read().decode()


@unittest.skipUnless(os.environ.get("KANYAN_NETNS") == "1", "needs the test network namespace (tests/netns.sh)")
class MetricsLiveTest(unittest.TestCase):
    def setUp(self):
        self.server = Server(f"[metrics]\ntoken = {TOKEN}\n").start()
        self.case = self.server.add_case(REF, owner="owner")
        self.server.login("owner")   # before any scrape: the test's own API calls are counted below

    def tearDown(self):
        self.server.stop()

    def scrape(self):
        status, headers, text = get(self.server.base + "/metrics", TOKEN)
        self.assertEqual(status, 200, text)
        self.assertTrue(headers.get("content-type", "").startswith("text/plain; version=0.0.4"), headers)
        return Scrape(text)

    def test_metrics_during_a_live_inspection(self):
        s = self.server
        # the token: none, a wrong one, a wrong scheme
        for token, extra in ((None, {}), ("wrong-" + TOKEN, {}), (None, {"Authorization": "Basic " + TOKEN})):
            req = urllib.request.Request(s.base + "/metrics", headers=extra)
            if token:
                req.add_header("Authorization", "Bearer " + token)
            with self.assertRaises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(req, timeout=30)
            self.assertEqual(caught.exception.code, 401)
            self.assertIn("metrics_token", caught.exception.read().decode())
            self.assertEqual(caught.exception.headers.get("WWW-Authenticate"), "Bearer")

        pub = s.aiortc_publisher(self.case, 120, codec="vp8")
        reviewer = s.reviewer(self.case, 120, "R")
        self.assertTrue(wait_until(lambda: (reviewer.last("frames") or {}).get("frames", 0) > 30, 60),
                        reviewer.lines[-3:])

        first = self.scrape()
        for name, kind in FAMILIES.items():
            self.assertIn(name, first.families, f"{name} is missing")
            self.assertEqual(first.families[name].type, kind, name)
        self.assertEqual(first.http("metrics", 401), 3, "the three refused scrapes")

        # what the test does between two scrapes, by (route, status)
        did = collections.Counter()
        for _ in range(3):
            did[s.api("GET", "/api/health")[0]] += 1
        did[s.api("GET", "/api/no-such-route", user="owner")[0]] += 1
        status, mark = s.api("POST", f"/api/cases/{REF}/marks", {"item": 1, "result": "pass"}, user="owner")
        self.assertLess(status, 300, mark)
        did[status] += 1
        status, still = s.api("POST", f"/api/cases/{REF}/stills", {"item": 3}, user="owner")
        self.assertEqual(status, 201, still)
        did[status] += 1
        self.assertEqual(did[404], 1)
        second = self.scrape()
        for code, n in did.items():
            self.assertEqual(second.http("api", code) - first.http("api", code), n, f"api {code}")
        self.assertEqual(second.http("metrics", 200) - first.http("metrics", 200), 1, "the first scrape")

        # the live inspection, its people, its media
        self.assertEqual(second.value("kanyan_live_inspections"), 1)
        self.assertEqual(second.value("kanyan_live_inspections_media_flowing"), 1)
        self.assertEqual(second.value("kanyan_peers", role="applicant"), 1)
        self.assertEqual(second.value("kanyan_peers", role="reviewer"), 1)
        self.assertGreaterEqual(second.value("kanyan_websocket_connections"), 1, "the reviewer's")
        self.assertGreaterEqual(second.value("kanyan_websocket_connections_opened_total"), 1)
        self.assertGreater(second.value("kanyan_rtp_packets_total", direction="in"), 0)
        self.assertGreater(second.value("kanyan_rtp_packets_total", direction="out"), 0)
        self.assertGreater(second.value("kanyan_rtp_bytes_total", direction="out"), 0)
        self.assertGreater(second.value("kanyan_keyframe_requests_total", source="relay"), 0, "the viewer's join")
        self.assertGreaterEqual(second.value("kanyan_viewer_join_to_keyframe_seconds_count"), 1)
        # the muxer writes in clusters: the first bytes may reach the file after this scrape
        self.assertTrue(wait_until(lambda: self.scrape().value("kanyan_recording_bytes_written_total") > 0, 20),
                        "the recorder wrote nothing")
        self.assertGreater(second.value("kanyan_db_write_duration_seconds_count"), 0)
        bytes_in = second.value("kanyan_rtp_bytes_total", direction="in")
        self.assertGreater(bytes_in, 0)
        self.assertTrue(wait_until(lambda: self.scrape().value("kanyan_rtp_bytes_total", direction="in") > bytes_in, 20),
                        "bytes in grow while media flows")
        with s.db() as db:
            before = db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
        audit = self.scrape().value("kanyan_audit_chain_length")
        with s.db() as db:
            after = db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
        self.assertTrue(before <= audit <= after, (before, audit, after))
        self.assertGreater(second.value("kanyan_recordings_volume_free_bytes"), 0)
        # the process
        self.assertGreater(second.value("process_threads"), 1)
        self.assertGreater(second.value("process_resident_memory_bytes"), 1 << 20)
        self.assertGreater(second.value("process_open_fds"), 3)
        self.assertGreaterEqual(second.value("process_max_fds"), second.value("process_open_fds"))
        self.assertGreater(second.value("process_cpu_seconds_total"), 0)
        self.assertLessEqual(second.value("process_start_time_seconds"), time.time() + 1)
        self.assertGreater(second.value("process_start_time_seconds"), time.time() - 3600)

        # no label names a case (nor does anything else in the answer)
        for scrape in (first, second):
            self.assertNotIn(REF, scrape.text)
            for family in scrape.families.values():
                for sample in family.samples:
                    for value in sample.labels.values():
                        self.assertNotIn(REF, value, sample)
                        self.assertFalse(value.startswith("/"), f"a raw path as a label: {sample}")

        # the publisher leaves: its segment is finalized and counted
        pub.stop()
        self.assertTrue(wait_until(lambda: self.scrape().value("kanyan_recording_segments_total", outcome="archived") +
                                   self.scrape().value("kanyan_recording_segments_total", outcome="salvaged") >= 1, 60),
                        "a finalized segment")
        last = self.scrape()
        self.assertGreaterEqual(last.value("kanyan_archive_finalize_duration_seconds_count"), 1)
        if os.environ.get("KANYAN_METRICS_DUMP"):
            print(last.text)

        # counters and histograms never go down
        earlier, later = first.monotonic_samples(), last.monotonic_samples()
        for key, value in earlier.items():
            self.assertIn(key, later)
            self.assertGreaterEqual(later[key], value, key)


LOSS_TABLE = "kanyan_metrics_loss"


@unittest.skipUnless(os.environ.get("KANYAN_NETNS") == "1", "needs the test network namespace (tests/netns.sh)")
class MetricsLossTest(unittest.TestCase):
    """Under 5 % random UDP loss (nftables in the test's namespace, as test_loss): the metrics
    count packets lost on the way in, the server's NACKs, and the publisher's retransmissions
    that repaired them — what the Chromium publisher's own statistics say happened."""

    def setUp(self):
        subprocess.run(["nft", "add", "table", "inet", LOSS_TABLE], check=True)
        subprocess.run(["nft", "add", "chain", "inet", LOSS_TABLE, "input",
                        "{ type filter hook input priority 0; }"], check=True)
        subprocess.run(["nft", "add", "rule", "inet", LOSS_TABLE, "input", "ip", "daddr", ICE_ADDRESS, "meta",
                        "l4proto", "udp", "numgen", "random", "mod", "100", "<", "5", "drop"], check=True)
        self.server = Server().start()
        self.case = self.server.add_case("MX-LOSS")

    def tearDown(self):
        self.server.stop()
        subprocess.run(["nft", "delete", "table", "inet", LOSS_TABLE])

    def test_loss_nacks_and_retransmissions_are_counted(self):
        s = self.server
        reviewer = s.reviewer(self.case, 150, "R")
        pub = s.chromium_publisher(self.case, 150, codec="vp8")

        def scrape():
            status, _, text = get(s.base + "/metrics")
            self.assertEqual(status, 200, text)
            return Scrape(text)

        # (kanyan_rtp_packets_retransmitted_total counts the RTX packets the server's RTX receivers
        # matched to its requests: the jitterbuffer's packets-repaired, counted before, was 0 in
        # one full run while the publisher retransmitted 417 packets)
        def counted():
            m = scrape()
            stats = pub.events("stats")
            return (stats and stats[-1]["retransmittedPacketsSent"] > 0
                    and m.value("kanyan_rtp_packets_lost_total", direction="in") > 0
                    and m.value("kanyan_rtcp_nacks_total", direction="out") > 0
                    and m.value("kanyan_rtp_packets_retransmitted_total") > 0)
        ok = wait_until(counted, 120)
        m = scrape()
        figures = {k: m.value(k, **l) for k, l in (("kanyan_rtp_packets_lost_total", {"direction": "in"}),
                                                   ("kanyan_rtcp_nacks_total", {"direction": "out"}),
                                                   ("kanyan_rtp_packets_retransmitted_total", {}),
                                                   ("kanyan_rtp_packets_total", {"direction": "in"}))}
        self.assertTrue(ok, (figures, (pub.events("stats") or [None])[-1]))
        last = pub.events("stats")[-1]
        print(f"\nmetrics {figures}; the publisher: {last['nackCount']} NACKs received, "
              f"{last['retransmittedPacketsSent']} packets retransmitted", file=sys.stderr)
        # the server's NACKs are what the publisher received (those lost on the way excepted),
        # counted from each peer's first sample on: never more than the publisher saw
        self.assertLessEqual(figures["kanyan_rtcp_nacks_total"], last["nackCount"] * 1.2 + 5, (figures, last))
        # the retransmissions counted are RTX packets that reached the server: the publisher's
        # repairs and also its bandwidth probes (Chromium pads on the RTX stream with old
        # packets), so they are not held to retransmittedPacketsSent, which counts repairs only;
        # they are part of the packets that came in
        self.assertLessEqual(figures["kanyan_rtp_packets_retransmitted_total"], figures["kanyan_rtp_packets_total"],
                             (figures, last))


class MetricsListenerTest(unittest.TestCase):
    """[metrics] bind: the metrics on their own listener, nowhere else; nothing else there."""

    def test_bind_serves_only_the_metrics(self):
        port = free_port()
        s = Server(f"[metrics]\nbind = 127.0.0.1:{port}\n").start()
        try:
            self.assertEqual(get(s.base + "/metrics")[0], 404, "not on the public listener")
            status, _, text = get(f"http://127.0.0.1:{port}/metrics")
            self.assertEqual(status, 200, text)
            families = {f.name: f.type for f in text_string_to_metric_families(text)}
            self.assertEqual(families.get("kanyan_http_requests"), "counter")
            self.assertEqual(families.get("process_threads"), "gauge")
            self.assertEqual(get(f"http://127.0.0.1:{port}/api/health")[0], 404, "only the metrics there")
            self.assertEqual(get(f"http://127.0.0.1:{port}/index.html")[0], 404, "no files there")
            self.assertEqual(get(s.base + "/api/health")[0], 200)
            status, _, text = get(f"http://127.0.0.1:{port}/metrics")
            self.assertIn('kanyan_http_requests_total{route="metrics",status="404"} 1', text)
            self.assertIn('kanyan_http_requests_total{route="api",status="200"}', text)
            self.check_docs_name_only_what_is_served(text)
        finally:
            s.stop()

    def check_docs_name_only_what_is_served(self, text):
        """docs/metrics.md lists every family served, and it and the Grafana dashboard name no other."""
        served = set()
        for family in text_string_to_metric_families(text):
            served.add(family.name)
            served.update(sample.name for sample in family.samples)
        name = re.compile(r"\b((?:kanyan|process)_[a-z_]+)")
        with open(os.path.join(ROOT, "docs", "metrics.md")) as f:
            documented = set(name.findall(f.read()))
        with open(os.path.join(ROOT, "docs", "grafana-kanyan.json")) as f:
            exprs = [t["expr"] for p in json.load(f)["panels"] for t in p["targets"]]
        in_dashboard = set(n for e in exprs for n in name.findall(e))
        self.assertTrue(in_dashboard)
        for n in documented | in_dashboard:
            self.assertIn(n, served, "named in docs/metrics.md or docs/grafana-kanyan.json but not served")
        for family in text_string_to_metric_families(text):
            sample = family.samples[0].name if family.samples else family.name
            self.assertTrue(family.name in documented or sample in documented, f"{family.name} is not in docs/metrics.md")

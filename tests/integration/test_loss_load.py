"""Losses the jitterbuffer cannot repair never reach an archive as damaged frames. The phone's
link loses in bursts (every 2 s, 250 ms of 50 % drops: nftables inside the test's namespace)
and the server's jitterbuffer waits only 30 ms, so retransmissions come too late for many
holes. The recording then freezes until the next keyframe instead of smearing: the finalized
archive decodes with 0 errors, and the frozen stretches appear as gaps in the auditor's
recording objects and in the segment's one audit entry."""
import os
import subprocess
import sys
import threading
import time
import unittest

from kanyan import ICE_ADDRESS, Server, decode_errors

TABLE = "kanyan_burst"
BURST_S, PERIOD_S = 0.25, 2.0


def nft(*args):
    subprocess.run(["nft"] + list(args), check=True)


class Bursts(threading.Thread):
    """Turns the drop rule on for BURST_S of every PERIOD_S until stopped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.halt = threading.Event()
        self.bursts = 0

    def run(self):
        while not self.halt.wait(PERIOD_S - BURST_S):
            nft("add", "rule", "inet", TABLE, "input", "ip", "daddr", ICE_ADDRESS, "meta", "l4proto", "udp",
                "numgen", "random", "mod", "100", "<", "50", "drop")
            self.bursts += 1
            time.sleep(BURST_S)
            nft("flush", "chain", "inet", TABLE, "input")


@unittest.skipUnless(os.environ.get("KANYAN_NETNS") == "1", "needs the test network namespace (tests/netns.sh)")
class LossUnderLoadTest(unittest.TestCase):
    def setUp(self):
        nft("add", "table", "inet", TABLE)
        nft("add", "chain", "inet", TABLE, "input", "{ type filter hook input priority 0; }")
        self.server = Server(config="[media]\njitter_latency_ms=30\n").start()
        self.bursts = None

    def tearDown(self):
        if self.bursts:
            self.bursts.halt.set()
            self.bursts.join()
        self.server.stop()
        subprocess.run(["nft", "delete", "table", "inet", TABLE])

    def check_bursty_loss(self, codec):
        ref = f"BURST-{codec.upper()}"
        case = self.server.add_case(ref)
        self.server.add_user("auditor", "auditor", "audit")
        pub = self.server.chromium_publisher(case, 30, codec=codec)
        reviewer = self.server.reviewer(case, 28, "R")
        self.bursts = Bursts()
        self.bursts.start()
        self.assertEqual(pub.wait(120), 0, pub.lines[-3:])
        self.bursts.halt.set()
        self.bursts.join()
        reviewer.wait(30)
        self.assertGreaterEqual(self.bursts.bursts, 8)
        stats = pub.events("stats")
        self.assertTrue(stats and stats[-1]["nackCount"] > 0, "the bursts really lost packets")
        self.server.stop()
        self.server.start()   # the auditor's API reads what the finished session stored
        archives = self.server.archive_files()
        self.assertTrue(archives)
        for path in archives:
            errors = decode_errors(path)
            print(f"{codec}: {os.path.basename(path)}: {len(errors)} decode errors", file=sys.stderr)
            self.assertEqual(errors, [], f"{path}: {errors[:5]}")
        status, tl = self.server.api("GET", f"/api/cases/{ref}/timeline", user="auditor")
        self.assertEqual(status, 200, tl)
        gaps = [g for r in tl["recordings"] for g in r["gaps"]]
        print(f"{codec}: {len(tl['recordings'])} segment(s), gaps {gaps}", file=sys.stderr)
        self.assertTrue(gaps, "the frozen stretches are noted")
        for r in tl["recordings"]:
            for g in r["gaps"]:
                self.assertGreaterEqual(g["duration_ms"], 0)
                self.assertGreaterEqual(g["at"], r["started_at"])
                self.assertLessEqual(g["at"], r["ended_at"])
        # one audit entry per segment sums its gaps up (never one per gap)
        ended = [e for e in tl["entries"] if e["action"] == "recording.ended"]
        self.assertEqual(len(ended), len(tl["recordings"]))
        self.assertNotIn("recording.gap", {e["action"] for e in tl["entries"]})

    def test_vp8_archive_freezes_instead_of_smearing(self):
        self.check_bursty_loss("vp8")

    def test_h264_archive_freezes_instead_of_smearing(self):
        self.check_bursty_loss("h264")


if __name__ == "__main__":
    unittest.main()

"""Packets lost on the applicant's link are retransmitted: with 5 % random UDP loss into the
server (nftables inside the test's own namespace) the server's NACKs reach the publisher,
which retransmits, and the reviewer keeps decoding."""
import os
import subprocess
import sys
import unittest

from kanyan import ICE_ADDRESS, Server, decode_errors, nft, wait_until

TABLE = "kanyan_loss"


@unittest.skipUnless(os.environ.get("KANYAN_NETNS") == "1", "needs the test network namespace (tests/netns.sh)")
class LossTest(unittest.TestCase):
    def setUp(self):
        nft("add", "table", "inet", TABLE)
        nft("add", "chain", "inet", TABLE, "input", "{ type filter hook input priority 0; }")
        nft("add", "rule", "inet", TABLE, "input", "ip", "daddr", ICE_ADDRESS, "meta", "l4proto", "udp",
            "numgen", "random", "mod", "100", "<", "5", "drop")
        self.server = Server().start()
        self.case = self.server.add_case("LOSS-1")

    def tearDown(self):
        self.server.stop()
        subprocess.run(["nft", "delete", "table", "inet", TABLE])

    def test_nacks_answered_with_retransmissions_under_5pct_loss(self):
        # long enough for a busy machine: the conditions end the wait, not the peers' clocks
        reviewer = self.server.reviewer(self.case, 150, "R")
        pub = self.server.chromium_publisher(self.case, 150, codec="vp8")

        def repaired():
            stats = pub.events("stats")
            return (stats and stats[-1]["nackCount"] > 0 and stats[-1]["retransmittedPacketsSent"] > 0
                    and (reviewer.last("frames") or {}).get("frames", 0) > 100)
        ok = wait_until(repaired, 120)
        stats = pub.events("stats")
        self.assertTrue(stats, pub.lines[-3:])
        last = stats[-1]
        self.assertTrue(ok, (last, reviewer.lines[-2:]))
        self.assertGreater(last["nackCount"], 0, "the server sent NACKs for lost packets")
        self.assertGreater(last["retransmittedPacketsSent"], 0, "the publisher retransmitted")
        self.assertGreater(reviewer.last("frames")["frames"], 100, reviewer.lines[-3:])
        reviewer.stop()
        pub.stop()
        # the recording made under loss decodes without a single error (retransmissions repaired it)
        self.server.stop()
        archives = self.server.archive_files()
        self.assertTrue(archives)
        for path in archives:
            errors = decode_errors(path)
            print(f"{os.path.basename(path)}: {len(errors)} decode errors", file=sys.stderr)
            self.assertLessEqual(len(errors), 0, errors[:5])


if __name__ == "__main__":
    unittest.main()

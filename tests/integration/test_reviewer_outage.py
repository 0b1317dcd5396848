"""A reviewer's own outage touches nobody else (issue 14, item 3): one reviewer's side goes
silent for 10 s (its process stopped: no packets out, none read — what a dead office link looks
like to the server), while the applicant keeps publishing and the other reviewer keeps
decoding as before; the applicant's connection never drops, and the stopped reviewer decodes
again once it is back."""
import os
import signal
import time
import unittest

from kanyan import SLACK, Server, wait_until

OUTAGE_S = 10


def frames(peer):
    return (peer.last("frames") or {}).get("frames", 0)


def sent(pub):
    return (pub.last("frames_sent") or {}).get("frames_sent", 0)


@unittest.skipUnless(os.environ.get("KANYAN_NETNS") == "1", "needs the test network namespace (tests/netns.sh)")
class ReviewerOutageTest(unittest.TestCase):
    def setUp(self):
        self.server = Server().start()
        self.case = self.server.add_case("ROUT-1")

    def tearDown(self):
        self.server.stop()

    def test_one_reviewers_outage_leaves_the_others_alone(self):
        duration = int(90 * SLACK)
        pub = self.server.aiortc_publisher(self.case, duration)
        a = self.server.reviewer(self.case, duration, "A")
        b = self.server.reviewer(self.case, duration, "B")
        self.assertTrue(wait_until(lambda: frames(a) > 60 and frames(b) > 60, 60), (a.lines[-2:], b.lines[-2:]))
        # B's pace before, as a share of the frames the publisher sent meanwhile (on a busy
        # machine the publisher itself may send fewer than 30 a second: B is held to what came)
        b0, p0, t0 = frames(b), sent(pub), time.time()
        wait_until(lambda: time.time() - t0 >= 3 and sent(pub) > p0, 3 / SLACK + 10)
        share_before = (frames(b) - b0) / max(1, sent(pub) - p0)

        a.proc.send_signal(signal.SIGSTOP)   # A's side goes silent
        try:
            a_frozen, b_start, p_start, down_at = frames(a), frames(b), sent(pub), time.time()
            wait_until(lambda: time.time() - down_at >= OUTAGE_S, OUTAGE_S / SLACK + 1)
            share_during = (frames(b) - b_start) / max(1, sent(pub) - p_start)
            # its stats from its first connection on (on a busy machine the first may come earlier)
            lines = pub.lines[:]
            first = next(i for i, l in enumerate(lines) if l.get("event") == "connected")
            published = [l for l in lines[first:] if l.get("event") == "stats"]
        finally:
            a.proc.send_signal(signal.SIGCONT)
        print(f"\nreviewer B decoded {share_before:.2f} of the frames sent before, {share_during:.2f} during A's outage",
              flush=True)
        self.assertGreater(share_during, 0.5 * share_before, "the other reviewer kept its pace")
        self.assertEqual(pub.events("error"), [], pub.lines[-3:])
        self.assertEqual([l for l in published if l.get("connectionState") not in (None, "connected")], [],
                         "the applicant's connection never dropped")
        # A comes back and decodes again (on the same peer connection, or a new one)
        self.assertTrue(wait_until(lambda: frames(a) > a_frozen + 30, 60), a.lines[-3:])
        self.assertTrue(wait_until(lambda: frames(b) > b_start + 30, 30), b.lines[-3:])


if __name__ == "__main__":
    unittest.main()

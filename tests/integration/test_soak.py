"""The soak (issue 14, item 6): inspections started and ended over and over — a publisher
(aiortc over WHIP), two reviewers, marks and a still each — keep the server's file
descriptors, threads and RSS flat, and leave no live inspection behind when everyone leaves.

Short form in `make test` (3 cycles of 4 inspections); the long form runs as long as asked:
KANYAN_SOAK_MINUTES=30 KANYAN_SOAK_INSPECTIONS=10 (a cycle a minute). Prints the usage after
the warm-up cycle and at the end; fails when any grew by more than 10 % (and a few units)."""
import os
import signal
import sys
import threading
import time
import unittest

from kanyan import Server, wait_until
from test_limits import NO_STACK_CACHE, open_sessions, proc_usage

MINUTES = float(os.environ.get("KANYAN_SOAK_MINUTES", "0"))
INSPECTIONS = int(os.environ.get("KANYAN_SOAK_INSPECTIONS", "4"))
SHORT_CYCLES = 3


@unittest.skipUnless(os.environ.get("KANYAN_NETNS") == "1", "needs the test network namespace (tests/netns.sh)")
class SoakTest(unittest.TestCase):
    def setUp(self):
        # a reviewer peer on a machine at load 20 can take longer than the default 15 s to answer
        # its offer; the soak is about what the server keeps, not about that timeout
        self.server = Server("[media]\nroom_linger_s=1\nviewer_answer_timeout_s=120\n")
        self.server.env.update(NO_STACK_CACHE)   # what the server holds, not glibc's cache of stacks
        self.server.start()
        self.cases = [self.server.add_case(f"SOAK-{i}", owner=f"soak{i}") for i in range(INSPECTIONS)]
        self.failures = []

    def tearDown(self):
        self.server.stop()

    def inspection(self, i, cycle):
        """One inspection: publisher, two reviewers of the owner, a mark and a still."""
        s, case = self.server, self.cases[i]
        owner = f"soak{i}"
        # long enough for a busy machine; they are stopped once the inspection is done
        pub = s.aiortc_publisher(case, 90, name=f"pub-{i}-{cycle}")
        a = s.reviewer(case, 85, f"A{i}-{cycle}", user=owner)
        b = s.reviewer(case, 85, f"B{i}-{cycle}", user=owner)
        try:
            if not wait_until(lambda: all((r.last("frames") or {}).get("frames", 0) > 10 for r in (a, b)), 60):
                self.failures.append(f"cycle {cycle} inspection {i}: no frames {a.lines[-3:]} {b.lines[-3:]}")
                return
            status, _ = s.api("POST", f"/api/cases/{case['ref']}/marks", {"item": 1, "result": "pass"}, user=owner)
            still, _ = s.api("POST", f"/api/cases/{case['ref']}/stills", {"item": 1}, user=owner)
            if status != 201 or still != 201:
                self.failures.append(f"cycle {cycle} inspection {i}: mark {status}, still {still}")
        finally:   # everyone leaves: the reviewers, then the phone ends its call (WHIP DELETE)
            for peer in (a, b):
                peer.stop()
            if pub.proc.poll() is None:
                pub.proc.send_signal(signal.SIGUSR1)
                pub.wait(30)
            for peer in (a, b, pub):
                peer.stop()
                peer.log.close()
                s.children.remove(peer)

    def cycle(self, n):
        threads = []
        for i in range(INSPECTIONS):
            t = threading.Thread(target=self.inspection, args=(i, n))
            t.start()
            threads.append(t)
            time.sleep(1)   # staggered, as people come
        for t in threads:
            t.join()
        self.assertEqual(self.failures, [])
        self.assertTrue(wait_until(lambda: open_sessions(self.server) == 0, 120, step=0.5),
                        "a live inspection was left behind: " + repr(self.server.db().execute(
                            "SELECT c.ref, s.started_at FROM live_sessions s JOIN cases c ON c.id = s.case_id "
                            "WHERE s.ended_at IS NULL").fetchall()))

    def settled(self):
        """The least of a few samples a second apart (a closing peer's thread is not a leak)."""
        pid = self.server.proc.pid
        samples = []
        for _ in range(4):
            samples.append(proc_usage(pid))
            time.sleep(1)
        return tuple(min(x[k] for x in samples) for k in range(3))

    def test_usage_stays_flat(self):
        self.cycle(0)   # warm-up: plugins loaded, pools made
        start, began = self.settled(), time.monotonic()
        n = 1
        while n <= SHORT_CYCLES if not MINUTES else time.monotonic() - began < MINUTES * 60:
            cycle_began = time.monotonic()
            self.cycle(n)
            n += 1
            if MINUTES:   # a cycle a minute
                time.sleep(max(0.0, 60 - (time.monotonic() - cycle_began)))
        pid = self.server.proc.pid

        def flat():
            now = proc_usage(pid)
            return now[0] <= start[0] * 1.1 + 4 and now[1] <= start[1] * 1.1 + 2 and now[2] <= start[2] * 1.1
        ok = wait_until(flat, 60, step=1)
        end = self.settled()
        print(f"\nsoak: {n} cycles of {INSPECTIONS} inspections: after warm-up fds {start[0]}, threads {start[1]}, "
              f"RSS {start[2]} KiB; at the end fds {end[0]}, threads {end[1]}, RSS {end[2]} KiB", file=sys.stderr)
        self.assertTrue(ok, f"usage grew: {start} -> {proc_usage(pid)} (fds, threads, RSS KiB)")


if __name__ == "__main__":
    unittest.main()

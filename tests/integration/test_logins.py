"""Logins cannot be abused (issue 12, item 3): the back-off is decided and counted when an
attempt starts, per (account, address) pair and per address, unknown names included; at most
a few Argon2 checks (64 MiB each) run at once and the excess is answered 429 without hashing;
a stranger's guesses do not lock the real user out; failures are aggregated in the audit log.
Runs in tests/netns.sh: clients bind 10.77.0.1, 10.77.0.2 or 127.0.0.1 as their source to
be different addresses to the server (which sees the TCP peer)."""
import http.client
import json
import threading
import unittest

from kanyan import Server

PASSWORD = "correct horse battery staple"
MIB = 1 << 20


def login(port, source, username, password):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=(source, 0))
    try:
        conn.request("POST", "/api/login", json.dumps({"username": username, "password": password}),
                     {"Content-Type": "application/json"})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, json.loads(body) if body else None, resp.getheader("retry-after")
    finally:
        conn.close()


def burst(port, source, names, password):
    """len(names) logins at once (a barrier releases them together): their answers."""
    answers, barrier = [None] * len(names), threading.Barrier(len(names))

    def one(i):
        barrier.wait()
        answers[i] = login(port, source, names[i], password)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(names))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return answers


def memory_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


class LoginsTest(unittest.TestCase):
    def setUp(self):
        s = self.server = Server().start()
        s.passwords["li"] = PASSWORD
        import subprocess
        from kanyan import KANYAN
        subprocess.run([KANYAN, "user", "add", "-u", "li", "--role", "reviewer", "--password-stdin"] + s.common_args(),
                       input=PASSWORD + "\n", check=True, capture_output=True, text=True)

    def tearDown(self):
        self.server.stop()

    def audit_rows(self, action):
        with self.server.db() as db:
            return [(actor, json.loads(detail)) for actor, detail in
                    db.execute("SELECT actor, detail FROM audit_log WHERE action = ? ORDER BY id", (action,))]

    def test_concurrent_guesses_are_refused_unhashed_and_bounded(self):
        s = self.server
        pid = s.proc.pid
        rss_before = memory_kib(pid, "VmRSS")
        # 60 wrong guesses at one account from one address, all at once
        answers = burst(s.port, "10.77.0.2", ["li"] * 60, "a wrong guess!")
        statuses = [a[0] for a in answers]
        codes = sorted({a[1]["code"] for a in answers if a[0] == 429})
        checked = statuses.count(401)
        self.assertEqual(statuses.count(401) + statuses.count(429), 60, statuses)
        self.assertLessEqual(checked, 2, f"all but the first few refused: {statuses}")
        self.assertTrue(set(codes) <= {"rate_limited", "login_queue_full"}, codes)
        self.assertTrue(all(a[2] for a in answers if a[0] == 429), "every 429 says when to retry")
        # 60 guesses with 60 unknown names from another address: the address's budget and the
        # hash queue hold, unknown names included
        answers = burst(s.port, "10.77.0.1", [f"nobody-{i}" for i in range(60)], "a wrong guess!")
        statuses = [a[0] for a in answers]
        self.assertLessEqual(statuses.count(401), 10, statuses)
        self.assertEqual(statuses.count(401) + statuses.count(429), 60, statuses)
        # memory: at most a few 64 MiB Argon2 checks at a time (not one per request)
        peak = memory_kib(pid, "VmHWM")
        print(f"\nRSS before {rss_before // 1024} MiB, peak {peak // 1024} MiB")
        self.assertLess((peak - rss_before) * 1024, 4 * 64 * MIB, "the peak grew by less than four Argon2 checks")
        # an unknown name is backed off after its failures, too (the delay doubles each time, so
        # however slow this machine, a retry soon comes too early)
        tries = [login(s.port, "127.0.0.1", "nobody-else", "wrong") for _ in range(1)]
        while tries[-1][0] == 401 and len(tries) < 8:
            tries.append(login(s.port, "127.0.0.1", "nobody-else", "wrong"))
        self.assertEqual((tries[0][0], tries[-1][0], tries[-1][1]["code"]), (401, 429, "rate_limited"), tries)
        # the real user, from their own address, is not locked out by the stranger's guesses
        status, body, _ = login(s.port, "127.0.0.1", "li", PASSWORD)
        self.assertEqual((status, body["username"]), (200, "li"))

        # the audit log: the failures aggregated per (account, address) and window, not one row each
        s.stop()   # writes the windows still open
        failed = self.audit_rows("login.failed")
        li = [d for actor, d in failed if actor == "li" and d["address"] == "10.77.0.2"]
        self.assertLessEqual(len(li), 2, li)
        self.assertEqual(sum(int(d["count"]) for d in li), checked, "every checked guess is counted")
        refused = self.audit_rows("login.refused")   # per address: a spray of names is one tally too
        from_stranger = [d for actor, d in refused if d["address"] == "10.77.0.2"]
        self.assertLessEqual(len(from_stranger), 2, from_stranger)
        self.assertEqual(sum(int(d["count"]) for d in from_stranger), 60 - checked, "every refusal is counted")
        self.assertLessEqual(len([d for actor, d in refused if d["address"] == "10.77.0.1"]), 2)
        unknown = [d for actor, d in failed if actor.startswith("nobody-") and d["address"] == "10.77.0.1"]
        self.assertTrue(unknown, "unknown names are audited too")
        self.assertLess(len(failed) + len(refused), 25, "a few rows for 123 attempts, not one each")

if __name__ == "__main__":
    unittest.main()

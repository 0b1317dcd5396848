"""Nothing acknowledged is lost (issue 14, item 5): 50 rounds of "marks answered, then kill -9
at a random moment while more are in flight". After every restart each answered mark is in
the database, every mark row has its audit entry (a request in flight is wholly there or
wholly absent), and the audit chain verifies."""
import json
import random
import signal
import subprocess
import threading
import unittest

import websocket

from kanyan import KANYAN, ROOT, Server, wait_until

ROUNDS = 50
CASE = "KILL-1"


class KillDurabilityTest(unittest.TestCase):
    def setUp(self):
        self.server = Server("[media]\nroom_linger_s=60\n").start()
        self.server.add_user("owner")
        self.case = self.server.add_case(CASE, owner="owner")

    def tearDown(self):
        self.server.stop()

    def applicant_joins(self):
        """A live inspection: the applicant's socket joins with the invite (no media needed)."""
        ws = websocket.create_connection(self.server.ws_url, timeout=20)
        ws.send(json.dumps({"type": "join", "case": CASE, "role": "applicant", "token": self.case["token"]}))
        for _ in range(20):
            if json.loads(ws.recv())["type"] == "joined":
                return ws
        raise AssertionError("the applicant never joined")

    def test_answered_marks_survive_kill9(self):
        s = self.server
        rng = random.Random(7)
        answered = []   # notes of marks answered 201
        for round_ in range(ROUNDS):
            if round_:
                s.start()
            ws = self.applicant_joins()
            stop = threading.Event()
            this_round = []

            def fire(thread):
                i = 0
                while not stop.is_set():
                    note = f"r{round_}-t{thread}-{i}"
                    try:
                        status, _ = s.api("POST", f"/api/cases/{CASE}/marks",
                                          {"item": 1 + i % 8, "result": "pass", "note": note}, user="owner")
                    except Exception:   # the server is gone: this request is in flight or refused
                        return
                    if status == 201:
                        this_round.append(note)
                    i += 1

            threads = [threading.Thread(target=fire, args=(k,)) for k in range(2)]
            for t in threads:
                t.start()
            want = rng.randint(1, 6)
            self.assertTrue(wait_until(lambda: len(this_round) >= want, 30), f"round {round_}: marks not answered")
            s.proc.send_signal(signal.SIGKILL)
            s.proc.wait()
            stop.set()
            for t in threads:
                t.join()
            ws.close()
            s.log.close()
            answered += this_round
        s.start()
        db = s.db()
        notes = {n for (n,) in db.execute("SELECT note FROM marks")}
        self.assertEqual([n for n in answered if n not in notes], [], "answered marks lost")
        audited = {json.loads(d).get("note") for (d,) in db.execute("SELECT detail FROM audit_log WHERE action = 'mark'")}
        self.assertEqual(sorted(notes - audited), [], "marks without their audit entry")
        self.assertEqual(sorted(audited - notes), [], "audit entries without their mark")
        self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        verify = subprocess.run([KANYAN, "audit", "verify"] + s.common_args(), capture_output=True, text=True, cwd=ROOT)
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
        self.assertIn("intact", verify.stdout)
        print(f"\n{ROUNDS} kill -9 rounds: {len(answered)} answered marks, all kept; {len(notes)} stored "
              f"(the rest were in flight)", flush=True)


if __name__ == "__main__":
    unittest.main()

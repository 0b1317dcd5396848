"""Webhooks against a real receiver (http.server on loopback in the test namespace): signed
case events for a flow driven through the server (case, live inspection, mark, decision), in
order per case; a receiver that answers 500 and recovers gets the same event ids later; a
server killed (-9) with deliveries pending sends them after its restart, none lost, none
delivered twice; a delivery dead after max_attempts shows in the admin endpoint, which a
non-admin may not read, and an admin's retry (audited) sends it again; SIGHUP takes a new
endpoint list."""
import hashlib
import hmac
import json
import signal
import subprocess
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import websocket

from kanyan import KANYAN, Server, ffmpeg_duration, wait_until

SECRET = "receiver-secret-0123456789"
EVENT_ACTIONS = ("case.created", "case.assigned", "case.status", "case.reopened", "participant.joined",
                 "participant.left", "inspection.started", "inspection.ended", "recording.started", "recording.ended", "mark", "still.captured", "decision",
                 "decision.countersigned", "decision.returned", "notice.issued", "recording.archived", "media.purged",
                 "photo.captured")


def verify(secret, headers, body, now=None, tolerance_s=300):
    """The receiver's check (docs/webhooks.md): signature over timestamp "." body, and a fresh timestamp."""
    timestamp = headers.get("X-Kanyan-Timestamp", "")
    signature = headers.get("X-Kanyan-Signature", "")
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return False
    return abs((now if now is not None else time.time()) - int(timestamp)) <= tolerance_s


class Receiver:
    """Records every POST; answers `status` (200 unless told otherwise)."""

    def __init__(self):
        self.status = 200
        self.posts = []   # (status answered, headers dict, body bytes)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    status = receiver.status
                    receiver.posts.append((status, {k: v for k, v in self.headers.items()}, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def delivered(self):
        """The events answered 2xx, in arrival order."""
        with self.lock:
            return [json.loads(body) for status, _, body in self.posts if 200 <= status < 300]

    def all_posts(self):
        with self.lock:
            return list(self.posts)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def config(port, max_attempts=50, extra=""):
    return (f"{extra}[webhooks]\nendpoints=permits\nretry_base_ms=100\nretry_cap_ms=400\nmax_attempts={max_attempts}\n"
            f"timeout_s=5\n[webhook:permits]\nurl=http://127.0.0.1:{port}/hook\nsecret={SECRET}\n")


def recv_type(ws, type_, limit=30):
    for _ in range(limit):
        msg = json.loads(ws.recv())
        if msg["type"] == type_:
            return msg
    raise AssertionError(f"no {type_} message")


class WebhooksTest(unittest.TestCase):
    def setUp(self):
        self.receiver = Receiver()
        self.server = None
        self.sockets = []

    def tearDown(self):
        for ws in self.sockets:
            ws.close()
        if self.server:
            self.server.stop()
        self.receiver.close()

    def start(self, **kw):
        self.server = Server(config=config(self.receiver.port, **kw)).start()
        return self.server

    def expected_ids(self, refs):
        """the audit rows of the event kinds for these cases: their hashes are the event ids"""
        with self.server.db() as db:
            rows = db.execute("SELECT hash, case_ref, action FROM audit_log ORDER BY id").fetchall()
        return [h for h, ref, action in rows if ref in refs and action in EVENT_ACTIONS]

    def join(self, role, case, user=None, token=None):
        headers = ["Cookie: " + self.server.login(user)] if user else []
        ws = websocket.create_connection(self.server.ws_url, timeout=30, header=headers)
        self.sockets.append(ws)
        msg = {"type": "join", "case": case, "role": role}
        if token:
            msg["token"] = token
        ws.send(json.dumps(msg))
        recv_type(ws, "joined")
        return ws

    def test_case_flow_signed_and_in_order(self):
        s = self.start()
        case = s.add_case("WH-1", owner="owner")
        other = s.add_case("WH-2", owner="owner")
        self.join("reviewer", "WH-1", user="owner")
        app_ws = self.join("applicant", "WH-1", token=case["token"])
        self.assertEqual(s.api("POST", "/api/cases/WH-1/marks", {"item": 1, "result": "pass", "note": ""},
                               user="owner")[0], 201)
        self.assertEqual(s.api("POST", "/api/cases/WH-1/decisions", {"kind": "rectify", "reason": "fix tank 2"},
                               user="owner")[0], 201)
        recv_type(app_ws, "decision")
        self.assertTrue(other["token"])
        self.assertTrue(wait_until(lambda: any(e["type"] == "decision" for e in self.receiver.delivered()), 30),
                        "the decision reached the receiver")
        expected = self.expected_ids({"WH-1", "WH-2"})
        self.assertTrue(wait_until(lambda: {e["id"] for e in self.receiver.delivered()} >= set(expected), 30))
        events = [e for e in self.receiver.delivered() if e["case_ref"] in ("WH-1", "WH-2")]
        types = [e["type"] for e in events if e["case_ref"] == "WH-1"]
        for kind in ("case.created", "participant.joined", "case.status", "mark", "decision"):
            self.assertIn(kind, types)
        for ref in ("WH-1", "WH-2"):
            seq = [e["sequence"] for e in events if e["case_ref"] == ref]
            self.assertEqual(seq, sorted(seq), f"{ref}'s events arrive in the order they happened")
        mark = next(e for e in events if e["type"] == "mark")
        self.assertEqual((mark["actor"], mark["data"]["item"], mark["data"]["result"]), ("owner", "1", "pass"))
        # every POST is signed; a wrong secret fails; an old (replayed) timestamp is detected
        for status, headers, body in self.receiver.all_posts():
            self.assertTrue(verify(SECRET, headers, body), headers)
            self.assertFalse(verify("another-secret-0123456789", headers, body))
            self.assertFalse(verify(SECRET, headers, body, now=int(headers["X-Kanyan-Timestamp"]) + 3600),
                             "a replay an hour later is refused by the timestamp check")
            forged = dict(headers, **{"X-Kanyan-Timestamp": str(int(headers["X-Kanyan-Timestamp"]) + 7)})
            self.assertFalse(verify(SECRET, forged, body), "another timestamp on a signature fails")
            self.assertEqual(headers["X-Kanyan-Event-Id"], json.loads(body)["id"])
            self.assertEqual(headers["Content-Type"], "application/json")
        # exactly once per event here (every POST succeeded)
        ids = [e["id"] for e in self.receiver.delivered()]
        self.assertEqual(len(ids), len(set(ids)))

    def test_inspection_notice_archive_and_purge_events(self):
        """A real inspection (aiortc publisher): its start and end, the one-time notice, the
        inspection after it, the archived recording and, once retention runs, the purge."""
        s = self.start(extra="[archive]\nretention_days=30\n[media]\nroom_linger_s=1\n")
        case = s.add_case("WE-1", owner="owner")
        ws = self.join("reviewer", "WE-1", user="owner")
        s.aiortc_publisher(case, 60, name="pub-we")
        self.assertTrue(wait_until(lambda: s.api("GET", "/api/cases/WE-1", user="owner")[1]["live"], 30))
        self.assertTrue(wait_until(lambda: any("/WE-1/" in f and ffmpeg_duration(f) > 1.0 for f in s.recording_files()),
                                   40, step=0.5), "the first inspection records")
        for item in range(1, 9):
            result = "fail" if item in (2, 5) else "pass"
            s.api("POST", "/api/cases/WE-1/marks", {"item": item, "result": result, "note": f"item {item}"}, user="owner")
        status, body = s.api("POST", "/api/cases/WE-1/decisions", {"kind": "rectify", "reason": "fix 2 and 5"},
                             user="owner")
        self.assertEqual(status, 201, body)
        recv_type(ws, "decision")
        # the applicant fixed it and comes back (a new connection takes over): the inspection
        # after the notice goes on, all pass, approved
        s.aiortc_publisher(case, 60, name="pub-we-2")
        self.assertTrue(wait_until(lambda: s.api("GET", "/api/cases/WE-1", user="owner")[1]["status"] == "inspecting",
                                   30), "the applicant's return is a re-inspection")
        for item in range(1, 9):
            s.api("POST", "/api/cases/WE-1/marks", {"item": item, "result": "pass"}, user="owner")
        status, body = s.api("POST", "/api/cases/WE-1/decisions", {"kind": "approve", "reason": "fixed"}, user="owner")
        self.assertEqual(status, 201, body)

        def of(kind):
            return [e for e in self.receiver.delivered() if e["case_ref"] == "WE-1" and e["type"] == kind]
        self.assertTrue(wait_until(lambda: len(of("inspection.ended")) == 2 and of("recording.archived"), 60),
                        [e["type"] for e in self.receiver.delivered()])
        started, ended = of("inspection.started"), of("inspection.ended")
        self.assertEqual(len(started), 2, "the first inspection, and the one after the notice")
        self.assertEqual([e["data"]["session"] for e in started], [e["data"]["session"] for e in ended])
        self.assertEqual(ended[0]["data"]["reason"], "notice")
        notice = of("notice.issued")
        self.assertEqual(len(notice), 1)
        self.assertEqual((notice[0]["data"]["items"], notice[0]["data"]["session"], notice[0]["actor"]),
                         ("2,5", started[0]["data"]["session"], "owner"))
        decisions = {e["data"]["kind"]: e for e in of("decision")}
        self.assertEqual(notice[0]["data"]["decision"], decisions["rectify"]["data"]["decision"])
        seq = [e["sequence"] for e in self.receiver.delivered() if e["case_ref"] == "WE-1"]
        self.assertEqual(seq, sorted(seq))
        order = [e["type"] for e in self.receiver.delivered() if e["case_ref"] == "WE-1"
                 and e["type"] in ("inspection.started", "inspection.ended", "notice.issued")]
        self.assertEqual(order, ["inspection.started", "notice.issued", "inspection.ended", "inspection.started",
                                 "inspection.ended"])
        archived = of("recording.archived")[0]["data"]
        self.assertEqual(len(archived["sha256"]), 64, archived)
        # retention (another process: the CLI) purges the approved case's media; the server
        # sends what that process wrote to the audit log
        self.assertTrue(wait_until(lambda: s.db().execute(
            "SELECT count(*) FROM recordings WHERE archive_state IS NULL").fetchone()[0] == 0, 60),
            "every segment finalized")
        with s.db() as db:
            db.execute("UPDATE decisions SET at = at - ?", (40 * 24 * 3600 * 1000,))
        out = subprocess.run([KANYAN, "archive", "purge"] + s.common_args(), capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        with s.db() as db:
            purged = db.execute("SELECT count(*) FROM audit_log WHERE action = 'media.purged' AND case_ref = 'WE-1'"
                                ).fetchone()[0]
        self.assertGreater(purged, 0, out.stdout)
        self.assertTrue(wait_until(lambda: len(of("media.purged")) == purged, 30), of("media.purged"))
        self.assertTrue({e["data"]["kind"] for e in of("media.purged")} >= {"recording"})

    def test_failing_receiver_and_restart_lose_nothing(self):
        s = self.start()
        self.receiver.status = 500
        s.add_case("WR-1", owner="owner")
        s.add_case("WR-2", owner="owner")
        self.assertTrue(wait_until(lambda: len(self.receiver.all_posts()) >= 3, 30), "the server tries, and retries")
        with s.db() as db:
            self.assertGreater(db.execute("SELECT count(*) FROM webhook_outbox WHERE state = 'pending'").fetchone()[0], 0)
        s.proc.kill()   # -9 with deliveries pending
        s.proc.wait()
        s.log.close()
        s.add_case("WR-3", owner="owner")   # while the server is down: an audit row only
        self.receiver.status = 200
        s.start()
        expected = self.expected_ids({"WR-1", "WR-2", "WR-3"})
        self.assertGreaterEqual(len(expected), 3)
        self.assertTrue(wait_until(lambda: {e["id"] for e in self.receiver.delivered()} >= set(expected), 30),
                        "every event arrived after the restart")
        delivered = [e["id"] for e in self.receiver.delivered() if e["id"] in expected]
        self.assertEqual(sorted(delivered), sorted(expected), "each event delivered once, none lost")
        failed = {json.loads(body)["id"] for status, _, body in self.receiver.all_posts() if status == 500}
        self.assertTrue(failed)
        self.assertLessEqual(failed, set(expected), "the retries carried the same event ids")
        for ref in ("WR-1", "WR-2", "WR-3"):
            seq = [e["sequence"] for e in self.receiver.delivered() if e["case_ref"] == ref]
            self.assertEqual(seq, sorted(seq))
        with s.db() as db:
            states = dict(db.execute("SELECT state, count(*) FROM webhook_outbox GROUP BY state").fetchall())
        self.assertEqual(set(states), {"delivered"})

    def test_dead_letter_admin_endpoint_and_retry(self):
        s = self.start(max_attempts=3)
        self.assertTrue(s.first_admin_password())
        self.receiver.status = 500
        s.add_case("WD-1", owner="owner")

        def dead():
            status, body = s.api("GET", "/api/webhooks/deliveries?state=dead", user="admin")
            self.assertEqual(status, 200)
            return [d for d in body["deliveries"] if d["case_ref"] == "WD-1"]
        self.assertTrue(wait_until(dead, 30), "dead after 3 failed tries")
        row = dead()[0]
        self.assertEqual((row["attempts"], row["last_status"], row["endpoint"]), (3, 500, "permits"))
        tries = [p for p in self.receiver.all_posts() if json.loads(p[2])["id"] == row["event_id"]]
        self.assertEqual(len(tries), 3)
        # a non-admin gets the stable forbidden error, for the list and the retry
        status, body = s.api("GET", "/api/webhooks/deliveries?state=dead", user="owner")
        self.assertEqual((status, body["code"]), (403, "forbidden"))
        status, body = s.api("POST", f"/api/webhooks/deliveries/{row['id']}/retry", {}, user="owner")
        self.assertEqual((status, body["code"]), (403, "forbidden"))
        self.assertEqual(s.api("GET", "/api/webhooks/deliveries?state=nonsense", user="admin")[1]["code"], "bad_field")
        self.assertEqual(s.api("POST", "/api/webhooks/deliveries/999999/retry", {}, user="admin")[0], 404)
        # the admin's retry sends it again, with the same id, and is audited
        self.receiver.status = 200
        status, body = s.api("POST", f"/api/webhooks/deliveries/{row['id']}/retry", {}, user="admin")
        self.assertEqual((status, body["delivery"]["state"]), (200, "pending"))
        self.assertTrue(wait_until(lambda: any(e["id"] == row["event_id"] for e in self.receiver.delivered()), 30))
        self.assertEqual(s.api("POST", f"/api/webhooks/deliveries/{row['id']}/retry", {}, user="admin")[1]["code"],
                         "conflict", "only a dead delivery is retried")
        with s.db() as db:
            audit = db.execute("SELECT actor, detail FROM audit_log WHERE action = 'webhook.retried'").fetchall()
        self.assertEqual(len(audit), 1)
        self.assertEqual(audit[0][0], "admin")
        self.assertEqual(json.loads(audit[0][1])["event"], row["event_id"])

    def test_sighup_takes_a_new_endpoint_list(self):
        s = Server(config="[media]\nroom_linger_s=1\n").start()   # no endpoints: no sender
        self.server = s
        s.add_case("WS-1", owner="owner")
        s.config = config(self.receiver.port)
        s.common_args()   # writes the settings file again
        s.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_until(lambda: "webhook permits: events go to" in s.log_text(), 30), s.log_text()[-800:])
        s.add_case("WS-2", owner="owner")
        self.assertTrue(wait_until(lambda: any(e["case_ref"] == "WS-2" for e in self.receiver.delivered()), 30))
        self.assertFalse([e for e in self.receiver.delivered() if e["case_ref"] == "WS-1"],
                         "an endpoint named for the first time gets events from then on, not the history")


if __name__ == "__main__":
    unittest.main()

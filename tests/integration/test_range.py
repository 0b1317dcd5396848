"""Archived recordings over HTTP (GET/HEAD /media/recordings/{id}, docs/media.md): byte ranges
over a real recorded inspection, who may fetch it, the recording.accessed audit entries, paths
that leave the recordings root, and the server's memory while it sends a 100 MB archive."""
import hashlib
import http.client
import json
import os
import threading
import time
import unittest

from kanyan import Server, sha256_file, wait_until


def fetch(server, method, path, headers=None, conn=None):
    """(status, headers with lower-case names, body) over http.client (keeps a connection when given)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        if own:
            conn.close()


def insert_recording(server, ref, archive_path, sha256="", size=0, state="archived"):
    """A recordings row of case `ref` pointing at archive_path (no media encoded): its id."""
    with server.db() as db:
        case_id = db.execute("SELECT id FROM cases WHERE ref = ?", (ref,)).fetchone()[0]
        session = db.execute("INSERT INTO live_sessions (case_id, started_at, ended_at) VALUES (?, 0, 1)",
                             (case_id,)).lastrowid
        return db.execute("INSERT INTO recordings (session_id, seq, path, video_codec, audio_codec, started_at, "
                          "ended_at, bytes, state, archive_path, archive_sha256, archive_bytes, duration_ms, "
                          "archive_state) VALUES (?, 1, ?, 'VP8', 'OPUS', 0, 1, ?, 'complete', ?, ?, ?, 1000, ?)",
                          (session, archive_path + ".mkv", size, archive_path, sha256, size, state)).lastrowid


class RecordedRangeTest(unittest.TestCase):
    """One real inspection: an aiortc publisher sends H.264 for 4 s over WHIP; the archive is an MP4."""

    @classmethod
    def setUpClass(cls):
        s = cls.server = Server(config="[media]\nroom_linger_s=1\n").start()
        s.add_user("owner", "reviewer", "commerce")
        s.add_user("stranger", "reviewer", "commerce")
        s.add_user("auditor", "auditor", "audit")
        cls.case = s.add_case("RG-1", owner="owner")
        pub = s.aiortc_publisher(cls.case, 4, codec="h264")
        assert pub.wait(40) == 0, pub.lines
        # the publisher left: the segment closes and is finalized on a worker thread

        def archived():
            with s.db() as db:
                return db.execute("SELECT id, archive_path, archive_sha256, archive_bytes FROM recordings "
                                  "WHERE archive_state IN ('archived', 'salvaged')").fetchone()
        assert wait_until(archived, 30), s.log_text()[-2000:]
        cls.rec_id, cls.path, cls.sha256, cls.size = archived()
        with open(cls.path, "rb") as f:
            cls.data = f.read()
        assert len(cls.data) == cls.size > 1000, (len(cls.data), cls.size)
        cls.url = f"/media/recordings/{cls.rec_id}"

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def get(self, user="owner", range_=None, method="GET", url=None, conn=None):
        headers = {"Cookie": self.server.login(user)} if user else {}
        if range_ is not None:
            headers["Range"] = range_
        return fetch(self.server, method, url or self.url, headers, conn)

    def assertPartial(self, range_, start, end):
        status, headers, body = self.get(range_=range_)
        self.assertEqual(status, 206, body[:200])
        self.assertEqual(headers["content-range"], f"bytes {start}-{end}/{self.size}")
        self.assertEqual(int(headers["content-length"]), end - start + 1)
        self.assertEqual(headers["accept-ranges"], "bytes")
        self.assertEqual(headers["content-type"], "video/mp4")
        self.assertEqual(body, self.data[start:end + 1])

    def test_first_bytes(self):
        self.assertPartial("bytes=0-99", 0, 99)

    def test_middle(self):
        mid = self.size // 2
        self.assertPartial(f"bytes={mid}-{mid + 4095}", mid, mid + 4095)

    def test_suffix(self):
        self.assertPartial("bytes=-500", self.size - 500, self.size - 1)

    def test_open_ended(self):
        start = self.size - 1234
        self.assertPartial(f"bytes={start}-", start, self.size - 1)

    def test_last_past_the_end_is_clamped(self):
        self.assertPartial(f"bytes=10-{self.size + 1000}", 10, self.size - 1)

    def test_unsatisfiable_and_malformed_are_416(self):
        for range_ in (f"bytes={self.size}-", f"bytes={self.size + 5}-{self.size + 10}", "bytes=-0",
                       "bytes=50-10", "bytes=abc", "items=0-1"):   # (lws drops an empty header: no Range)
            status, headers, body = self.get(range_=range_)
            self.assertEqual(status, 416, range_)
            self.assertEqual(headers["content-range"], f"bytes */{self.size}", range_)
            self.assertEqual(json.loads(body)["code"], "range_not_satisfiable", range_)

    def test_no_range_is_the_whole_archive(self):
        status, headers, body = self.get()
        self.assertEqual(status, 200)
        self.assertEqual(int(headers["content-length"]), self.size)
        self.assertEqual(headers["accept-ranges"], "bytes")
        self.assertEqual(headers["content-type"], "video/mp4")
        self.assertNotIn("content-range", headers)
        self.assertEqual(hashlib.sha256(body).hexdigest(), self.sha256)
        self.assertEqual(self.sha256, sha256_file(self.path))

    def test_several_ranges_get_the_whole_archive(self):
        status, headers, body = self.get(range_="bytes=0-9,100-109")
        self.assertEqual(status, 200)
        self.assertEqual(body, self.data)

    def test_head(self):
        status, headers, body = self.get(method="HEAD")
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(int(headers["content-length"]), self.size)
        self.assertEqual(headers["accept-ranges"], "bytes")
        status, headers, body = self.get(method="HEAD", range_="bytes=0-99")
        self.assertEqual((status, body), (206, b""))
        self.assertEqual(headers["content-range"], f"bytes 0-99/{self.size}")
        self.assertEqual(int(headers["content-length"]), 100)

    def test_kept_alive_connection_serves_one_range_after_another(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=20)
        try:
            for start in (0, 1000, self.size - 100):
                status, _, body = self.get(range_=f"bytes={start}-{start + 99}", conn=conn)
                self.assertEqual((status, body), (206, self.data[start:start + 100]))
        finally:
            conn.close()

    def test_who_may_fetch(self):
        status, _, body = self.get(user=None)
        self.assertEqual((status, json.loads(body)["code"]), (401, "unauthenticated"))
        # without a session nothing is looked up: an unknown id is 401 too
        status, _, _ = self.get(user=None, url="/media/recordings/999999")
        self.assertEqual(status, 401)
        applicant = {"Authorization": "Bearer " + self.case["token"]}
        self.assertEqual(fetch(self.server, "GET", self.url, applicant)[0], 401)
        status, _, body = self.get(user="stranger", range_="bytes=0-99")
        self.assertEqual((status, json.loads(body)["code"]), (403, "forbidden"))
        self.assertEqual(self.get(user="owner")[0], 200)
        self.assertEqual(self.get(user="auditor", range_="bytes=0-99")[0], 206)
        for url in ("/media/recordings/999999", "/media/recordings/abc", "/media/recordings/", "/media/other/1"):
            status, _, body = self.get(url=url)
            self.assertEqual((status, json.loads(body)["code"]), (404, "not_found"), url)
        status, headers, _ = self.get(method="DELETE")
        self.assertEqual(status, 405)
        self.assertEqual(headers["allow"], "GET, HEAD")

    def test_every_access_is_audited_with_who(self):
        with self.server.db() as db:
            before = db.execute("SELECT max(id) FROM audit_log").fetchone()[0]
        self.get(user="owner", range_="bytes=0-99")
        self.get(user="auditor")
        self.get(user="stranger")                 # refused: not an access
        self.get(user="owner", range_="bytes=abc")   # refused: not an access
        self.get(user="auditor", method="HEAD")
        with self.server.db() as db:
            rows = db.execute("SELECT actor, case_ref, detail FROM audit_log WHERE id > ? AND action = "
                              "'recording.accessed' ORDER BY id", (before,)).fetchall()
        got = [(actor, ref, json.loads(detail)) for actor, ref, detail in rows]
        rid = str(self.rec_id)
        self.assertEqual(got, [
            ("owner", "RG-1", {"recording": rid, "range": "bytes=0-99"}),
            ("auditor", "RG-1", {"recording": rid, "range": "all"}),
            ("auditor", "RG-1", {"recording": rid, "range": "all", "method": "HEAD"}),
        ])


class ArchiveFileTest(unittest.TestCase):
    """Recording rows pointed (with sqlite) at files made here: no media is encoded."""

    @classmethod
    def setUpClass(cls):
        s = cls.server = Server().start()
        s.add_user("owner", "reviewer", "commerce")
        s.add_case("RG-2", owner="owner")
        os.makedirs(s.recordings, exist_ok=True)
        cls.outside = os.path.join(s.dir, "outside.webm")   # beside the recordings root, not in it
        with open(cls.outside, "wb") as f:
            f.write(b"secret" * 100)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def get(self, rec_id, range_=None):
        headers = {"Cookie": self.server.login("owner")}
        if range_:
            headers["Range"] = range_
        return fetch(self.server, "GET", f"/media/recordings/{rec_id}", headers)

    def test_paths_out_of_the_recordings_root_are_refused(self):
        s = self.server
        link_dir = os.path.join(s.recordings, "RG-2")
        os.makedirs(link_dir, exist_ok=True)
        link = os.path.join(link_dir, "segment-009.webm")
        os.symlink(self.outside, link)
        dir_link = os.path.join(s.recordings, "escape")
        os.symlink(s.dir, dir_link)
        for path in (self.outside, os.path.join(s.recordings, "..", "outside.webm"), link,
                     os.path.join(dir_link, "outside.webm"), "/etc/passwd", s.recordings,
                     os.path.join(s.recordings, "missing.webm")):
            status, _, body = self.get(insert_recording(s, "RG-2", path))
            self.assertEqual((status, json.loads(body)["code"]), (404, "not_found"), path)
            self.assertNotIn(b"secret", body)

    def test_recordings_without_an_archive_are_404(self):
        s = self.server
        path = os.path.join(s.recordings, "failed.webm")
        with open(path, "wb") as f:
            f.write(b"x" * 10)
        self.assertEqual(self.get(insert_recording(s, "RG-2", path, state="failed"))[0], 404)
        purged = insert_recording(s, "RG-2", path)
        with s.db() as db:
            db.execute("UPDATE recordings SET purged_at = 1 WHERE id = ?", (purged,))
        self.assertEqual(self.get(purged)[0], 404)
        kept = insert_recording(s, "RG-2", path, state="salvaged")
        status, headers, body = self.get(kept)
        self.assertEqual((status, body, headers["content-type"]), (200, b"x" * 10, "video/webm"))

    def test_empty_archive(self):
        path = os.path.join(self.server.recordings, "empty.mkv")
        open(path, "wb").close()
        rec = insert_recording(self.server, "RG-2", path)
        status, headers, body = self.get(rec)
        self.assertEqual((status, body, headers["content-type"]), (200, b"", "video/x-matroska"))
        status, headers, _ = self.get(rec, "bytes=0-")
        self.assertEqual((status, headers["content-range"]), (416, "bytes */0"))

    def test_a_100_mb_archive_is_streamed_not_held(self):
        s = self.server
        path = os.path.join(s.recordings, "big.webm")
        block = os.urandom(1 << 20)
        digest = hashlib.sha256()
        with open(path, "wb") as f:
            for i in range(100):
                chunk = block[i:] + block[:i]
                digest.update(chunk)
                f.write(chunk)
        size = os.path.getsize(path)
        rec = insert_recording(s, "RG-2", path, digest.hexdigest(), size)
        self.get(rec, "bytes=0-99")   # warm up: the route, the session lookup, SQLite's cache

        def rss_kb(field="VmRSS:"):
            with open(f"/proc/{s.proc.pid}/status") as f:
                for line in f:
                    if line.startswith(field):
                        return int(line.split()[1])
        baseline, peak_before = rss_kb(), rss_kb("VmHWM:")
        samples, done = [], threading.Event()

        def sample():
            while not done.is_set():
                samples.append(rss_kb())
                time.sleep(0.005)
        sampler = threading.Thread(target=sample)
        sampler.start()
        got, received = hashlib.sha256(), 0
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
        try:
            conn.request("GET", f"/media/recordings/{rec}", headers={"Cookie": s.login("owner")})
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            self.assertEqual(int(resp.getheader("Content-Length")), size)
            while True:
                chunk = resp.read(1 << 16)
                if not chunk:
                    break
                got.update(chunk)
                received += len(chunk)
        finally:
            conn.close()
            done.set()
            sampler.join()
        self.assertEqual(received, size)
        self.assertEqual(got.hexdigest(), digest.hexdigest())
        samples.append(rss_kb())
        grew_kb = max(samples) - baseline
        # the kernel's high-water mark catches a peak the sampling missed
        peak_grew_kb = rss_kb("VmHWM:") - max(peak_before, baseline)
        print(f"\n100 MB archive: server VmRSS {baseline} kB before, at most {max(samples)} kB while sending "
              f"({len(samples)} samples), grew {grew_kb} kB; VmHWM grew {peak_grew_kb} kB")
        self.assertLess(grew_kb, 8 * 1024)
        self.assertLess(peak_grew_kb, 8 * 1024)
        self.assertIsNone(s.proc.poll())


if __name__ == "__main__":
    unittest.main()

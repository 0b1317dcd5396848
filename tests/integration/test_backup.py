"""Backup and restore (issue 19, item 5): `kanyan backup --out DIR` during a live inspection (an
aiortc publisher that reconnects once, so one segment is archived and one is being written; the
owner's reviewer peer; marks, a still, a decision), then `kanyan restore --from DIR` into a
fresh directory: `kanyan audit verify` passes, a server started on it shows the case, its marks
and its decision, serves each archive with the hash the manifest and the database hold, and
archives the segment that was live at backup time. A damaged archive, a tampered manifest (a
hash, a left-out file, a path leading outside) and a non-empty target make restore fail with a
clear message and write nothing; a backup into a non-empty or unwritable directory fails."""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from kanyan import KANYAN, Server, ffprobe, sha256_file, wait_until

CASE = "BK-1"


def run(*argv):
    return subprocess.run([KANYAN] + list(argv), capture_output=True, text=True, timeout=300)


class BackupTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        """One live inspection, backed up while it runs; the tests read that backup."""
        cls.tmp = tempfile.mkdtemp(prefix="kanyan-backup-")
        cls.out = os.path.join(cls.tmp, "backup")
        s = cls.server = Server("[media]\nroom_linger_s=60\n").start()
        try:
            cls.take_backup(s)
        finally:
            s.stop()

    @classmethod
    def take_backup(cls, s):
        t = unittest.TestCase()
        s.add_user("owner")
        case = s.add_case(CASE, owner="owner")
        s.reviewer(case, 90, user="owner")
        s.aiortc_publisher(case, 90, reconnect_after=4)
        db = s.db()
        t.assertTrue(wait_until(lambda: db.execute("SELECT count(*) FROM recordings WHERE archive_sha256 IS NOT NULL")
                                .fetchone()[0] >= 1, 60), "the first segment is archived after the reconnect")
        t.assertTrue(wait_until(lambda: db.execute("SELECT count(*) FROM recordings WHERE state = 'recording'")
                                .fetchone()[0] >= 1, 30), "the second segment is being written")
        items = s.api("GET", f"/api/cases/{CASE}/marks", user="owner")[1]["items"]
        mine = [i["position"] for i in items if i["may_mark"]][:3]
        t.assertGreaterEqual(len(mine), 2, items)
        cls.marks = {}
        for n, item in enumerate(mine):
            result = "pass" if n else "fail"
            status, body = s.api("POST", f"/api/cases/{CASE}/marks", {"item": item, "result": result,
                                                                      "note": f"note {item}"}, user="owner")
            t.assertEqual(status, 201, body)
            cls.marks[item] = result
        status, still = s.api("POST", f"/api/cases/{CASE}/stills", {"item": mine[0]}, user="owner")
        t.assertEqual(status, 201, still)
        cls.still = still
        status, body = s.api("POST", f"/api/cases/{CASE}/decisions", {"kind": "reject", "reason": "no permit on site"},
                             user="owner")
        t.assertEqual(status, 201, body)
        cls.owner_password = s.passwords["owner"]
        # the backup, while the publisher still sends and the segment grows (past its first clusters,
        # so that the copy holds media the restored server can salvage)
        live = [p for (p,) in db.execute("SELECT path FROM recordings WHERE state = 'recording'")]
        t.assertGreaterEqual(len(live), 1, "the inspection is live during the backup")
        t.assertTrue(wait_until(lambda: os.path.exists(live[0]) and os.path.getsize(live[0]) > 150000, 30),
                     "the live segment grows")
        done = run("backup", "--out", cls.out, *s.common_args())
        t.assertEqual(done.returncode, 0, done.stderr)
        t.assertIn("backup written", done.stdout)
        # a segment counts once, with the files of its other tracks beside it
        t.assertIn(f"({len(live)} unarchived segment(s))", done.stdout)
        # after the backup: an account the backup must not have (it is one moment)
        s.add_user("later")
        cls.archived = {rid: sha for rid, sha in db.execute(
            "SELECT id, archive_sha256 FROM recordings WHERE archive_sha256 IS NOT NULL")}
        db.close()
        with open(os.path.join(cls.out, "manifest.json")) as f:
            cls.manifest = json.load(f)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def copy_of_backup(self):
        path = tempfile.mkdtemp(prefix="kanyan-backup-copy-", dir=self.tmp)
        os.rmdir(path)
        shutil.copytree(self.out, path)
        return path

    def fresh(self):
        target = Server()
        target.passwords["owner"] = self.owner_password
        return target

    def restore(self, target, source, *extra):
        return run("restore", "--from", source, *extra, *target.common_args())

    def assertRestoreFails(self, source, message):
        target = self.fresh()
        done = self.restore(target, source)
        self.assertNotEqual(done.returncode, 0, done.stdout)
        self.assertIn(message, done.stderr)
        for d in (target.data, target.recordings):
            self.assertEqual(os.listdir(d) if os.path.isdir(d) else [], [], f"nothing written into {d}")

    def assertBackupUntouched(self):
        self.assertEqual(sorted(os.listdir(self.out)), ["data", "kanyan.db", "manifest.json", "recordings"],
                         "one self-contained database file (no -wal, -shm), made and read without a trace")

    def test_manifest_lists_every_file_with_its_hash(self):
        self.assertBackupUntouched()
        files = self.manifest["files"]
        kinds = {f["kind"] for f in files}
        self.assertLessEqual({"recording", "segment", "still", "key"}, kinds, files)
        # the live segment's other tracks go with it (recorder.c writes a file per track)
        segment_files = sorted(os.path.basename(f["path"]) for f in files if f["kind"] == "segment")
        segments = [f for f in segment_files if not f.endswith((".audio.mkv", ".talk.mkv"))]
        self.assertTrue(segments, files)
        self.assertEqual(segment_files, sorted(f[:-4] + part for f in segments for part in (".mkv", ".audio.mkv", ".talk.mkv")))
        for f in files:
            self.assertEqual(sha256_file(os.path.join(self.out, f["path"])), f["sha256"], f)
        self.assertEqual(sha256_file(os.path.join(self.out, "kanyan.db")), self.manifest["database"]["sha256"])
        self.assertEqual(oct(os.stat(self.out).st_mode & 0o777), "0o700", "the backup holds keys: owner only")
        listed = {f["id"]: f["sha256"] for f in files if f["kind"] == "recording"}
        for rid, sha in listed.items():
            self.assertEqual(self.archived.get(rid), sha, "the archive's hash is the one the server recorded")

    def test_restore_into_fresh_directory(self):
        target = self.fresh()
        done = self.restore(target, self.out)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("audit chain intact", done.stdout)
        self.assertBackupUntouched()
        verify = run("audit", "verify", *target.common_args())
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
        self.assertIn("audit chain intact", verify.stdout)
        again = self.restore(target, self.out)
        self.assertNotEqual(again.returncode, 0, "a second restore over the first is refused")
        self.assertIn("is not empty", again.stderr)
        self.assertIn("--force", again.stderr)
        target.start()
        try:
            case = target.api("GET", f"/api/cases/{CASE}", user="owner")
            self.assertEqual(case[0], 200, case)
            self.assertEqual(case[1]["status"], "rejection_pending")
            marks = target.api("GET", f"/api/cases/{CASE}/marks", user="owner")[1]
            got = {i["position"]: i["mark"]["result"] for i in marks["items"] if i["mark"]}
            self.assertEqual(got, self.marks)
            with target.db() as db:
                self.assertEqual(db.execute("SELECT count(*) FROM users WHERE username = 'later'").fetchone()[0], 0,
                                 "the account made after the backup is not in it")
                rows = db.execute("SELECT id, archive_path, archive_sha256 FROM recordings "
                                  "WHERE archive_sha256 IS NOT NULL").fetchall()
                still_path, still_sha = db.execute("SELECT path, sha256 FROM stills WHERE id = ?",
                                                   (self.still["id"],)).fetchone()
            self.assertTrue(rows)
            for rid, path, sha in rows:
                if rid not in self.archived:
                    continue   # the segment live at backup time, archived by this server
                self.assertTrue(path.startswith(target.recordings + "/"), path)
                self.assertEqual(sha256_file(path), sha)
                status, _, body = target.request("GET", f"/media/recordings/{rid}",
                                                 headers={"Cookie": target.login("owner")})
                self.assertEqual(status, 200)
                self.assertEqual(hashlib.sha256(body).hexdigest(), self.archived[rid], "served as recorded")
            self.assertTrue(still_path.startswith(target.recordings + "/"), still_path)
            self.assertEqual(sha256_file(still_path), still_sha)
            segments = [f["id"] for f in self.manifest["files"] if f["kind"] == "segment"]
            with target.db() as db:
                def states():
                    return [db.execute("SELECT archive_state, archive_error FROM recordings WHERE id = ?",
                                       (rid,)).fetchone() for rid in segments]
                self.assertTrue(wait_until(lambda: all(st[0] in ("archived", "salvaged") for st in states()), 20),
                                f"the segment live at backup time is archived on the restored server: {states()}")
                for (archive,) in [db.execute("SELECT archive_path FROM recordings WHERE id = ?", (rid,)).fetchone()
                                   for rid in set(segments)]:
                    self.assertEqual([st["codec_type"] for st in ffprobe(archive)["streams"]], ["video", "audio", "audio"],
                                     "the restored files of the segment's tracks joined in its archive")
        finally:
            target.stop()
        verify = run("audit", "verify", *target.common_args())
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)

    def test_damaged_archive_fails_restore(self):
        source = self.copy_of_backup()
        entry = next(f for f in self.manifest["files"] if f["kind"] == "recording")
        with open(os.path.join(source, entry["path"]), "r+b") as f:
            f.seek(entry["bytes"] // 2)
            byte = f.read(1)
            f.seek(entry["bytes"] // 2)
            f.write(bytes([byte[0] ^ 0xFF]))
        self.assertRestoreFails(source, f"the backup is damaged: {entry['path']} has SHA-256")

    def test_tampered_manifest_fails_restore(self):
        entry = next(f for f in self.manifest["files"] if f["kind"] == "recording")

        def tampered(change):
            source = self.copy_of_backup()
            manifest = json.loads(json.dumps(self.manifest))
            change(source, manifest)
            with open(os.path.join(source, "manifest.json"), "w") as f:
                json.dump(manifest, f)
            return source

        def other_hash(source, m):
            next(f for f in m["files"] if f["path"] == entry["path"])["sha256"] = "0" * 64
        self.assertRestoreFails(tampered(other_hash), f"{entry['path']} has SHA-256")

        def swapped_file(source, m):   # file and manifest changed together: the database copy disagrees
            with open(os.path.join(source, entry["path"]), "ab") as f:
                f.write(b"appended")
            f = next(f for f in m["files"] if f["path"] == entry["path"])
            f["sha256"] = sha256_file(os.path.join(source, entry["path"]))
        self.assertRestoreFails(tampered(swapped_file), "the manifest does not match the backup's database")

        def left_out(source, m):
            m["files"] = [f for f in m["files"] if f["path"] != entry["path"]]
        self.assertRestoreFails(tampered(left_out), "the manifest leaves out recording")

        def outside(source, m):
            next(f for f in m["files"] if f["kind"] == "key")["path"] = "data/../../escape"
        self.assertRestoreFails(tampered(outside), "leads outside its place")

        def database(source, m):
            m["database"]["sha256"] = "1" * 64
        self.assertRestoreFails(tampered(database), "the backup is damaged: kanyan.db has SHA-256")

        source = self.copy_of_backup()
        with open(os.path.join(source, "manifest.json"), "w") as f:
            f.write("{not json")
        self.assertRestoreFails(source, "is not a valid kanyan backup manifest")
        os.unlink(os.path.join(source, "manifest.json"))
        self.assertRestoreFails(source, "holds no manifest.json")

    def test_backup_refuses_damaged_archive(self):
        s = self.server   # stopped: a backup needs no running server
        with s.db() as db:
            rid, path = db.execute("SELECT id, archive_path FROM recordings WHERE archive_sha256 IS NOT NULL").fetchone()
        with open(path, "rb") as f:
            original = f.read()
        out = os.path.join(self.tmp, "from-damaged")
        try:
            with open(path, "r+b") as f:
                f.seek(len(original) // 2)
                f.write(bytes([original[len(original) // 2] ^ 0xFF]))
            done = run("backup", "--out", out, *s.common_args())
        finally:
            with open(path, "wb") as f:
                f.write(original)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn(f"recording {rid} ({path}) does not match the SHA-256 the database recorded", done.stderr)
        self.assertIn("holds an unfinished copy without manifest.json", done.stderr)
        self.assertFalse(os.path.exists(os.path.join(out, "manifest.json")))

    def test_segment_gone_during_backup_means_another_copy(self):
        """A segment whose source vanishes between the database copy and the file copy was archived
        meanwhile: the backup starts over (a few times), and says so if it never settles."""
        s = self.server
        with s.db() as db:
            session = db.execute("SELECT id FROM live_sessions LIMIT 1").fetchone()[0]
            rid = db.execute("INSERT INTO recordings (session_id, seq, path, started_at) VALUES (?, 99, ?, 0)",
                             (session, os.path.join(s.recordings, CASE, "gone.mkv"))).lastrowid
        out = os.path.join(self.tmp, "while-archiving")
        try:
            done = run("backup", "--out", out, *s.common_args())
        finally:
            with s.db() as db:
                db.execute("DELETE FROM recordings WHERE id = ?", (rid,))
        self.assertNotEqual(done.returncode, 0)
        self.assertIn(f"segment {rid}", done.stderr)
        self.assertIn("was archived while the backup ran", done.stderr)
        self.assertEqual(done.stderr.count("copying again"), 4, done.stderr)
        self.assertFalse(os.path.exists(os.path.join(out, "manifest.json")))

    def test_backup_refuses_non_empty_or_unwritable_directory(self):
        s = self.server   # stopped: a backup needs no running server
        done = run("backup", "--out", self.out, *s.common_args())
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("is not empty", done.stderr)
        blocker = os.path.join(self.tmp, "a-file")
        with open(blocker, "w") as f:
            f.write("x")
        done = run("backup", "--out", os.path.join(blocker, "backup"), *s.common_args())
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("cannot write to the backup directory", done.stderr)
        if os.geteuid() != 0:   # root writes into a read-only directory anyway
            ro = os.path.join(self.tmp, "read-only")
            os.mkdir(ro, 0o500)
            done = run("backup", "--out", os.path.join(ro, "backup"), *s.common_args())
            self.assertIn("cannot write to the backup directory", done.stderr)


if __name__ == "__main__":
    unittest.main()

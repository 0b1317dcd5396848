"""The export bundle cannot be forged: its manifest lists every file with its SHA-256 and is
signed with the server's Ed25519 key, and the audit entries are checked as one chain anchored
in the signed manifest. Each forgery that once passed `kanyan audit verify --bundle` (issue 12,
item 5) fails now, naming what is wrong; the untouched bundle verifies on a machine with no
database, against the key `kanyan audit pubkey` prints."""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
import unittest
import zipfile

import websocket

from kanyan import KANYAN, Server


def recv_type(ws, kind):
    while True:
        msg = json.loads(ws.recv())
        if msg.get("type") == kind:
            return msg


def row_hash(e):
    """audit.c's audit_row_hash: each field length-prefixed, then the previous row's hash."""
    h = hashlib.sha256()
    for v in ("kanyan-audit-v1", str(e["id"]), str(e["at"]), e["actor"], e["action"], e["case_ref"], e["detail"],
              e["prev_hash"]):
        b = v.encode()
        h.update(f"{len(b)}:".encode() + b + b"\n")
    return h.hexdigest()


class BundleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        s = cls.server = Server(config="[media]\nroom_linger_s=1\n").start()
        s.add_user("owner", "reviewer", "commerce")
        case = s.add_case("BU-1", owner="owner", extra=["--applicant", "Qian"])
        s.add_case("BU-2", owner="owner")
        sockets = []
        for role, user, token in (("reviewer", "owner", None), ("applicant", None, case["token"])):
            ws = websocket.create_connection(s.ws_url, timeout=10,
                                             header=["Cookie: " + s.login(user)] if user else [])
            msg = {"type": "join", "case": "BU-1", "role": role}
            if token:
                msg["token"] = token
            ws.send(json.dumps(msg))
            recv_type(ws, "joined")
            sockets.append(ws)
        for item in range(1, 9):
            assert s.api("POST", "/api/cases/BU-1/marks", {"item": item, "result": "fail" if item == 3 else "pass"},
                         user="owner")[0] in (200, 201)
            if item == 4:   # another case's entries in between: the bundle carries them as links only
                subprocess.run([KANYAN, "case", "invite", "--ref", "BU-2"] + s.common_args(), check=True,
                               capture_output=True)
        status, body = s.api("POST", "/api/cases/BU-1/decisions", {"kind": "rectify", "reason": "fix item 3"},
                             user="owner")
        assert status == 201, body
        for ws in sockets:
            ws.close()
        cls.work = tempfile.mkdtemp(prefix="kanyan-bundle-")
        cls.bundle = os.path.join(cls.work, "BU-1.zip")
        out = subprocess.run([KANYAN, "case", "export", "--ref", "BU-1", "--out", cls.bundle] + s.common_args(),
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        cls.pubkey = subprocess.run([KANYAN, "audit", "pubkey"] + s.common_args(), capture_output=True, text=True,
                                    check=True).stdout.strip()
        with zipfile.ZipFile(cls.bundle) as z:
            cls.members = {n: z.read(n) for n in z.namelist()}

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    def setUp(self):
        self.elsewhere = tempfile.mkdtemp(prefix="kanyan-elsewhere-")   # another machine: no data, no database

    def tearDown(self):
        shutil.rmtree(self.elsewhere, ignore_errors=True)

    def verify(self, path, pubkey=True):
        argv = [KANYAN, "audit", "verify", "--bundle", path] + (["--pubkey", self.pubkey] if pubkey else [])
        return subprocess.run(argv, cwd=self.elsewhere, capture_output=True, text=True)

    def forged(self, change, extra=None):
        path = os.path.join(self.elsewhere, f"forged-{len(os.listdir(self.elsewhere))}.zip")
        with zipfile.ZipFile(path, "w") as z:
            for n, data in self.members.items():
                data = change(n, data)
                if data is not None:
                    z.writestr(n, data)
            for n, data in (extra or {}).items():
                z.writestr(n, data)
        return self.verify(path)

    def assertFails(self, out, *words):
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        line = out.stdout.strip().splitlines()[-1]
        self.assertIn("FAILS verification", line)
        for w in words:
            self.assertIn(w, line)

    def entries(self):
        return json.loads(self.members["audit.json"])

    def with_entries(self, entries):
        return lambda n, d: json.dumps(entries, indent=2).encode() if n == "audit.json" else d

    def test_key_is_private_and_printed(self):
        key = os.path.join(self.server.data, "signing.key")
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        self.assertRegex(self.pubkey, r"^[0-9a-f]{64}$")
        manifest = json.loads(self.members["manifest.json"])
        self.assertEqual(manifest["public_key"], self.pubkey)
        self.assertIn(self.pubkey.encode(), self.members["report.html"], "the report names the signing key")
        self.assertEqual(self.server.api("GET", "/api/signing-key")[1],
                         {"algorithm": "ed25519", "public_key": self.pubkey}, "as the report page shows it")
        if shutil.which("pdftotext"):   # and the PDF
            pdf = os.path.join(self.work, "report.pdf")
            with open(pdf, "wb") as f:
                f.write(self.members["report.pdf"])
            text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True).stdout
            self.assertIn(self.pubkey, "".join(text.split()))
        listed = {f["path"] for f in manifest["files"]}
        self.assertEqual(listed, set(self.members) - {"manifest.json", "manifest.sig"}, "every file is listed")
        self.assertTrue(json.loads(self.members["audit-links.json"]), "the other case's entries are linked in")

    def test_untouched_bundle_verifies_elsewhere(self):
        copy = shutil.copy(self.bundle, self.elsewhere)
        good = self.verify(copy)
        self.assertEqual(good.returncode, 0, good.stdout + good.stderr)
        self.assertIn("verifies", good.stdout)
        self.assertIn("(the key given)", good.stdout)
        self.assertEqual(os.listdir(self.elsewhere), ["BU-1.zip"], "no database, no key was made")
        # a bundle as written again by zipfile (same members) verifies too: the contents count, not the container
        self.assertEqual(self.forged(lambda n, d: d).returncode, 0)

    def test_edited_decision_with_recomputed_hash(self):
        entries = self.entries()
        decision = next(e for e in entries if e["action"] == "decision")
        detail = json.loads(decision["detail"])
        detail = {k: ("approve" if v == "rectify" else v) for k, v in detail.items()}
        decision["detail"] = json.dumps(detail, separators=(",", ":"))
        decision["hash"] = row_hash(decision)
        self.assertFails(self.forged(self.with_entries(entries)), f"audit entry {decision['id']} was altered")
        # and the successor re-linked to it as well: then the chain breaks one further on, or the manifest's anchor
        forged = self.forged(self.with_entries(self.relinked(entries, entries.index(decision))))
        self.assertFails(forged, "audit")

    def relinked(self, entries, start):
        """Recompute every later entry's link and hash, as a forger would."""
        for i in range(start + 1, len(entries)):
            if entries[i]["id"] == entries[i - 1]["id"] + 1:
                entries[i]["prev_hash"] = entries[i - 1]["hash"]
                entries[i]["hash"] = row_hash(entries[i])
        return entries

    def test_deleted_decision_and_status_entries(self):
        entries = self.entries()
        kept = [e for e in entries if e["action"] not in ("decision", "case.status")]
        self.assertLess(len(kept), len(entries) - 1)
        out = self.forged(self.with_entries(kept))
        self.assertFails(out, "missing from the chain")

    def test_fabricated_entry_appended(self):
        entries = self.entries()
        last = entries[-1]
        fake = dict(last, id=last["id"] + 1, at=last["at"] + 1000, actor="owner", action="decision",
                    detail=json.dumps({"kind": "approve", "reason": "all fine"}), prev_hash=last["hash"])
        fake["hash"] = row_hash(fake)
        self.assertFails(self.forged(self.with_entries(entries + [fake])), f"audit entry {fake['id']}", "added")

    def test_case_and_report_changed_to_approved(self):
        def approved(n, d):
            if n == "case.json":
                c = json.loads(d)
                c["status"] = "approved"
                return json.dumps(c).encode()
            if n == "report.html":   # in the bureau's language (zh-CN): 需补正 → 准予
                return d.replace("需补正".encode(), "准予".encode())
            return d
        self.assertIn("需补正".encode(), self.members["report.html"])
        self.assertFails(self.forged(approved), "case.json", "signed manifest")
        self.assertFails(self.forged(lambda n, d: approved(n, d) if n == "report.html" else d), "report.html")

    def test_report_html_in_the_bureaus_language(self):
        """report.html is written in [bureau] language, like report.pdf: a zh-CN bureau's has none
        of the English report's words and no stored code; an English bureau's has them, in words."""
        english = ["Inspection report", "Applicant", "Site", "Owner", "Status", "Accepted", "Deadline", "Required items",
                   "Decisions", "Recordings and stills", "not marked", "check it with", "by owner", "final"]
        codes = ["rectification_required", "rectify", "awaiting_countersign", "not_shown", "inspecting"]
        zh = self.members["report.html"].decode()
        self.assertIn('<html lang="zh-CN">', zh)
        for word in english + codes:
            self.assertNotIn(word, zh, f"the zh-CN report.html shows {word!r}")
        for word in ["踏勘报告", "申请人", "要件", "未核查", "评审结论", "需补正", "补正", "最终", "录像与取证截图", "签名"]:
            self.assertIn(word, zh)
        self.assertIn(self.pubkey, zh)
        # the same case exported by an English bureau (its settings file says so)
        conf = os.path.join(self.work, "en.conf")
        with open(conf, "w") as f:
            f.write("[media]\nroom_linger_s=1\n[bureau]\nlanguage=en\n")
        args = self.server.common_args()
        args[args.index("--config") + 1] = conf
        out_path = os.path.join(self.work, "BU-1-en.zip")
        out = subprocess.run([KANYAN, "case", "export", "--ref", "BU-1", "--out", out_path] + args,
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        with zipfile.ZipFile(out_path) as z:
            en = z.read("report.html").decode()
        self.assertIn('<html lang="en">', en)
        for word in english + ["rectification required", "rectify", self.pubkey]:
            self.assertIn(word, en)
        for word in codes[:1] + ["踏勘报告", "要件", "需补正"]:
            self.assertNotIn(word, en, f"the English report.html shows {word!r}")

    def test_forged_manifest_and_unlisted_files(self):
        # the manifest edited to match a changed case.json: its signature no longer verifies
        case = json.loads(self.members["case.json"])
        case["status"] = "approved"
        case_bytes = json.dumps(case).encode()
        def manifest(n, d):
            if n == "case.json":
                return case_bytes
            if n == "manifest.json":
                m = json.loads(d)
                for f in m["files"]:
                    if f["path"] == "case.json":
                        f["sha256"] = hashlib.sha256(case_bytes).hexdigest()
                return json.dumps(m, indent=2).encode()
            return d
        self.assertFails(self.forged(manifest), "signature")
        self.assertFails(self.forged(lambda n, d: d, extra={"stills/99-extra.jpg": b"\xff\xd8"}),
                         "stills/99-extra.jpg", "not in the signed manifest")
        self.assertFails(self.forged(lambda n, d: None if n == "manifest.sig" else d), "manifest.sig")
        self.assertFails(self.forged(lambda n, d: None if n == "case.json" else d), "case.json", "missing")

    def test_signed_by_another_key(self):
        # another server (its own data directory, so its own key) exports the same case
        other = os.path.join(self.work, "other-data")
        shutil.copytree(self.server.data, other, ignore=shutil.ignore_patterns("signing.key"))
        args = self.server.common_args()
        args[args.index("--data-dir") + 1] = other
        bundle = os.path.join(self.work, "other.zip")
        subprocess.run([KANYAN, "case", "export", "--ref", "BU-1", "--out", bundle] + args, check=True,
                       capture_output=True)
        other_key = subprocess.run([KANYAN, "audit", "pubkey"] + args, capture_output=True, text=True,
                                   check=True).stdout.strip()
        self.assertNotEqual(other_key, self.pubkey)
        self.assertFails(self.verify(bundle), "another key")
        alone = self.verify(bundle, pubkey=False)
        self.assertEqual(alone.returncode, 0, "without --pubkey it checks against the key it names…")
        self.assertIn(other_key, alone.stdout, "…and says which, to compare with the issuer's")


if __name__ == "__main__":
    unittest.main()

"""The audit log: hash-chained, append-only (triggers), and `kanyan audit verify` names the
first row that was changed or removed behind the triggers' back."""
import os
import sqlite3
import subprocess
import tempfile
import unittest

from kanyan import KANYAN


def kanyan(data, *args):
    return subprocess.run([KANYAN] + list(args) + ["--data-dir", data], capture_output=True, text=True)


class AuditTest(unittest.TestCase):
    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="kanyan-audit-")
        self.assertEqual(kanyan(self.data, "case", "add", "--ref", "AUD-1", "--type", "fuel-retail").returncode, 0)
        self.assertEqual(kanyan(self.data, "case", "add", "--ref", "AUD-2", "--type", "food-business").returncode, 0)
        self.assertEqual(kanyan(self.data, "case", "invite", "--ref", "AUD-1").returncode, 0)
        self.db = os.path.join(self.data, "kanyan.db")

    def sql(self, statement):
        return subprocess.run(["sqlite3", self.db, statement], capture_output=True, text=True)

    def test_untouched_chain_verifies(self):
        out = kanyan(self.data, "audit", "verify")
        self.assertEqual(out.returncode, 0, out.stderr)
        total = self.sql("SELECT COUNT(*) FROM audit_log").stdout.strip()
        self.assertGreaterEqual(int(total), 5)
        self.assertIn(f"intact: {total} entries", out.stdout)
        out = kanyan(self.data, "audit", "verify", "--case", "AUD-2")
        # created, its invite, and the status the invite moved it to
        self.assertIn("intact: 3 entries of case AUD-2", out.stdout)

    def test_triggers_refuse_update_and_delete(self):
        before = self.sql("SELECT COUNT(*), max(hash) FROM audit_log").stdout
        self.assertIn("append-only", self.sql("UPDATE audit_log SET actor = 'x' WHERE id = 1").stderr)
        self.assertIn("append-only", self.sql("DELETE FROM audit_log WHERE id = 1").stderr)
        self.assertEqual(self.sql("SELECT COUNT(*), max(hash) FROM audit_log").stdout, before)

    def test_tampered_row_is_named(self):
        self.sql("DROP TRIGGER audit_log_no_update")
        victim = self.sql("SELECT id FROM audit_log WHERE case_ref = 'AUD-2' AND action = 'case.created'").stdout.strip()
        self.sql(f"UPDATE audit_log SET detail = '{{\"type\":\"fuel-retail\"}}' WHERE id = {victim}")
        out = kanyan(self.data, "audit", "verify")
        self.assertEqual(out.returncode, 1)
        self.assertIn(f"BROKEN at entry {victim}", out.stdout)
        # the other case's entries are still intact
        self.assertEqual(kanyan(self.data, "audit", "verify", "--case", "AUD-1").returncode, 0)

    def test_removed_row_is_noticed(self):
        self.sql("DROP TRIGGER audit_log_no_delete")
        self.sql("DELETE FROM audit_log WHERE id = 2")
        out = kanyan(self.data, "audit", "verify")
        self.assertEqual(out.returncode, 1)
        self.assertIn("BROKEN at entry 3", out.stdout)

    def test_no_token_in_the_log(self):
        out = subprocess.run([KANYAN, "case", "invite", "--ref", "AUD-2", "--json", "--data-dir", self.data],
                             capture_output=True, text=True)
        token = __import__("json").loads(out.stdout)["token"]
        with sqlite3.connect(self.db) as db:
            rows = db.execute("SELECT detail FROM audit_log").fetchall()
        self.assertFalse(any(token in r[0] for r in rows))


if __name__ == "__main__":
    unittest.main()

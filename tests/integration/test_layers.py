"""The include arrows of src/ point down the layers (tools/check_layers.py, docs/architecture.md):
a lower layer that includes a higher one fails here, and so does SQL outside src/store."""
import os
import subprocess
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class LayersTest(unittest.TestCase):
    def test_includes_point_down(self):
        run = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "check_layers.py")],
                             capture_output=True, text=True)
        self.assertEqual(run.stdout.strip(), "", "arrows that point up a layer")
        self.assertEqual(run.returncode, 0, run.stderr)

    def test_check_sees_an_upward_include(self):
        """The check itself can fail: a store file that includes a web header is reported."""
        probe = os.path.join(ROOT, "src", "store", "zz_layer_probe.h")
        with open(probe, "w") as f:
            f.write('#include "web/http.h"\n')
        try:
            run = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "check_layers.py")],
                                 capture_output=True, text=True)
        finally:
            os.unlink(probe)
        self.assertEqual(run.returncode, 1)
        self.assertIn("store/zz_layer_probe.h -> web/http.h", run.stdout)

    def test_check_sees_sql_outside_the_store(self):
        """SQL lives in src/store: a domain file that prepares a statement is reported, with a
        statement in a comment left alone."""
        probe = os.path.join(ROOT, "src", "review", "zz_sql_probe.c")
        with open(probe, "w") as f:
            f.write('/* sqlite3_exec ("SELECT 1") in a comment is fine */\n'
                    'static const char *url = "http://example"; /* // in a string is no comment */\n'
                    'void probe (sqlite3 *db) {\n'
                    '  sqlite3_prepare_v2 (db, "SELECT id FROM users WHERE username = ?1", -1, NULL, NULL);\n'
                    '}\n'
                    'static const char *ics = "BEGIN:VCALENDAR"; /* an iCalendar line is no SQL */\n')
        try:
            run = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "check_layers.py")],
                                 capture_output=True, text=True)
        finally:
            os.unlink(probe)
        self.assertEqual(run.returncode, 1)
        self.assertIn("review/zz_sql_probe.c:4: sqlite3_prepare_v2 outside src/store", run.stdout)
        self.assertIn('review/zz_sql_probe.c:4: SQL outside src/store: "SELECT id FROM users', run.stdout)
        self.assertNotIn("zz_sql_probe.c:1", run.stdout)
        self.assertNotIn("zz_sql_probe.c:5", run.stdout)


if __name__ == "__main__":
    unittest.main()

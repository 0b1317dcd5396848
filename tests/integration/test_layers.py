"""The include arrows of src/ point down the layers (tools/check_layers.py, docs/architecture.md):
a lower layer that includes a higher one fails here, and so does SQL outside src/store. The map
in docs/architecture.md names every file of src/ once, in its layer."""
import os
import re
import subprocess
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LAYERS = ["core", "store", "media", "review", "archive", "live", "web", "app"]


def map_problems():
    """What docs/architecture.md's layer map gets wrong about src/: a module (each .c, and each
    .h without a .c of its name) not named, named twice or in another layer, or a name that
    is no file. The map is the first code block after "## Layers"; a line names the file in
    its first column, after the layer's name or the arrow's "│"."""
    with open(os.path.join(ROOT, "docs", "architecture.md")) as f:
        text = f.read()
    block = text[text.index("## Layers"):]
    block = block[block.index("```") + 3:]
    block = block[:block.index("```")]
    named, layer = [], None
    for line in block.splitlines():
        tokens = line.split()
        if tokens and tokens[0] in LAYERS:
            layer, tokens = tokens[0], tokens[1:]
        if tokens and tokens[0] == "│":
            tokens = tokens[1:]
        if tokens and re.fullmatch(r"\w+\.[ch]", tokens[0]):
            named.append(f"{layer}/{tokens[0]}")
    src = os.path.join(ROOT, "src")
    modules = []
    for folder in sorted(os.listdir(src)):
        names = os.listdir(os.path.join(src, folder))
        modules += [f"{folder}/{n}" for n in sorted(names)
                    if n.endswith(".c") or (n.endswith(".h") and n[:-2] + ".c" not in names)]
    problems = [f"{m} is not on the map" for m in modules if named.count(m) == 0]
    problems += [f"{m} is named {named.count(m)} times" for m in modules if named.count(m) > 1]
    problems += [f"{n} is on the map but not in src/" for n in sorted(set(named)) if n not in modules]
    return problems


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

    def test_every_file_is_on_the_map(self):
        self.assertEqual(map_problems(), [], "docs/architecture.md's layer map and src/ disagree")

    def test_map_check_sees_a_new_file(self):
        """The map check itself can fail: a module nobody wrote into the map is reported."""
        probe = os.path.join(ROOT, "src", "media", "zz_map_probe.h")
        with open(probe, "w") as f:
            f.write("/* zz_map_probe.h — not on the map */\n")
        try:
            problems = map_problems()
        finally:
            os.unlink(probe)
        self.assertIn("media/zz_map_probe.h is not on the map", problems)


if __name__ == "__main__":
    unittest.main()

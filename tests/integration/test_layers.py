"""The include arrows of src/ point down the layers (tools/check_layers.py, docs/architecture.md):
a lower layer that includes a higher one fails here."""
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


if __name__ == "__main__":
    unittest.main()

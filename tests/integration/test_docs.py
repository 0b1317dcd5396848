"""Errors are part of the interface: every stable code in src/core/errors.c's table is
documented in docs/errors.md (one row beginning with the code), and the documentation names no
code the table does not have."""
import os
import re
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def codes_in_table(text):
    return re.findall(r'^\s*\[KANYAN_ERROR_\w+\]\s*=\s*\{\s*"([a-z_]+)"', text, re.M)


def codes_documented(text):
    return re.findall(r"^\| `([a-z_]+)` \|", text, re.M)


class ErrorDocsTest(unittest.TestCase):
    def read(self, *parts):
        with open(os.path.join(ROOT, *parts)) as f:
            return f.read()

    def test_every_error_code_is_documented(self):
        table = codes_in_table(self.read("src", "core", "errors.c"))
        documented = codes_documented(self.read("docs", "errors.md"))
        self.assertGreater(len(table), 20, "the table was read")
        self.assertEqual(sorted(set(table) - set(documented)), [], "codes without a row in docs/errors.md")
        self.assertEqual(sorted(set(documented) - set(table)), [], "rows in docs/errors.md for no code")
        self.assertEqual(sorted({c for c in documented if documented.count(c) > 1}), [], "one row per code")

    def test_the_check_sees_an_undocumented_code(self):
        table = codes_in_table('  [KANYAN_ERROR_X] = { "brand_new_code", 400 },\n')
        self.assertEqual(table, ["brand_new_code"])
        self.assertNotIn("brand_new_code", codes_documented(self.read("docs", "errors.md")))


if __name__ == "__main__":
    unittest.main()

"""The first start's admin password: written to a file only its owner reads (0600) in the data
directory, its path printed, the password itself never on stdout (a journal under systemd)."""
import os
import stat
import unittest

from kanyan import Server


class FirstStartTest(unittest.TestCase):
    def test_admin_password_in_a_private_file(self):
        s = Server().start()
        try:
            path = os.path.join(s.data, "admin-password.txt")
            password = s.first_admin_password()
            self.assertTrue(password, "the file holds the password")
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            log = s.log_text()
            self.assertIn(path, log, "where to find it is printed")
            self.assertNotIn(password, log, "the password itself is not")
            self.assertEqual(s.api("GET", "/api/me", user="admin")[1]["role"], "admin")
        finally:
            s.stop()
        # a second start with the account in place makes no new password
        os.unlink(path)
        s.start()
        try:
            self.assertFalse(os.path.exists(path))
        finally:
            s.stop()


if __name__ == "__main__":
    unittest.main()

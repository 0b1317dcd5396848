"""The first start's admin password: written to a file only its owner reads (0600) in the data
directory, its path printed, the password itself never on stdout (a journal under systemd). A
start on a port that is taken says so and exits 1, never with a crash."""
import os
import signal
import socket
import stat
import subprocess
import tempfile
import unittest

from kanyan import KANYAN, ROOT, Server


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

    def test_slices_come_from_malloc(self):
        """GLib 2.74 caches freed slices per thread (1.3 MB of ~6 per inspection): `serve` runs
        itself again, same process, with G_SLICE=always-malloc, unless the operator set G_SLICE."""
        def environ(server):
            with open(f"/proc/{server.proc.pid}/environ", "rb") as f:
                return f.read().split(b"\0")
        s = Server().start()
        try:
            self.assertIn(b"G_SLICE=always-malloc", environ(s))
            with open(f"/proc/{s.proc.pid}/comm") as f:
                self.assertEqual(f.read().strip(), "kanyan", "named as before, not after /proc/self/exe")
            self.assertTrue(s.get_json("/api/health")["ok"], "the server it became serves")
        finally:
            s.stop()
        s = Server()
        s.env = {"G_SLICE": "debug-blocks"}
        s.start()
        try:
            self.assertIn(b"G_SLICE=debug-blocks", environ(s), "the operator's G_SLICE wins")
            self.assertNotIn(b"G_SLICE=always-malloc", environ(s))
        finally:
            s.stop()

    def test_a_taken_port_exits_cleanly(self):
        """The DTLS key is being made on a thread when a start fails at once: exit() tore
        OpenSSL down under it and the process crashed about one start in four."""
        with socket.socket() as taken, tempfile.TemporaryDirectory() as tmp:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            argv = [KANYAN, "serve", "--no-tls", "--port", str(port), "--bind", "127.0.0.1",
                    "--data-dir", os.path.join(tmp, "data"), "--recordings", os.path.join(tmp, "rec"),
                    "--web-dir", os.path.join(ROOT, "web"), "--pipelines-dir", os.path.join(ROOT, "pipelines")]
            for _ in range(12):
                out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
                self.assertNotEqual(out.returncode, -signal.SIGSEGV, out.stderr[-800:])
                self.assertEqual(out.returncode, 1, out.stderr[-800:])
                self.assertIn("kanyan serve:", out.stderr)


if __name__ == "__main__":
    unittest.main()

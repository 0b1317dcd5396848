"""Kanyan as a service (issue 19, item 4): `make install DESTDIR=… PREFIX=/usr` puts the binary,
web/, pipelines/, the man page, the systemd unit and /etc/kanyan/kanyan.conf where they belong;
`systemd-analyze verify` passes on the installed unit (in a root made of the install and the
host's own targets); the installed binary, started with the installed config pointed at temporary
directories, answers /api/health by the time it says READY=1 over a real NOTIFY_SOCKET (a unix
datagram socket this test listens on), pings WATCHDOG=1 when WATCHDOG_USEC asks for it, and on
SIGHUP serves a renewed TLS certificate to new connections while an open connection goes on; a
broken certificate is refused and the old one kept."""
import glob
import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.request

from kanyan import ROOT, SLACK, free_port

UNIT = "usr/lib/systemd/system/kanyan.service"


def make_cert(directory, name):
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", f"/CN={name}", "-days", "2", "-keyout", key + ".new", "-out", cert + ".new"],
                   check=True, capture_output=True)
    os.replace(key + ".new", key)   # renewed in place, as certbot's files are
    os.replace(cert + ".new", cert)
    return cert, key


def served_name(port):
    """The CN of the certificate a new TLS connection is given."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10 * SLACK) as raw:
        with ctx.wrap_socket(raw) as tls:
            der = tls.getpeercert(binary_form=True)
    text = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject"], input=der,
                          capture_output=True, check=True).stdout.decode()
    return text.strip().split("CN", 1)[1].strip(" =")


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kanyan-install-")
        cls.root = os.path.join(cls.tmp, "root")
        done = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "install", f"DESTDIR={cls.root}",
                               "PREFIX=/usr"], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, rel):
        return os.path.join(self.root, rel)

    def test_files_where_expected(self):
        for rel in ["usr/bin/kanyan", "usr/share/kanyan/web/index.html", "usr/share/kanyan/pipelines/recorder.ini",
                    "usr/share/man/man1/kanyan.1", "usr/share/doc/kanyan/deploy.md", UNIT, "etc/kanyan/kanyan.conf"]:
            self.assertTrue(os.path.isfile(self.path(rel)), rel)
        self.assertTrue(os.access(self.path("usr/bin/kanyan"), os.X_OK))
        with open(self.path("etc/kanyan/kanyan.conf")) as f:
            conf = f.read()
        self.assertIn("web_dir=/usr/share/kanyan/web", conf)
        self.assertNotIn("@", conf.replace("# ", ""), "every placeholder filled in")
        man = subprocess.run(["man", "-l", self.path("usr/share/man/man1/kanyan.1")], capture_output=True, text=True,
                             env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0"))
        self.assertEqual(man.returncode, 0, man.stderr)
        self.assertIn("SIGHUP", man.stdout)
        # a second install keeps the administrator's settings
        with open(self.path("etc/kanyan/kanyan.conf"), "a") as f:
            f.write("# edited by the administrator\n")
        subprocess.run(["make", "--no-print-directory", "-C", ROOT, "install", f"DESTDIR={self.root}", "PREFIX=/usr"],
                       check=True, capture_output=True, timeout=600)
        with open(self.path("etc/kanyan/kanyan.conf")) as f:
            self.assertIn("edited by the administrator", f.read())

    def test_unit_verifies(self):
        with open(self.path(UNIT)) as f:
            unit = f.read()
        for line in ["Type=notify", "WatchdogSec=", "DynamicUser=yes", "StateDirectory=kanyan", "ProtectSystem=strict",
                     "NoNewPrivileges=yes", "PrivateTmp=yes", "CapabilityBoundingSet=\n",
                     "ExecStart=/usr/bin/kanyan serve --config /etc/kanyan/kanyan.conf", "ExecReload=/bin/kill -HUP $MAINPID"]:
            self.assertIn(line, unit)
        # an offline root: the install, plus what a Debian system has (its targets and slices, kill)
        vroot = os.path.join(self.tmp, "verify-root")
        shutil.copytree(self.root, vroot, symlinks=True)
        os.symlink("usr/bin", os.path.join(vroot, "bin"))
        shutil.copy("/usr/bin/kill", os.path.join(vroot, "usr/bin/kill"))
        units = os.path.join(vroot, "usr/lib/systemd/system")
        for host_unit in glob.glob("/usr/lib/systemd/system/*.target") + glob.glob("/usr/lib/systemd/system/*.slice"):
            if not os.path.exists(os.path.join(units, os.path.basename(host_unit))):
                shutil.copy(host_unit, units)
        done = subprocess.run(["systemd-analyze", "verify", f"--root={vroot}", os.path.join(vroot, UNIT)],
                              capture_output=True, text=True, env=dict(os.environ, MANPATH=os.path.join(vroot, "usr/share/man")))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stderr.strip() + done.stdout.strip(), "", "no warning about the unit")

    def test_installed_binary_notifies_and_reloads(self):
        work = tempfile.mkdtemp(dir=self.tmp)
        tls_dir = os.path.join(work, "tls")
        os.mkdir(tls_dir)
        cert, key = make_cert(tls_dir, "first")
        with open(self.path("etc/kanyan/kanyan.conf")) as f:
            conf = f.read().replace("# tls_cert=/etc/kanyan/tls/fullchain.pem", f"tls_cert={cert}")
            conf = conf.replace("# tls_key=/etc/kanyan/tls/privkey.pem", f"tls_key={key}")
        config = os.path.join(work, "kanyan.conf")
        with open(config, "w") as f:
            f.write(conf)
        notify_path = os.path.join(work, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(notify_path)
        sock.settimeout(1)
        port = free_port()
        argv = [self.path("usr/bin/kanyan"), "serve", "--config", config, "--data-dir", os.path.join(work, "data"),
                "--recordings", os.path.join(work, "recordings"), "--port", str(port), "--bind", "127.0.0.1",
                "--web-dir", self.path("usr/share/kanyan/web"), "--pipelines-dir", self.path("usr/share/kanyan/pipelines")]
        env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="1000000", G_MESSAGES_DEBUG="kanyan")
        log = open(os.path.join(work, "server.log"), "w")
        proc = subprocess.Popen(argv, stdout=log, stderr=log, env=env)
        messages = []

        def log_text():
            with open(log.name, errors="replace") as f:
                return f.read()

        def wait_for(field, timeout=30):
            deadline = time.time() + timeout * SLACK
            while time.time() < deadline:
                try:
                    data = sock.recv(4096).decode()
                except socket.timeout:
                    self.assertIsNone(proc.poll(), "the server exited: " + log_text()[-2000:])
                    continue
                messages.append(data)
                if field in data.split("\n"):
                    return data
            self.fail(f"no {field} in {messages}: " + log_text()[-2000:])

        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            ready = wait_for("READY=1")
            self.assertIn(f"STATUS=listening on https://127.0.0.1:{port}/", ready)
            # ready means listening: the first request answers
            with urllib.request.urlopen(f"https://127.0.0.1:{port}/api/health", timeout=10 * SLACK, context=ctx) as r:
                self.assertEqual(r.status, 200)
            for _ in range(2):
                wait_for("WATCHDOG=1")
            self.assertEqual(served_name(port), "first")
            # an open connection across the reload
            conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10 * SLACK, context=ctx)
            conn.request("GET", "/api/health")
            self.assertEqual(conn.getresponse().read()[:1], b"{")
            make_cert(tls_dir, "renewed")
            proc.send_signal(signal.SIGHUP)
            wait_for("RELOADING=1")
            self.assertIn("STATUS=reloaded", wait_for("READY=1"))
            self.assertEqual(served_name(port), "renewed", "a new connection gets the renewed certificate")
            conn.request("GET", "/api/health")
            response = conn.getresponse()
            self.assertEqual((response.status, response.read()[:1]), (200, b"{"), "the open connection goes on")
            conn.close()
            # a broken certificate: refused, the renewed one kept
            with open(cert, "w") as f:
                f.write("not a certificate\n")
            proc.send_signal(signal.SIGHUP)
            wait_for("RELOADING=1")
            self.assertIn("STATUS=reload failed", wait_for("READY=1"))
            self.assertEqual(served_name(port), "renewed")
            self.assertIn("the TLS certificate stays as it was", log_text())
            proc.send_signal(signal.SIGTERM)
            wait_for("STOPPING=1")
            self.assertEqual(proc.wait(timeout=30 * SLACK), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
            sock.close()


if __name__ == "__main__":
    unittest.main()

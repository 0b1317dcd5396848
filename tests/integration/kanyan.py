"""kanyan.py — fixtures for the integration tests: a real `kanyan serve` in a temporary
directory on a free loopback port, and the real peers that talk to it (aiortc and Chromium
WHIP publishers, the webrtcbin reviewer). Run inside tests/netns.sh: media then flows over
the namespace's veth addresses only."""
import json
import re
import os
import signal
import random
import socket
import ssl
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KANYAN = os.environ.get("KANYAN_BIN") or os.path.join(ROOT, "build", "kanyan")
REVIEWER = os.path.join(ROOT, "build", "reviewer-peer")
PEERS = os.path.join(ROOT, "tests", "peers")
PYTHON = "/usr/bin/python3"           # Debian's, which has aiortc
ICE_ADDRESS = "10.77.0.1"             # the namespace's veth (tests/netns.sh)
# Every deadline here is a failure bound, never an expected time: on a loaded 2-core machine
# what takes 1 s when quiet can take 10. SLACK multiplies the figures written in the tests
# (wait_until, a peer's wait, a server's start and stop, an HTTP request);
# KANYAN_TEST_SLACK=1 gives the written figures back, to see how close a run comes to them.
SLACK = float(os.environ.get("KANYAN_TEST_SLACK") or 3)


# tests/netns.sh reserves these for the servers the tests start: the kernel gives none of them to
# an outgoing connection or a bind to port 0, so one found free here is still free when the server
# binds it. (A port from bind(0) was not: a client's connection could take it in between, and the
# server then could not listen.)
TEST_PORTS = (51000, 61000)


def free_port():
    while True:
        port = random.randrange(*TEST_PORTS)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


# Every secret the tests handled (passwords, session cookies, invite tokens) and every server
# log of the run: tests/runner.py checks at the end that no log line holds any of them.
SECRETS = set()
SERVER_LOGS = []


def remember_secrets(value):
    """Collects "token" and "password" values from an API answer."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ("token", "password") and isinstance(v, str):
                SECRETS.add(v)
            else:
                remember_secrets(v)
    elif isinstance(value, list):
        for v in value:
            remember_secrets(v)


class JsonLines:
    """A child process whose stdout is one JSON object per line, collected as it comes."""

    def __init__(self, argv, log_path):
        self.lines = []
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.strip()
            if line.startswith("{"):
                try:
                    self.lines.append(json.loads(line))
                except ValueError:
                    pass

    def wait(self, timeout=60):
        rc = self.proc.wait(timeout=timeout * SLACK)
        self.thread.join(timeout=5)
        self.log.close()
        if rc != 0:   # a failing peer says why in the assertion that shows its lines
            with open(self.log.name, errors="replace") as f:
                self.lines.append({"exit": rc, "stderr": f.read()[-1500:]})
        return rc

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5 * SLACK)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.thread.join(timeout=5)

    def last(self, key=None):
        for line in reversed(self.lines):
            if key is None or key in line:
                return line
        return None

    def events(self, name):
        return [l for l in self.lines if l.get("event") == name]


class Server:
    def __init__(self, config=None, tls=False):
        self.tls = tls   # HTTPS with the self-signed certificate made in the data directory
        self.dir = tempfile.mkdtemp(prefix="kanyan-it-")
        self.data = os.path.join(self.dir, "data")
        self.recordings = os.path.join(self.dir, "recordings")
        self.port = free_port()
        self.config = config
        self.proc = None
        self.log_path = os.path.join(self.dir, "server.log")
        SERVER_LOGS.append(self.log_path)
        self.children = []
        self.passwords = {}   # username -> password
        self.cookies = {}     # username -> "kanyan_session=…"
        self.env = {}         # more environment for the server process (GST_DEBUG=…), set before start()

    @property
    def base(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/ws"

    def common_args(self):
        args = ["--data-dir", self.data, "--recordings", self.recordings,
                "--web-dir", os.path.join(ROOT, "web"), "--pipelines-dir", os.path.join(ROOT, "pipelines")]
        if self.config:
            path = os.path.join(self.dir, "kanyan.conf")
            with open(path, "w") as f:
                f.write(self.config)
            args += ["--config", path]
        return args

    def start(self):
        argv = [KANYAN, "serve"] + ([] if self.tls else ["--no-tls"]) + ["--port", str(self.port), "--bind", "127.0.0.1",
                "--ice-address", ICE_ADDRESS] + self.common_args()
        env = dict(os.environ, G_MESSAGES_DEBUG="kanyan", GST_DEBUG="1")
        env.update(self.env)
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=self.log, env=env)
        # listening only once /api/health answers; a server that never does is not left behind
        deadline = time.time() + 20 * SLACK
        while time.time() < deadline:
            try:
                self.get_json("/api/health")
                return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if self.proc.poll() is not None:
                    raise RuntimeError("kanyan serve exited: " + open(self.log_path).read()[-2000:])
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("kanyan serve did not answer: " + open(self.log_path).read()[-2000:])

    def stop(self, sig=signal.SIGTERM):
        for child in self.children:
            child.stop()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:   # it closes its recordings first (SHUTDOWN_GRACE_MS)
                self.proc.wait(timeout=20 * SLACK)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()

    # ---- accounts ----------------------------------------------------------------------
    def add_user(self, username, role="reviewer", department="commerce"):
        """Creates an account through the CLI (works while the server runs: SQLite WAL)."""
        password = "pw-" + username + "-" + os.urandom(6).hex()
        subprocess.run([KANYAN, "user", "add", "-u", username, "--role", role, "--department", department,
                        "--password-stdin"] + self.common_args(), input=password + "\n", check=True,
                       capture_output=True, text=True)
        self.passwords[username] = password
        SECRETS.add(password)
        return password

    def first_admin_password(self):
        """The one-time password `kanyan serve` wrote (mode 0600) to data/admin-password.txt when it
        created `admin` on its first start."""
        try:
            with open(os.path.join(self.data, "admin-password.txt")) as f:
                found = re.search(r"^password: (\S+)$", f.read(), re.M)
        except FileNotFoundError:
            return None
        if found:
            self.passwords["admin"] = found.group(1)
            SECRETS.add(found.group(1))
        return found and found.group(1)

    def login(self, username):
        """The account's session cookie ("kanyan_session=…"), logging in once."""
        if username not in self.cookies:
            if username not in self.passwords:
                self.add_user(username)
            body = json.dumps({"username": username, "password": self.passwords[username]}).encode()
            status, headers, text = self.request("POST", "/api/login", body, {"Content-Type": "application/json"})
            if status != 200:
                raise RuntimeError(f"login {username}: {status} {text!r}")
            cookie = {k.lower(): v for k, v in headers.items()}["set-cookie"]
            self.cookies[username] = cookie.split(";")[0]
            SECRETS.add(self.cookies[username].split("=", 1)[1])
        return self.cookies[username]

    def add_case(self, ref, type_key="fuel-retail", owner="owner", extra=()):
        """A case owned by `owner` (a reviewer, created on first use); its invite."""
        if owner and owner not in self.passwords:
            self.add_user(owner)
        argv = [KANYAN, "case", "add", "--ref", ref, "--type", type_key, "--json"] + list(extra)
        if owner:
            argv += ["--owner", owner]
        out = subprocess.run(argv + self.common_args(), check=True, capture_output=True, text=True).stdout
        case = json.loads(out)
        SECRETS.add(case["token"])
        return case

    def api(self, method, path, body=None, user=None, headers=None):
        """A JSON API call as `user` (None: nobody): (status, parsed body or None)."""
        headers = dict(headers or {})
        if user:
            headers["Cookie"] = self.login(user)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        status, _, text = self.request(method, path, data, headers)
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            return status, None
        remember_secrets(parsed)
        return status, parsed

    def request(self, method, path, body=None, headers=None):
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=20 * SLACK, context=self.ssl_context()) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def ssl_context(self):
        if not self.tls:
            return None
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE   # the server's own self-signed certificate
        return ctx

    def get_json(self, path):
        with urllib.request.urlopen(self.base + path, timeout=10 * SLACK, context=self.ssl_context()) as resp:
            return json.loads(resp.read())

    def db(self):
        return sqlite3.connect(os.path.join(self.data, "kanyan.db"))

    def recording_files(self, extensions=(".mkv",)):
        found = []
        for root, _, files in os.walk(self.recordings):
            found += [os.path.join(root, f) for f in files if f.endswith(tuple(extensions))]
        return sorted(found)

    def archive_files(self):
        return self.recording_files((".mp4", ".webm"))

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    # ---- peers -------------------------------------------------------------------------
    def aiortc_publisher(self, case, duration, codec="vp8", reconnect_after=None, name="pub"):
        # "--token=…": a random token may begin with "-", which argparse would take for an option
        argv = [PYTHON, os.path.join(PEERS, "whip_aiortc.py"), "--url", f"{self.base}/whip/{case['ref']}",
                "--token=" + case["token"], "--duration", str(duration), "--codec", codec]
        if reconnect_after:
            argv += ["--reconnect-after", str(reconnect_after)]
        peer = JsonLines(argv, os.path.join(self.dir, f"{name}.log"))
        self.children.append(peer)
        return peer

    def chromium_publisher(self, case, duration, codec="vp8", name="chromium", extra=()):
        argv = ["node", os.path.join(PEERS, "whip_chromium.mjs"), "--url", f"{self.base}/whip/{case['ref']}",
                "--token", case["token"], "--duration", str(duration), "--codec", codec] + list(extra)
        peer = JsonLines(argv, os.path.join(self.dir, f"{name}.log"))
        self.children.append(peer)
        return peer

    def reviewer(self, case, duration, name="R", extra=(), user="owner"):
        argv = [REVIEWER, "--url", self.ws_url, "--case", case["ref"], "--name", name,
                "--duration", str(duration)] + list(extra)
        if user:
            argv += ["--cookie", self.login(user)]
        peer = JsonLines(argv, os.path.join(self.dir, f"reviewer-{name}.log"))
        self.children.append(peer)
        return peer


def ffprobe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise AssertionError(f"ffprobe cannot read {path}: {out.stderr}")
    return json.loads(out.stdout)


def first_video_frame_is_keyframe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=key_frame",
                          "-read_intervals", "%+#1", "-of", "csv=p=0", path], capture_output=True, text=True)
    lines = [l for l in out.stdout.splitlines() if l.strip()]
    return bool(lines) and lines[0].split(",")[0] == "1"


def mp4_index_at_front(path):
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    moov, mdat = head.find(b"moov"), head.find(b"mdat")
    return moov >= 0 and (mdat < 0 or moov < mdat)


def sha256_file(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def ffmpeg_duration(path):
    """Duration by reading every packet (works for a file cut by a crash, where the header has none)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "packet=pts_time", "-of", "csv=p=0", path],
                         capture_output=True, text=True)
    times = [float(t) for t in out.stdout.split() if t.replace(".", "").isdigit()]
    return (max(times) - min(times)) if times else 0.0


def decode_errors(path):
    """What ffmpeg's decoders complain of while decoding the whole file (video and audio). The
    null muxer's note about a repeated timestamp is left out: it comes from ffmpeg rounding
    decoded frames onto its own output clock, not from the file (see packet_dts_repeats)."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-map", "0:v?", "-map", "0:a?", "-f", "null", "-"],
                         capture_output=True, text=True)
    errors, dropped = [], False
    for line in out.stderr.splitlines():
        repeat = line.strip().startswith("Last message repeated")
        dropped = line.startswith("[null @") or (repeat and dropped)   # its repeats go with it
        if line.strip() and not dropped:
            errors.append(line)
    return errors + ([f"ffmpeg exited {out.returncode}"] if out.returncode else [])


def packet_dts_repeats(path, stream="v:0"):
    """The packets of a stream whose decoding timestamp does not increase: a muxing fault."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries", "packet=dts",
                          "-of", "csv=p=0", path], capture_output=True, text=True)
    dts = [int(t) for t in out.stdout.split() if t.lstrip("-").isdigit()]
    return [b for a, b in zip(dts, dts[1:]) if b <= a]


def nft(*args, check=True):
    """One nftables command in the test's own network namespace (its output captured: a rule a
    test lists comes back in .stdout)."""
    return subprocess.run(["nft"] + list(args), check=check, capture_output=True, text=True)


def wait_until(predicate, timeout, step=0.2):
    """True as soon as predicate() is; False if it is not within timeout × SLACK seconds."""
    deadline = time.time() + timeout * SLACK
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()

#!/usr/bin/python3
"""runner.py — runs every test group of Kanyan and ends with one line
`N passed, N failed, N skipped` (the CI reads "N passed, N failed" at its start).

Groups: GTest unit programs (build/test_*, TAP output), the integration tests with real
peers (tests/integration, unittest), the browser tests (tests/e2e, node --test) and the
fuzz smoke runs (build/fuzz_*, when built). `make test` runs it inside tests/netns.sh.
A group can be chosen: runner.py unit integration … With both integration and e2e chosen (the
default) the two run side by side, each in its own network namespace (run_integration_and_e2e),
and a few integration modules follow the browser tests in their lane (SECOND_LANE).
A skipped test is counted apart, never as passed, and printed with the reason it gave
(GTest/node TAP `# SKIP reason`, unittest's skip reason)."""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
passed = failed = skipped = 0
failures = []
skips = []


def share(**result):
    """A runner started by another (run_integration_lane) also writes each result, one JSON
    line, to the file KANYAN_RUNNER_RESULTS names: the parent counts them as its own."""
    path = os.environ.get("KANYAN_RUNNER_RESULTS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(result) + "\n")


def record(name, ok, detail="", seconds=None):
    global passed, failed
    share(name=name, ok=ok, detail=detail, seconds=seconds)
    if ok:
        passed += 1
    else:
        failed += 1
        failures.append(f"{name} {detail}".strip())
    took = f" ({seconds:.0f} s)" if seconds is not None and seconds >= 1 else ""
    print(f"{'ok  ' if ok else 'FAIL'} {name}{took}", flush=True)


def record_skip(name, reason):
    global skipped
    share(name=name, skip=reason)
    skipped += 1
    reason = (reason or "").strip() or "no reason given"
    skips.append(f"{name}: {reason}")
    print(f"skip {name}: {reason}", flush=True)


def tap_results(text, pattern):
    """(status, name, skip reason or None) of each TAP result line; a `# SKIP reason` (any
    case, as GTest and node write it) is cut off the name and returned apart."""
    out = []
    for status, rest in re.findall(pattern, text, re.M):
        m = re.search(r"\s+#\s*SKIP\b:?\s*(.*)$", rest, re.I)
        todo = re.search(r"\s+#\s*TODO\b:?\s*(.*)$", rest, re.I)
        if m:
            out.append((status, rest[:m.start()].strip(" -"), m.group(1)))
        elif todo and status == "not ok":   # a failing to-do test does not fail node's run either
            out.append((status, rest[:todo.start()].strip(" -"), f"to do, and failing: {todo.group(1)}"))
        elif todo:
            out.append((status, rest[:todo.start()].strip(" -"), None))
        else:
            out.append((status, rest.strip(" -"), None))
    return out


def run_unit():
    for prog in sorted(glob.glob(os.path.join(ROOT, "build", "test_*"))):
        name = os.path.basename(prog)
        try:
            out = subprocess.run([prog, "--tap"], capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            record(name, False, "(timed out)")
            continue
        results = tap_results(out.stdout, r"^(ok|not ok) \d+ (.*)$")
        for status, test, reason in results:
            if reason is not None:
                record_skip(f"{name} {test}", reason)
            else:
                record(f"{name} {test}", status == "ok")
        if out.returncode != 0 and not any(s == "not ok" for s, _, _ in results):
            record(name, False, f"(exit {out.returncode}) {out.stderr[-500:]}")


class Result(unittest.TextTestResult):
    started = None

    def startTest(self, test):
        super().startTest(test)
        self.started = time.time()

    def took(self):
        return time.time() - self.started if self.started else None

    def addSuccess(self, test):
        super().addSuccess(test)
        record(test.id(), True, seconds=self.took())

    def addFailure(self, test, err):
        super().addFailure(test, err)
        record(test.id(), False, self._exc_info_to_string(err, test)[-1500:], self.took())

    def addError(self, test, err):
        super().addError(test, err)
        record(test.id(), False, self._exc_info_to_string(err, test)[-1500:], self.took())

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        record_skip(test.id(), reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        record(test.id() + " (fails, as expected)", True)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        record(test.id(), False, "passed although marked expectedFailure")

    def addSubTest(self, test, subtest, err):
        # a failing subTest never reaches addFailure, and its test no addSuccess: count it here
        super().addSubTest(test, subtest, err)
        if err is not None:
            record(subtest.id(), False, self._exc_info_to_string(err, subtest)[-1500:])


# Integration modules that measure a rate, a time or memory, or shape the namespace's links:
# with the browser tests beside them (run_integration_and_e2e) they would measure the machine's
# load, so they run when the browser tests are done.
ALONE = {"test_bitrate", "test_audio_first", "test_loss_load", "test_loss", "test_soak", "test_limits",
         "test_outage", "test_reviewer_outage"}


# Integration modules that run in the browser tests' lane once those are done, in a network
# namespace of their own (run_integration_and_e2e), so that the two lanes end together: the
# browser tests take 600-780 s, the other modules ~1100 s (a fresh-clone run, 2026-12-04: the
# main lane 914 s against 774 + 280 s with kill -9 here as well). Chosen for their length and for
# owning nothing the main lane uses (they build nothing; their nftables rules stay in their
# namespace).
SECOND_LANE = {"test_reach_nat", "test_segments", "test_whep"}


def integration_tests(alone, modules=None, skip=()):
    """The integration tests of the ALONE modules (alone=True) or of the others, in their order;
    only those of `modules` when given, none of `skip`."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    suite = unittest.defaultTestLoader.discover(os.path.join(ROOT, "tests", "integration"), pattern="test_*.py")

    def flat(s):
        for t in s:
            yield from flat(t) if isinstance(t, unittest.TestSuite) else [t]
    return unittest.TestSuite([t for t in flat(suite) if (t.__class__.__module__ in ALONE) == alone and
                               (modules is None or t.__class__.__module__ in modules) and
                               t.__class__.__module__ not in skip])


def run_tests(suite):
    with open(os.devnull, "w") as devnull:
        unittest.TextTestRunner(stream=devnull, resultclass=Result, verbosity=0).run(suite)


def check_integration_logs(group="integration"):
    check_logs_for_secrets(group)
    import kanyan
    check_server_logs(group, kanyan.SERVER_LOGS)


def run_integration(lane=None):
    """The integration tests, the ALONE modules last. lane: the browser tests started beside
    them, then the SECOND_LANE modules (run_integration_and_e2e), both finished before the
    ALONE modules start."""
    started = time.time()
    run_tests(integration_tests(alone=False, skip=SECOND_LANE if lane else ()))
    if lane:
        main_lane = time.time() - started
        e2e, second = lane
        print("== e2e (beside the integration tests)", flush=True)
        finish_e2e(*e2e)   # first: it bounds the browser tests' time, which the second lane waits for
        second.join()
        print(f"(the lanes: integration {main_lane:.0f} s; browser tests {second.e2e_seconds:.0f} s, "
              f"then the second lane {second.seconds:.0f} s)", flush=True)
        print("== integration (the second lane, after the browser tests)", flush=True)
        for result in second.results:
            if "skip" in result:
                record_skip(result["name"], result["skip"])
            else:
                record(result["name"], result["ok"], result["detail"], result["seconds"])
        if second.error:
            record("integration's second lane", False, second.error)
        print("== integration (the modules that run alone)", flush=True)
    run_tests(integration_tests(alone=True))
    check_integration_logs()


class SecondLane(threading.Thread):
    """Waits for the browser tests' process to end, then runs the SECOND_LANE modules in a
    runner of their own (group integration-lane) in a fresh network namespace, and keeps its
    results (KANYAN_RUNNER_RESULTS) for the main runner to count."""

    def __init__(self, e2e_proc):
        super().__init__(daemon=True)
        self.e2e_proc = e2e_proc
        self.results, self.error = [], None
        self.started = time.time()
        self.e2e_seconds = self.seconds = 0

    def run(self):
        self.e2e_proc.wait()   # finish_e2e, later, bounds it and reads its output
        self.e2e_seconds = time.time() - self.started
        with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as results:
            env = dict(os.environ, KANYAN_RUNNER_RESULTS=results.name)
            try:
                out = subprocess.run([os.path.join(ROOT, "tests", "netns.sh"), "--fresh", "/usr/bin/python3",
                                      os.path.abspath(__file__), "integration-lane"], env=env, cwd=ROOT,
                                     capture_output=True, text=True, timeout=1500)
                if out.returncode not in (0, 1):
                    self.error = f"(exit {out.returncode}) {out.stdout[-1500:]} {out.stderr[-1500:]}"
            except subprocess.TimeoutExpired as e:
                self.error = f"timed out after {e.timeout} s"
            self.results = [json.loads(line) for line in results if line.strip()]
        self.seconds = time.time() - self.started - self.e2e_seconds


def run_integration_lane():
    """The SECOND_LANE modules alone (the second lane's own runner)."""
    run_tests(integration_tests(alone=False, modules=SECOND_LANE))
    check_integration_logs("integration (second lane)")


def run_integration_and_e2e():
    """The browser tests run beside the integration tests, in a network namespace of their own
    (tests/netns.sh --fresh: the tests that add nftables rules or shape a link change only
    their own namespace, and the two groups' ports never meet), followed in that lane by the
    SECOND_LANE modules; the ALONE modules start when both lanes are done. Both groups are
    mostly CPU-bound on 2 cores, so the gain is modest: the whole suite took 1343 s instead of
    1646 s on a fresh clone (2026-12-04)."""
    e2e = start_e2e()
    if not e2e:
        run_integration()
        return
    second = SecondLane(e2e[0])
    second.start()
    run_integration(lane=(e2e, second))


def check_server_logs(group, logs):
    """No server of the run ever had a loop in a pipeline's graph (GStreamer warns "loop
    detected in the graph of bin" and orders that bin's state changes arbitrarily): the
    talk-back mix once closed one, reviewer → mix → publisher → reviewer. And none died of a
    fatal signal (src/app/crash.c writes the signal and a backtrace), whether or not a test
    happened to notice: the backtrace is printed here, where CI's output shows it."""
    loops, crashes = [], []
    for log in logs:
        if not os.path.exists(log):
            continue
        with open(log, errors="replace") as f:
            lines = f.readlines()
        loops += [f"{log}: {l.strip()[:160]}" for l in lines if "loop detected in the graph" in l]
        for i, l in enumerate(lines):
            if l.startswith("kanyan: fatal signal"):
                crashes.append(f"{log}:\n" + "".join(lines[max(0, i - 5):i + 30]))
    record(f"no loop in any pipeline graph of the {group} run ({len(logs)} logs)", not loops, "; ".join(loops[:5]))
    record(f"no server of the {group} run died of a fatal signal", not crashes, "\n".join(crashes[:2]))


def check_logs_for_secrets(group):
    """No password, session cookie or invite token any integration test handled appears in any
    server log of the whole run (the servers ran at debug level, SDP and all). The first-start
    admin password goes to a 0600 file in the data directory, never to the log."""
    import kanyan
    secrets = {s for s in kanyan.SECRETS if len(s) >= 16}
    found = []
    for log in kanyan.SERVER_LOGS:
        if os.path.exists(log):
            with open(log, errors="replace") as f:
                text = f.read()
            found += [f"{log}: {s[:6]}…" for s in secrets if s in text]
    record(f"no secret in any server log of the {group} run ({len(kanyan.SERVER_LOGS)} logs, {len(secrets)} secrets)",
           not found and len(secrets) > 0, "; ".join(found[:10]))


E2E_TIMEOUT_S = 1500


def start_e2e(fresh_namespace=True):
    """node's test runner on every tests/e2e file, started and left running: (process, its
    output files), or None when there is none. fresh_namespace: in a network namespace of its
    own (tests/netns.sh --fresh), beside whatever runs in this one."""
    files = sorted(glob.glob(os.path.join(ROOT, "tests", "e2e", "*.test.mjs")))
    if not files:
        return None
    wrap = [os.path.join(ROOT, "tests", "netns.sh"), "--fresh"] if fresh_namespace else []
    out, err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(wrap + ["node", "--test", "--test-reporter=tap"] + files, stdout=out, stderr=err,
                            text=True, cwd=ROOT)
    return proc, out, err, time.time()


def finish_e2e(proc, out, err, started):
    try:
        proc.wait(timeout=max(1, E2E_TIMEOUT_S - (time.time() - started)))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    out.seek(0)
    err.seek(0)
    stdout, stderr = out.read(), err.read()
    for status, name, reason in tap_results(stdout, r"^\s*(ok|not ok) \d+ - (.*)$"):
        if reason is not None:
            record_skip(f"e2e {name}", reason)
        else:
            record(f"e2e {name}", status == "ok", "" if status == "ok" else tap_detail(stdout, name),
                   tap_seconds(stdout, name))
    if proc.returncode != 0 and "not ok" not in stdout:
        record("e2e", False, f"(exit {proc.returncode}) " + stdout[-2000:] + stderr[-2000:])
    check_server_logs("e2e", glob.glob(os.path.join(ROOT, "tests", "e2e", "artifacts", "*.log")))


def run_e2e():
    lane = start_e2e(fresh_namespace=False)
    if lane:
        finish_e2e(*lane)


def tap_seconds(text, name):
    """The duration_ms node's TAP reporter writes under a test's result line, in seconds."""
    m = re.search(r"^\s*(?:not )?ok \d+ - " + re.escape(name) + r"\s*\n\s*---\s*\n\s*duration_ms: ([\d.]+)", text, re.M)
    return float(m.group(1)) / 1000 if m else None


def tap_detail(text, name):
    """The YAML block node's TAP reporter writes under a failed test (error, stack), up to
    3000 characters; the end of the whole output when it cannot be found."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\s*not ok \d+ - " + re.escape(name) + r"\s*$", line):
            block = []
            for follow in lines[i + 1:]:
                if re.match(r"^\s*\.\.\.\s*$", follow):
                    break
                block.append(follow)
            return "\n".join(block)[:3000]
    return text[-3000:]


def run_fuzz():
    """Every fuzzer at once (each is one process; the smoke is about coverage of the inputs'
    shapes, not throughput), so the group takes one fuzzer's time, not four."""
    seconds = os.environ.get("KANYAN_FUZZ_SECONDS", "15")
    running = []
    for prog in sorted(glob.glob(os.path.join(ROOT, "build", "fuzz_*"))):
        name = os.path.basename(prog)
        corpus = os.path.join(ROOT, "tests", "fuzz", name[len("fuzz_"):])
        work = os.path.join(ROOT, "build", "fuzz-corpus", name)
        os.makedirs(work, exist_ok=True)
        options_file = corpus + ".options"
        words = open(options_file).read().split() if os.path.exists(options_file) else []
        options = [w for w in words if w.startswith("-")]
        env = dict(os.environ, **dict(w.split("=", 1) for w in words if not w.startswith("-")))
        proc = subprocess.Popen([prog, f"-max_total_time={seconds}", "-max_len=70000",
                                 f"-artifact_prefix={work}/"] + options + [work, corpus], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        running.append((name, proc))
    for name, proc in running:
        try:
            _, err = proc.communicate(timeout=int(seconds) + 300)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        record(f"fuzz {name} ({seconds} s)", proc.returncode == 0, err[-2000:])


def run_bench():
    """The benchmark's smoke step (one inspection, ~10 s), so the bench never rots: figures are
    printed, never asserted; it fails only when the reviewers received no media. bench/run.sh
    re-executes itself in tests/netns.sh unless KANYAN_NETNS=1 says we are inside one already."""
    try:
        out = subprocess.run([os.path.join(ROOT, "bench", "run.sh"), "--smoke"],
                             capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as e:
        record("bench run.sh --smoke", False, f"timed out after {e.timeout} s")
        return
    print(out.stdout.strip())
    record("bench run.sh --smoke", out.returncode == 0, out.stdout[-1500:] + out.stderr[-1500:])


GROUPS = {"unit": run_unit, "integration": run_integration, "e2e": run_e2e, "bench": run_bench, "fuzz": run_fuzz,
          "integration+e2e": run_integration_and_e2e, "integration-lane": run_integration_lane}

if __name__ == "__main__":
    chosen = sys.argv[1:] or ["unit", "integration", "e2e", "bench", "fuzz"]
    if "integration" in chosen and "e2e" in chosen:   # side by side (run_integration_and_e2e)
        chosen = [g for g in chosen if g != "e2e"]
        chosen[chosen.index("integration")] = "integration+e2e"
    started = time.time()
    group_times = []
    for group in chosen:
        print(f"== {group}", flush=True)
        group_started = time.time()
        GROUPS[group]()
        group_times.append(f"{group} {time.time() - group_started:.0f} s")
    for f in failures:
        print("\nFAILED: " + f)
    for s in skips:
        print("SKIPPED: " + s)
    print(f"\n(took {time.time() - started:.0f} s: {', '.join(group_times)})")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    sys.exit(1 if failed or not passed else 0)

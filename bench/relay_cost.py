#!/usr/bin/python3
"""relay_cost.py — what one live inspection costs the server: N inspections of one aiortc
publisher (640x480 VP8 + Opus over WHIP) and two webrtcbin reviewers each, recording on.
Samples the server process alone from /proc (CPU % of one core, RSS, threads) over the
middle of each step, and the reviewers' decoded frame rate and join-to-first-frame.
Run inside tests/netns.sh (`make bench`); `--smoke` runs one short step and fails when no
media reached the reviewers. The publishers encode in Python, so they, not the server,
saturate a 2-core machine first: this measures the relay, not the machine's ceiling."""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from kanyan import Server  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")


def proc_sample(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / HZ          # utime + stime, seconds
    status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status") if ":" in line)
    return cpu, int(status["VmRSS"].split()[0]) / 1024, int(status["Threads"])


def step(server, n, seconds, tag):
    cases = [server.add_case(f"B{tag}-{n}-{i}") for i in range(n)]
    peers = []
    for c in cases:
        peers.append(server.aiortc_publisher(c, seconds + 4, name=f"pub-{c['ref']}"))
        for r in range(2):
            peers.append(server.reviewer(c, seconds + 2, f"{c['ref']}-r{r}"))
    time.sleep(seconds / 3)
    cpu0, _, _ = proc_sample(server.proc.pid)
    t0 = time.time()
    rss, threads = [], []
    while time.time() - t0 < seconds / 3:
        _, r, th = proc_sample(server.proc.pid)
        rss.append(r)
        threads.append(th)
        time.sleep(0.5)
    cpu1, _, _ = proc_sample(server.proc.pid)
    cpu_pct = 100 * (cpu1 - cpu0) / (time.time() - t0)
    frames0 = {id(p): (p.last("frames") or {}).get("frames", 0) for p in peers if hasattr(p, "lines")}
    for p in peers:
        p.wait(seconds + 30)
    reviewers = [p for p in peers if p.last("first_frame_ms") is not None or "frames" in (p.last("frames") or {})]
    fps = [p.last("frames")["frames"] / max(1, p.last("frames")["t"]) for p in reviewers if p.last("frames")]
    first = [p.last("first_frame_ms")["first_frame_ms"] for p in reviewers
             if p.last("first_frame_ms") and p.last("first_frame_ms")["first_frame_ms"] is not None]
    return {
        "n": n, "cpu": cpu_pct, "rss": statistics.mean(rss), "threads": max(threads),
        "fps": statistics.mean(fps) if fps else 0.0, "first_ms": statistics.median(first) if first else None,
        "reviewers": len(fps),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--steps", default="1,2,3")
    ap.add_argument("--seconds", type=int, default=15)
    args = ap.parse_args()
    steps = [1] if args.smoke else [int(s) for s in args.steps.split(",")]
    seconds = 8 if args.smoke else args.seconds
    server = Server().start()
    base_cpu, base_rss, base_threads = proc_sample(server.proc.pid)
    rows = []
    try:
        for i, n in enumerate(steps):
            rows.append(step(server, n, seconds, i))
            time.sleep(2)
    finally:
        server.stop()
    print(f"idle server: RSS {base_rss:.1f} MB, {base_threads} threads; {os.cpu_count()} cores")
    print("| inspections | server CPU % of a core | per inspection | RSS MB | per inspection | threads | "
          "reviewer fps | join→first frame ms (median) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['n']} | {r['cpu']:.1f} | {r['cpu'] / r['n']:.1f} | {r['rss']:.1f} | "
              f"{(r['rss'] - base_rss) / r['n']:.1f} | {r['threads']} | {r['fps']:.1f} | {r['first_ms']} |")
    ok = all(r["reviewers"] == 2 * r["n"] and r["fps"] > 5 for r in rows)
    print("bench: media reached every reviewer" if ok else "bench: some reviewer got no media")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""finalize_speed.py — how many times faster than real time `kanyan archive finalize` turns a
10-minute recording segment into its archive (remux, read back, SHA-256). The segment is made
once with ffmpeg (VP8 or H.264 + Opus, ~1.5 Mbit/s, in Matroska as the recorder writes it) and
cached under build/bench-cache/."""
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CACHE = os.path.join(ROOT, "build", "bench-cache")
MINUTES = 10


def make_segment(codec):
    path = os.path.join(CACHE, f"segment-{codec}-{MINUTES}min.mkv")
    if os.path.exists(path):
        return path
    os.makedirs(CACHE, exist_ok=True)
    seconds = MINUTES * 60
    video = (["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1500k"] if codec == "vp8" else
             ["-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "baseline", "-b:v", "1500k"])
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", *video, "-g", "60",
                    "-c:a", "libopus", "-b:a", "32k", "-shortest", path + ".tmp.mkv"], check=True)
    os.rename(path + ".tmp.mkv", path)
    return path


def main():
    for codec in ("h264", "vp8"):
        source = make_segment(codec)
        work = os.path.join(CACHE, f"work-{codec}.mkv")
        shutil.copyfile(source, work)
        started = time.perf_counter()
        out = subprocess.run([os.path.join(ROOT, "build", "kanyan"), "archive", "finalize", "--json", work],
                             capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if out.returncode != 0:
            print(out.stderr)
            return 1
        result = json.loads(out.stdout)
        os.unlink(result["archive"])
        print(f"{codec}: {MINUTES} min ({os.path.getsize(source) / 1e6:.0f} MB) finalized in {elapsed:.2f} s "
              f"= {MINUTES * 60 / elapsed:.0f}x real time ({result['packets']} packets, remux + read-back + SHA-256)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

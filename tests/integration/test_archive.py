"""Archive finalization on files made here with ffmpeg: a whole segment, a truncated one
(salvaged up to its last good frame), and one that cannot be read (source kept)."""
import json
import os
import subprocess
import tempfile
import unittest

from kanyan import KANYAN, ffprobe, first_video_frame_is_keyframe, sha256_file


def make_segment(path, seconds=4, vcodec="libvpx"):
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=320x240:rate=30:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:v", vcodec, "-g", "30",
                    "-b:v", "400k", "-c:a", "libopus", "-shortest", path], check=True)


def finalize(path):
    out = subprocess.run([KANYAN, "archive", "finalize", "--json", path], capture_output=True, text=True)
    return out.returncode, (json.loads(out.stdout) if out.stdout.strip() else None), out.stderr


class ArchiveFinalizeTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="kanyan-archive-")

    def test_whole_vp8_segment_becomes_webm_and_source_goes(self):
        src = os.path.join(self.dir, "segment-001.mkv")
        make_segment(src)
        rc, result, err = finalize(src)
        self.assertEqual(rc, 0, err)
        self.assertFalse(result["salvaged"])
        self.assertTrue(result["archive"].endswith(".webm"))
        self.assertFalse(os.path.exists(src))
        self.assertEqual(result["sha256"], sha256_file(result["archive"]))
        info = ffprobe(result["archive"])
        self.assertAlmostEqual(float(info["format"]["duration"]), 4.0, delta=0.2)
        self.assertEqual(sorted(s["codec_name"] for s in info["streams"]), ["opus", "vp8"])
        self.assertTrue(first_video_frame_is_keyframe(result["archive"]))

    def test_truncated_segment_is_salvaged(self):
        src = os.path.join(self.dir, "segment-002.mkv")
        make_segment(src, seconds=6)
        size = os.path.getsize(src)
        with open(src, "r+b") as f:      # cut in the middle, then garbage: a crash mid-write
            f.truncate(size * 6 // 10)
            f.seek(0, 2)
            f.write(os.urandom(3000))
        rc, result, err = finalize(src)
        self.assertEqual(rc, 0, err)
        self.assertTrue(result["salvaged"] or result["duration_ms"] < 6000)
        duration = float(ffprobe(result["archive"])["format"]["duration"])
        self.assertGreater(duration, 2.0)
        self.assertLess(duration, 5.5)

    def test_segment_without_media_is_empty_not_failed(self):
        """A segment closed before any media reached it (a decision within its first second)
        has an empty file, or a header and no packet: it is "empty", not a failed archive."""
        empty = os.path.join(self.dir, "segment-001.mkv")
        open(empty, "wb").close()
        header_only = os.path.join(self.dir, "segment-002.mkv")
        subprocess.run(["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=0", "!", "vp8enc", "!", "matroskamux",
                        "!", "filesink", f"location={header_only}"], check=True)   # what the recorder leaves
        for src in (empty, header_only):
            rc, result, err = finalize(src)
            self.assertEqual(rc, 0, err)
            self.assertTrue(result["empty"], result)
            self.assertFalse(os.path.exists(src))
        self.assertEqual(os.listdir(self.dir), [])

    def test_unreadable_file_is_refused_and_kept(self):
        src = os.path.join(self.dir, "segment-003.mkv")
        with open(src, "wb") as f:
            f.write(os.urandom(5000))
        rc, result, err = finalize(src)
        self.assertEqual(rc, 1)
        self.assertIn("kanyan archive:", err)
        self.assertTrue(os.path.exists(src), "a source that cannot be archived is never deleted")


if __name__ == "__main__":
    unittest.main()

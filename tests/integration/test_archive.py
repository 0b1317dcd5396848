"""Archive finalization on files made here with ffmpeg: a whole segment, a truncated one
(salvaged up to its last good frame), one that cannot be read (source kept), and a segment
recorded as a file per track (joined by time)."""
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

    def make_track(self, path, source, codec, offset):
        """one of the recorder's files: one track on the segment's running time"""
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-c", codec, "-g", "30",
                        "-output_ts_offset", str(offset), path], check=True)

    def test_track_files_join_the_archive_by_time(self):
        """The recorder writes each track into a file of its own: the segment's file holds the
        picture, segment-NNN.audio.mkv the phone's audio, segment-NNN.talk.mkv the reviewers'
        talk-back. The archive holds the three tracks in that order, each at its own time (the
        talk-back here starts 1.5 s into the segment), packets interleaved, and the files go."""
        src = os.path.join(self.dir, "segment-001.mkv")
        audio = os.path.join(self.dir, "segment-001.audio.mkv")
        talk = os.path.join(self.dir, "segment-001.talk.mkv")
        self.make_track(src, "testsrc=size=320x240:rate=30:duration=4", "libvpx", 90.0)   # running time: 90 s in
        self.make_track(audio, "sine=frequency=440:duration=4", "libopus", 90.2)
        self.make_track(talk, "sine=frequency=880:duration=2", "libopus", 91.5)
        rc, result, err = finalize(src)
        self.assertEqual(rc, 0, err)
        self.assertFalse(result["salvaged"], err)
        self.assertEqual(os.listdir(self.dir), [os.path.basename(result["archive"])])
        info = ffprobe(result["archive"])
        streams = info["streams"]
        self.assertEqual([(s["codec_type"], s["codec_name"]) for s in streams],
                         [("video", "vp8"), ("audio", "opus"), ("audio", "opus")])
        starts = [float(s.get("start_time", 0)) for s in streams]
        for got, want in zip(starts, (0.0, 0.2, 1.5)):
            self.assertAlmostEqual(got, want, delta=0.05, msg=starts)
        self.assertAlmostEqual(float(info["format"]["duration"]), 4.2, delta=0.2)
        # interleaved by time: the picture's packets lie among the others', not before them
        packets = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "packet=stream_index",
                                             "-of", "json", result["archive"]],
                                            capture_output=True, text=True, check=True).stdout)["packets"]
        order = [p["stream_index"] for p in packets]
        self.assertEqual(len(order), result["packets"])
        self.assertIn(0, order[order.index(2):], "picture after the talk-back's first packet")
        self.assertIn(0, order[order.index(1):], "picture after the audio's first packet")

    def test_a_track_file_without_a_header_is_left_out(self):
        """A track's muxer that never wrote (a crash in its first instant) leaves an empty
        file: the archive is made from the others, and the empty one goes too."""
        src = os.path.join(self.dir, "segment-001.mkv")
        talk = os.path.join(self.dir, "segment-001.talk.mkv")
        make_segment(src, seconds=3)
        open(talk, "wb").close()
        rc, result, err = finalize(src)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(s["codec_name"] for s in ffprobe(result["archive"])["streams"]), ["opus", "vp8"])
        self.assertEqual(os.listdir(self.dir), [os.path.basename(result["archive"])])

    def test_segment_without_a_picture_is_empty_with_its_other_files(self):
        """Sound alone is no record: a segment whose own file (the picture) holds no media is
        empty, and the files of its other tracks are removed with it."""
        src = os.path.join(self.dir, "segment-001.mkv")
        open(src, "wb").close()
        self.make_track(os.path.join(self.dir, "segment-001.audio.mkv"), "sine=duration=1", "libopus", 0)
        self.make_track(os.path.join(self.dir, "segment-001.talk.mkv"), "sine=duration=1", "libopus", 0)
        rc, result, err = finalize(src)
        self.assertEqual(rc, 0, err)
        self.assertTrue(result["empty"], result)
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

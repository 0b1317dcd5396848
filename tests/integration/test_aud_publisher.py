"""An H.264 publisher whose access units open with a delimiter (AUD) or an SEI before the SPS
and the IDR — x264's default, and so a WHIP encoder's — is recorded. The recorder's frame
filter once waited for a keyframe whose first packet also opened its frame; such a publisher's
never did, so its segments held no video at all (audio only, archived as WebM) while the
recorder asked the phone for a keyframe twice a second. The publisher is the benchmark's
generator (GStreamer webrtcbin + rtph264pay, over WHIP), fed a clip made here by x264enc with
aud=true; the archive must hold H.264 video from its first keyframe, lasting about the publish."""
import os
import subprocess
import tempfile
import unittest

from kanyan import Server, ffprobe, first_video_frame_is_keyframe, wait_until

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
LOADGEN = os.path.join(ROOT, "build", "bench-loadgen")
PUBLISH_S = 8


def make_clip(path):
    """3 s of 320×240 30 fps H.264 constrained baseline with an AUD before every access unit
    (x264enc's aud=true), an IDR every 30 frames, and Opus, in Matroska: what the generator plays."""
    subprocess.run(["gst-launch-1.0", "-q", "-e",
                    "videotestsrc", "num-buffers=90", "pattern=ball", "!",
                    "video/x-raw,width=320,height=240,framerate=30/1", "!",
                    "x264enc", "aud=true", "key-int-max=30", "tune=zerolatency", "speed-preset=ultrafast", "!",
                    "video/x-h264,profile=constrained-baseline", "!", "h264parse", "!", "queue", "!",
                    "matroskamux", "name=mux", "!", "filesink", f"location={path}",
                    "audiotestsrc", "num-buffers=150", "samplesperbuffer=960", "!",
                    "audio/x-raw,rate=48000,channels=1", "!", "opusenc", "!", "queue", "!", "mux."],
                   check=True, timeout=120)


@unittest.skipUnless(os.environ.get("KANYAN_NETNS") == "1", "needs the test network namespace (tests/netns.sh)")
class AudPublisherTest(unittest.TestCase):
    def setUp(self):
        subprocess.run(["make", "--no-print-directory", "-s", "-f", "bench/bench.mk", "build/bench-loadgen"],
                       cwd=ROOT, check=True, timeout=600)
        self.work = tempfile.mkdtemp(prefix="kanyan-aud-")
        self.clip = os.path.join(self.work, "clip.mkv")
        make_clip(self.clip)
        self.server = Server().start()

    def tearDown(self):
        self.server.stop()

    def test_segment_holds_the_video_of_a_publisher_whose_frames_open_with_a_delimiter(self):
        case = self.server.add_case("AUD-1")
        cases = os.path.join(self.work, "cases.jsonl")
        with open(cases, "w") as f:
            f.write('{"ref": "%s", "token": "%s"}\n' % (case["ref"], case["token"]))
        out = subprocess.run([LOADGEN, "--base", self.server.base, "--cases", cases, "--clip", self.clip,
                              "--reviewers", "0", "--seconds", str(PUBLISH_S), "--ice-address", "10.77.0.2"],
                             capture_output=True, text=True, timeout=PUBLISH_S + 120)
        self.assertTrue(wait_until(lambda: self.server.archive_files(), 30), (out.stdout[-800:], out.stderr[-800:]))
        path = self.server.archive_files()[0]
        info = ffprobe(path)
        codecs = sorted(s["codec_name"] for s in info["streams"])
        self.assertIn("h264", codecs, f"the archive holds the video: {codecs} ({path})")
        self.assertTrue(path.endswith(".mp4"), path)
        self.assertTrue(first_video_frame_is_keyframe(path))
        video = [s for s in info["streams"] if s["codec_type"] == "video"][0]
        frames = int(subprocess.run(["ffprobe", "-v", "error", "-count_packets", "-select_streams", "v",
                                     "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", path],
                                    capture_output=True, text=True).stdout.strip() or 0)
        self.assertGreater(frames, 30, f"more than a second of video frames ({video.get('width')}×{video.get('height')})")


if __name__ == "__main__":
    unittest.main()

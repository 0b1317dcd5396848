"""Playback everywhere: a live inspection published by aiortc (H.264, then VP8) is recorded
and archived by the real server, then its archive is played by the programs an auditor, a
court or an appellant would use — Firefox ESR and Chromium (over the server's /media URL,
as a signed-in auditor), VLC and ffmpeg (the file itself). Each one must decode video and
audio from the first frame to the last."""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import wave

from kanyan import PEERS, Server, decode_errors, ffprobe, packet_dts_repeats, wait_until


def have(program):
    return shutil.which(program) is not None


class PlaybackTest(unittest.TestCase):
    """One server and two archives (one per archive format) for all the players."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.server.add_user("auditor", role="auditor")
        cls.archives = {}   # codec -> {"path", "url", "duration"}
        for codec in ("h264", "vp8"):
            case = cls.server.add_case(f"PLAY-{codec.upper()}")
            pub = cls.server.aiortc_publisher(case, 6, codec=codec, name=f"pub-{codec}")
            if not wait_until(lambda: pub.events("connected"), 30):
                raise AssertionError(f"{codec} publisher never connected: {pub.lines}")
            pub.wait(40)
            # the publisher left: the segment is finalized into an archive while the server runs
            def archived():
                status, tl = cls.server.api("GET", f"/api/cases/{case['ref']}/timeline", user="auditor")
                return status == 200 and [r for r in tl["recordings"] if r.get("url")]
            if not wait_until(archived, 20):
                raise AssertionError(f"the {codec} recording was not archived")
            rec = archived()[0]
            with cls.server.db() as db:
                (path,) = db.execute("SELECT archive_path FROM recordings WHERE id = ?", (rec["id"],)).fetchone()
            cls.archives[codec] = {"path": path, "url": rec["url"],
                                   "duration": float(ffprobe(path)["format"]["duration"])}

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    # ---- browsers, through the server -------------------------------------------------------
    def play_in_browser(self, browser):
        for codec, archive in self.archives.items():
            with self.subTest(codec=codec):
                out = subprocess.run(["node", os.path.join(PEERS, "play_archive.mjs"), "--browser", browser,
                                      "--base", self.server.base, "--media", archive["url"]],
                                     input=self.server.login("auditor"), capture_output=True, text=True, timeout=300)
                lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
                self.assertTrue(lines, f"{browser} printed nothing: {out.stderr[-1500:]}")
                got = json.loads(lines[-1])
                self.assertIsNone(got.get("error"), got)
                self.assertGreater(got["width"], 0, got)
                self.assertAlmostEqual(got["duration"], archive["duration"], delta=0.5, msg=got)
                self.assertGreater(got["playedTo"], 0.5, f"playback advances from the start: {got}")
                self.assertTrue(got["ended"], f"plays through to the end: {got}")
                self.assertGreater(got["frames"], 10, got)
                self.assertTrue(got["audio"], f"the audio track is decoded: {got}")

    @unittest.skipUnless(have("firefox-esr"), "firefox-esr is not installed (make deps installs it)")
    def test_firefox_plays_both_archive_formats(self):
        self.play_in_browser("firefox")

    def test_chromium_plays_both_archive_formats(self):
        self.play_in_browser("chromium")

    # ---- the file itself ---------------------------------------------------------------------
    @unittest.skipUnless(have("cvlc"), "vlc is not installed (make deps installs it)")
    def test_vlc_decodes_video_and_audio(self):
        for codec, archive in self.archives.items():
            with self.subTest(codec=codec):
                # VLC refuses to run as root: play a world-readable copy as 'nobody'
                work = tempfile.mkdtemp(prefix="kanyan-vlc-")
                try:
                    os.chmod(work, 0o777)
                    media = os.path.join(work, os.path.basename(archive["path"]))
                    shutil.copyfile(archive["path"], media)
                    os.chmod(media, 0o644)
                    wav = os.path.join(work, "audio.wav")
                    argv = ["cvlc", "-I", "dummy", "--no-metadata-network-access", media,
                            "--video-filter=scene", "--scene-format=png", "--scene-ratio=10",
                            f"--scene-path={work}", "--scene-prefix=frame", "--vout=dummy",
                            "--aout=afile", f"--audiofile-file={wav}", "--audiofile-wav", "--play-and-exit"]
                    if os.geteuid() == 0:
                        argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                "env", f"HOME={work}"] + argv
                    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
                    frames = glob.glob(os.path.join(work, "frame*.png"))
                    # one picture every 10 frames: a 6 s recording at ≥ 15 fps gives several
                    self.assertGreaterEqual(len(frames), 3, f"VLC decoded too few frames: {out.stderr[-1500:]}")
                    with wave.open(wav) as w:
                        seconds = w.getnframes() / w.getframerate()
                    self.assertGreater(seconds, archive["duration"] - 1.5,
                                       f"VLC decoded {seconds:.1f} s of audio of {archive['duration']:.1f} s")
                finally:
                    shutil.rmtree(work, ignore_errors=True)

    def test_ffmpeg_decodes_every_frame_without_error(self):
        for codec, archive in self.archives.items():
            with self.subTest(codec=codec):
                self.assertEqual(decode_errors(archive["path"]), [], "no decoding error anywhere in the archive")
                self.assertEqual(packet_dts_repeats(archive["path"]), [], "video timestamps always increase")
                self.assertEqual(packet_dts_repeats(archive["path"], "a:0"), [], "audio timestamps always increase")


if __name__ == "__main__":
    unittest.main()

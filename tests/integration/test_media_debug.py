"""Debuggable media (issue 15): each media module logs under its own GStreamer debug category
(GST_DEBUG=kanyan-relay:6 shows the relay's lines alone), and a pipeline error leaves the
relay's graph as a .dot file in GST_DEBUG_DUMP_DOT_DIR, named after the case, with a log line
that names the case and the file. The error is provoked deterministically: the first
recording segment's path is taken by a directory, so the recorder's filesink cannot open it
(a resource error on the relay's bus); recording then goes on in the next segment."""
import glob
import os
import re
import unittest

from kanyan import Server, wait_until

REF = "DOT-1"


@unittest.skipUnless(os.environ.get("KANYAN_NETNS") == "1", "needs the test network namespace (tests/netns.sh)")
class MediaDebugTest(unittest.TestCase):
    def setUp(self):
        self.server = Server()
        self.dots = os.path.join(self.server.dir, "dots")
        os.makedirs(self.dots)
        self.server.env = {"GST_DEBUG": "1,kanyan-relay:6,kanyan-recorder:5,kanyan-segment-sync:5,kanyan-uplink-cap:5", "GST_DEBUG_DUMP_DOT_DIR": self.dots,
                           "GST_DEBUG_NO_COLOR": "1"}
        for session in range(1, 4):   # the first live inspection of a fresh database is session 1
            os.makedirs(os.path.join(self.server.recordings, REF, f"session-{session}", "segment-001.mkv"))
        self.server.start()

    def tearDown(self):
        self.server.stop()

    def test_categories_and_graph_dump_on_a_pipeline_error(self):
        s = self.server
        case = s.add_case(REF)
        s.aiortc_publisher(case, 60)
        dumps = lambda: glob.glob(os.path.join(self.dots, f"*kanyan-case-{REF}-error-*.dot"))
        self.assertTrue(wait_until(lambda: dumps(), 60), "no graph dumped: " + s.log_text()[-3000:])
        def whole_graph():   # GStreamer writes the file while we look: wait until it is complete
            with open(dumps()[0]) as f:
                text = f.read()
            return text if text.startswith("digraph") and text.rstrip().endswith("}") else None
        self.assertTrue(wait_until(whole_graph, 30), "the dumped graph never became a whole dot file")
        graph = whole_graph()
        # the whole relay: its tees, the publisher's webrtcbin, the recorder's muxer
        for element in ("video-tee", "GstWebRTCBin", "GstMatroskaMux"):
            self.assertIn(element, graph, f"{element} is not in the dumped graph")
        log = s.log_text()
        self.assertRegex(log, rf"relay case-{REF}: pipeline error: the graph is in {self.dots}/kanyan-case-{REF}-error-1\.dot")
        # one module turned up alone: the relay's and the recorder's categories log, the peer's stays quiet
        self.assertRegex(log, rf"INFO +kanyan-relay .*relay case-{REF}: playing")
        self.assertRegex(log, r"INFO +kanyan-recorder .*recorder: a segment to .*segment-001\.mkv")
        self.assertNotRegex(log, r"INFO +kanyan-peer ")
        # the error cost one segment, not the recording: the next one records
        self.assertTrue(wait_until(lambda: glob.glob(os.path.join(s.recordings, REF, "session-1", "segment-002.mkv")), 60),
                        "recording did not go on after the error")
        # every media module has its category: the recording's timeline and the reviewers' links too
        self.assertRegex(log, rf"INFO +kanyan-uplink-cap .*relay case-{REF}: reviewers' links sampled every second")
        starts = re.compile(r"INFO +kanyan-segment-sync .*the segment starts: \d of \d tracks on the phone's sender reports")
        self.assertTrue(wait_until(lambda: starts.search(s.log_text()), 60), "no kanyan-segment-sync line")


if __name__ == "__main__":
    unittest.main()

/* test_peer_insides.c — what peer.c sets on the elements webrtcbin builds inside itself
 * (on_element_added): a real WebrtcPeer sends VP8 with NACK to a plain webrtcbin in the same
 * pipeline; once both descriptions are set, every element inside the peer's webrtcbin is
 * looked at. Its retransmission store keeps one second (PEER_RTX_STORE_MS; webrtcbin's
 * own keeps 500 packets of any age), its clocksyncs and nicesinks do not wait for the clock.
 * The offer and the answer are exchanged on the test's thread (promises waited on); no
 * connection is made, nothing is sent. */
#include "media/peer.h"

static GstWebRTCSessionDescription *
describe (GstElement *webrtcbin, const gchar *what)
{
  GstPromise *promise = gst_promise_new ();
  g_signal_emit_by_name (webrtcbin, what, NULL, promise);
  g_assert_cmpint (gst_promise_wait (promise), ==, GST_PROMISE_RESULT_REPLIED);
  GstWebRTCSessionDescription *desc = NULL;
  gst_structure_get (gst_promise_get_reply (promise),
                     g_str_equal (what, "create-offer") ? "offer" : "answer",
                     GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL);
  gst_promise_unref (promise);
  g_assert_nonnull (desc);
  return desc;
}

static void
set_description (GstElement *webrtcbin, const gchar *which, GstWebRTCSessionDescription *desc)
{
  GstPromise *promise = gst_promise_new ();
  g_signal_emit_by_name (webrtcbin, which, desc, promise);
  g_assert_cmpint (gst_promise_wait (promise), ==, GST_PROMISE_RESULT_REPLIED);
  const GstStructure *reply = gst_promise_get_reply (promise);
  g_assert_true (!reply || !gst_structure_has_field (reply, "error"));
  gst_promise_unref (promise);
}

typedef struct {
  guint rtx_stores, clocksyncs, nicesinks;
} Seen;

static void
look_at (const GValue *value, gpointer data)
{
  Seen *seen = data;
  GstElement *element = g_value_get_object (value);
  GstElementFactory *factory = gst_element_get_factory (element);
  const gchar *kind = factory ? GST_OBJECT_NAME (factory) : "";
  if (g_str_equal (kind, "rtprtxsend")) {
    guint ms = 0;
    g_object_get (element, "max-size-time", &ms, NULL);
    g_assert_cmpuint (ms, ==, 1000);
    seen->rtx_stores++;
  } else if (g_str_equal (kind, "clocksync") || g_str_equal (kind, "nicesink")) {
    gboolean sync = TRUE;
    g_object_get (element, "sync", &sync, NULL);
    g_assert_false (sync);
    if (g_str_equal (kind, "clocksync"))
      seen->clocksyncs++;
    else
      seen->nicesinks++;
  }
}

static void
test_insides (void)
{
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_autoptr (GError) err = NULL;
  GstElement *pipeline = gst_parse_launch (
      "videotestsrc is-live=true ! video/x-raw,width=160,height=120 ! vp8enc deadline=1 ! rtpvp8pay "
      "! application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000 ! queue name=out "
      "webrtcbin name=answerer", &err);
  g_assert_no_error (err);
  GstElement *answerer = gst_bin_get_by_name (GST_BIN (pipeline), "answerer");
  GObject *ice = NULL, *agent = NULL;   /* UPnP would send SSDP to the real network (peer.c does this too) */
  g_object_get (answerer, "ice-agent", &ice, NULL);
  g_object_get (ice, "agent", &agent, NULL);
  g_object_set (agent, "upnp", FALSE, NULL);
  g_object_unref (agent);
  g_object_unref (ice);
  static const WebrtcPeerEvents no_events;
  g_autoptr (WebrtcPeer) peer = webrtc_peer_new (GST_BIN (pipeline), "offerer", cfg, &no_events, NULL);
  g_assert_nonnull (peer);
  GstElement *out = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  g_assert_true (gst_element_link (out, peer->webrtcbin));
  gst_object_unref (out);
  GstWebRTCRTPTransceiver *sender = NULL;
  g_signal_emit_by_name (peer->webrtcbin, "get-transceiver", 0, &sender);
  g_assert_nonnull (sender);
  g_object_set (sender, "do-nack", TRUE, NULL);   /* a receiver that NACKs: the store exists */
  gst_object_unref (sender);
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);

  GstWebRTCSessionDescription *offer = describe (peer->webrtcbin, "create-offer");
  set_description (peer->webrtcbin, "set-local-description", offer);
  set_description (answerer, "set-remote-description", offer);
  GstWebRTCSessionDescription *answer = describe (answerer, "create-answer");
  set_description (answerer, "set-local-description", answer);
  set_description (peer->webrtcbin, "set-remote-description", answer);
  gst_webrtc_session_description_free (offer);
  gst_webrtc_session_description_free (answer);
  gst_object_unref (answerer);

  Seen seen = { 0 };
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (peer->webrtcbin));
  g_assert_cmpint (gst_iterator_foreach (it, look_at, &seen), ==, GST_ITERATOR_DONE);
  gst_iterator_free (it);
  g_assert_cmpuint (seen.rtx_stores, ==, 1);   /* the one stream's, set as webrtcbin made it */
  g_assert_cmpuint (seen.nicesinks, >=, 1);
  g_test_message ("retransmission stores %u, clocksyncs %u, nicesinks %u", seen.rtx_stores, seen.clocksyncs,
                  seen.nicesinks);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/peer/insides", test_insides);
  return g_test_run ();
}

/* lg_reviewer.c — a bench reviewer: the shared reviewer client (tests/peers/reviewer_client.c:
 * join the case over the WebSocket protocol, a fresh webrtcbin per server `pc`, ICE both ways)
 * with the bench's own webrtcbin (lg_webrtcbin: --ice-address) and its own media side: count
 * what arrives at webrtcbin's src pads without decoding (lg_rx_packet). With --janus the
 * signaling is a VideoRoom subscriber's (lg_janus.c) and the media side the same. */
#include "loadgen.h"
#include <string.h>

/* ---------- received media ---------- */

/* Which track a received packet belongs to: the publisher's SSRC when the relay forwards
 * it unchanged (Kanyan does), else the payload type: the audio's in the server's offer
 * (Janus gives each subscriber SSRCs of its own), or the publisher's (96 H.264, 111 Opus). */
static guint
track_of (Rev *rev, GstBuffer *buf)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp))
    return TRACK_VIDEO;
  guint32 ssrc = gst_rtp_buffer_get_ssrc (&rtp);
  guint pt = gst_rtp_buffer_get_payload_type (&rtp);
  gst_rtp_buffer_unmap (&rtp);
  for (guint k = 0; k < N_TRACKS; k++)
    if (__atomic_load_n (&rev->pub->map[k]->ssrc, __ATOMIC_ACQUIRE) == ssrc)
      return k;
  return pt == (rev->audio_pt ? rev->audio_pt : 111) ? TRACK_AUDIO : TRACK_VIDEO;
}

/* streaming thread: a packet entering one of the reviewer's jitterbuffers */
static GstPadProbeReturn
on_rtp_in (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Rev *rev = data;
  (void) pad;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
    for (guint i = 0; i < gst_buffer_list_length (list); i++) {
      GstBuffer *b = gst_buffer_list_get (list, i);
      lg_rx_packet (rev, track_of (rev, b), b);
    }
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);
    lg_rx_packet (rev, track_of (rev, b), b);
  }
  return GST_PAD_PROBE_OK;
}

/* Packets are counted and timed where they enter the reviewer's rtpjitterbuffer: after
 * SRTP and RTX (a retransmitted packet counts, as its original), before the reviewer's
 * own buffering, so the latency figure holds the relay and the wire, not the reviewer's
 * jitterbuffer. rtpbin makes one jitterbuffer per received SSRC (streaming thread). */
static void
on_new_jitterbuffer (GstElement *rtpbin, GstElement *jbuf, guint session, guint ssrc, gpointer data)
{
  (void) rtpbin, (void) session, (void) ssrc;
  g_autoptr (GstPad) sink = gst_element_get_static_pad (jbuf, "sink");
  if (sink)
    gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, on_rtp_in, data, NULL);
}

/* webrtcbin thread: a received stream leaves webrtcbin; nothing is decoded */
static void
on_pad_added (GstElement *webrtc, GstPad *pad, gpointer data)
{
  (void) data;
  lg_to_fakesink (webrtc, pad, GST_ELEMENT_PARENT (webrtc));
}

/* ---------- the client's events ---------- */

static GstElement *
make_webrtc (gpointer owner, GstElement *pipe, GObject **ice, GObject **agent)
{
  (void) owner;
  return lg_webrtcbin (pipe, GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, ice, agent);
}

/* main loop: a new peer connection, before the server's offer is applied */
static void
on_pc_new (gpointer owner, GstElement *pipe, GstElement *webrtc, const GstSDPMessage *offer)
{
  (void) pipe, (void) offer;
  rev_watch_pc (owner, webrtc);
}

/* webrtcbin's thread: the first ICE `connected` splits join→connected into ICE and DTLS */
static void
on_ice_state (GstElement *webrtc, GParamSpec *ps, gpointer data)
{
  Rev *rev = data;
  GstWebRTCICEConnectionState st;
  (void) ps;
  g_object_get (webrtc, "ice-connection-state", &st, NULL);
  if (st == GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED || st == GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED)
    g_atomic_pointer_compare_and_exchange (&rev->ice_us, NULL, GSIZE_TO_POINTER ((gsize) g_get_monotonic_time ()));
}

/* the thread applying the server's offer: NACK and RTX for every transceiver, as a browser
 * answers (Chrome and Firefox accept the offer's rtx payload). Without it the answer has no
 * RTX, and the server's sender for this reviewer never runs its retransmission path (in
 * GStreamer 1.22 `rtprtxsend` then passes packets through; with RTX it hands every packet to
 * a thread of its own). */
static void
on_new_transceiver (GstElement *webrtc, GstWebRTCRTPTransceiver *trans, gpointer data)
{
  (void) webrtc, (void) data;
  g_object_set (trans, "do-nack", TRUE, NULL);
}

/* main loop: count what a reviewer's webrtcbin receives (Kanyan's and Janus's peer connections) */
void
rev_watch_pc (Rev *rev, GstElement *webrtc)
{
  g_atomic_pointer_compare_and_exchange (&rev->offer_us, NULL, GSIZE_TO_POINTER ((gsize) g_get_monotonic_time ()));
  g_signal_connect (webrtc, "on-new-transceiver", G_CALLBACK (on_new_transceiver), rev);
  g_signal_connect (webrtc, "notify::ice-connection-state", G_CALLBACK (on_ice_state), rev);
  g_signal_connect (webrtc, "pad-added", G_CALLBACK (on_pad_added), rev);
  g_autoptr (GstElement) rtpbin = gst_bin_get_by_name (GST_BIN (webrtc), "rtpbin");
  if (!rtpbin)
    g_error ("loadgen: webrtcbin has no child named rtpbin (GStreamer changed?)");
  g_signal_connect (rtpbin, "new-jitterbuffer", G_CALLBACK (on_new_jitterbuffer), rev);
}

/* webrtcbin thread */
static void
on_pc_state (gpointer owner, GstWebRTCPeerConnectionState state)
{
  lg_rev_conn_state (owner, state);
}

static void
on_message (gpointer owner, const char *type, JsonObject *o)
{
  Rev *rev = owner;
  if (strcmp (type, "error") == 0)
    g_printerr ("loadgen: %s: error %s: %s\n", rev->name, json_object_get_string_member_with_default (o, "code", "?"),
                json_object_get_string_member_with_default (o, "message", ""));
}

Rev *
rev_start (Pub *pub, guint index)
{
  Rev *rev = g_new0 (Rev, 1);
  rev->pub = pub;
  rev->index = index;
  rev->name = g_strdup_printf ("bench-%s-r%u", pub->ref, index);
  g_mutex_init (&rev->lock);
  for (guint k = 0; k < N_TRACKS; k++)
    rev->rx[k].max_ext = -1;
  if (lg.janus || lg.floor) {
    g_ptr_array_add (pub->revs, rev);
    if (lg.janus)
      janus_rev_start (rev);
    else
      floor_rev_start (rev);
    return rev;
  }
  g_autofree char *url = g_strdup_printf ("%s/ws", lg.base);
  g_autofree char *ws_url = g_str_has_prefix (url, "https") ? g_strconcat ("wss", url + 5, NULL)
                                                            : g_strconcat ("ws", url + 4, NULL);
  g_autofree char *log_name = g_strdup_printf ("loadgen: %s", rev->name);
  /* since accounts: a reviewer is its session cookie */
  const ReviewerOptions opt = { .url = ws_url, .cookie = lg.cookie, .case_ref = pub->ref, .name = rev->name,
                                .log_name = log_name, .verbose = g_getenv ("LG_DEBUG_SDP") != NULL };
  const ReviewerEvents events = { .make_webrtc = make_webrtc, .pc_new = on_pc_new, .pc_state = on_pc_state,
                                  .message = on_message };
  rev->client = reviewer_client_start (lg.http, &opt, &events, rev);
  if (!rev->client)
    g_printerr ("loadgen: %s: bad URL %s\n", rev->name, ws_url);
  g_ptr_array_add (pub->revs, rev);
  return rev;
}

void
rev_leave (Rev *rev)
{
  if (rev->client)
    reviewer_client_leave (rev->client, FALSE);
  if (rev->janus)
    janus_rev_leave (rev);
}

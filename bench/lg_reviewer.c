/* lg_reviewer.c — a reviewer over the WebSocket protocol (docs/protocol.md): join the case,
 * answer each server `offer` with a fresh webrtcbin (a new `pc` = a new peer connection),
 * trickle ICE both ways, and count what arrives at webrtcbin's src pads without decoding
 * (lg_rx_packet). Peer connections are never freed: a torn-down webrtcbin's signals may
 * still fire, and a bench reviewer receives only a handful of offers. */
#include "loadgen.h"
#include <string.h>

typedef struct {
  Rev *rev;
  GstElement *webrtc;    /* the pc this belongs to */
  guint mline;
  char *text;
  GstPromise *promise;
} Hop;

static void
hop (GSourceFunc fn, Rev *rev, GstElement *webrtc, guint mline, const char *text, GstPromise *promise)
{
  Hop *h = g_new0 (Hop, 1);
  h->rev = rev;
  h->webrtc = webrtc;
  h->mline = mline;
  h->text = g_strdup (text);
  h->promise = promise;
  g_main_context_invoke (NULL, fn, h);
}

static void
hop_free (Hop *h)
{
  if (h->promise)
    gst_promise_unref (h->promise);
  g_free (h->text);
  g_free (h);
}

static void
send_msg (Rev *rev, JsonBuilder *b)
{
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, FALSE);
  if (rev->ws && soup_websocket_connection_get_state (rev->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (rev->ws, text);
  g_object_unref (b);
}

static JsonBuilder *
msg_begin (const char *type)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  return b;
}

static void
member (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

/* ---------- received media ---------- */

/* Which track a received packet belongs to: the publisher's SSRC when the relay forwards
 * it unchanged (it does), else the payload type the publisher chose (96 H.264, 111 Opus). */
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
  return pt == 111 ? TRACK_AUDIO : TRACK_VIDEO;
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

/* ---------- signaling driven by webrtcbin ---------- */

static gboolean
send_ice_main (gpointer data)
{
  Hop *h = data;
  if (h->webrtc == h->rev->webrtc) {
    JsonBuilder *b = msg_begin ("ice");
    member (b, "pc", h->rev->pc_id);
    member (b, "candidate", h->text);
    json_builder_set_member_name (b, "sdpMLineIndex");
    json_builder_add_int_value (b, h->mline);
    send_msg (h->rev, b);
  }
  hop_free (h);
  return G_SOURCE_REMOVE;
}

static void
on_ice_candidate (GstElement *webrtc, guint mline, const char *cand, gpointer data)
{
  hop (send_ice_main, data, webrtc, mline, cand, NULL);
}

static void
on_gathering_state (GstElement *webrtc, GParamSpec *ps, gpointer data)
{
  GstWebRTCICEGatheringState st;
  (void) ps;
  g_object_get (webrtc, "ice-gathering-state", &st, NULL);
  if (st == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)   /* end of our trickle */
    hop (send_ice_main, data, webrtc, 0, "", NULL);
}

static void
on_conn_state (GstElement *webrtc, GParamSpec *ps, gpointer data)
{
  Rev *rev = data;
  GstWebRTCPeerConnectionState st;
  (void) ps;
  g_object_get (webrtc, "connection-state", &st, NULL);
  g_atomic_int_set (&rev->conn_state, (gint) st);
}

static gboolean
answer_created_main (gpointer data)
{
  Hop *h = data;
  Rev *rev = h->rev;
  const GstStructure *reply = gst_promise_get_reply (h->promise);
  GstWebRTCSessionDescription *answer = NULL;
  if (reply)
    gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, NULL);
  if (h->webrtc == rev->webrtc && answer) {
    g_signal_emit_by_name (rev->webrtc, "set-local-description", answer, NULL);
    char *sdp = gst_sdp_message_as_text (answer->sdp);
    if (g_getenv ("LG_DEBUG_SDP"))
      g_printerr ("loadgen: %s: answer\n%s\n", rev->name, sdp);
    JsonBuilder *b = msg_begin ("answer");
    member (b, "pc", rev->pc_id);
    member (b, "sdp", sdp);
    send_msg (rev, b);
    g_free (sdp);
  } else if (!answer) {
    g_printerr ("loadgen: %s: webrtcbin made no answer\n", rev->name);
  }
  if (answer)
    gst_webrtc_session_description_free (answer);
  hop_free (h);
  return G_SOURCE_REMOVE;
}

static void
on_answer_created (GstPromise *promise, gpointer data)
{
  Rev *rev = data;
  hop (answer_created_main, rev, rev->webrtc, 0, NULL, promise);
}

static void
on_remote_set (GstPromise *promise, gpointer data)
{
  Rev *rev = data;
  gst_promise_unref (promise);
  g_signal_emit_by_name (rev->webrtc, "create-answer", NULL,
                         gst_promise_new_with_change_func (on_answer_created, rev, NULL));
}

/* Stopping a webrtcbin can block in 1.22.0: on a thread of its own, never waited for. */
static gpointer
stop_thread (gpointer pipe)
{
  gst_element_set_state (pipe, GST_STATE_NULL);
  return NULL;
}

static void
on_offer (Rev *rev, JsonObject *o)
{
  const char *id = json_object_get_string_member_with_default (o, "pc", NULL);
  const char *text = json_object_get_string_member_with_default (o, "sdp", NULL);
  GstSDPMessage *sdp = NULL;
  rev->pcs++;
  if (g_getenv ("LG_DEBUG_SDP"))
    g_printerr ("loadgen: %s: offer %s\n%s\n", rev->name, id ? id : "?", text ? text : "");
  if (!id || !text || gst_sdp_message_new_from_text (text, &sdp) != GST_SDP_OK) {
    g_printerr ("loadgen: %s: unusable offer\n", rev->name);
    return;
  }
  if (rev->pipe) {   /* a new pc: the old peer connection goes */
    g_signal_handlers_disconnect_by_data (rev->webrtc, rev);
    g_thread_unref (g_thread_new ("pc-stop", stop_thread, rev->pipe));
  }
  g_free (rev->pc_id);
  rev->pc_id = g_strdup (id);
  rev->pipe = gst_pipeline_new (NULL);
  rev->ice = rev->agent = NULL;
  rev->webrtc = lg_webrtcbin (rev->pipe, GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, &rev->ice, &rev->agent);
  g_signal_connect (rev->webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate), rev);
  g_signal_connect (rev->webrtc, "notify::ice-gathering-state", G_CALLBACK (on_gathering_state), rev);
  g_signal_connect (rev->webrtc, "notify::connection-state", G_CALLBACK (on_conn_state), rev);
  g_signal_connect (rev->webrtc, "pad-added", G_CALLBACK (on_pad_added), rev);
  g_autoptr (GstElement) rtpbin = gst_bin_get_by_name (GST_BIN (rev->webrtc), "rtpbin");
  if (!rtpbin)
    g_error ("loadgen: webrtcbin has no child named rtpbin (GStreamer changed?)");
  g_signal_connect (rtpbin, "new-jitterbuffer", G_CALLBACK (on_new_jitterbuffer), rev);
  gst_element_set_state (rev->pipe, GST_STATE_PLAYING);
  GstWebRTCSessionDescription *offer = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  g_signal_emit_by_name (rev->webrtc, "set-remote-description", offer,
                         gst_promise_new_with_change_func (on_remote_set, rev, NULL));
  gst_webrtc_session_description_free (offer);
}

/* ---------- the WebSocket ---------- */

static void
on_ws_message (SoupWebsocketConnection *ws, gint type, GBytes *msg, gpointer data)
{
  Rev *rev = data;
  gsize len;
  const char *raw = g_bytes_get_data (msg, &len);
  g_autoptr (JsonParser) parser = json_parser_new ();
  (void) ws;
  if (type != SOUP_WEBSOCKET_DATA_TEXT || !json_parser_load_from_data (parser, raw, (gssize) len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return;
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  const char *t = json_object_get_string_member_with_default (o, "type", "");
  if (strcmp (t, "offer") == 0) {
    on_offer (rev, o);
  } else if (strcmp (t, "ice") == 0) {
    const char *id = json_object_get_string_member_with_default (o, "pc", NULL);
    const char *cand = json_object_get_string_member_with_default (o, "candidate", "");
    if (rev->webrtc && cand[0] && (!id || g_strcmp0 (id, rev->pc_id) == 0))
      g_signal_emit_by_name (rev->webrtc, "add-ice-candidate",
                             (guint) json_object_get_int_member_with_default (o, "sdpMLineIndex", 0), cand);
  } else if (strcmp (t, "error") == 0) {
    g_printerr ("loadgen: %s: error %s: %s\n", rev->name,
                json_object_get_string_member_with_default (o, "code", "?"),
                json_object_get_string_member_with_default (o, "message", ""));
  }
}

static void
on_ws_connected (GObject *src, GAsyncResult *res, gpointer data)
{
  Rev *rev = data;
  g_autoptr (GError) err = NULL;
  rev->ws = soup_session_websocket_connect_finish (SOUP_SESSION (src), res, &err);
  if (!rev->ws) {
    g_printerr ("loadgen: %s: WebSocket: %s\n", rev->name, err->message);
    return;
  }
  soup_websocket_connection_set_keepalive_interval (rev->ws, 0);
  soup_websocket_connection_set_max_incoming_payload_size (rev->ws, 1 << 20);
  g_signal_connect (rev->ws, "message", G_CALLBACK (on_ws_message), rev);
  JsonBuilder *b = msg_begin ("join");
  member (b, "case", rev->pub->ref);
  member (b, "role", "reviewer");
  member (b, "name", rev->name);
  rev->join_us = g_get_monotonic_time ();
  send_msg (rev, b);
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
  g_autofree char *url = g_strdup_printf ("%s/ws", lg.base);
  g_autofree char *ws_url = g_str_has_prefix (url, "https") ? g_strconcat ("wss", url + 5, NULL)
                                                            : g_strconcat ("ws", url + 4, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, ws_url);
  if (lg.cookie)   /* since accounts: a reviewer is its session cookie */
    soup_message_headers_append (soup_message_get_request_headers (msg), "Cookie", lg.cookie);
  soup_session_websocket_connect_async (lg.http, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL, on_ws_connected, rev);
  g_ptr_array_add (pub->revs, rev);
  return rev;
}

void
rev_leave (Rev *rev)
{
  if (!rev->ws || soup_websocket_connection_get_state (rev->ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  send_msg (rev, msg_begin ("leave"));
  soup_websocket_connection_close (rev->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
}

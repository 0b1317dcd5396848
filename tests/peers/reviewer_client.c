/* reviewer_client.c — the reviewer's signaling and peer connections (reviewer_client.h), one
 * implementation for the test peer and the bench. Owns the WebSocket and the webrtcbins; never
 * looks at the media (its caller's pc_new does). */
#include "reviewer_client.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
  ReviewerClient *client;
  char *id;
  GstElement *pipe, *webrtc;
  GObject *ice, *agent;     /* held until the webrtcbin is gone */
  guint bus_watch;
  gint conn_state;          /* GstWebRTCPeerConnectionState, atomic */
} Pc;

struct ReviewerClient {
  ReviewerOptions opt;
  ReviewerEvents ev;
  gpointer owner;
  SoupWebsocketConnection *ws;
  Pc *pc;                   /* the current peer connection */
  guint pcs;
  gint64 join_us;
};

/* ---------- messages ---------- */

static void
member (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static JsonBuilder *
msg_begin (const char *type)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  member (b, "type", type);
  return b;
}

static void
msg_send (ReviewerClient *c, JsonBuilder *b)
{
  json_builder_end_object (b);
  JsonNode *root = json_builder_get_root (b);
  char *text = json_to_string (root, FALSE);
  json_node_unref (root);
  g_object_unref (b);
  if (c->ws && soup_websocket_connection_get_state (c->ws) == SOUP_WEBSOCKET_STATE_OPEN) {
    if (c->opt.verbose)
      g_printerr ("%s: -> %s\n", c->opt.log_name, text);
    soup_websocket_connection_send_text (c->ws, text);
  }
  g_free (text);
}

/* A closure carried from a webrtcbin thread to the main loop. */
typedef struct {
  Pc *pc;
  guint mline;
  char *text;
  GstPromise *promise;
} Hop;

static void
hop (GSourceFunc fn, Pc *pc, guint mline, const char *text, GstPromise *promise)
{
  Hop *h = g_new0 (Hop, 1);
  h->pc = pc;
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

/* ---------- signaling driven by webrtcbin ---------- */

static gboolean
send_ice_main (gpointer data)
{
  Hop *h = data;
  ReviewerClient *c = h->pc->client;
  if (h->pc == c->pc) {
    JsonBuilder *b = msg_begin ("ice");
    member (b, "pc", h->pc->id);
    member (b, "candidate", h->text);
    json_builder_set_member_name (b, "sdpMLineIndex");
    json_builder_add_int_value (b, h->mline);
    msg_send (c, b);
  }
  hop_free (h);
  return G_SOURCE_REMOVE;
}

static void
on_ice_candidate (GstElement *webrtc, guint mline, const char *cand, gpointer data)
{
  (void) webrtc;
  hop (send_ice_main, data, mline, cand, NULL);
}

static void
on_gathering_state (GstElement *webrtc, GParamSpec *ps, gpointer data)
{
  GstWebRTCICEGatheringState st;
  (void) ps;
  g_object_get (webrtc, "ice-gathering-state", &st, NULL);
  if (st == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)   /* end of our trickle */
    hop (send_ice_main, data, 0, "", NULL);
}

/* webrtcbin thread */
static void
on_conn_state (GstElement *webrtc, GParamSpec *ps, gpointer data)
{
  Pc *pc = data;
  GstWebRTCPeerConnectionState st;
  (void) ps;
  g_object_get (webrtc, "connection-state", &st, NULL);
  g_atomic_int_set (&pc->conn_state, (gint) st);
  if (pc->client->ev.pc_state)
    pc->client->ev.pc_state (pc->client->owner, st);
}

static gboolean
answer_created_main (gpointer data)
{
  Hop *h = data;
  Pc *pc = h->pc;
  ReviewerClient *c = pc->client;
  const GstStructure *reply = gst_promise_get_reply (h->promise);
  GstWebRTCSessionDescription *answer = NULL;
  if (reply)
    gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, NULL);
  if (pc != c->pc) {
    /* superseded by a newer offer */
  } else if (!answer) {
    g_printerr ("%s: webrtcbin made no answer for %s\n", c->opt.log_name, pc->id);
  } else {
    g_signal_emit_by_name (pc->webrtc, "set-local-description", answer, NULL);
    char *sdp = gst_sdp_message_as_text (answer->sdp);
    JsonBuilder *b = msg_begin ("answer");
    member (b, "pc", pc->id);
    member (b, "sdp", sdp);
    msg_send (c, b);
    g_free (sdp);
  }
  if (answer)
    gst_webrtc_session_description_free (answer);
  hop_free (h);
  return G_SOURCE_REMOVE;
}

static void
on_answer_created (GstPromise *promise, gpointer data)
{
  hop (answer_created_main, data, 0, NULL, promise);
}

static gboolean
remote_set_main (gpointer data)
{
  Hop *h = data;
  Pc *pc = h->pc;
  if (pc == pc->client->pc)
    g_signal_emit_by_name (pc->webrtc, "create-answer", NULL,
                           gst_promise_new_with_change_func (on_answer_created, pc, NULL));
  hop_free (h);
  return G_SOURCE_REMOVE;
}

static void
on_remote_set (GstPromise *promise, gpointer data)
{
  hop (remote_set_main, data, 0, NULL, promise);
}

/* ---------- peer connection life cycle ---------- */

static gboolean
on_bus (GstBus *bus, GstMessage *m, gpointer data)
{
  Pc *pc = data;
  GError *err = NULL;
  (void) bus;
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
    gst_message_parse_error (m, &err, NULL);
  else if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_WARNING)
    gst_message_parse_warning (m, &err, NULL);
  if (err)
    g_printerr ("%s: %s: %s from %s: %s\n", pc->client->opt.log_name, pc->id, GST_MESSAGE_TYPE_NAME (m),
                GST_OBJECT_NAME (m->src), err->message);
  g_clear_error (&err);
  return G_SOURCE_CONTINUE;
}

/* the default webrtcbin: max-bundle; libnice would otherwise send SSDP multicast (UPnP-IGD)
 * from every agent */
static GstElement *
plain_webrtc (ReviewerClient *c, GstElement *pipe, GObject **ice, GObject **agent)
{
  GstElement *webrtc = gst_element_factory_make ("webrtcbin", NULL);
  if (!webrtc) {
    g_printerr ("%s: no webrtcbin element\n", c->opt.log_name);
    exit (1);
  }
  g_object_set (webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, NULL);
  gst_bin_add (GST_BIN (pipe), webrtc);
  g_object_get (webrtc, "ice-agent", ice, NULL);
  if (*ice && c->opt.port_min && c->opt.port_max)
    g_object_set (*ice, "min-rtp-port", c->opt.port_min, "max-rtp-port", c->opt.port_max, NULL);
  if (*ice && g_object_class_find_property (G_OBJECT_GET_CLASS (*ice), "agent"))
    g_object_get (*ice, "agent", agent, NULL);
  if (*agent && g_object_class_find_property (G_OBJECT_GET_CLASS (*agent), "upnp"))
    g_object_set (*agent, "upnp", FALSE, NULL);
  else
    g_printerr ("%s: could not reach the NiceAgent to turn UPnP off\n", c->opt.log_name);
  return webrtc;
}

static Pc *
pc_new (ReviewerClient *c, const char *id, GstSDPMessage *sdp /* taken */)
{
  Pc *pc = g_new0 (Pc, 1);
  pc->client = c;
  pc->id = g_strdup (id);
  pc->pipe = gst_pipeline_new (NULL);
  pc->webrtc = c->ev.make_webrtc ? c->ev.make_webrtc (c->owner, pc->pipe, &pc->ice, &pc->agent)
                                 : plain_webrtc (c, pc->pipe, &pc->ice, &pc->agent);
  g_signal_connect (pc->webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate), pc);
  g_signal_connect (pc->webrtc, "notify::ice-gathering-state", G_CALLBACK (on_gathering_state), pc);
  g_signal_connect (pc->webrtc, "notify::connection-state", G_CALLBACK (on_conn_state), pc);
  GstBus *bus = gst_pipeline_get_bus (GST_PIPELINE (pc->pipe));
  pc->bus_watch = gst_bus_add_watch (bus, on_bus, pc);
  gst_object_unref (bus);
  if (c->ev.pc_new)
    c->ev.pc_new (c->owner, pc->pipe, pc->webrtc, sdp);
  gst_element_set_state (pc->pipe, GST_STATE_PLAYING);
  GstWebRTCSessionDescription *offer = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  g_signal_emit_by_name (pc->webrtc, "set-remote-description", offer,
                         gst_promise_new_with_change_func (on_remote_set, pc, NULL));
  gst_webrtc_session_description_free (offer);
  return pc;
}

/* Stopping a webrtcbin can block in 1.22.0 (fixed upstream in 1.22.3): on a thread of its
 * own; the main loop never waits for it. */
static gpointer
pc_stop_thread (gpointer data)
{
  Pc *pc = data;
  gst_element_set_state (pc->pipe, GST_STATE_NULL);
  gst_object_unref (pc->pipe);
  g_clear_object (&pc->agent);
  g_clear_object (&pc->ice);
  return NULL;
}

static void
pc_close (Pc *pc)
{
  if (!pc)
    return;
  g_source_remove (pc->bus_watch);
  g_signal_handlers_disconnect_by_data (pc->webrtc, pc);
  g_thread_unref (g_thread_new ("pc-stop", pc_stop_thread, pc));
}

/* ---------- the WebSocket ---------- */

static void
on_offer (ReviewerClient *c, JsonObject *o)
{
  const char *id = json_object_get_string_member_with_default (o, "pc", NULL);
  const char *text = json_object_get_string_member_with_default (o, "sdp", NULL);
  c->pcs++;
  if (!id || !text) {
    g_printerr ("%s: offer without pc or sdp\n", c->opt.log_name);
    return;
  }
  if (c->opt.no_answer)
    return;
  if (c->pc && strcmp (c->pc->id, id) == 0) {
    g_printerr ("%s: ignoring a renegotiation of %s\n", c->opt.log_name, id);
    return;
  }
  GstSDPMessage *sdp = NULL;
  if (gst_sdp_message_new_from_text (text, &sdp) != GST_SDP_OK) {
    g_printerr ("%s: unreadable offer SDP for %s\n", c->opt.log_name, id);
    return;
  }
  pc_close (c->pc);
  c->pc = pc_new (c, id, sdp);
}

static void
on_remote_ice (ReviewerClient *c, JsonObject *o)
{
  const char *id = json_object_get_string_member_with_default (o, "pc", NULL);
  const char *cand = json_object_get_string_member_with_default (o, "candidate", "");
  gint64 mline = json_object_get_int_member_with_default (o, "sdpMLineIndex", 0);
  if (!c->pc || (id && strcmp (id, c->pc->id) != 0) || !cand[0])
    return;   /* stale pc, no pc yet, or end of candidates */
  g_signal_emit_by_name (c->pc->webrtc, "add-ice-candidate", (guint) mline, cand);
}

static void
on_ws_message (SoupWebsocketConnection *ws, gint type, GBytes *msg, gpointer data)
{
  ReviewerClient *c = data;
  gsize len;
  const char *raw = g_bytes_get_data (msg, &len);
  JsonParser *parser = json_parser_new ();
  (void) ws;
  if (type != SOUP_WEBSOCKET_DATA_TEXT || !json_parser_load_from_data (parser, raw, (gssize) len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    g_printerr ("%s: unreadable message from the server\n", c->opt.log_name);
    g_object_unref (parser);
    return;
  }
  if (c->opt.verbose)
    g_printerr ("%s: <- %.*s\n", c->opt.log_name, (int) len, raw);
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  const char *t = json_object_get_string_member_with_default (o, "type", "");
  if (strcmp (t, "offer") == 0)
    on_offer (c, o);
  else if (strcmp (t, "ice") == 0)
    on_remote_ice (c, o);
  else if (c->ev.message)
    c->ev.message (c->owner, t, o);
  g_object_unref (parser);
}

static void
on_ws_closed (SoupWebsocketConnection *ws, gpointer data)
{
  ReviewerClient *c = data;
  g_printerr ("%s: WebSocket closed (code %u)\n", c->opt.log_name, soup_websocket_connection_get_close_code (ws));
}

static void
on_ws_connected (GObject *src, GAsyncResult *res, gpointer data)
{
  ReviewerClient *c = data;
  GError *err = NULL;
  c->ws = soup_session_websocket_connect_finish (SOUP_SESSION (src), res, &err);
  if (!c->ws) {
    g_printerr ("%s: cannot open %s: %s\n", c->opt.log_name, c->opt.url, err->message);
    if (c->ev.failed)
      c->ev.failed (c->owner, err);
    g_error_free (err);
    return;
  }
  soup_websocket_connection_set_keepalive_interval (c->ws, 0);
  soup_websocket_connection_set_max_incoming_payload_size (c->ws, 1 << 20);
  g_signal_connect (c->ws, "message", G_CALLBACK (on_ws_message), c);
  g_signal_connect (c->ws, "closed", G_CALLBACK (on_ws_closed), c);
  JsonBuilder *b = msg_begin ("join");
  member (b, "case", c->opt.case_ref);
  member (b, "role", "reviewer");
  member (b, "name", c->opt.name);
  c->join_us = g_get_monotonic_time ();
  msg_send (c, b);
}

ReviewerClient *
reviewer_client_start (SoupSession *session, const ReviewerOptions *opt, const ReviewerEvents *events, gpointer owner)
{
  SoupMessage *msg = soup_message_new (SOUP_METHOD_GET, opt->url);
  if (!msg)
    return NULL;
  ReviewerClient *c = g_new0 (ReviewerClient, 1);
  c->opt = *opt;
  c->opt.url = g_strdup (opt->url);
  c->opt.cookie = g_strdup (opt->cookie);
  c->opt.case_ref = g_strdup (opt->case_ref);
  c->opt.name = g_strdup (opt->name);
  c->opt.log_name = g_strdup (opt->log_name ? opt->log_name : opt->name);
  if (events)
    c->ev = *events;
  c->owner = owner;
  if (opt->cookie)   /* the reviewer's login session: kanyan_session=… */
    soup_message_headers_append (soup_message_get_request_headers (msg), "Cookie", opt->cookie);
  soup_session_websocket_connect_async (session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL, on_ws_connected, c);
  g_object_unref (msg);
  return c;
}

guint
reviewer_client_pcs (ReviewerClient *c)
{
  return c->pcs;
}

gint64
reviewer_client_join_us (ReviewerClient *c)
{
  return c->join_us;
}

gboolean
reviewer_client_connected (ReviewerClient *c)
{
  return c->pc && g_atomic_int_get (&c->pc->conn_state) == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED;
}

void
reviewer_client_leave (ReviewerClient *c, gboolean wait)
{
  if (!c->ws || soup_websocket_connection_get_state (c->ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  msg_send (c, msg_begin ("leave"));
  soup_websocket_connection_close (c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  for (int i = 0; wait && i < 50 && soup_websocket_connection_get_state (c->ws) != SOUP_WEBSOCKET_STATE_CLOSED; i++)
    g_main_context_iteration (NULL, FALSE), g_usleep (10000);   /* let the close frame go out */
}

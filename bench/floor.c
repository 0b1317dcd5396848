/* floor.c — the floor under any webrtcbin relay (issue 17): the least a GStreamer server does
 * to relay one phone to its reviewers, measured with the same load generator as Kanyan and
 * Janus (bench/run.sh --anchor floor). Per inspection one pipeline: the publisher's webrtcbin,
 * one tee per track, and each reviewer's webrtcbin fed straight from the tees once it is
 * connected. Nothing else:
 * no queue, no recorder, no talk-back, no keyframe logic, no accounts, no checks — a bench
 * tool, never a server to expose.
 *
 *   bench-floor --port P [--ice-address ADDR] [--queues]
 *   POST /whip/REF    body: the publisher's offer  → 201, the answer (ICE gathered)
 *   POST /view/REF    (no body)                    → 201, an offer for one reviewer (sendonly),
 *                                                    Location /view/REF/N; 409 until the
 *                                                    publisher's video and audio flow
 *   POST /view/REF/N  body: the reviewer's answer  → 204
 *   DELETE /whip/REF                                → 204: the inspection ends
 *
 * Threads: the SoupServer, every Inspection and every reply live on the main loop; webrtcbin's
 * promises, pad-added and notify signals run on its own threads and hop there (g_idle_add with
 * the Peer, which lives as long as the process) before touching anything shared. */
#include "loadgen.h"   /* lg_webrtcbin (lg_media.c) and its LoadGen options */
#include <stdio.h>
#include <string.h>

LoadGen lg;

typedef struct Inspection Inspection;

typedef struct {
  Inspection *insp;
  GstElement *webrtc;
  SoupServerMessage *pending;   /* the POST waiting for this peer's gathered description */
  GstPad *tee_src[N_TRACKS], *sink[N_TRACKS];   /* a reviewer's, linked once it is connected */
  gboolean linked;
} Peer;

struct Inspection {
  char *ref;
  GstElement *pipe, *tee[N_TRACKS];
  GMutex lock;                  /* caps: written by the publisher's webrtcbin thread */
  GstCaps *caps[N_TRACKS];      /* what reaches each tee, cut to what an offer needs */
  GPtrArray *views;             /* Peer*: the reviewers, N-1 for /view/REF/N */
};

static GHashTable *inspections;   /* ref → Inspection (main loop) */
static gboolean with_queues;      /* --queues: a leaky queue (a thread) per reviewer track, as Kanyan's relay */

/* ---------- a gathered description goes out (main loop) ---------- */

static gboolean
reply_main (gpointer data)
{
  Peer *peer = data;
  char *sdp = lg_local_sdp (peer->webrtc);
  if (peer->pending) {
    if (sdp) {
      soup_server_message_set_response (peer->pending, "application/sdp", SOUP_MEMORY_TAKE, sdp, strlen (sdp));
      soup_server_message_set_status (peer->pending, 201, NULL);
      sdp = NULL;
    } else {
      soup_server_message_set_status (peer->pending, 500, NULL);
    }
    soup_server_message_unpause (peer->pending);
    g_object_unref (peer->pending);
    peer->pending = NULL;
  }
  g_free (sdp);
  return G_SOURCE_REMOVE;
}

/* webrtcbin's thread: the publisher's offer is applied; answer it */
static void
on_offer_applied (GstPromise *promise, gpointer data)
{
  Peer *peer = data;
  gst_promise_unref (promise);
  lg_create_description (peer->webrtc, FALSE);
}

static Peer *
peer_new (Inspection *insp, GstWebRTCBundlePolicy bundle, SoupServerMessage *msg)
{
  Peer *peer = g_new0 (Peer, 1);
  GObject *ice = NULL, *agent = NULL;
  peer->insp = insp;
  peer->webrtc = gst_object_ref (lg_webrtcbin (insp->pipe, bundle, &ice, &agent));   /* outlives its pipeline */
  g_clear_object (&ice);
  g_clear_object (&agent);
  peer->pending = g_object_ref (msg);
  soup_server_message_pause (msg);
  lg_on_gathered (peer->webrtc, reply_main, peer);
  return peer;
}

/* ---------- the publisher ---------- */

/* only what an offer to a reviewer needs of the publisher's caps (no ssrc, no extensions) */
static GstCaps *
offer_caps (const GstCaps *in)
{
  static const char *keep[] = { "media", "encoding-name", "payload", "clock-rate", "encoding-params",
                                "packetization-mode", "profile-level-id", "level-asymmetry-allowed" };
  const GstStructure *s = gst_caps_get_structure (in, 0);
  GstStructure *out = gst_structure_new_empty ("application/x-rtp");
  for (guint i = 0; i < G_N_ELEMENTS (keep); i++)
    if (gst_structure_has_field (s, keep[i]))
      gst_structure_set_value (out, keep[i], gst_structure_get_value (s, keep[i]));
  return gst_caps_new_full (out, NULL);
}

/* the publisher webrtcbin's thread: a received stream goes to its track's tee */
static void
on_publisher_pad (GstElement *webrtc, GstPad *pad, gpointer data)
{
  Inspection *insp = data;
  (void) webrtc;
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  const char *media = gst_structure_get_string (gst_caps_get_structure (caps, 0), "media");
  guint k = g_strcmp0 (media, "video") == 0 ? TRACK_VIDEO : TRACK_AUDIO;
  GstPad *sink = gst_element_get_static_pad (insp->tee[k], "sink");
  if (gst_pad_link (pad, sink) != GST_PAD_LINK_OK)
    g_printerr ("bench-floor: %s: the %s stream does not link to its tee\n", insp->ref, media ? media : "?");
  gst_object_unref (sink);
  g_mutex_lock (&insp->lock);
  gst_caps_replace (&insp->caps[k], NULL);
  insp->caps[k] = offer_caps (caps);
  g_mutex_unlock (&insp->lock);
  gst_caps_unref (caps);
}

static Inspection *
inspection_new (const char *ref)
{
  Inspection *insp = g_new0 (Inspection, 1);
  insp->ref = g_strdup (ref);
  g_mutex_init (&insp->lock);
  insp->pipe = gst_pipeline_new (ref);
  insp->views = g_ptr_array_new ();
  for (guint k = 0; k < N_TRACKS; k++) {
    insp->tee[k] = gst_element_factory_make ("tee", NULL);
    g_object_set (insp->tee[k], "allow-not-linked", TRUE, NULL);
    gst_bin_add (GST_BIN (insp->pipe), insp->tee[k]);
  }
  gst_element_set_state (insp->pipe, GST_STATE_PLAYING);
  return insp;
}

/* main loop: the publisher left; the inspection's pipeline and webrtcbins go (the Peers stay:
 * a webrtcbin thread may still hop with one, and a bench process is short-lived) */
static void
inspection_end (const char *ref)
{
  Inspection *insp = g_hash_table_lookup (inspections, ref);
  if (!insp)
    return;
  g_hash_table_remove (inspections, ref);
  gst_element_set_state (insp->pipe, GST_STATE_NULL);
  gst_object_unref (insp->pipe);
}

static void
publish (SoupServerMessage *msg, const char *ref, GBytes *body)
{
  GstSDPMessage *sdp = NULL;
  gsize len = 0;
  const char *text = body ? g_bytes_get_data (body, &len) : NULL;
  g_autofree char *offer_text = text ? g_strndup (text, len) : NULL;
  if (!offer_text || gst_sdp_message_new_from_text (offer_text, &sdp) != GST_SDP_OK) {
    soup_server_message_set_status (msg, 400, NULL);
    return;
  }
  if (g_hash_table_contains (inspections, ref)) {   /* one publish per inspection in a bench step */
    gst_sdp_message_free (sdp);
    soup_server_message_set_status (msg, 409, NULL);
    return;
  }
  Inspection *insp = inspection_new (ref);
  g_hash_table_insert (inspections, insp->ref, insp);
  g_autofree char *location = g_strdup_printf ("/whip/%s", ref);   /* what DELETE ends */
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location", location);
  Peer *peer = peer_new (insp, GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, msg);
  g_signal_connect (peer->webrtc, "pad-added", G_CALLBACK (on_publisher_pad), insp);
  gst_element_sync_state_with_parent (peer->webrtc);
  GstWebRTCSessionDescription *offer = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  g_signal_emit_by_name (peer->webrtc, "set-remote-description", offer,
                         gst_promise_new_with_change_func (on_offer_applied, peer, NULL));
  gst_webrtc_session_description_free (offer);
}

/* ---------- a reviewer ---------- */

/* main loop: the reviewer is connected, so its webrtcbin no longer holds data back (until DTLS
 * is up, webrtcbin blocks what reaches its sink pads; a tee pushing into it then blocked the
 * publisher's streaming thread, and with it every reviewer, and at times for good) */
static gboolean
link_main (gpointer data)
{
  Peer *peer = data;
  if (peer->linked)
    return G_SOURCE_REMOVE;
  peer->linked = TRUE;
  for (guint k = 0; k < N_TRACKS; k++)
    if (gst_pad_link (peer->tee_src[k], peer->sink[k]) != GST_PAD_LINK_OK)
      g_printerr ("bench-floor: %s: a tee does not link to a reviewer\n", peer->insp->ref);
  return G_SOURCE_REMOVE;
}

/* webrtcbin's thread */
static void
on_view_state (GstElement *webrtc, GParamSpec *ps, gpointer data)
{
  GstWebRTCPeerConnectionState st;
  (void) ps;
  g_object_get (webrtc, "connection-state", &st, NULL);
  if (st == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
    g_idle_add (link_main, data);
}

static void
view (SoupServerMessage *msg, Inspection *insp)
{
  GstCaps *caps[N_TRACKS];
  g_mutex_lock (&insp->lock);
  for (guint k = 0; k < N_TRACKS; k++)
    caps[k] = insp->caps[k] ? gst_caps_ref (insp->caps[k]) : NULL;
  g_mutex_unlock (&insp->lock);
  if (!caps[TRACK_VIDEO] || !caps[TRACK_AUDIO]) {   /* the publisher's media is not flowing yet */
    for (guint k = 0; k < N_TRACKS; k++)
      gst_clear_caps (&caps[k]);
    soup_server_message_set_status (msg, 409, NULL);
    return;
  }
  Peer *peer = peer_new (insp, GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, msg);
  g_ptr_array_add (insp->views, peer);
  guint n = insp->views->len;
  for (guint k = 0; k < N_TRACKS; k++) {
    GstPad *sink = gst_element_request_pad_simple (peer->webrtc, "sink_%u");
    GstWebRTCRTPTransceiver *trans = NULL;
    g_object_get (sink, "transceiver", &trans, NULL);
    g_object_set (trans, "codec-preferences", caps[k], "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, NULL);
    gst_object_unref (trans);
    peer->sink[k] = sink;
    peer->tee_src[k] = gst_element_request_pad_simple (insp->tee[k], "src_%u");
    if (with_queues) {   /* tee → queue now, queue → webrtcbin once connected */
      GstElement *queue = gst_element_factory_make ("queue", NULL);
      g_object_set (queue, "leaky", 2, "max-size-buffers", 0, "max-size-bytes", 0,
                    "max-size-time", (guint64) 500 * GST_MSECOND, NULL);
      gst_bin_add (GST_BIN (insp->pipe), queue);
      GstPad *queue_sink = gst_element_get_static_pad (queue, "sink");
      gst_pad_link (peer->tee_src[k], queue_sink);
      gst_object_unref (queue_sink);
      gst_element_sync_state_with_parent (queue);
      gst_object_unref (peer->tee_src[k]);
      peer->tee_src[k] = gst_element_get_static_pad (queue, "src");
    }
    gst_caps_unref (caps[k]);
  }
  g_signal_connect (peer->webrtc, "notify::connection-state", G_CALLBACK (on_view_state), peer);
  gst_element_sync_state_with_parent (peer->webrtc);
  lg_create_description (peer->webrtc, TRUE);
  g_autofree char *location = g_strdup_printf ("/view/%s/%u", insp->ref, n);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location", location);
}

static void
view_answer (SoupServerMessage *msg, Inspection *insp, const char *n, GBytes *body)
{
  guint64 i = g_ascii_strtoull (n, NULL, 10);
  GstElement *webrtc = i >= 1 && i <= insp->views->len ? ((Peer *) g_ptr_array_index (insp->views, i - 1))->webrtc : NULL;
  GstSDPMessage *sdp = NULL;
  gsize len = 0;
  const char *text = body ? g_bytes_get_data (body, &len) : NULL;
  g_autofree char *answer_text = text ? g_strndup (text, len) : NULL;
  if (!webrtc || !answer_text || gst_sdp_message_new_from_text (answer_text, &sdp) != GST_SDP_OK) {
    soup_server_message_set_status (msg, webrtc ? 400 : 404, NULL);
    return;
  }
  GstWebRTCSessionDescription *answer = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  g_signal_emit_by_name (webrtc, "set-remote-description", answer, NULL);
  gst_webrtc_session_description_free (answer);
  soup_server_message_set_status (msg, 204, NULL);
}

/* ---------- HTTP (main loop) ---------- */

static void
on_request (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data)
{
  (void) server, (void) query, (void) data;
  g_auto (GStrv) parts = g_strsplit (path + 1, "/", 4);
  guint n = g_strv_length (parts);
  if (strcmp (soup_server_message_get_method (msg), "DELETE") == 0 && n == 2 && strcmp (parts[0], "whip") == 0) {
    inspection_end (parts[1]);   /* the step is over: its webrtcbins go, as Kanyan's and Janus's do */
    soup_server_message_set_status (msg, 204, NULL);
    return;
  }
  if (strcmp (soup_server_message_get_method (msg), "POST") != 0) {
    soup_server_message_set_status (msg, 405, NULL);
    return;
  }
  g_autoptr (GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  Inspection *insp = n >= 2 ? g_hash_table_lookup (inspections, parts[1]) : NULL;
  if (n == 2 && strcmp (parts[0], "whip") == 0)
    publish (msg, parts[1], body);
  else if (n == 2 && strcmp (parts[0], "view") == 0 && insp)
    view (msg, insp);
  else if (n == 3 && strcmp (parts[0], "view") == 0 && insp)
    view_answer (msg, insp, parts[2], body);
  else
    soup_server_message_set_status (msg, 404, NULL);
}

int
main (int argc, char **argv)
{
  gint port = 18444;
  char *ice = NULL;
  GOptionEntry entries[] = {
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "Port on 127.0.0.1 (18444)", "PORT" },
    { "ice-address", 0, 0, G_OPTION_ARG_STRING, &ice, "The only local address ICE uses", "ADDR" },
    { "queues", 0, 0, G_OPTION_ARG_NONE, &with_queues, "A leaky queue per reviewer track (Kanyan's relay has them)", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL }
  };
  g_autoptr (GError) err = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— the floor under a webrtcbin relay (bench/README.md)");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    fprintf (stderr, "bench-floor: %s\n", err->message);
    return 2;
  }
  lg.ice_address = ice;
  inspections = g_hash_table_new (g_str_hash, g_str_equal);
  SoupServer *server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, NULL, on_request, NULL, NULL);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, (guint16) port);
  if (!soup_server_listen (server, address, 0, &err)) {
    fprintf (stderr, "bench-floor: cannot listen on port %d: %s\n", port, err->message);
    return 1;
  }
  printf ("bench-floor listening on http://127.0.0.1:%d/\n", port);
  fflush (stdout);
  g_main_loop_run (g_main_loop_new (NULL, FALSE));
  return 0;
}

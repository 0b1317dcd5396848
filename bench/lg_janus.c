/* lg_janus.c — the load generator's signaling against Janus's VideoRoom (bench-loadgen --janus,
 * bench/run.sh --anchor janus): the same publishers (lg_publisher.c: clip, pacing, keyframe on
 * PLI) and the same reviewers' media side (lg_reviewer.c: count, never decode), but signaled
 * through Janus's HTTP API (janus.plugin.videoroom, Janus 1.1.2) instead of WHIP and Kanyan's
 * WebSocket. One inspection in VideoRoom terms:
 *   - publisher: POST /janus `create` (a session), `attach` janus.plugin.videoroom, `create` a
 *     room (publishers 1, recording on into --janus-rec-dir, H.264 constrained baseline + Opus:
 *     the clip's codecs, nothing is transcoded), `join` as publisher, `configure` with the
 *     offer (every candidate inside, trickle false); the event's jsep answer goes to
 *     pub_apply_answer;
 *   - each reviewer: a session of its own, `join` as subscriber with streams [{feed}]; Janus's
 *     offer is answered by a fresh webrtcbin (lg_webrtcbin: no UPnP, --ice-address), and the
 *     answer, once gathered, goes back with `start`.
 * Each session long-polls GET /janus/{session}?maxev=10 (one request outstanding) and sends a
 * keepalive every 20 s; leaving destroys the session (Janus hangs its peer connection up).
 * The join time (for join→keyframe) is when the subscriber's `join` is sent, as Kanyan's
 * reviewer's is when its `join` goes out on the WebSocket.
 * Main loop throughout unless a function says otherwise; it never touches media counters. */
#include "loadgen.h"
#include <string.h>

typedef struct JSession JSession;
/* main loop: a request's synchronous reply (`success` or `ack`), NULL when it failed */
typedef void (*JReply) (JSession *s, JsonObject *reply);

struct JSession {
  char *name;                   /* for stderr */
  guint64 id, handle;           /* 0 until created / attached */
  Pub *pub;
  Rev *rev;                     /* NULL for the publisher's session */
  guint64 room, feed;           /* publisher: its room and its id there */
  char *offer;                  /* publisher: the SDP offer to configure with */
  gboolean closed;
  guint keepalive;
  GCancellable *cancel;         /* the long poll */
  /* subscriber */
  GstElement *pipe, *webrtc;
  GObject *ice, *agent;         /* kept until exit (see lg_webrtcbin) */
};

static SoupSession *poll_http;   /* long polls: Janus holds each up to 30 s */
static guint64 txn_counter;

/* the long polls' own HTTP session: its requests may wait 30 s, the others are bounded by
 * --http-timeout (lg.http) */
void
janus_init (void)
{
  poll_http = soup_session_new_with_options ("max-conns", 1000, "max-conns-per-host", 1000, "timeout", 45,
                                             "idle-timeout", 60, NULL);
  soup_session_set_proxy_resolver (poll_http, NULL);
}

/* ---------- requests ---------- */

typedef struct {
  JSession *s;
  JReply fn;
  char *what;
} Req;

/* "janus":kind with a fresh transaction, body and jsep (both taken, may be NULL) */
static JsonNode *
request_new (const char *kind, JsonObject *body, JsonObject *jsep)
{
  JsonObject *o = json_object_new ();
  char txn[32];
  g_snprintf (txn, sizeof txn, "t%" G_GUINT64_FORMAT, ++txn_counter);
  json_object_set_string_member (o, "janus", kind);
  json_object_set_string_member (o, "transaction", txn);
  if (body)
    json_object_set_object_member (o, "body", body);
  if (jsep)
    json_object_set_object_member (o, "jsep", jsep);
  JsonNode *n = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (n, o);
  return n;
}

static char *
session_url (JSession *s)
{
  if (s->handle)
    return g_strdup_printf ("%s/%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, lg.base, s->id, s->handle);
  if (s->id)
    return g_strdup_printf ("%s/%" G_GUINT64_FORMAT, lg.base, s->id);
  return g_strdup (lg.base);
}

static JsonNode *
parse (GBytes *body)
{
  gsize len = 0;
  const char *text = body ? g_bytes_get_data (body, &len) : NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  if (!text || !json_parser_load_from_data (p, text, (gssize) len, NULL))
    return NULL;
  return json_node_copy (json_parser_get_root (p));
}

static void
on_replied (GObject *src, GAsyncResult *res, gpointer data)
{
  Req *r = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (src), res, &err);
  g_autoptr (JsonNode) root = parse (body);
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  const char *kind = o ? json_object_get_string_member_with_default (o, "janus", "") : "";
  if (strcmp (kind, "success") != 0 && strcmp (kind, "ack") != 0) {
    gsize len = 0;
    const char *text = body ? g_bytes_get_data (body, &len) : "";
    g_printerr ("loadgen: %s: janus %s failed: %.*s%s\n", r->s->name, r->what, (int) MIN (len, 300), text,
                err ? err->message : "");
    o = NULL;
  }
  if (r->fn && !r->s->closed)
    r->fn (r->s, o);
  g_free (r->what);
  g_free (r);
}

/* POSTs the request (taken) to the session's URL (base, session or handle, as far as known) */
static void
post (JSession *s, const char *what, JsonNode *req, JReply fn)
{
  g_autofree char *url = session_url (s);
  g_autofree char *json = json_to_string (req, FALSE);
  json_node_unref (req);
  if (g_getenv ("LG_DEBUG_SDP"))
    g_printerr ("loadgen: %s: → %s %s\n", s->name, url, json);
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST, url);
  gsize len = strlen (json);
  g_autoptr (GBytes) body = g_bytes_new_take (g_steal_pointer (&json), len);
  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  Req *r = g_new0 (Req, 1);
  r->s = s;
  r->fn = fn;
  r->what = g_strdup (what);
  soup_session_send_and_read_async (lg.http, msg, G_PRIORITY_DEFAULT, NULL, on_replied, r);
}

/* a plugin message: {"request": request, …} and optionally a jsep */
static JsonObject *
body_new (const char *request)
{
  JsonObject *b = json_object_new ();
  json_object_set_string_member (b, "request", request);
  return b;
}

static JsonObject *
jsep_new (const char *type, const char *sdp)
{
  JsonObject *j = json_object_new ();
  json_object_set_string_member (j, "type", type);
  json_object_set_string_member (j, "sdp", sdp);
  json_object_set_boolean_member (j, "trickle", FALSE);   /* every candidate is in the SDP */
  return j;
}

/* ---------- sessions: create, attach, long poll, keepalive ---------- */

static void on_event (JSession *s, JsonObject *ev);
static void poll_next (JSession *s);

static gboolean
poll_again (gpointer data)
{
  poll_next (data);
  return G_SOURCE_REMOVE;
}

static void
on_polled (GObject *src, GAsyncResult *res, gpointer data)
{
  JSession *s = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (src), res, &err);
  if (s->closed)
    return;
  g_autoptr (JsonNode) root = parse (body);
  if (!root) {
    g_printerr ("loadgen: %s: janus long poll: %s\n", s->name, err ? err->message : "unreadable reply");
    g_timeout_add (200, poll_again, s);
    return;
  }
  if (JSON_NODE_HOLDS_ARRAY (root)) {
    JsonArray *a = json_node_get_array (root);
    for (guint i = 0; i < json_array_get_length (a) && !s->closed; i++)
      if (JSON_NODE_HOLDS_OBJECT (json_array_get_element (a, i)))
        on_event (s, json_array_get_object_element (a, i));
  } else if (JSON_NODE_HOLDS_OBJECT (root))
    on_event (s, json_node_get_object (root));
  if (!s->closed)
    poll_next (s);
}

static void
poll_next (JSession *s)
{
  g_autofree char *url = g_strdup_printf ("%s/%" G_GUINT64_FORMAT "?maxev=10", lg.base, s->id);
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  soup_session_send_and_read_async (poll_http, msg, G_PRIORITY_DEFAULT, s->cancel, on_polled, s);
}

/* every 20 s (Janus's session_timeout is 60 s); to the session's URL, not the handle's */
static gboolean
keepalive (gpointer data)
{
  JSession *s = data;
  guint64 handle = s->handle;
  s->handle = 0;
  post (s, "keepalive", request_new ("keepalive", NULL, NULL), NULL);
  s->handle = handle;
  return G_SOURCE_CONTINUE;
}

static void
on_attached (JSession *s, JsonObject *reply)
{
  JsonObject *data = reply && json_object_has_member (reply, "data") ? json_object_get_object_member (reply, "data") : NULL;
  if (!data)
    return;
  s->handle = (guint64) json_object_get_int_member_with_default (data, "id", 0);
  if (s->rev)
    janus_rev_start (s->rev);   /* continues where it left off */
  else
    janus_pub_offer (s->pub, NULL);
}

static void
on_created (JSession *s, JsonObject *reply)
{
  JsonObject *data = reply && json_object_has_member (reply, "data") ? json_object_get_object_member (reply, "data") : NULL;
  if (!data)
    return;
  s->id = (guint64) json_object_get_int_member_with_default (data, "id", 0);
  s->keepalive = g_timeout_add_seconds (20, keepalive, s);
  poll_next (s);
  JsonNode *req = request_new ("attach", NULL, NULL);
  json_object_set_string_member (json_node_get_object (req), "plugin", "janus.plugin.videoroom");
  post (s, "attach", req, on_attached);
}

static JSession *
session_new (const char *name, Pub *pub, Rev *rev)
{
  JSession *s = g_new0 (JSession, 1);
  s->name = g_strdup (name);
  s->pub = pub;
  s->rev = rev;
  s->cancel = g_cancellable_new ();
  post (s, "create", request_new ("create", NULL, NULL), on_created);
  return s;
}

/* destroys the session (Janus hangs up its peer connection); the reply is not waited for */
static void
session_close (JSession *s)
{
  if (!s || s->closed)
    return;
  s->closed = TRUE;
  if (s->keepalive)
    g_source_remove (s->keepalive);
  g_cancellable_cancel (s->cancel);
  if (s->id) {
    s->handle = 0;
    post (s, "destroy", request_new ("destroy", NULL, NULL), NULL);
  }
}

/* Janus's SDP carries its candidates (it gathers before it offers or answers), but webrtcbin
 * 1.22 does not take them from a remote description here: it sends no check and answers
 * none, and Janus reports ICE failed. So each one is added by hand, as if trickled; webrtcbin
 * holds them until the description is applied. Main loop. */
static void
add_candidates (GstElement *webrtc, const char *sdp_text)
{
  GstSDPMessage *sdp = NULL;
  if (gst_sdp_message_new_from_text (sdp_text, &sdp) != GST_SDP_OK)
    return;
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);
    for (guint a = 0; a < gst_sdp_media_attributes_len (m); a++) {
      const GstSDPAttribute *attr = gst_sdp_media_get_attribute (m, a);
      if (g_strcmp0 (attr->key, "candidate") == 0 && attr->value) {
        g_autofree char *cand = g_strconcat ("candidate:", attr->value, NULL);
        g_signal_emit_by_name (webrtc, "add-ice-candidate", i, cand);
      }
    }
  }
  gst_sdp_message_free (sdp);
}

/* ---------- the publisher ---------- */

static void
publisher_configure (JSession *s)
{
  JsonObject *b = body_new ("configure");
  json_object_set_boolean_member (b, "audio", TRUE);
  json_object_set_boolean_member (b, "video", TRUE);
  post (s, "configure", request_new ("message", b, jsep_new ("offer", s->offer)), NULL);
}

static void
on_room_created (JSession *s, JsonObject *reply)
{
  JsonObject *pd = reply && json_object_has_member (reply, "plugindata") ? json_object_get_object_member (reply, "plugindata") : NULL;
  JsonObject *data = pd && json_object_has_member (pd, "data") ? json_object_get_object_member (pd, "data") : NULL;
  s->room = data ? (guint64) json_object_get_int_member_with_default (data, "room", 0) : 0;
  if (!s->room) {
    g_printerr ("loadgen: %s: janus made no room\n", s->name);
    return;
  }
  JsonObject *b = body_new ("join");
  json_object_set_string_member (b, "ptype", "publisher");
  json_object_set_int_member (b, "room", (gint64) s->room);
  json_object_set_string_member (b, "display", s->pub->ref);
  post (s, "join", request_new ("message", b, NULL), NULL);
}

/* (main loop) Called with the offer once webrtcbin has gathered, and again (sdp NULL) once the
 * session is attached: then the room is created, and the rest follows from the events. */
void
janus_pub_offer (Pub *pub, const char *sdp)
{
  JSession *s = pub->janus;
  if (!s) {
    g_autofree char *name = g_strdup_printf ("janus-%s", pub->ref);
    s = pub->janus = session_new (name, pub, NULL);
    s->offer = g_strdup (sdp);
    return;
  }
  /* the room: one publisher, recorded (raw RTP, .mjr), the clip's codecs */
  JsonObject *b = body_new ("create");
  json_object_set_int_member (b, "publishers", 1);
  json_object_set_boolean_member (b, "record", TRUE);
  if (lg.janus_rec_dir)
    json_object_set_string_member (b, "rec_dir", lg.janus_rec_dir);
  json_object_set_string_member (b, "videocodec", "h264");
  json_object_set_string_member (b, "h264_profile", "42e01f");   /* constrained baseline, as the clip */
  json_object_set_string_member (b, "audiocodec", "opus");
  post (s, "create room", request_new ("message", b, NULL), on_room_created);
}

void
janus_pub_leave (Pub *pub)
{
  session_close (pub->janus);
}

/* ---------- a reviewer: a subscriber ---------- */

typedef struct {
  JSession *s;
  GstPromise *promise;
} Hop;

static void
hop (GSourceFunc fn, JSession *s, GstPromise *promise)
{
  Hop *h = g_new0 (Hop, 1);
  h->s = s;
  h->promise = promise;
  g_main_context_invoke (NULL, fn, h);
}

static void
hop_free (Hop *h)
{
  if (h->promise)
    gst_promise_unref (h->promise);
  g_free (h);
}

/* main loop: our answer holds every candidate: `start` */
static gboolean
gathered_main (gpointer data)
{
  JSession *s = data;
  g_autofree char *sdp = lg_local_sdp (s->webrtc);
  if (sdp && !s->closed)
    post (s, "start", request_new ("message", body_new ("start"), jsep_new ("answer", sdp)), NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
answer_created_main (gpointer data)
{
  Hop *h = data;
  const GstStructure *reply = gst_promise_get_reply (h->promise);
  GstWebRTCSessionDescription *answer = NULL;
  if (reply)
    gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, NULL);
  if (!answer)
    g_printerr ("loadgen: %s: webrtcbin made no answer to Janus's offer\n", h->s->name);
  else {
    g_signal_emit_by_name (h->s->webrtc, "set-local-description", answer, NULL);
    gst_webrtc_session_description_free (answer);
  }
  hop_free (h);
  return G_SOURCE_REMOVE;
}

static void
on_answer_created (GstPromise *promise, gpointer data)
{
  hop (answer_created_main, data, promise);
}

static gboolean
remote_set_main (gpointer data)
{
  Hop *h = data;
  g_signal_emit_by_name (h->s->webrtc, "create-answer", NULL,
                         gst_promise_new_with_change_func (on_answer_created, h->s, NULL));
  hop_free (h);
  return G_SOURCE_REMOVE;
}

static void
on_remote_set (GstPromise *promise, gpointer data)
{
  hop (remote_set_main, data, promise);
}

/* the payload type of the offer's audio (the reviewer tells its tracks apart by it) */
static guint
audio_pt (const GstSDPMessage *sdp)
{
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (sdp, i);
    if (g_strcmp0 (gst_sdp_media_get_media (m), "audio") == 0 && gst_sdp_media_formats_len (m) > 0)
      return (guint) g_ascii_strtoull (gst_sdp_media_get_format (m, 0), NULL, 10);
  }
  return 0;
}

/* Janus's offer to a subscriber: a fresh webrtcbin answers it */
static void
subscriber_offer (JSession *s, const char *text)
{
  GstSDPMessage *sdp = NULL;
  if (s->webrtc) {
    g_printerr ("loadgen: %s: ignoring a renegotiation\n", s->name);
    return;
  }
  if (gst_sdp_message_new_from_text (text, &sdp) != GST_SDP_OK) {
    g_printerr ("loadgen: %s: unreadable offer SDP from Janus\n", s->name);
    return;
  }
  s->rev->audio_pt = audio_pt (sdp);
  s->pipe = gst_pipeline_new (NULL);
  s->webrtc = lg_webrtcbin (s->pipe, GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, &s->ice, &s->agent);
  lg_on_gathered (s->webrtc, gathered_main, s);
  lg_track_conn_state (s->webrtc, s->rev);
  rev_watch_pc (s->rev, s->webrtc);
  gst_element_set_state (s->pipe, GST_STATE_PLAYING);
  GstWebRTCSessionDescription *offer = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  g_signal_emit_by_name (s->webrtc, "set-remote-description", offer,
                         gst_promise_new_with_change_func (on_remote_set, s, NULL));
  gst_webrtc_session_description_free (offer);
  add_candidates (s->webrtc, text);
}

/* (main loop) Starts the reviewer's session; called again once it is attached: then it joins. */
void
janus_rev_start (Rev *rev)
{
  JSession *s = rev->janus;
  if (!s) {
    g_autofree char *name = g_strdup_printf ("janus-%s", rev->name);
    rev->janus = session_new (name, rev->pub, rev);
    return;
  }
  JSession *ps = rev->pub->janus;
  if (!ps || !ps->feed) {
    g_printerr ("loadgen: %s: its publisher has no feed in Janus\n", s->name);
    return;
  }
  JsonObject *b = body_new ("join");
  json_object_set_string_member (b, "ptype", "subscriber");
  json_object_set_int_member (b, "room", (gint64) ps->room);
  JsonArray *streams = json_array_new ();
  JsonObject *feed = json_object_new ();
  json_object_set_int_member (feed, "feed", (gint64) ps->feed);
  json_array_add_object_element (streams, feed);
  json_object_set_array_member (b, "streams", streams);
  rev->join_us = g_get_monotonic_time ();
  post (s, "join", request_new ("message", b, NULL), NULL);
}

void
janus_rev_leave (Rev *rev)
{
  session_close (rev->janus);
}

/* ---------- events (from the long poll) ---------- */

static void
on_event (JSession *s, JsonObject *ev)
{
  const char *kind = json_object_get_string_member_with_default (ev, "janus", "");
  if (g_getenv ("LG_DEBUG_SDP")) {
    g_autoptr (JsonNode) n = json_node_init_object (json_node_alloc (), ev);
    g_autofree char *text = json_to_string (n, FALSE);
    g_printerr ("loadgen: %s: ← %s\n", s->name, text);
  }
  if (strcmp (kind, "hangup") == 0 || strcmp (kind, "timeout") == 0 || strcmp (kind, "detached") == 0) {
    g_printerr ("loadgen: %s: janus %s (%s)\n", s->name, kind,
                json_object_get_string_member_with_default (ev, "reason", ""));
    return;
  }
  if (strcmp (kind, "event") != 0)
    return;   /* keepalive, webrtcup, media, slowlink: nothing to do */
  JsonObject *pd = json_object_has_member (ev, "plugindata") ? json_object_get_object_member (ev, "plugindata") : NULL;
  JsonObject *data = pd && json_object_has_member (pd, "data") ? json_object_get_object_member (pd, "data") : NULL;
  JsonObject *jsep = json_object_has_member (ev, "jsep") ? json_object_get_object_member (ev, "jsep") : NULL;
  const char *what = data ? json_object_get_string_member_with_default (data, "videoroom", "") : "";
  const char *sdp = jsep ? json_object_get_string_member_with_default (jsep, "sdp", NULL) : NULL;
  const char *type = jsep ? json_object_get_string_member_with_default (jsep, "type", "") : "";
  if (data && json_object_has_member (data, "error")) {
    g_printerr ("loadgen: %s: videoroom error %" G_GINT64_FORMAT ": %s\n", s->name,
                json_object_get_int_member_with_default (data, "error_code", 0),
                json_object_get_string_member_with_default (data, "error", ""));
    return;
  }
  if (!s->rev && strcmp (what, "joined") == 0) {
    s->feed = (guint64) json_object_get_int_member_with_default (data, "id", 0);
    publisher_configure (s);
  } else if (!s->rev && sdp && strcmp (type, "answer") == 0) {
    pub_apply_answer (s->pub, sdp);
    add_candidates (s->pub->webrtc, sdp);
  } else if (s->rev && sdp && strcmp (type, "offer") == 0) {
    subscriber_offer (s, sdp);
  }
}

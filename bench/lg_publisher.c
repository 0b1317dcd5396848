/* lg_publisher.c — a WHIP publisher: one webrtcbin fed from the pre-encoded clip through
 * appsrc ! payloader (no encoding), an offer with every ICE candidate POSTed to
 * /whip/{case} with the invite token as bearer, the 201's answer applied.
 *
 * Pacing: the main loop pushes each access unit / Opus packet when its time comes; the
 * timestamps go on across loops (offset += the clip's length), so RTP timestamps only grow.
 * A keyframe request (the server's PLI/FIR, arriving as an upstream GstForceKeyUnit) makes
 * the next frame sent the clip's next IDR, on the same timeline — as a phone's encoder
 * answers a PLI with an IDR. Every RTP packet's send time is stamped (by sequence number)
 * as it enters webrtcbin, for the reviewers' latency figures.
 * With --janus the offer goes to Janus's VideoRoom instead (lg_janus.c), which hands the
 * answer back to pub_apply_answer. */
#include "loadgen.h"
#include <gst/app/gstappsrc.h>
#include <string.h>

static const char *const PAYLOADER[N_TRACKS] = { "rtph264pay", "rtpopuspay" };
static const char *const RTP_CAPS[N_TRACKS] = {
  "application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000,"
  "packetization-mode=(string)1,profile-level-id=(string)42e01f",
  "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,encoding-params=(string)2",
};

/* A closure carried from a webrtcbin thread to the main loop: the same carrier as the reviewer
 * client's (tests/peers/reviewer_client.c) but for a publisher, which takes its text */
typedef struct {
  Pub *pub;
  char *text;
  GstPromise *promise;
} Hop;

static void
hop (GSourceFunc fn, Pub *pub, char *text_take, GstPromise *promise)
{
  Hop *h = g_new0 (Hop, 1);
  h->pub = pub;
  h->text = text_take;
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

/* ---------- send-time stamps ---------- */

static gboolean
stamp_one (GstBuffer **buf, guint idx, gpointer data)
{
  SendMap *map = data;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  (void) idx;
  if (!gst_rtp_buffer_map (*buf, GST_MAP_READ, &rtp))
    return TRUE;
  guint32 ssrc = gst_rtp_buffer_get_ssrc (&rtp);
  guint16 seq = gst_rtp_buffer_get_seq (&rtp);
  guint32 ts = gst_rtp_buffer_get_timestamp (&rtp);
  guint32 fp = lg_payload_fp (gst_rtp_buffer_get_payload (&rtp), gst_rtp_buffer_get_payload_len (&rtp));
  gst_rtp_buffer_unmap (&rtp);
  if (__atomic_load_n (&map->ssrc, __ATOMIC_RELAXED) != ssrc)
    __atomic_store_n (&map->ssrc, ssrc, __ATOMIC_RELEASE);
  __atomic_store_n (&map->sent_us[seq], g_get_monotonic_time (), __ATOMIC_RELAXED);
  __atomic_store_n (&map->rtp_ts[seq], ts, __ATOMIC_RELAXED);
  __atomic_store_n (&map->fp[seq], fp, __ATOMIC_RELEASE);
  __atomic_add_fetch (&map->packets, 1, __ATOMIC_RELAXED);
  return TRUE;
}

/* streaming thread: RTP from the payloader into webrtcbin */
static GstPadProbeReturn
on_rtp_out (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  (void) pad;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    gst_buffer_list_foreach (GST_PAD_PROBE_INFO_BUFFER_LIST (info), stamp_one, data);
  else if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);
    stamp_one (&b, 0, data);
  }
  return GST_PAD_PROBE_OK;
}

/* a keyframe request travelling up from webrtcbin's rtpsession (PLI or FIR) */
static GstPadProbeReturn
on_upstream_event (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  const GstStructure *s = gst_event_get_structure (GST_PAD_PROBE_INFO_EVENT (info));
  (void) pad;
  if (s && gst_structure_has_name (s, "GstForceKeyUnit"))
    g_atomic_int_set (&((Pub *) data)->keyframe_wanted, 1);
  return GST_PAD_PROBE_OK;
}

/* ---------- pacing (main loop) ---------- */

static void
push (Pub *pub, guint k, gint64 due_ns)
{
  const ClipTrack *t = &lg.clip.track[k];
  if (k == TRACK_VIDEO && g_atomic_int_compare_and_exchange (&pub->keyframe_wanted, 1, 0) &&
      !g_array_index (t->is_key, gboolean, pub->next[k])) {
    guint i = pub->next[k], j = i;
    do
      j = (j + 1) % t->bufs->len;
    while (!g_array_index (t->is_key, gboolean, j));
    /* frame j takes frame i's place on the timeline */
    pub->offset[k] += (GstClockTimeDiff) g_array_index (t->pts, GstClockTime, i) -
                      (GstClockTimeDiff) g_array_index (t->pts, GstClockTime, j);
    pub->next[k] = j;
    pub->keyframe_jumps++;
  }
  guint i = pub->next[k];
  GstBuffer *b = gst_buffer_copy (g_ptr_array_index (t->bufs, i));   /* shares the memory */
  GST_BUFFER_PTS (b) = GST_BUFFER_DTS (b) = pub->start_rt + due_ns;
  gst_app_src_push_buffer (GST_APP_SRC (pub->src[k]), b);
  if (++pub->next[k] == t->bufs->len) {
    pub->next[k] = 0;
    pub->offset[k] += t->period;
  }
}

void
pub_pace (Pub *pub, gint64 now_us)
{
  if (!pub->sending)
    return;
  gint64 elapsed_ns = (now_us - pub->start_us) * 1000;
  for (guint k = 0; k < N_TRACKS; k++) {
    const ClipTrack *t = &lg.clip.track[k];
    for (;;) {
      gint64 due = pub->offset[k] + (gint64) g_array_index (t->pts, GstClockTime, pub->next[k]);
      if (due > elapsed_ns)
        break;
      push (pub, k, due);
    }
  }
}

/* ---------- WHIP ---------- */

static gboolean
answer_applied_main (gpointer data)
{
  Hop *h = data;
  Pub *pub = h->pub;
  GstClock *clock = gst_element_get_clock (pub->pipe);
  pub->start_rt = gst_clock_get_time (clock) - gst_element_get_base_time (pub->pipe);
  gst_object_unref (clock);
  pub->start_us = g_get_monotonic_time ();
  pub->sending = TRUE;
  hop_free (h);
  return G_SOURCE_REMOVE;
}

static void
on_answer_applied (GstPromise *promise, gpointer data)
{
  hop (answer_applied_main, data, NULL, promise);
}

static void
on_posted (GObject *src, GAsyncResult *res, gpointer data)
{
  Pub *pub = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (src), res, &err);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (src), res);
  guint status = msg ? soup_message_get_status (msg) : 0;
  gsize len = 0;
  const char *text = body ? g_bytes_get_data (body, &len) : NULL;
  GstSDPMessage *sdp = NULL;
  g_autofree char *answer_text = text ? g_strndup (text, len) : NULL;
  if (status != 201 || !text || gst_sdp_message_new_from_text (answer_text, &sdp) != GST_SDP_OK) {
    g_printerr ("loadgen: WHIP POST for %s: %u %.*s%s\n", pub->ref, status, (int) MIN (len, 300),
                text ? text : "", err ? err->message : "");
    pub->http_failed = TRUE;
  } else {
    pub->location = g_strdup (soup_message_headers_get_one (soup_message_get_response_headers (msg), "Location"));
    gst_sdp_message_free (sdp);
    pub_apply_answer (pub, answer_text);
  }
}

/* main loop: the server's SDP answer (WHIP's 201 body, or Janus's jsep) */
void
pub_apply_answer (Pub *pub, const char *sdp_text)
{
  GstSDPMessage *sdp = NULL;
  if (gst_sdp_message_new_from_text (sdp_text, &sdp) != GST_SDP_OK) {
    g_printerr ("loadgen: %s: unreadable answer SDP\n", pub->ref);
    pub->http_failed = TRUE;
    return;
  }
  if (g_getenv ("LG_DEBUG_SDP"))
    g_printerr ("loadgen: %s: answer\n%s\n", pub->ref, sdp_text);
  GstWebRTCSessionDescription *answer = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  GstPromise *p = gst_promise_new_with_change_func (on_answer_applied, pub, NULL);
  g_signal_emit_by_name (pub->webrtc, "set-remote-description", answer, p);
  gst_webrtc_session_description_free (answer);
}

/* main loop: gathering is complete, the local description holds every candidate */
static gboolean
post_offer_main (gpointer data)
{
  Pub *pub = data;
  char *sdp = lg_local_sdp (pub->webrtc);
  if (!sdp)
    sdp = g_strdup ("");
  if (g_getenv ("LG_DEBUG_SDP"))
    g_printerr ("loadgen: %s: WHIP offer\n%s\n", pub->ref, sdp);
  if (lg.janus) {
    janus_pub_offer (pub, sdp);
    g_free (sdp);
    return G_SOURCE_REMOVE;
  }
  g_autofree char *url = g_strdup_printf ("%s/whip/%s", lg.base, pub->ref);
  lg_post_sdp (url, pub->token, sdp, on_posted, pub);
  return G_SOURCE_REMOVE;
}

static void
on_offer_created (GstPromise *promise, gpointer data)
{
  Pub *pub = data;
  GstWebRTCSessionDescription *offer = NULL;
  const GstStructure *reply = gst_promise_get_reply (promise);
  if (reply)
    gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
  if (!offer)
    g_error ("loadgen: %s: webrtcbin made no offer", pub->ref);
  g_signal_emit_by_name (pub->webrtc, "set-local-description", offer, NULL);
  gst_webrtc_session_description_free (offer);
  gst_promise_unref (promise);
}

static void
on_negotiation_needed (GstElement *webrtc, gpointer data)
{
  Pub *pub = data;
  if (g_atomic_int_compare_and_exchange (&pub->offered, 0, 1))
    g_signal_emit_by_name (webrtc, "create-offer", NULL,
                           gst_promise_new_with_change_func (on_offer_created, pub, NULL));
}

static gboolean
connected_main (gpointer data)
{
  Hop *h = data;
  if (!h->pub->revs_scheduled) {   /* once: a reconnect does not add reviewers */
    h->pub->revs_scheduled = TRUE;
    lg_pub_connected (h->pub);
  }
  hop_free (h);
  return G_SOURCE_REMOVE;
}

static void
on_conn_state (GstElement *webrtc, GParamSpec *ps, gpointer data)
{
  Pub *pub = data;
  GstWebRTCPeerConnectionState st;
  (void) ps;
  g_object_get (webrtc, "connection-state", &st, NULL);
  gint old = g_atomic_int_get (&pub->conn_state);
  g_atomic_int_set (&pub->conn_state, (gint) st);
  if (st == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED && old != (gint) st)
    hop (connected_main, pub, NULL, NULL);
}

/* the server's talk-back audio: received, counted nowhere */
void
lg_to_fakesink (GstElement *webrtc, GstPad *pad, gpointer pipe)
{
  (void) webrtc;
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (pipe), sink);
  gst_element_sync_state_with_parent (sink);
  GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sinkpad);
  gst_object_unref (sinkpad);
}

Pub *
pub_start (guint index, const char *ref, const char *token)
{
  Pub *pub = g_new0 (Pub, 1);
  pub->index = index;
  pub->ref = g_strdup (ref);
  pub->token = g_strdup (token);
  pub->revs = g_ptr_array_new ();
  pub->pipe = gst_pipeline_new (NULL);
  /* one BUNDLE group, one ICE ufrag and a real port on every m-line, as a phone's browser
   * offers (Chrome and Safari bundle by default): max-compat. webrtcbin's "balanced" offers
   * no BUNDLE group at all, which gave every publisher two ICE/DTLS transports on the server
   * (before 2026-12-05: ~3 threads per inspection that no phone costs); Janus cannot take such
   * an offer. max-bundle would offer the audio m-line as port 0 + bundle-only (RFC 8843),
   * which browsers do not send. */
  pub->webrtc = lg_webrtcbin (pub->pipe, GST_WEBRTC_BUNDLE_POLICY_MAX_COMPAT, &pub->ice, &pub->agent);
  for (guint k = 0; k < N_TRACKS; k++) {
    pub->map[k] = g_new0 (SendMap, 1);
    pub->src[k] = gst_element_factory_make ("appsrc", NULL);
    g_object_set (pub->src[k], "is-live", TRUE, "format", GST_FORMAT_TIME, "caps", lg.clip.track[k].caps, NULL);
    GstElement *pay = gst_element_factory_make (PAYLOADER[k], NULL);
    g_object_set (pay, "pt", k == TRACK_VIDEO ? 96 : 111, NULL);
    if (k == TRACK_VIDEO)
      g_object_set (pay, "mtu", 1200, NULL);
    gst_bin_add_many (GST_BIN (pub->pipe), pub->src[k], pay, NULL);
    gst_element_link (pub->src[k], pay);
    GstCaps *caps = gst_caps_from_string (RTP_CAPS[k]);
    if (lg.janus) {
      /* Janus tells bundled streams apart by the offer's a=ssrc (no MID extension here), and
       * webrtcbin writes one only from caps that carry it: a track's come from the payloader
       * after its first frame, after the offer. So each SSRC is chosen now. With the video's
       * alone, Janus guessed the audio's right most of the time: 2 of 10 publishers in a step
       * had their audio dropped ("Unknown SSRC"), their reviewers none. */
      guint32 ssrc = g_random_int ();
      g_object_set (pay, "ssrc", ssrc, NULL);
      gst_caps_set_simple (caps, "ssrc", G_TYPE_UINT, ssrc, NULL);
    }
    GstPad *sink = gst_element_request_pad_simple (pub->webrtc, "sink_%u");
    GstWebRTCRTPTransceiver *trans = NULL;
    g_object_get (sink, "transceiver", &trans, NULL);
    g_object_set (trans, "codec-preferences", caps, "direction",
                  k == TRACK_VIDEO ? GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY
                                   : GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV,   /* talk-back */
                  "do-nack", k == TRACK_VIDEO, NULL);
    gst_object_unref (trans);
    gst_caps_unref (caps);
    GstPad *paysrc = gst_element_get_static_pad (pay, "src");
    if (gst_pad_link (paysrc, sink) != GST_PAD_LINK_OK)
      g_error ("loadgen: cannot link %s into webrtcbin", PAYLOADER[k]);
    gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, on_rtp_out, pub->map[k], NULL);
    if (k == TRACK_VIDEO)
      gst_pad_add_probe (paysrc, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_upstream_event, pub, NULL);
    gst_object_unref (paysrc);
    gst_object_unref (sink);
  }
  g_signal_connect (pub->webrtc, "on-negotiation-needed", G_CALLBACK (on_negotiation_needed), pub);
  lg_on_gathered (pub->webrtc, post_offer_main, pub);
  g_signal_connect (pub->webrtc, "notify::connection-state", G_CALLBACK (on_conn_state), pub);
  g_signal_connect (pub->webrtc, "pad-added", G_CALLBACK (lg_to_fakesink), pub->pipe);
  gst_element_set_state (pub->pipe, GST_STATE_PLAYING);
  return pub;
}

/* end the publish (the Location the 201 gave); the reply is not waited for */
void
pub_delete (Pub *pub)
{
  if (lg.janus) {
    janus_pub_leave (pub);
    return;
  }
  if (!pub->location)
    return;
  g_autofree char *url = g_str_has_prefix (pub->location, "http") ? g_strdup (pub->location)
                                                                  : g_strdup_printf ("%s%s", lg.base, pub->location);
  g_autofree char *auth = g_strdup_printf ("Bearer %s", pub->token);
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_DELETE, url);
  soup_message_headers_append (soup_message_get_request_headers (msg), "Authorization", auth);
  soup_session_send_and_read_async (lg.http, msg, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
}

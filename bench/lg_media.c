/* lg_media.c — the load generator's media helpers: the pre-encoded clip loaded into memory
 * once, a webrtcbin with the test network's ICE settings, and what a reviewer does with each
 * received RTP packet (sequence gaps, keyframes, bytes, relay-added latency). */
#include "loadgen.h"
#include <gst/app/gstappsink.h>
#include <nice/agent.h>
#include <string.h>

/* ---------- the clip ---------- */

/* x264's constrained baseline says profile 0x42, constraints 0xc0 (42c01f); WebRTC peers
 * and the server expect 42e01f. constraint_set2 only promises what a baseline stream
 * without FMO/ASO/redundant slices (x264 never makes them) already is: set it. */
static GstBuffer *
mark_sps_42e0 (GstBuffer *buf)
{
  GstMapInfo map;
  buf = gst_buffer_make_writable (buf);
  if (!gst_buffer_map (buf, &map, GST_MAP_READWRITE))
    return buf;
  for (gsize i = 0; i + 5 < map.size; i++)
    if (map.data[i] == 0 && map.data[i + 1] == 0 && map.data[i + 2] == 1 &&
        (map.data[i + 3] & 0x1f) == 7 && map.data[i + 4] == 0x42)
      map.data[i + 5] |= 0x20;
  gst_buffer_unmap (buf, &map);
  return buf;
}

static gboolean
pull_track (GstElement *pipe, const char *name, ClipTrack *t, gboolean video, GError **error)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), name);
  GstSample *s;
  t->bufs = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  t->pts = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  t->is_key = g_array_new (FALSE, FALSE, sizeof (gboolean));
  GstClockTime first = GST_CLOCK_TIME_NONE, last_dur = 0;
  while ((s = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    GstBuffer *b = gst_buffer_ref (gst_sample_get_buffer (s));
    if (!t->caps)
      t->caps = gst_caps_ref (gst_sample_get_caps (s));
    gst_sample_unref (s);
    if (!GST_BUFFER_PTS_IS_VALID (b)) {
      gst_buffer_unref (b);
      continue;
    }
    if (first == GST_CLOCK_TIME_NONE)
      first = GST_BUFFER_PTS (b);
    GstClockTime pts = GST_BUFFER_PTS (b) - first;
    gboolean key = !GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_DELTA_UNIT);
    if (video && key)
      b = mark_sps_42e0 (b);
    if (t->pts->len > 0)
      last_dur = pts - g_array_index (t->pts, GstClockTime, t->pts->len - 1);
    g_ptr_array_add (t->bufs, b);
    g_array_append_val (t->pts, pts);
    g_array_append_val (t->is_key, key);
  }
  gst_object_unref (sink);
  if (t->bufs->len < 2 || !t->caps || (video && !g_array_index (t->is_key, gboolean, 0))) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DEMUX, "clip: no usable %s track",
                 video ? "H.264 (starting with an IDR)" : "Opus");
    return FALSE;
  }
  t->period = g_array_index (t->pts, GstClockTime, t->pts->len - 1) + last_dur;
  return TRUE;
}

gboolean
clip_load (Clip *clip, const char *path, GError **error)
{
  char *loc = g_strescape (path, NULL);
  char *desc = g_strdup_printf (
      "filesrc location=\"%s\" ! matroskademux name=d "
      "d.video_0 ! h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au "
      "! appsink name=v sync=false async=false "
      "d.audio_0 ! opusparse ! appsink name=a sync=false async=false", loc);
  GstElement *pipe = gst_parse_launch (desc, error);
  g_free (desc);
  g_free (loc);
  if (!pipe)
    return FALSE;
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  /* The demuxer is one thread feeding both appsinks: a sink that prerolled would hold it
   * (and the other track) until the pipeline reached PLAYING, which needs the other sink
   * to preroll too — a deadlock. So the sinks do not preroll (async=false), and they queue
   * without bound, so the demuxer never waits for the track not pulled yet. */
  gboolean ok = pull_track (pipe, "v", &clip->track[TRACK_VIDEO], TRUE, error) &&
                pull_track (pipe, "a", &clip->track[TRACK_AUDIO], FALSE, error);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  return ok;
}

/* ---------- webrtcbin ---------- */

/* A webrtcbin in pipe with the given bundle policy, no UPnP (libnice would send SSDP multicast), no STUN,
 * candidates only on lg.ice_address when given. The ICE objects are kept until exit
 * (reading ice-agent in 1.22.0 may get its reference count wrong). */
GstElement *
lg_webrtcbin (GstElement *pipe, GstWebRTCBundlePolicy bundle, GObject **ice, GObject **agent)
{
  GstElement *w = gst_element_factory_make ("webrtcbin", NULL);
  if (!w)
    g_error ("no webrtcbin element (gstreamer1.0-plugins-bad, gstreamer1.0-nice)");
  g_object_set (w, "bundle-policy", bundle, NULL);
  gst_bin_add (GST_BIN (pipe), w);
  g_object_get (w, "ice-agent", ice, NULL);
  if (*ice && g_object_class_find_property (G_OBJECT_GET_CLASS (*ice), "agent"))
    g_object_get (*ice, "agent", agent, NULL);
  if (!*agent)
    g_error ("cannot reach webrtcbin's NiceAgent to turn UPnP off");
  g_object_set (*agent, "upnp", FALSE, NULL);
  if (lg.ice_address) {
    NiceAddress a;
    nice_address_init (&a);
    if (!nice_address_set_from_string (&a, lg.ice_address))
      g_error ("--ice-address %s is not an IP address", lg.ice_address);
    nice_agent_add_local_address (NICE_AGENT (*agent), &a);
  }
  return w;
}

/* ---------- webrtcbin's signalling steps, shared by the publishers, the reviewers and bench-floor ---------- */

typedef struct {
  GSourceFunc fn;
  gpointer data;
} Gathered;

/* webrtcbin's thread */
static void
on_gathering_state (GstElement *webrtc, GParamSpec *ps, gpointer data)
{
  Gathered *g = data;
  GstWebRTCICEGatheringState st;
  (void) ps;
  g_object_get (webrtc, "ice-gathering-state", &st, NULL);
  if (st == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    g_main_context_invoke (NULL, g->fn, g->data);
}

void
lg_on_gathered (GstElement *webrtc, GSourceFunc fn, gpointer data)
{
  Gathered *g = g_new0 (Gathered, 1);
  g->fn = fn;
  g->data = data;
  g_signal_connect_data (webrtc, "notify::ice-gathering-state", G_CALLBACK (on_gathering_state), g,
                         (GClosureNotify) (void (*) (void)) g_free, 0);
}

void
lg_rev_conn_state (Rev *rev, GstWebRTCPeerConnectionState state)
{
  g_atomic_int_set (&rev->conn_state, (gint) state);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
    g_atomic_pointer_compare_and_exchange (&rev->connected_us, NULL, GSIZE_TO_POINTER ((gsize) g_get_monotonic_time ()));
}

/* webrtcbin's thread */
static void
on_conn_state (GstElement *webrtc, GParamSpec *ps, gpointer data)
{
  GstWebRTCPeerConnectionState st;
  (void) ps;
  g_object_get (webrtc, "connection-state", &st, NULL);
  lg_rev_conn_state (data, st);
}

void
lg_track_conn_state (GstElement *webrtc, Rev *rev)
{
  g_signal_connect (webrtc, "notify::connection-state", G_CALLBACK (on_conn_state), rev);
}

/* webrtcbin's thread: the offer or answer it made becomes its local description */
static void
on_description (GstPromise *promise, gpointer data)
{
  GstElement *webrtc = data;
  GstWebRTCSessionDescription *desc = NULL;
  const GstStructure *reply = gst_promise_get_reply (promise);
  const char *field = reply && gst_structure_has_field (reply, "offer") ? "offer" : "answer";
  if (reply)
    gst_structure_get (reply, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL);
  gst_promise_unref (promise);
  if (!desc) {
    g_printerr ("%s: webrtcbin made no %s\n", g_get_prgname (), field);
    return;
  }
  g_signal_emit_by_name (webrtc, "set-local-description", desc, NULL);
  gst_webrtc_session_description_free (desc);
}

char *
lg_local_sdp (GstElement *webrtc)
{
  GstWebRTCSessionDescription *desc = NULL;
  g_object_get (webrtc, "local-description", &desc, NULL);
  char *sdp = desc ? gst_sdp_message_as_text (desc->sdp) : NULL;
  if (desc)
    gst_webrtc_session_description_free (desc);
  return sdp;
}

void
lg_post_sdp (const char *url, const char *token, char *sdp_take, GAsyncReadyCallback done, gpointer data)
{
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST, url);
  if (token) {
    g_autofree char *auth = g_strdup_printf ("Bearer %s", token);
    soup_message_headers_append (soup_message_get_request_headers (msg), "Authorization", auth);
  }
  g_autoptr (GBytes) body = g_bytes_new_take (sdp_take, strlen (sdp_take));
  soup_message_set_request_body_from_bytes (msg, "application/sdp", body);
  soup_session_send_and_read_async (lg.http, msg, G_PRIORITY_DEFAULT, NULL, done, data);
}

void
lg_create_description (GstElement *webrtc, gboolean offer)
{
  g_signal_emit_by_name (webrtc, offer ? "create-offer" : "create-answer", NULL,
                         gst_promise_new_with_change_func (on_description, webrtc, NULL));
}

/* ---------- received packets ---------- */

gboolean
h264_payload_is_keyframe (const guint8 *p, gsize n)
{
  if (n < 2)
    return FALSE;
  guint type = p[0] & 0x1f;
  if (type == 5 || type == 7)                       /* IDR slice, SPS */
    return TRUE;
  if (type == 28)                                   /* FU-A: the start of an IDR */
    return (p[1] & 0x80) && (p[1] & 0x1f) == 5;
  if (type == 24)                                   /* STAP-A: any IDR or SPS inside */
    for (gsize i = 1; i + 2 < n;) {
      gsize len = (gsize) p[i] << 8 | p[i + 1];
      guint t = p[i + 2] & 0x1f;
      if (t == 5 || t == 7)
        return TRUE;
      i += 2 + len;
    }
  return FALSE;
}

/* FNV-1a over the payload's length and its first 64 bytes: tells a packet from its neighbours
 * (each H.264 fragment and Opus packet starts differently) when its header was rewritten. */
guint32
lg_payload_fp (const guint8 *p, gsize n)
{
  guint32 h = 2166136261u ^ (guint32) n;
  h *= 16777619u;
  for (gsize i = 0; i < MIN (n, 64); i++) {
    h ^= p[i];
    h *= 16777619u;
  }
  return h;
}

/* Relay-added latency: 50 µs buckets up to 2 s, the last one open-ended. */
#define LAT_BUCKET_US 50
#define LAT_BUCKETS 40001
static gint latency_hist[LAT_BUCKETS];

void
latency_reset (void)
{
  for (guint i = 0; i < LAT_BUCKETS; i++)
    g_atomic_int_set (&latency_hist[i], 0);
}

/* out_ms[i] = the q[i] quantile (0..1) of the samples since the last reset */
void
latency_quantiles (double q[], guint nq, double out_ms[], guint64 *samples)
{
  guint64 total = 0, seen = 0;
  for (guint i = 0; i < LAT_BUCKETS; i++)
    total += (guint) g_atomic_int_get (&latency_hist[i]);
  *samples = total;
  for (guint k = 0; k < nq; k++)
    out_ms[k] = -1;
  if (!total)
    return;
  guint k = 0;
  for (guint i = 0; i < LAT_BUCKETS && k < nq; i++) {
    seen += (guint) g_atomic_int_get (&latency_hist[i]);
    while (k < nq && seen >= q[k] * total)   /* the bucket's middle */
      out_ms[k++] = (i + 0.5) * LAT_BUCKET_US / 1000.0;
  }
}

static void
latency_add (Rev *rev, gint64 us)
{
  guint b = us < 0 ? 0 : MIN ((guint64) us / LAT_BUCKET_US, LAT_BUCKETS - 1);
  g_atomic_int_inc (&latency_hist[b]);
  g_atomic_int_inc (&rev->latency_samples);
}

/* Janus gives each subscriber stream its own SSRC and rewrites sequence numbers and timestamps
 * (publisher's = received + a constant offset per stream) but forwards the payload as it is.
 * The offsets are learnt from the first packet whose payload fingerprint matches a packet the
 * publisher sent in the last 2 s (the latest such: the clip's sine tone makes some Opus packets
 * repeat every 100 ms, longer than the relay takes); every later packet is checked against the
 * publisher's fingerprint and RTP timestamp at its sequence number before it is timed, and
 * 50 misses in a row (a new publisher stream) make the offsets learnt again.
 * Streaming thread. */
static void
relayed_latency (Rev *rev, guint track, SendMap *map, guint16 seq, guint32 ts, guint32 fp, gint64 now)
{
  TrackRx *rx = &rev->rx[track];
  g_mutex_lock (&rev->lock);
  if (!rx->aligned) {
    guint found = 0, at = 0;
    gint64 latest = 0;
    for (guint s = 0; s < 65536; s++) {
      gint64 sent = __atomic_load_n (&map->sent_us[s], __ATOMIC_RELAXED);
      if (__atomic_load_n (&map->fp[s], __ATOMIC_ACQUIRE) == fp && now - sent < 2 * G_USEC_PER_SEC && sent > latest)
        found++, at = s, latest = sent;
    }
    if (found >= 1) {
      rx->aligned = TRUE;
      rx->seq_off = (guint16) (at - seq);
      rx->ts_off = __atomic_load_n (&map->rtp_ts[at], __ATOMIC_RELAXED) - ts;
      rx->misaligned = 0;
    }
  }
  gboolean timed = FALSE;
  gint64 sent = 0;
  if (rx->aligned) {
    guint16 s = (guint16) (seq + rx->seq_off);
    if (__atomic_load_n (&map->fp[s], __ATOMIC_ACQUIRE) == fp &&
        __atomic_load_n (&map->rtp_ts[s], __ATOMIC_RELAXED) == ts + rx->ts_off) {
      sent = __atomic_load_n (&map->sent_us[s], __ATOMIC_RELAXED);
      timed = TRUE;
      rx->misaligned = 0;
    } else if (++rx->misaligned >= 50)
      rx->aligned = FALSE;
  }
  g_mutex_unlock (&rev->lock);
  if (timed)
    latency_add (rev, now - sent);
}

/* A reviewer's webrtcbin streaming thread: one RTP packet (SRTP already removed). */
void
lg_rx_packet (Rev *rev, guint track, GstBuffer *buf)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gint64 now = g_get_monotonic_time ();
  if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp))
    return;
  guint32 ssrc = gst_rtp_buffer_get_ssrc (&rtp), ts = gst_rtp_buffer_get_timestamp (&rtp);
  guint16 seq = gst_rtp_buffer_get_seq (&rtp);
  gboolean key = track == TRACK_VIDEO &&
      h264_payload_is_keyframe (gst_rtp_buffer_get_payload (&rtp), gst_rtp_buffer_get_payload_len (&rtp));
  gsize size = gst_rtp_buffer_get_packet_len (&rtp);
  guint32 fp = lg.janus ? lg_payload_fp (gst_rtp_buffer_get_payload (&rtp), gst_rtp_buffer_get_payload_len (&rtp)) : 0;
  gst_rtp_buffer_unmap (&rtp);

  TrackRx *rx = &rev->rx[track];
  g_mutex_lock (&rev->lock);
  if (rx->max_ext < 0) {
    rx->first_ext = rx->max_ext = seq;
    rx->seq_base = 0;
    rx->ssrc = ssrc;
  } else if (ssrc != rx->ssrc) {       /* a new publisher stream: continue the count */
    rx->ssrc_changes++;
    rx->ssrc = ssrc;
    rx->max_ext++;
    rx->seq_base = rx->max_ext - seq;
  } else {
    gint16 delta = (gint16) (seq - (guint16) (rx->max_ext - rx->seq_base));
    if (delta > 0)
      rx->max_ext += delta;
  }
  rx->packets++;
  rx->bytes += size;
  if (key && (rx->keyframes == 0 || ts != rx->last_key_ts)) {
    rx->keyframes++;
    rx->last_key_ts = ts;
  }
  g_mutex_unlock (&rev->lock);
  if (key && !g_atomic_pointer_get (&rev->first_key_us))
    g_atomic_pointer_compare_and_exchange (&rev->first_key_us, NULL, GSIZE_TO_POINTER ((gsize) now));

  SendMap *map = rev->pub->map[track];
  if (lg.janus) {
    relayed_latency (rev, track, map, seq, ts, fp, now);
    return;
  }
  if (map && __atomic_load_n (&map->ssrc, __ATOMIC_ACQUIRE) == ssrc &&
      __atomic_load_n (&map->rtp_ts[seq], __ATOMIC_ACQUIRE) == ts) {
    latency_add (rev, now - __atomic_load_n (&map->sent_us[seq], __ATOMIC_RELAXED));
  }
}

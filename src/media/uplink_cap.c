/* uplink_cap.c — reviewers' own links count: every second each viewer's webrtcbin is sampled
 * (link_stats.c: what the relay sent it and the fraction lost its receiver reports), a loss-based
 * estimate per viewer is kept as GCC's controllers do (> 10 % lost: what was sent ×
 * (1 − loss/2); a report whose round trip is QUEUE_DELAY_MS over the viewer's shortest: half;
 * < 2 % lost and no queue for a report's span: 8 % more a second, released once well above
 * what is sent), and the
 * lowest estimate, never under [media] min_bitrate_kbps, is put in a REMB in the publisher's
 * RTCP: the phone's sender (which also follows the server's TWCC feedback) sends no more than
 * the slowest reviewer receives well. Loss on the phone's own link (which every viewer's reports
 * repeat, the relay forwarding its sequence numbers) is not counted against a viewer. With
 * [media] favour = recording nothing is capped.
 * The same samples feed the RTP counters of core/metrics.h (no probe on the media path).
 * Owns its estimates and the REMB hooks' packets; never touches the relay's graph. */
#include "media/uplink_cap.h"
#include "media/relay_private.h"
#include "media/link_stats.h"
#include "core/metrics.h"
#include "media/media_debug.h"
#include <gst/rtp/gstrtcpbuffer.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (kanyan_uplink_cap_debug);   /* GST_DEBUG=kanyan-uplink-cap:6 (media_debug.h) */
#define GST_CAT_DEFAULT kanyan_uplink_cap_debug

void
uplink_cap_debug_init (void)
{
  GST_DEBUG_CATEGORY_INIT (kanyan_uplink_cap_debug, "kanyan-uplink-cap", 0,
                           "Kanyan: reviewers' links and the REMB cap asked of the phone (uplink_cap.c)");
}

/* A viewer's receiver report covers the seconds since its last one (up to ~5 s), and the loss
 * on the phone's own link shows in it too: the worst upstream loss of this many seconds is
 * what a report may repeat (held shorter, a report arriving after the phone's link recovered
 * blamed the viewer, and the REMB then held the phone's recovery to 8 % a second). */
#define UPSTREAM_WINDOW_S 10
#define UPSTREAM_LOSSY_PCT 5
/* A viewer's estimate grows only after a report's span without loss: a GStreamer receiver
 * reports every ~5 s, and growing 8 %/s between its reports the estimate outran the loss they
 * said (a reviewer capped at 400 kbit/s had the phone at ~700). */
#define REPORT_SPAN_S 5
/* A viewer's round trip this much over its shortest: its link queues what the relay sends (a
 * shaped office link often delays instead of dropping: a reviewer capped at 400 kbit/s while
 * 2 Mbit/s was sent reported 0–8 % lost and a 450 ms round trip, against 1 ms unqueued). */
#define QUEUE_DELAY_MS 200

struct _RembHook {
  gatomicrefcount ref;
  gint            kbps;        /* atomic */
  guint32         media_ssrc;
};

typedef struct {
  UplinkCap  *cap;
  RelayViewer *viewer;
  LinkStats  *stats;
  gchar      *name;            /* the viewer peer's, for the log (the viewer may go first) */
  ViewerEstimate estimate;
} ViewerRate;

struct _UplinkCap {
  Relay      *relay;
  GHashTable *rates;           /* RelayViewer* -> ViewerRate* */
  LinkStats  *upstream;        /* the publisher's own link */
  gpointer    upstream_peer;   /* the publisher sampled (a new one starts a new base) */
  gdouble     upstream_window[UPSTREAM_WINDOW_S];   /* % lost on the way in, one a second (a ring) */
  guint       upstream_next;
  gdouble     upstream_loss;   /* the worst of the window */
  guint       timer;
  gint        kbps;
};

static void
viewer_rate_free (gpointer data)
{
  ViewerRate *rate = data;
  link_stats_free (rate->stats);
  g_free (rate->name);
  g_free (rate);
}

/* main loop: the publisher's last second. Raw forwarding keeps the phone's sequence numbers,
 * so what is lost on the way in (and not repaired) shows in every viewer's reports as well:
 * that much is not the viewer's link. */
static void
on_upstream_sample (gpointer owner, const LinkQuality *q)
{
  UplinkCap *cap = owner;
  /* the metrics: the phone's RTP in, the talk-back mix out to it */
  metrics_rtp_in (q->packets, q->bytes, q->lost, q->repaired, q->nacks_sent);
  metrics_rtp_out (q->sent_packets, q->sent_bytes, q->remote_lost, q->nacks_received);
  cap->upstream_window[cap->upstream_next] = q->loss_pct;
  cap->upstream_next = (cap->upstream_next + 1) % UPSTREAM_WINDOW_S;
  cap->upstream_loss = 0;
  for (guint i = 0; i < UPSTREAM_WINDOW_S; i++)
    cap->upstream_loss = MAX (cap->upstream_loss, cap->upstream_window[i]);
}

/* The estimate's rule (pure: exposed for tests). */
void
viewer_estimate_update (ViewerEstimate *e, const LinkQuality *q, gdouble upstream_loss_pct, gint64 now)
{
  if (q->send_kbps < 1)
    return;
  /* Raw forwarding keeps the phone's sequence numbers, so a viewer's reports repeat what the
   * phone's own link lost. Under a few per cent that much is taken off; over UPSTREAM_LOSSY_PCT
   * the viewer's own part cannot be told from it (a report's span is not the second the
   * upstream was measured in: a reviewer was blamed for the phone's capped link and the REMB
   * then held the phone at the floor after its link recovered) — only its queue counts then. */
  gdouble loss = upstream_loss_pct > UPSTREAM_LOSSY_PCT ? 0 : MAX (0, q->remote_loss_pct - upstream_loss_pct) / 100;
  gboolean new_report = FALSE, queued = FALSE;
  if (q->rtt_ms >= 0) {
    new_report = !e->have_rtt || q->rtt_ms != e->last_rtt_ms;
    e->min_rtt_ms = e->have_rtt ? MIN (e->min_rtt_ms, q->rtt_ms) : q->rtt_ms;
    e->last_rtt_ms = q->rtt_ms;
    e->have_rtt = TRUE;
    queued = q->rtt_ms - e->min_rtt_ms > QUEUE_DELAY_MS;
  }
  /* A queue is seen in two reports running: one late report on a busy machine (the peer's
   * RTCP thread not scheduled for a while) is not a queue. It counts on the report itself
   * only: a viewer whose reports stop must not hold the phone down with its last one. */
  if (new_report)
    e->queued_reports = queued ? e->queued_reports + 1 : 0;
  queued = new_report && e->queued_reports >= 2;
  gboolean overuse = loss > 0.10 || queued;
  if (loss >= 0.02 || queued)
    e->lossy_at = now;
  if (overuse) {
    /* what got through, with GCC's margin (its loss controller: sent × (1 − loss/2)) */
    gdouble through = q->send_kbps * (loss > 0.10 ? 1 - loss / 2 : 0.85);
    /* Only once the phone follows: while it still sends over the estimate asked, the queue and
     * the losses are the ones that estimate is already curing (reports come every second from a
     * browser: cutting on each one drove a 400 kbit/s reviewer's estimate to 50 in 3 s). */
    if (e->kbps <= 0)
      e->kbps = through;
    else if (q->send_kbps <= e->kbps * 1.15)
      e->kbps = MIN (e->kbps, through);
  } else if (loss < 0.02 && e->kbps > 0 && now - e->lossy_at >= REPORT_SPAN_S * G_USEC_PER_SEC) {
    e->kbps *= 1.08;
    if (e->kbps > 2 * q->send_kbps + 500)
      e->kbps = 0;   /* far above what the phone sends: this viewer limits nothing */
  }
}

/* main loop: a viewer's last second */
static void
on_viewer_sample (gpointer owner, const LinkQuality *q)
{
  ViewerRate *rate = owner;
  /* the metrics: the relayed RTP out to this reviewer, its microphone in */
  metrics_rtp_out (q->sent_packets, q->sent_bytes, q->remote_lost, q->nacks_received);
  metrics_rtp_in (q->packets, q->bytes, q->lost, q->repaired, q->nacks_sent);
  viewer_estimate_update (&rate->estimate, q, rate->cap->upstream_loss, g_get_monotonic_time ());
  GST_DEBUG ("relay %s: viewer %s: sent %.0f kbit/s (%" G_GUINT64_FORMAT " packets, %" G_GUINT64_FORMAT " NACKed),"
             " its reports %.1f %% lost (%.1f %% on the way in), round trip %d ms, estimate %.0f kbit/s",
             rate->cap->relay->name, rate->name, q->send_kbps, q->sent_packets, q->nacks_received, q->remote_loss_pct,
             rate->cap->upstream_loss, q->rtt_ms, rate->estimate.kbps);
}

/* main loop, every second */
static gboolean
on_tick (gpointer data)
{
  UplinkCap *cap = data;
  Relay *relay = cap->relay;
  /* forget viewers that left, sample the others */
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, cap->rates);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    gboolean present = FALSE;
    for (guint i = 0; i < relay->viewers->len && !present; i++)
      present = g_ptr_array_index (relay->viewers, i) == key;
    if (!present)
      g_hash_table_iter_remove (&iter);
  }
  WebrtcPeer *publisher = relay->publisher ? relay->publisher->peer : NULL;
  if (publisher != cap->upstream_peer) {
    link_stats_free (cap->upstream);
    cap->upstream = link_stats_new (on_upstream_sample, cap);
    cap->upstream_peer = publisher;
  }
  if (publisher)
    link_stats_sample (cap->upstream, publisher->webrtcbin);
  gdouble lowest = 0;
  for (guint i = 0; i < relay->viewers->len; i++) {
    RelayViewer *viewer = g_ptr_array_index (relay->viewers, i);
    ViewerRate *rate = g_hash_table_lookup (cap->rates, viewer);
    if (!rate) {
      rate = g_new0 (ViewerRate, 1);
      rate->cap = cap;
      rate->viewer = viewer;
      rate->name = g_strdup (viewer->peer->name);
      rate->stats = link_stats_new (on_viewer_sample, rate);
      g_hash_table_insert (cap->rates, viewer, rate);
    }
    link_stats_sample (rate->stats, viewer->peer->webrtcbin);
    if (rate->estimate.kbps > 0 && (lowest == 0 || rate->estimate.kbps < lowest))
      lowest = rate->estimate.kbps;
  }
  gint kbps = relay->cfg->favour_recording || lowest <= 0 ? 0 : MAX ((gint) lowest, relay->cfg->min_bitrate_kbps);
  if (kbps != cap->kbps && kbps)
    g_info ("relay %s: the phone is asked for at most %d kbit/s (the slowest reviewer)", relay->name, kbps);
  else if (kbps != cap->kbps)
    g_info ("relay %s: the phone's bitrate is no longer capped", relay->name);
  cap->kbps = kbps;
  g_mutex_lock (&relay->lock);
  if (relay->publisher && relay->publisher->remb)
    remb_hook_set_kbps (relay->publisher->remb, kbps);
  g_mutex_unlock (&relay->lock);
  return G_SOURCE_CONTINUE;
}

UplinkCap *
uplink_cap_new (Relay *relay)
{
  UplinkCap *cap = g_new0 (UplinkCap, 1);
  cap->relay = relay;
  cap->rates = g_hash_table_new_full (NULL, NULL, NULL, viewer_rate_free);
  cap->timer = g_timeout_add (1000, on_tick, cap);
  GST_INFO ("relay %s: reviewers' links sampled every second", relay->name);
  return cap;
}

void
uplink_cap_free (UplinkCap *cap)
{
  if (!cap)
    return;
  g_source_remove (cap->timer);
  g_hash_table_unref (cap->rates);
  link_stats_free (cap->upstream);
  g_free (cap);
}

gint
uplink_cap_kbps (UplinkCap *cap)
{
  return cap->kbps;
}

/* ---- the REMB in the publisher's RTCP ------------------------------------------------ */

void
remb_hook_unref (RembHook *hook)
{
  if (hook && g_atomic_ref_count_dec (&hook->ref))
    g_free (hook);
}

static void
remb_hook_unref_notify (gpointer data, GClosure *closure)
{
  remb_hook_unref (data);
}

void
remb_hook_set_kbps (RembHook *hook, gint kbps)
{
  /* A sender keeps a REMB's bound until the next REMB (libwebrtc's receiver limit): a cap
   * ended by silence left a phone at the last one for good (CI, 2026-12-04: released at
   * 872 kbit/s while it sent 190, Chromium's estimate stayed at 872 for 90 s). Once a cap
   * was sent, "no cap" is a bound no phone reaches. */
  if (kbps <= 0 && g_atomic_int_get (&hook->kbps) > 0)
    kbps = REMB_UNCAPPED_KBPS;
  g_atomic_int_set (&hook->kbps, kbps);
}

/* the RTP session's RTCP thread: a compound packet to the phone is being built */
static gboolean
on_sending_rtcp (GObject *session, GstBuffer *buffer, gboolean early, RembHook *hook)
{
  guint64 bps = (guint64) g_atomic_int_get (&hook->kbps) * 1000;
  if (!bps)
    return FALSE;
  guint exp = 0;   /* draft-alvestrand-rmcat-remb: 6-bit exponent, 18-bit mantissa */
  while ((bps >> exp) > 0x3ffff)
    exp++;
  guint32 mantissa = (guint32) (bps >> exp);
  guint sender = 0;
  g_object_get (session, "internal-ssrc", &sender, NULL);
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket packet;
  if (!gst_rtcp_buffer_map (buffer, GST_MAP_READWRITE, &rtcp))
    return FALSE;
  if (gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_PSFB, &packet)) {
    gst_rtcp_packet_fb_set_type (&packet, GST_RTCP_PSFB_TYPE_AFB);
    gst_rtcp_packet_fb_set_sender_ssrc (&packet, sender);
    gst_rtcp_packet_fb_set_media_ssrc (&packet, 0);
    if (gst_rtcp_packet_fb_set_fci_length (&packet, 3)) {
      guint8 *fci = gst_rtcp_packet_fb_get_fci (&packet);
      memcpy (fci, "REMB", 4);
      fci[4] = 1;   /* one SSRC */
      fci[5] = (guint8) ((exp << 2) | ((mantissa >> 16) & 0x3));
      fci[6] = (mantissa >> 8) & 0xff;
      fci[7] = mantissa & 0xff;
      GST_WRITE_UINT32_BE (fci + 8, hook->media_ssrc);
    } else {
      gst_rtcp_packet_remove (&packet);
    }
  }
  gst_rtcp_buffer_unmap (&rtcp);
  return FALSE;   /* never asks for an RTCP the session would have suppressed */
}

RembHook *
remb_hook_install (GstElement *rtpbin, guint session, guint32 media_ssrc)
{
  GObject *internal = NULL;
  g_signal_emit_by_name (rtpbin, "get-internal-session", session, &internal);
  if (!internal)
    return NULL;
  RembHook *hook = g_new0 (RembHook, 1);
  g_atomic_ref_count_init (&hook->ref);
  hook->media_ssrc = media_ssrc;
  g_atomic_ref_count_inc (&hook->ref);   /* the signal's */
  g_signal_connect_data (internal, "on-sending-rtcp", G_CALLBACK (on_sending_rtcp), hook,
                         remb_hook_unref_notify, 0);
  g_object_unref (internal);
  return hook;
}

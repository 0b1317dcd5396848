/* link_stats.c — samples a webrtcbin's `get-stats` (inbound-rtp totals, the round trip of
 * remote-inbound-rtp) and the retransmissions its RTX receivers counted into a LinkQuality
 * per interval. Owns only its own totals; never touches the pipeline beyond emitting get-stats
 * and reading the RTX receivers' counters. */
#include "media/link_stats.h"
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>
#include <string.h>

struct _LinkStats {
  gatomicrefcount ref;
  LinkStatsDone   done;       /* NULL once freed: a reply in flight is dropped */
  gpointer        owner;
  gboolean        have_prev;
  gint64          in_flight_since;  /* monotonic µs a sample was asked for, 0 when none is out */
  LinkTotals      prev;
};

const gchar *
link_quality_word (gdouble kbps, gdouble loss_pct, gint rtt_ms)
{
  if (kbps < 1 || loss_pct >= 10 || rtt_ms >= 1000)
    return "bad";
  if (loss_pct >= 2 || rtt_ms >= 300)
    return "poor";
  return "good";
}

/* a stats field of any integer or floating type, as a double; FALSE when absent */
static gboolean
field_number (const GstStructure *s, const gchar *name, gdouble *out)
{
  const GValue *v = gst_structure_get_value (s, name);
  if (!v)
    return FALSE;
  GValue d = G_VALUE_INIT;
  g_value_init (&d, G_TYPE_DOUBLE);
  gboolean ok = g_value_type_transformable (G_VALUE_TYPE (v), G_TYPE_DOUBLE) && g_value_transform (v, &d);
  if (ok)
    *out = g_value_get_double (&d);
  g_value_unset (&d);
  return ok;
}

static gboolean
add_one (GQuark field, const GValue *value, gpointer data)
{
  LinkTotals *t = data;
  if (!GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  const GstStructure *s = gst_value_get_structure (value);
  GstWebRTCStatsType type = 0;
  if (!gst_structure_get (s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL))
    return TRUE;
  gdouble n = 0;
  if (type == GST_WEBRTC_STATS_INBOUND_RTP) {
    if (field_number (s, "bytes-received", &n))
      t->bytes += (guint64) n;
    if (field_number (s, "packets-received", &n))
      t->received += (guint64) n;
    if (field_number (s, "packets-lost", &n) && n > 0)
      t->lost += (gint64) n;
    if (field_number (s, "nack-count", &n) && n > 0)
      t->nacks_sent += (guint64) n;
  } else if (type == GST_WEBRTC_STATS_OUTBOUND_RTP) {
    if (field_number (s, "bytes-sent", &n))
      t->sent_bytes += (guint64) n;
    if (field_number (s, "packets-sent", &n))
      t->sent_packets += (guint64) n;
    if (field_number (s, "nack-count", &n) && n > 0)
      t->nacks_received += (guint64) n;
  } else if (type == GST_WEBRTC_STATS_REMOTE_INBOUND_RTP) {
    if (field_number (s, "round-trip-time", &n) && n > 0)
      t->rtt_ms = MAX (t->rtt_ms, (gint) (n * 1000 + 0.5));
    if (field_number (s, "packets-lost", &n) && n > 0)
      t->remote_lost += (gint64) n;
    if (field_number (s, "fraction-lost", &n) && n > t->remote_fraction)
      t->remote_fraction = n;
  }
  return TRUE;
}

void
link_totals_from_stats (const GstStructure *stats, LinkTotals *out)
{
  memset (out, 0, sizeof *out);
  out->rtt_ms = -1;
  out->at_us = g_get_monotonic_time ();
  gst_structure_foreach (stats, add_one, out);
}

gboolean
link_quality_between (const LinkTotals *prev, const LinkTotals *now, LinkQuality *out)
{
  gdouble seconds = (now->at_us - prev->at_us) / 1e6;
  if (seconds <= 0.05)
    return FALSE;
  /* a total that went down (a stream's source timed out, a new publisher's counters): this
   * interval counts nothing, the next one starts from the new totals */
  gboolean restarted = now->bytes < prev->bytes || now->received < prev->received || now->lost < prev->lost;
  guint64 bytes = restarted ? 0 : now->bytes - prev->bytes;
  guint64 received = restarted ? 0 : now->received - prev->received;
  gint64 lost = restarted ? 0 : now->lost - prev->lost;
  gboolean sent_restarted = now->sent_bytes < prev->sent_bytes || now->sent_packets < prev->sent_packets ||
                            now->remote_lost < prev->remote_lost;
  guint64 sent_bytes = sent_restarted ? 0 : now->sent_bytes - prev->sent_bytes;
  guint64 sent_packets = sent_restarted ? 0 : now->sent_packets - prev->sent_packets;
  gint64 remote_lost = sent_restarted ? 0 : now->remote_lost - prev->remote_lost;
  out->send_kbps = sent_bytes * 8 / seconds / 1000;
  gboolean feedback_restarted = now->repaired < prev->repaired || now->nacks_sent < prev->nacks_sent ||
                                now->nacks_received < prev->nacks_received;
  out->packets = received;
  out->bytes = bytes;
  out->lost = lost > 0 ? (guint64) lost : 0;
  out->repaired = restarted || feedback_restarted ? 0 : now->repaired - prev->repaired;
  out->nacks_sent = restarted || feedback_restarted ? 0 : now->nacks_sent - prev->nacks_sent;
  out->sent_packets = sent_packets;
  out->sent_bytes = sent_bytes;
  out->remote_lost = remote_lost > 0 ? (guint64) remote_lost : 0;
  out->nacks_received = sent_restarted || feedback_restarted ? 0 : now->nacks_received - prev->nacks_received;
  /* the report's own fraction, once per report that counted new losses (reports come every
   * few seconds: the lost packets of one report against one second sent would overstate it) */
  out->remote_loss_pct = remote_lost <= 0 ? 0
                       : now->remote_fraction > 0 ? 100.0 * now->remote_fraction
                       : MIN (100.0, 100.0 * remote_lost / MAX (sent_packets, 1));
  out->kbps = bytes * 8 / seconds / 1000;
  out->loss_pct = received + lost > 0 ? 100.0 * lost / (received + lost) : 0;
  out->rtt_ms = now->rtt_ms;
  out->quality = link_quality_word (out->kbps, out->loss_pct, out->rtt_ms);
  return TRUE;
}

static LinkStats *
link_stats_ref (LinkStats *stats)
{
  g_atomic_ref_count_inc (&stats->ref);
  return stats;
}

static void
link_stats_unref (gpointer data)
{
  LinkStats *stats = data;
  if (g_atomic_ref_count_dec (&stats->ref))
    g_free (stats);
}

LinkStats *
link_stats_new (LinkStatsDone done, gpointer owner)
{
  LinkStats *stats = g_new0 (LinkStats, 1);
  g_atomic_ref_count_init (&stats->ref);
  stats->done = done;
  stats->owner = owner;
  return stats;
}

void
link_stats_free (LinkStats *stats)
{
  if (!stats)
    return;
  stats->done = NULL;
  stats->owner = NULL;
  link_stats_unref (stats);
}

typedef struct {
  LinkStats  *stats;
  LinkTotals  totals;
  gboolean    failed;   /* no reply: nothing to compare, the next sample sets a new base */
} StatsReply;

static void
stats_reply_free (gpointer data)
{
  StatsReply *reply = data;
  link_stats_unref (reply->stats);
  g_free (reply);
}

/* main loop */
static gboolean
stats_reply_dispatch (gpointer data)
{
  StatsReply *reply = data;
  LinkStats *stats = reply->stats;
  stats->in_flight_since = 0;
  if (!stats->done)
    return G_SOURCE_REMOVE;
  if (reply->failed) {
    stats->have_prev = FALSE;
    return G_SOURCE_REMOVE;
  }
  LinkQuality quality;
  gboolean have = stats->have_prev && link_quality_between (&stats->prev, &reply->totals, &quality);
  stats->prev = reply->totals;
  stats->have_prev = TRUE;
  if (have)
    stats->done (stats->owner, &quality);
  return G_SOURCE_REMOVE;
}

/* What one get-stats was asked with: the owner and the retransmissions counted when it was. */
typedef struct {
  LinkStats *stats;
  guint64    rtx_packets;
} StatsAsk;

static void
stats_ask_free (gpointer data)
{
  StatsAsk *ask = data;
  link_stats_unref (ask->stats);
  g_free (ask);
}

/* webrtcbin's thread: get-stats answered (or the promise was dropped) */
static void
on_stats (GstPromise *promise, gpointer data)
{
  StatsAsk *ask = data;
  StatsReply *reply = g_new0 (StatsReply, 1);
  reply->stats = link_stats_ref (ask->stats);
  const GstStructure *s = gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED ? gst_promise_get_reply (promise) : NULL;
  if (s)
    link_totals_from_stats (s, &reply->totals);
  reply->totals.repaired = ask->rtx_packets;
  reply->failed = s == NULL;
  g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT, stats_reply_dispatch, reply, stats_reply_free);
}

/* The retransmissions that reached this webrtcbin: the sum of its RTX receivers' counters of
 * packets on an RTX stream they matched to a request (one rtprtxreceive per session, made when
 * RTX was negotiated; a sender's probes on that stream count too). webrtcbin 1.22's inbound-rtp
 * `packets-repaired` comes from the jitterbuffer and is often 0 while RTX flows, so the
 * packets are counted where they arrive. Any thread: the counters are read-only properties. */
guint64
link_stats_rtx_received (GstElement *webrtcbin)
{
  guint64 total = 0;
  g_autoptr (GstIterator) it = gst_bin_iterate_recurse (GST_BIN (webrtcbin));
  GValue item = G_VALUE_INIT;
  gboolean done = FALSE;
  while (!done) {
    switch (gst_iterator_next (it, &item)) {
    case GST_ITERATOR_OK: {
      GstElement *e = g_value_get_object (&item);
      GstElementFactory *f = gst_element_get_factory (e);
      if (f && g_strcmp0 (GST_OBJECT_NAME (f), "rtprtxreceive") == 0) {
        guint n = 0;
        g_object_get (e, "num-rtx-assoc-packets", &n, NULL);
        total += n;
      }
      g_value_reset (&item);
      break;
    }
    case GST_ITERATOR_RESYNC:   /* the bin changed while we walked it: count again */
      gst_iterator_resync (it);
      total = 0;
      break;
    default:
      done = TRUE;
    }
  }
  g_value_unset (&item);
  return total;
}

void
link_stats_sample (LinkStats *stats, GstElement *webrtcbin)
{
  gint64 now = g_get_monotonic_time ();
  /* one at a time; a closing webrtcbin may drop a promise without a reply: give up on it after 3 s */
  if (!webrtcbin || (stats->in_flight_since && now - stats->in_flight_since < 3 * G_USEC_PER_SEC))
    return;
  stats->in_flight_since = now;
  StatsAsk *ask = g_new0 (StatsAsk, 1);
  ask->stats = link_stats_ref (stats);
  ask->rtx_packets = link_stats_rtx_received (webrtcbin);
  GstPromise *promise = gst_promise_new_with_change_func (on_stats, ask, stats_ask_free);
  g_signal_emit_by_name (webrtcbin, "get-stats", NULL, promise);
  gst_promise_unref (promise);
}

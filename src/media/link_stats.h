/* link_stats.h — a peer's link quality, sampled from its webrtcbin's statistics: what it
 * received since the last sample (bitrate, loss), the round trip, and a plain word for it.
 * Main loop only. Knows nothing of rooms or of the protocol. */
#pragma once
#include <gst/gst.h>

typedef struct {
  gdouble      kbps;        /* RTP payload received, kbit/s, since the previous sample */
  gdouble      loss_pct;    /* packets lost / expected since the previous sample, 0–100 */
  gint         rtt_ms;      /* round trip from RTCP, -1 when not known yet */
  const gchar *quality;     /* "good", "poor" or "bad" (static) */
  /* the other way: what this peer sent, and the loss its receiver reports (RTCP RR) */
  gdouble      send_kbps;
  gdouble      remote_loss_pct;   /* the receiver's last report's fraction lost, 0–100; 0 when no
                                   * report counted new losses in this interval */
  /* the interval's counts, for the metrics (0 across a restart of the totals) */
  guint64      packets, bytes, lost, repaired, nacks_sent;           /* received; NACKs this side sent */
  guint64      sent_packets, sent_bytes, remote_lost, nacks_received; /* sent; the peer's reports and NACKs */
} LinkQuality;

/* Thresholds of the word: "bad" at no media, ≥ 10 % loss or ≥ 1 s round trip; "poor" at ≥ 2 %
 * loss or ≥ 300 ms round trip. A low bitrate alone says nothing: a still picture needs little. */
const gchar *link_quality_word (gdouble kbps, gdouble loss_pct, gint rtt_ms);

typedef struct _LinkStats LinkStats;
/* Runs on the main loop with the figures since the previous sample (the first sample of a
 * LinkStats only sets the base: no call). */
typedef void (*LinkStatsDone) (gpointer owner, const LinkQuality *quality);

LinkStats *link_stats_new (LinkStatsDone done, gpointer owner);
/* Stops every callback (a sample in flight is dropped) and lets go. */
void       link_stats_free (LinkStats *stats);
/* Asks webrtcbin for its statistics (answered on its thread, hopped to the main loop). */
void       link_stats_sample (LinkStats *stats, GstElement *webrtcbin);
/* The retransmitted packets that reached this webrtcbin so far (its RTX receivers); any thread. */
guint64    link_stats_rtx_received (GstElement *webrtcbin);
/* The figures from one get-stats reply against the previous totals (exposed for tests). */
typedef struct {
  guint64 bytes, received;
  gint64  lost;
  guint64 sent_bytes, sent_packets;
  gint64  remote_lost;
  guint64 repaired, nacks_sent;     /* RTX packets received (link_stats_rtx_received), inbound-rtp nack-count */
  guint64 nacks_received;           /* outbound-rtp nack-count */
  gdouble remote_fraction;   /* the highest fraction lost (0–1) in the last receiver reports */
  gint64  at_us;
  gint    rtt_ms;
} LinkTotals;
void       link_totals_from_stats (const GstStructure *stats, LinkTotals *out);
gboolean   link_quality_between (const LinkTotals *prev, const LinkTotals *now, LinkQuality *out);

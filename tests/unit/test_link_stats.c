/* test_link_stats.c — the link quality word and the figures between two stats samples
 * (bitrate, loss over the interval, a restarted counter) from real GstWebRTC stats structures. */
#define GST_USE_UNSTABLE_API
#include "media/link_stats.h"
#include <gst/webrtc/webrtc.h>

static void
test_word (void)
{
  g_assert_cmpstr (link_quality_word (1200, 0, 40), ==, "good");
  g_assert_cmpstr (link_quality_word (1200, 2.5, 40), ==, "poor");
  g_assert_cmpstr (link_quality_word (1200, 0, 400), ==, "poor");
  g_assert_cmpstr (link_quality_word (100, 0, 40), ==, "good");   /* a still picture needs little */
  g_assert_cmpstr (link_quality_word (1200, 0, -1), ==, "good");   /* no round trip yet */
  g_assert_cmpstr (link_quality_word (0, 0, 40), ==, "bad");
  g_assert_cmpstr (link_quality_word (1200, 12, 40), ==, "bad");
  g_assert_cmpstr (link_quality_word (1200, 0, 1500), ==, "bad");
}

/* a get-stats reply as webrtcbin 1.22 builds it: one field per stats id */
static GstStructure *
reply (guint64 bytes, guint64 received, gint64 lost, gdouble rtt_s)
{
  GstStructure *in = gst_structure_new ("application/x-webrtc-stats", "type", GST_TYPE_WEBRTC_STATS_TYPE,
                                        GST_WEBRTC_STATS_INBOUND_RTP, "bytes-received", G_TYPE_UINT64, bytes,
                                        "packets-received", G_TYPE_UINT64, received,
                                        "packets-lost", G_TYPE_INT64, lost, NULL);
  GstStructure *remote = gst_structure_new ("application/x-webrtc-stats", "type", GST_TYPE_WEBRTC_STATS_TYPE,
                                            GST_WEBRTC_STATS_REMOTE_INBOUND_RTP, "round-trip-time", G_TYPE_DOUBLE, rtt_s, NULL);
  GstStructure *codec = gst_structure_new ("application/x-webrtc-stats", "type", GST_TYPE_WEBRTC_STATS_TYPE,
                                           GST_WEBRTC_STATS_CODEC, "clock-rate", G_TYPE_UINT, 90000, NULL);
  GstStructure *all = gst_structure_new ("application/x-webrtc-stats", "inbound-rtp_1", GST_TYPE_STRUCTURE, in,
                                         "remote-inbound-rtp_2", GST_TYPE_STRUCTURE, remote,
                                         "codec_3", GST_TYPE_STRUCTURE, codec, NULL);
  gst_structure_free (in);
  gst_structure_free (remote);
  gst_structure_free (codec);
  return all;
}

static void
test_between (void)
{
  LinkTotals a, b, c;
  GstStructure *s = reply (1000000, 1000, 10, 0.05);
  link_totals_from_stats (s, &a);
  gst_structure_free (s);
  g_assert_cmpuint (a.bytes, ==, 1000000);
  g_assert_cmpint (a.rtt_ms, ==, 50);
  s = reply (1000000 + 125000, 1000 + 95, 10 + 5, 0.05);   /* 1 Mbit in a second, 5 of 100 lost */
  link_totals_from_stats (s, &b);
  gst_structure_free (s);
  b.at_us = a.at_us + G_USEC_PER_SEC;
  LinkQuality q;
  g_assert_true (link_quality_between (&a, &b, &q));
  g_assert_cmpfloat_with_epsilon (q.kbps, 1000, 0.01);
  g_assert_cmpfloat_with_epsilon (q.loss_pct, 5, 0.01);
  g_assert_cmpint (q.rtt_ms, ==, 50);
  g_assert_cmpstr (q.quality, ==, "poor");
  /* the counters went down (a new stream): nothing is counted for this interval */
  s = reply (2000, 10, 0, 0.05);
  link_totals_from_stats (s, &c);
  gst_structure_free (s);
  c.at_us = b.at_us + G_USEC_PER_SEC;
  g_assert_true (link_quality_between (&b, &c, &q));
  g_assert_cmpfloat (q.kbps, ==, 0);
  g_assert_cmpstr (q.quality, ==, "bad");
  /* no time between two samples: no figures */
  g_assert_false (link_quality_between (&c, &c, &q));
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/link-stats/word", test_word);
  g_test_add_func ("/link-stats/between", test_between);
  return g_test_run ();
}

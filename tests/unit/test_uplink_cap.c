/* test_uplink_cap.c — a reviewer's link estimate (uplink_cap.c, viewer_estimate_update): what
 * one second of its reports does to the bitrate the phone is asked for. Each case is one rule;
 * time is passed in, so nothing here waits. */
#include "media/uplink_cap.h"
#include <gst/rtp/gstrtcpbuffer.h>

#define S G_USEC_PER_SEC

/* one second: what the relay sent this viewer, its report's loss (0 when no report counted new
 * losses), the round trip of its last report (-1 none yet) */
static LinkQuality
second (gdouble sent_kbps, gdouble loss_pct, gint rtt_ms)
{
  LinkQuality q = { 0 };
  q.send_kbps = sent_kbps;
  q.remote_loss_pct = loss_pct;
  q.rtt_ms = rtt_ms;
  return q;
}

static void
feed (ViewerEstimate *e, gint64 *now, gdouble sent, gdouble loss, gint rtt, gdouble upstream)
{
  LinkQuality q = second (sent, loss, rtt);
  *now += S;
  viewer_estimate_update (e, &q, upstream, *now);
}

static void
test_a_clean_link_limits_nothing (void)
{
  ViewerEstimate e = { 0 };
  gint64 now = 0;
  for (gint i = 0; i < 20; i++)
    feed (&e, &now, 2000, 0, 1 + (i % 2), 0);
  g_assert_cmpfloat (e.kbps, ==, 0);
}

static void
test_a_lossy_report_sets_what_got_through (void)
{
  ViewerEstimate e = { 0 };
  gint64 now = 0;
  feed (&e, &now, 2000, 0, 1, 0);
  feed (&e, &now, 2000, 60, 2, 0);
  g_assert_cmpfloat_with_epsilon (e.kbps, 2000 * (1 - 0.6 / 2), 0.5);
}

static void
test_the_phones_own_loss_is_not_the_viewers (void)
{
  /* a few per cent upstream: taken off the report */
  ViewerEstimate e = { 0 };
  gint64 now = 0;
  feed (&e, &now, 1000, 20, 1, 3);
  g_assert_cmpfloat_with_epsilon (e.kbps, 1000 * (1 - 0.17 / 2), 0.5);
  /* the phone's link itself capped (70 % lost on the way in): the report repeats it, and the
   * viewer is not blamed however its report's span falls */
  ViewerEstimate f = { 0 };
  now = 0;
  for (gint i = 0; i < 10; i++)
    feed (&f, &now, 100, 90, 1, 70);
  g_assert_cmpfloat (f.kbps, ==, 0);
}

static void
test_a_queue_needs_two_reports_running (void)
{
  ViewerEstimate e = { 0 };
  gint64 now = 0;
  feed (&e, &now, 2000, 0, 1, 0);      /* the path: 1 ms */
  feed (&e, &now, 2000, 0, 450, 0);    /* one late report */
  feed (&e, &now, 2000, 0, 450, 0);    /* (no new report: the same figure) */
  g_assert_cmpfloat (e.kbps, ==, 0);
  feed (&e, &now, 2000, 0, 2, 0);      /* it was a hiccup */
  feed (&e, &now, 2000, 0, 430, 0);
  g_assert_cmpfloat (e.kbps, ==, 0);
  feed (&e, &now, 2000, 0, 470, 0);    /* a second one running: a queue */
  g_assert_cmpfloat_with_epsilon (e.kbps, 2000 * 0.85, 0.5);
}

static void
test_no_cut_until_the_phone_follows (void)
{
  ViewerEstimate e = { 0 };
  gint64 now = 0;
  feed (&e, &now, 2000, 60, 1, 0);
  gdouble first = e.kbps;   /* 1400 */
  /* the phone still sends 2 Mbit/s: the next lossy reports are what that estimate cures */
  feed (&e, &now, 2000, 70, 2, 0);
  feed (&e, &now, 1900, 75, 3, 0);
  g_assert_cmpfloat (e.kbps, ==, first);
  /* it follows, and still loses: lower */
  feed (&e, &now, 1400, 40, 4, 0);
  g_assert_cmpfloat_with_epsilon (e.kbps, 1400 * (1 - 0.4 / 2), 0.5);
}

static void
test_it_grows_after_five_clean_seconds_and_lets_go (void)
{
  ViewerEstimate e = { 0 };
  gint64 now = 0;
  feed (&e, &now, 1000, 50, 1, 0);
  gdouble set = e.kbps;   /* 750 */
  for (gint i = 0; i < 4; i++)
    feed (&e, &now, 700, 0, 1, 0);
  g_assert_cmpfloat (e.kbps, ==, set);   /* 4 s: not yet */
  feed (&e, &now, 700, 0, 1, 0);
  g_assert_cmpfloat_with_epsilon (e.kbps, set * 1.08, 0.5);
  for (gint i = 0; i < 30 && e.kbps > 0; i++)
    feed (&e, &now, 700, 0, 1, 0);
  g_assert_cmpfloat (e.kbps, ==, 0);     /* far above what is sent: released */
}

static void
test_a_stale_round_trip_does_not_hold_the_phone (void)
{
  /* a queue seen, then the viewer's reports stop: its last round trip stays in the stats */
  ViewerEstimate e = { 0 };
  gint64 now = 0;
  feed (&e, &now, 2000, 0, 1, 0);
  feed (&e, &now, 2000, 0, 400, 0);
  feed (&e, &now, 2000, 0, 420, 0);
  g_assert_cmpfloat (e.kbps, >, 0);
  gdouble set = e.kbps;
  for (gint i = 0; i < 6; i++)
    feed (&e, &now, 1500, 0, 420, 0);
  g_assert_cmpfloat (e.kbps, >, set);   /* grows again */
}

static void
test_no_media_sent_changes_nothing (void)
{
  ViewerEstimate e = { 0 };
  gint64 now = 0;
  feed (&e, &now, 0, 90, 500, 0);
  feed (&e, &now, 0.5, 90, 900, 0);
  g_assert_cmpfloat (e.kbps, ==, 0);
  g_assert_false (e.have_rtt);
}

/* The REMB a real rtpbin session's next RTCP to the phone carries (bit/s), 0 when none: the
 * hook runs on the session's own "on-sending-rtcp", here emitted with an empty compound. */
static guint64
remb_in_next_rtcp (GObject *session)
{
  GstBuffer *buffer = gst_rtcp_buffer_new (1400);
  gboolean ignored = FALSE;
  g_signal_emit_by_name (session, "on-sending-rtcp", buffer, FALSE, &ignored);
  guint64 bps = 0;
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket packet;
  g_assert_true (gst_rtcp_buffer_map (buffer, GST_MAP_READ, &rtcp));
  for (gboolean more = gst_rtcp_buffer_get_first_packet (&rtcp, &packet); more;
       more = gst_rtcp_packet_move_to_next (&packet)) {
    if (gst_rtcp_packet_get_type (&packet) != GST_RTCP_TYPE_PSFB
        || gst_rtcp_packet_fb_get_type (&packet) != GST_RTCP_PSFB_TYPE_AFB)
      continue;
    const guint8 *fci = gst_rtcp_packet_fb_get_fci (&packet);
    g_assert_cmpmem (fci, 4, "REMB", 4);
    g_assert_cmpuint (GST_READ_UINT32_BE (fci + 8), ==, 0x1234);   /* the phone's video */
    bps = (guint64) (((fci[5] & 0x3) << 16) | (fci[6] << 8) | fci[7]) << (fci[5] >> 2);
  }
  gst_rtcp_buffer_unmap (&rtcp);
  gst_buffer_unref (buffer);
  return bps;
}

/* A cap ended is said, never left to silence: a sender keeps the last REMB's bound. */
static void
test_a_lifted_cap_is_said_not_left_silent (void)
{
  GstElement *rtpbin = gst_element_factory_make ("rtpbin", NULL);
  g_assert_nonnull (rtpbin);
  GstPad *sink = gst_element_request_pad_simple (rtpbin, "recv_rtp_sink_0");   /* makes session 0 */
  GObject *session = NULL;
  g_signal_emit_by_name (rtpbin, "get-internal-session", 0, &session);
  g_assert_nonnull (session);
  RembHook *hook = remb_hook_install (rtpbin, 0, 0x1234);
  g_assert_nonnull (hook);

  g_assert_cmpuint (remb_in_next_rtcp (session), ==, 0);        /* never capped: no REMB */
  remb_hook_set_kbps (hook, 0);
  g_assert_cmpuint (remb_in_next_rtcp (session), ==, 0);
  remb_hook_set_kbps (hook, 872);
  guint64 capped = remb_in_next_rtcp (session);
  g_assert_cmpuint (capped, <=, 872000);
  g_assert_cmpuint (capped, >=, 871000);                        /* mantissa rounding only */
  remb_hook_set_kbps (hook, 0);                                 /* lifted */
  g_assert_cmpuint (remb_in_next_rtcp (session), >=, (guint64) REMB_UNCAPPED_KBPS * 999);
  remb_hook_set_kbps (hook, 0);                                 /* and it stays said */
  g_assert_cmpuint (remb_in_next_rtcp (session), >=, (guint64) REMB_UNCAPPED_KBPS * 999);
  remb_hook_set_kbps (hook, 400);                               /* capped again */
  g_assert_cmpuint (remb_in_next_rtcp (session), <=, 400000);

  remb_hook_unref (hook);
  g_object_unref (session);
  gst_element_release_request_pad (rtpbin, sink);
  gst_object_unref (sink);
  gst_object_unref (rtpbin);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  g_test_add_func ("/uplink-cap/remb-lifted-is-said", test_a_lifted_cap_is_said_not_left_silent);
  g_test_add_func ("/uplink-cap/clean-link", test_a_clean_link_limits_nothing);
  g_test_add_func ("/uplink-cap/lossy-report", test_a_lossy_report_sets_what_got_through);
  g_test_add_func ("/uplink-cap/upstream-loss", test_the_phones_own_loss_is_not_the_viewers);
  g_test_add_func ("/uplink-cap/queue-two-reports", test_a_queue_needs_two_reports_running);
  g_test_add_func ("/uplink-cap/hold-until-followed", test_no_cut_until_the_phone_follows);
  g_test_add_func ("/uplink-cap/grow-and-release", test_it_grows_after_five_clean_seconds_and_lets_go);
  g_test_add_func ("/uplink-cap/stale-round-trip", test_a_stale_round_trip_does_not_hold_the_phone);
  g_test_add_func ("/uplink-cap/no-media", test_no_media_sent_changes_nothing);
  return g_test_run ();
}

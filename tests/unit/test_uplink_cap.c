/* test_uplink_cap.c — a reviewer's link estimate (uplink_cap.c, viewer_estimate_update): what
 * one second of its reports does to the bitrate the phone is asked for. Each case is one rule;
 * time is passed in, so nothing here waits. */
#include "media/uplink_cap.h"

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
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

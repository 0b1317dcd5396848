/* test_metrics.c — the metrics registry (core/metrics.c): the text format (HELP/TYPE, labels
 * escaped, numbers in the C locale, histograms cumulative with _sum and _count), exact totals
 * when many threads add at once, and what an update costs (printed, never asserted). The
 * registry is one per process: each test reads the difference it made. */
#include "core/metrics.h"
#include "core/process_metrics.h"
#include <locale.h>
#include <math.h>
#include <string.h>

/* the value of the sample line that begins with `series` ("name{labels}" or "name"), or -1 */
static gdouble
value_of (const gchar *text, const gchar *series)
{
  g_autofree gchar *needle = g_strdup_printf ("\n%s ", series);
  g_autofree gchar *padded = g_strconcat ("\n", text, NULL);
  const gchar *at = strstr (padded, needle);
  return at ? g_ascii_strtod (at + strlen (needle), NULL) : -1;
}

static gchar *
render (void)
{
  GString *out = g_string_new ("");
  metrics_render (out);
  return g_string_free (out, FALSE);
}

static void
test_format (void)
{
  g_autofree gchar *before = render ();
  metrics_rtp_in (10, 1000, 2, 1, 3);
  metrics_rtp_out (20, 2000, 4, 5);
  metrics_segment (METRIC_SEGMENT_SALVAGED);
  metrics_http_request ("api", 200);
  metrics_http_request ("api", 200);
  metrics_http_request ("whip", 201);
  g_autofree gchar *after = render ();
  g_assert_nonnull (strstr (after, "# TYPE kanyan_rtp_packets_total counter\n"));
  g_assert_nonnull (strstr (after, "# HELP kanyan_rtp_packets_total "));
  g_assert_cmpfloat (value_of (after, "kanyan_rtp_packets_total{direction=\"in\"}") -
                     value_of (before, "kanyan_rtp_packets_total{direction=\"in\"}"), ==, 10);
  g_assert_cmpfloat (value_of (after, "kanyan_rtp_bytes_total{direction=\"out\"}") -
                     value_of (before, "kanyan_rtp_bytes_total{direction=\"out\"}"), ==, 2000);
  /* the relay's NACKs go out to the publisher; a viewer's come in */
  g_assert_cmpfloat (value_of (after, "kanyan_rtcp_nacks_total{direction=\"out\"}") -
                     value_of (before, "kanyan_rtcp_nacks_total{direction=\"out\"}"), ==, 3);
  g_assert_cmpfloat (value_of (after, "kanyan_rtcp_nacks_total{direction=\"in\"}") -
                     value_of (before, "kanyan_rtcp_nacks_total{direction=\"in\"}"), ==, 5);
  g_assert_cmpfloat (value_of (after, "kanyan_recording_segments_total{outcome=\"salvaged\"}") -
                     value_of (before, "kanyan_recording_segments_total{outcome=\"salvaged\"}"), ==, 1);
  gdouble api_before = MAX (value_of (before, "kanyan_http_requests_total{route=\"api\",status=\"200\"}"), 0);
  g_assert_cmpfloat (value_of (after, "kanyan_http_requests_total{route=\"api\",status=\"200\"}") - api_before, ==, 2);
  g_assert_cmpfloat (value_of (after, "kanyan_http_requests_total{route=\"whip\",status=\"201\"}"), >=, 1);
}

static void
test_histogram (void)
{
  g_autofree gchar *before = render ();
  metrics_archive_duration (0.07);   /* in le=0.1 */
  metrics_archive_duration (0.1);    /* a bound is inclusive: le=0.1 */
  metrics_archive_duration (2);      /* le=2.5 */
  metrics_archive_duration (1000);   /* only +Inf */
  metrics_archive_duration (-1);     /* a clock oddity: not a sample */
  g_autofree gchar *after = render ();
#define D(series) (value_of (after, series) - value_of (before, series))
  g_assert_cmpfloat (D ("kanyan_archive_finalize_duration_seconds_bucket{le=\"0.05\"}"), ==, 0);
  g_assert_cmpfloat (D ("kanyan_archive_finalize_duration_seconds_bucket{le=\"0.1\"}"), ==, 2);
  g_assert_cmpfloat (D ("kanyan_archive_finalize_duration_seconds_bucket{le=\"1\"}"), ==, 2);
  g_assert_cmpfloat (D ("kanyan_archive_finalize_duration_seconds_bucket{le=\"2.5\"}"), ==, 3);
  g_assert_cmpfloat (D ("kanyan_archive_finalize_duration_seconds_bucket{le=\"300\"}"), ==, 3);
  g_assert_cmpfloat (D ("kanyan_archive_finalize_duration_seconds_bucket{le=\"+Inf\"}"), ==, 4);
  g_assert_cmpfloat (D ("kanyan_archive_finalize_duration_seconds_count"), ==, 4);
  g_assert_cmpfloat (fabs (D ("kanyan_archive_finalize_duration_seconds_sum") - 1002.17), <, 1e-6);
#undef D
}

static void
test_text_helpers (void)
{
  /* a locale with a decimal comma must not reach the output */
  const gchar *old = setlocale (LC_NUMERIC, NULL);
  g_autofree gchar *saved = g_strdup (old);
  if (!setlocale (LC_NUMERIC, "de_DE.UTF-8"))   /* only where that locale is installed */
    g_test_message ("de_DE.UTF-8 is not installed: the decimal comma is not tried");
  GString *out = g_string_new ("");
  metrics_text_family (out, "x_seconds", "gauge", "Help.");
  metrics_text_sample (out, "x_seconds", 1.5, "a", "q\"b\\c\nd", NULL);
  metrics_text_sample (out, "x_seconds", 1796259350.25, NULL);
  metrics_text_sample (out, "x_seconds", 42, NULL);
  setlocale (LC_NUMERIC, saved);
  g_assert_cmpstr (out->str, ==,
                   "# HELP x_seconds Help.\n# TYPE x_seconds gauge\n"
                   "x_seconds{a=\"q\\\"b\\\\c\\nd\"} 1.5\n"
                   "x_seconds 1796259350.25\n"
                   "x_seconds 42\n");
  g_string_free (out, TRUE);
}

static void
test_process (void)
{
  GString *out = g_string_new ("");
  process_metrics_render (out);
  g_assert_cmpfloat (value_of (out->str, "process_threads"), >=, 1);
  g_assert_cmpfloat (value_of (out->str, "process_resident_memory_bytes"), >, 0);
  g_assert_cmpfloat (value_of (out->str, "process_open_fds"), >=, 3);
  g_assert_cmpfloat (value_of (out->str, "process_max_fds"), >=, value_of (out->str, "process_open_fds"));
  g_assert_cmpfloat (value_of (out->str, "process_start_time_seconds"), >, 1e9);
  g_assert_cmpfloat (value_of (out->str, "process_cpu_seconds_total"), >=, 0);
  g_assert_nonnull (strstr (out->str, "# TYPE process_cpu_seconds_total counter\n"));
  g_string_free (out, TRUE);
}

#define THREADS 4
#define ADDS 1000000

static gpointer
adder (gpointer data)
{
  for (guint i = 0; i < ADDS; i++) {
    metrics_recording_bytes (3);
    if (i % 1000 == 0)
      metrics_db_write (0.001);
  }
  return NULL;
}

/* many threads at once: nothing lost; and what one update costs here */
static void
test_threads_and_cost (void)
{
  g_autofree gchar *before = render ();
  gint64 t0 = g_get_monotonic_time ();
  GThread *threads[THREADS];
  for (guint i = 0; i < THREADS; i++)
    threads[i] = g_thread_new ("adder", adder, NULL);
  for (guint i = 0; i < THREADS; i++)
    g_thread_join (threads[i]);
  gint64 contended = g_get_monotonic_time () - t0;
  g_autofree gchar *after = render ();
  g_assert_cmpfloat (value_of (after, "kanyan_recording_bytes_written_total") -
                     value_of (before, "kanyan_recording_bytes_written_total"), ==, 3.0 * THREADS * ADDS);
  g_assert_cmpfloat (value_of (after, "kanyan_db_write_duration_seconds_count") -
                     value_of (before, "kanyan_db_write_duration_seconds_count"), ==, THREADS * (ADDS / 1000));
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < ADDS; i++)
    metrics_recording_bytes (1);
  gint64 alone = g_get_monotonic_time () - t0;
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < ADDS; i++)
    metrics_join_to_keyframe (0.3 + (i % 7));
  gint64 histo = g_get_monotonic_time () - t0;
  g_test_message ("counter add: %.1f ns alone, %.1f ns with %d threads adding to the same counter; "
                  "histogram observation: %.1f ns",
                  alone * 1000.0 / ADDS, contended * 1000.0 / (THREADS * ADDS), THREADS, histo * 1000.0 / ADDS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/metrics/format", test_format);
  g_test_add_func ("/metrics/histogram", test_histogram);
  g_test_add_func ("/metrics/text-helpers", test_text_helpers);
  g_test_add_func ("/metrics/process", test_process);
  g_test_add_func ("/metrics/threads-and-cost", test_threads_and_cost);
  return g_test_run ();
}

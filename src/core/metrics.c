/* metrics.c — the registry's counters and histograms (metrics.h) and their text exposition.
 * Every counter is an atomic_ullong updated with relaxed adds: a scrape may see one counter a
 * moment ahead of another, never a torn or decreasing value. The HTTP (route, status) table is
 * main-loop only and guarded by a mutex so that a scrape from any thread stays safe.
 * Owns nothing else; never reads the database, the disk or /proc (web/metrics_http.c does). */
#include "core/metrics.h"
#include <stdatomic.h>
#include <stdarg.h>
#include <string.h>

#define MAX_BUCKETS 16

typedef struct {
  const gchar   *name, *help;
  const gdouble *bounds;           /* seconds, ascending */
  guint          n_bounds;
  atomic_ullong  buckets[MAX_BUCKETS + 1];   /* not cumulative; the last is +Inf */
  atomic_ullong  sum_ns;
} Histogram;

static const gdouble join_bounds[] = { 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20 };
static const gdouble archive_bounds[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300 };
static const gdouble db_bounds[] = { 0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5 };

static Histogram join_hist = {
  "kanyan_viewer_join_to_keyframe_seconds",
  "From a reviewer's viewer being added to the first keyframe passing the relay for it.",
  join_bounds, G_N_ELEMENTS (join_bounds) };
static Histogram archive_hist = {
  "kanyan_archive_finalize_duration_seconds",
  "Time to finalize one recording segment into its archive (remux, read-back, hash, fsync).",
  archive_bounds, G_N_ELEMENTS (archive_bounds) };
static Histogram db_hist = {
  "kanyan_db_write_duration_seconds",
  "Time SQLite spent on each statement that writes (INSERT, UPDATE, DELETE, COMMIT, ...).",
  db_bounds, G_N_ELEMENTS (db_bounds) };

enum { DIR_IN, DIR_OUT, N_DIR };
static atomic_ullong rtp_packets[N_DIR], rtp_bytes[N_DIR], rtp_lost[N_DIR], rtcp_nacks[N_DIR];
static atomic_ullong rtp_repaired;
static atomic_ullong keyframe_requests[METRIC_N_KEYFRAME];
static atomic_ullong ws_open, ws_opened;
static atomic_ullong recording_bytes;
static atomic_ullong segments[METRIC_N_SEGMENT];

static GMutex http_lock;
static GHashTable *http_requests;   /* "route\nstatus" -> guint64* */

static void
add (atomic_ullong *c, guint64 n)
{
  if (n)
    atomic_fetch_add_explicit (c, n, memory_order_relaxed);
}

static guint64
get (atomic_ullong *c)
{
  return atomic_load_explicit (c, memory_order_relaxed);
}

static void
observe (Histogram *h, gdouble seconds)
{
  if (!(seconds >= 0))   /* negative or NaN: a clock oddity, not a sample */
    return;
  guint i = 0;
  while (i < h->n_bounds && seconds > h->bounds[i])
    i++;
  add (&h->buckets[i], 1);
  add (&h->sum_ns, (guint64) (seconds * 1e9));
}

void
metrics_rtp_in (guint64 packets, guint64 bytes, guint64 lost, guint64 repaired, guint64 nacks_sent)
{
  add (&rtp_packets[DIR_IN], packets);
  add (&rtp_bytes[DIR_IN], bytes);
  add (&rtp_lost[DIR_IN], lost);
  add (&rtp_repaired, repaired);
  add (&rtcp_nacks[DIR_OUT], nacks_sent);   /* the relay's NACKs go out to the publisher */
}

void
metrics_rtp_out (guint64 packets, guint64 bytes, guint64 lost, guint64 nacks_received)
{
  add (&rtp_packets[DIR_OUT], packets);
  add (&rtp_bytes[DIR_OUT], bytes);
  add (&rtp_lost[DIR_OUT], lost);
  add (&rtcp_nacks[DIR_IN], nacks_received);
}

void metrics_keyframe_request (MetricKeyframeSource source) { add (&keyframe_requests[source], 1); }
void metrics_join_to_keyframe (gdouble seconds) { observe (&join_hist, seconds); }
void metrics_ws_opened (void) { add (&ws_open, 1); add (&ws_opened, 1); }
void metrics_ws_closed (void) { atomic_fetch_sub_explicit (&ws_open, 1, memory_order_relaxed); }
void metrics_recording_bytes (guint64 bytes) { add (&recording_bytes, bytes); }
void metrics_segment (MetricSegmentOutcome outcome) { add (&segments[outcome], 1); }
void metrics_archive_duration (gdouble seconds) { observe (&archive_hist, seconds); }
void metrics_db_write (gdouble seconds) { observe (&db_hist, seconds); }

void
metrics_http_request (const gchar *route, guint status)
{
  g_autofree gchar *key = g_strdup_printf ("%s\n%u", route ? route : "none", status);
  g_mutex_lock (&http_lock);
  if (!http_requests)
    http_requests = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  guint64 *n = g_hash_table_lookup (http_requests, key);
  if (!n) {
    n = g_new0 (guint64, 1);
    g_hash_table_insert (http_requests, g_steal_pointer (&key), n);
  }
  (*n)++;
  g_mutex_unlock (&http_lock);
}

/* ---- the text format ------------------------------------------------------------------ */

void
metrics_text_family (GString *out, const gchar *name, const gchar *type, const gchar *help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
append_value (GString *out, gdouble value)
{
  if (value == (gdouble) (gint64) value && value < 9e15 && value > -9e15) {
    g_string_append_printf (out, "%" G_GINT64_FORMAT, (gint64) value);
  } else {
    gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.15g", value));   /* never the locale's comma */
  }
}

static void
append_escaped (GString *out, const gchar *value)
{
  for (const gchar *p = value; *p; p++) {
    if (*p == '\\' || *p == '"')
      g_string_append_c (out, '\\');
    if (*p == '\n')
      g_string_append (out, "\\n");
    else
      g_string_append_c (out, *p);
  }
}

static void
sample_va (GString *out, const gchar *name, const gchar *suffix, gdouble value, va_list ap)
{
  g_string_append (out, name);
  g_string_append (out, suffix);
  const gchar *label = va_arg (ap, const gchar *);
  if (label) {
    g_string_append_c (out, '{');
    for (gboolean first = TRUE; label; label = va_arg (ap, const gchar *), first = FALSE) {
      const gchar *v = va_arg (ap, const gchar *);
      g_string_append_printf (out, "%s%s=\"", first ? "" : ",", label);
      append_escaped (out, v ? v : "");
      g_string_append_c (out, '"');
    }
    g_string_append_c (out, '}');
  }
  g_string_append_c (out, ' ');
  append_value (out, value);
  g_string_append_c (out, '\n');
}

void
metrics_text_sample (GString *out, const gchar *name, gdouble value, ...)
{
  va_list ap;
  va_start (ap, value);
  sample_va (out, name, "", value, ap);
  va_end (ap);
}

static void
suffixed_sample (GString *out, const gchar *name, const gchar *suffix, gdouble value, ...)
{
  va_list ap;
  va_start (ap, value);
  sample_va (out, name, suffix, value, ap);
  va_end (ap);
}

static void
render_histogram (GString *out, Histogram *h)
{
  metrics_text_family (out, h->name, "histogram", h->help);
  guint64 cumulative = 0;
  for (guint i = 0; i <= h->n_bounds; i++) {
    cumulative += get (&h->buckets[i]);
    gchar le[G_ASCII_DTOSTR_BUF_SIZE];
    if (i < h->n_bounds)
      g_ascii_formatd (le, sizeof le, "%g", h->bounds[i]);   /* "0.1", not 0.1's nearest double */
    else
      g_strlcpy (le, "+Inf", sizeof le);
    suffixed_sample (out, h->name, "_bucket", (gdouble) cumulative, "le", le, NULL);
  }
  suffixed_sample (out, h->name, "_sum", get (&h->sum_ns) / 1e9, NULL);
  suffixed_sample (out, h->name, "_count", (gdouble) cumulative, NULL);
}

static void
render_directions (GString *out, const gchar *name, const gchar *help, atomic_ullong *c)
{
  metrics_text_family (out, name, "counter", help);
  metrics_text_sample (out, name, (gdouble) get (&c[DIR_IN]), "direction", "in", NULL);
  metrics_text_sample (out, name, (gdouble) get (&c[DIR_OUT]), "direction", "out", NULL);
}

static gint
compare_keys (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar *const *) a, *(const gchar *const *) b);
}

static void
render_http (GString *out)
{
  const gchar *name = "kanyan_http_requests_total";
  metrics_text_family (out, name, "counter", "HTTP requests answered, by route (the route table's name) and status.");
  g_mutex_lock (&http_lock);
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  if (http_requests) {
    GHashTableIter iter;
    gpointer key;
    g_hash_table_iter_init (&iter, http_requests);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_ptr_array_add (keys, key);
  }
  g_ptr_array_sort (keys, compare_keys);
  for (guint i = 0; i < keys->len; i++) {
    const gchar *key = g_ptr_array_index (keys, i);
    const gchar *nl = strchr (key, '\n');
    g_autofree gchar *route = g_strndup (key, nl - key);
    guint64 *n = g_hash_table_lookup (http_requests, key);
    metrics_text_sample (out, name, (gdouble) *n, "route", route, "status", nl + 1, NULL);
  }
  g_mutex_unlock (&http_lock);
}

void
metrics_render (GString *out)
{
  render_directions (out, "kanyan_rtp_packets_total",
                     "RTP packets received from publishers (in) and sent to reviewers and publishers (out).", rtp_packets);
  render_directions (out, "kanyan_rtp_bytes_total",
                     "RTP payload and header bytes received (in) and sent (out), as webrtcbin counts them.", rtp_bytes);
  render_directions (out, "kanyan_rtp_packets_lost_total",
                     "RTP packets lost on the way from publishers (in), and lost on the way to peers as their "
                     "receiver reports say (out).", rtp_lost);
  metrics_text_family (out, "kanyan_rtp_packets_retransmitted_total", "counter",
                       "Packets that arrived as retransmissions (RTX), from publishers and reviewers.");
  metrics_text_sample (out, "kanyan_rtp_packets_retransmitted_total", (gdouble) get (&rtp_repaired), NULL);
  render_directions (out, "kanyan_rtcp_nacks_total",
                     "RTCP NACKs the relay received from reviewers' peers (in) and sent to publishers (out).", rtcp_nacks);
  const gchar *kf = "kanyan_keyframe_requests_total";
  metrics_text_family (out, kf, "counter",
                       "Keyframe requests towards publishers: the relay's own (viewer joins, stills, waits), "
                       "those of reviewers' peers, and the recorder's.");
  metrics_text_sample (out, kf, (gdouble) get (&keyframe_requests[METRIC_KEYFRAME_RELAY]), "source", "relay", NULL);
  metrics_text_sample (out, kf, (gdouble) get (&keyframe_requests[METRIC_KEYFRAME_VIEWER]), "source", "viewer", NULL);
  metrics_text_sample (out, kf, (gdouble) get (&keyframe_requests[METRIC_KEYFRAME_RECORDER]), "source", "recorder", NULL);
  render_histogram (out, &join_hist);
  metrics_text_family (out, "kanyan_websocket_connections", "gauge", "WebSocket connections open now.");
  metrics_text_sample (out, "kanyan_websocket_connections", (gdouble) (gint64) get (&ws_open), NULL);
  metrics_text_family (out, "kanyan_websocket_connections_opened_total", "counter", "WebSocket connections opened.");
  metrics_text_sample (out, "kanyan_websocket_connections_opened_total", (gdouble) get (&ws_opened), NULL);
  render_http (out);
  metrics_text_family (out, "kanyan_recording_bytes_written_total", "counter",
                       "Bytes the recorder's muxers handed to their segment files.");
  metrics_text_sample (out, "kanyan_recording_bytes_written_total", (gdouble) get (&recording_bytes), NULL);
  const gchar *seg = "kanyan_recording_segments_total";
  metrics_text_family (out, seg, "counter", "Recording segments finalized, by outcome.");
  static const gchar *outcomes[] = { "archived", "salvaged", "empty", "failed" };
  for (guint i = 0; i < METRIC_N_SEGMENT; i++)
    metrics_text_sample (out, seg, (gdouble) get (&segments[i]), "outcome", outcomes[i], NULL);
  render_histogram (out, &archive_hist);
  render_histogram (out, &db_hist);
}

/* loadgen.c — Kanyan's load generator: one benchmark step (bench/run.sh runs the ramp).
 *
 *   bench-loadgen --base http://127.0.0.1:PORT --cases FILE --clip CLIP.mkv
 *                 [--reviewers 2] [--seconds 20] [--warmup S] [--server-pid PID]
 *                 [--idle-rss-kb N --idle-threads N] [--ice-address 10.77.0.2] [--header]
 *                 [--username U --password P] [--watchdog S] [--http-timeout S] [--label NAME]
 *   bench-loadgen --janus --base http://127.0.0.1:8088/janus --inspections N --clip CLIP.mkv
 *                 [--janus-rec-dir DIR] [the same options]
 *
 * FILE holds one `kanyan case add --json` object per line ({ref, token, ...}): one live
 * inspection each. Each gets a WHIP publisher (started 40 ms apart); once it is connected
 * its reviewers join over the WebSocket, 1 s later and 300 ms apart. From --warmup to
 * --seconds the server process (/proc/PID/stat utime+stime, VmRSS, Threads), this process,
 * the machine (/proc/stat) and the media counters are sampled; then one Markdown table row
 * goes to stdout, followed by `RESULT key=value…` for the driver; each reviewer's counts go to
 * stderr (LG_DEBUG_SDP=1 adds every offer and answer). Exit 0 when every reviewer
 * received video, audio and a keyframe, 1 otherwise, 2 on a usage error, 3 when the wall-clock
 * watchdog (--seconds + 30 s unless --watchdog) fired. With --username/--password it logs
 * in (POST /api/login) and every reviewer's WebSocket upgrade carries the session cookie.
 * With --janus the same load goes to Janus's VideoRoom (lg_janus.c, the bench's anchor): N
 * inspections, no cases, no accounts. --label puts a first column (the server's name) in the
 * row. See bench/README.md. */
#include "loadgen.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

LoadGen lg;

static struct {
  const char *cases_file, *clip_path, *label;
  char *username, *password;
  gint seconds, server_pid, idle_rss_kb, idle_threads, watchdog, http_timeout, inspections;
  double warmup;
  gboolean header;
} opt = { .seconds = 20, .warmup = -1, .http_timeout = 10 };

typedef struct {
  gint64 at_us;
  guint64 server_ticks, self_ticks, machine_busy, machine_total;
  gint64 rss_kb, threads;
  gint64 sent, received, expected;
  GHashTable *task_ticks;   /* the server's thread id -> its CPU ticks so far */
} Sample;

static Sample s0;

/* ---------- /proc ---------- */

static guint64
proc_ticks (const char *path)
{
  g_autofree char *text = NULL;
  guint64 utime = 0, stime = 0;
  if (g_file_get_contents (path, &text, NULL, NULL)) {
    const char *p = strrchr (text, ')');   /* the command name may hold spaces */
    if (p && sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                     &utime, &stime) != 2)
      utime = stime = 0;
  }
  return utime + stime;
}

static void
proc_status (gint pid, gint64 *rss_kb, gint64 *threads)
{
  char path[64];
  g_autofree char *text = NULL;
  *rss_kb = *threads = 0;
  g_snprintf (path, sizeof path, "/proc/%d/status", pid);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return;
  const char *p;
  if ((p = strstr (text, "\nVmRSS:")))
    *rss_kb = g_ascii_strtoll (p + 7, NULL, 10);
  if ((p = strstr (text, "\nThreads:")))
    *threads = g_ascii_strtoll (p + 9, NULL, 10);
}

static void
machine_ticks (guint64 *busy, guint64 *total)
{
  g_autofree char *text = NULL;
  guint64 v[8] = { 0 };
  *busy = *total = 0;
  if (g_file_get_contents ("/proc/stat", &text, NULL, NULL) &&
      sscanf (text, "cpu %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
              " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
              &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
    for (int i = 0; i < 8; i++)
      *total += v[i];
    *busy = *total - v[3] - v[4];   /* less idle and iowait */
  }
}

/* every thread of the server: its kind (its name, digits as N: "queue12:src" -> "queueN:src")
 * and CPU ticks, by thread id */
static GHashTable *
proc_task_ticks (gint pid)
{
  GHashTable *ticks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *dir_path = g_strdup_printf ("/proc/%d/task", pid);
  g_autoptr (GDir) dir = pid ? g_dir_open (dir_path, 0, NULL) : NULL;
  for (const char *tid; dir && (tid = g_dir_read_name (dir));) {
    g_autofree char *path = g_strdup_printf ("%s/%s/stat", dir_path, tid);
    g_hash_table_insert (ticks, g_strdup (tid), GSIZE_TO_POINTER ((gsize) proc_ticks (path)));
  }
  return ticks;
}

static char *
proc_task_kind (gint pid, const char *tid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/task/%s/comm", pid, tid), *comm = NULL;
  if (!g_file_get_contents (path, &comm, NULL, NULL))
    return g_strdup ("?");
  GString *kind = g_string_new (NULL);
  for (const char *c = g_strstrip (comm); *c; c++)
    if (!g_ascii_isdigit (*c))
      g_string_append_c (kind, *c);
    else if (kind->len == 0 || kind->str[kind->len - 1] != 'N')
      g_string_append_c (kind, 'N');
  return g_string_free (kind, FALSE);
}

typedef struct { char *kind; guint64 ticks; guint threads; } ThreadKind;

static gint
thread_kind_by_ticks (gconstpointer a, gconstpointer b)
{
  const ThreadKind *x = *(ThreadKind *const *) a, *y = *(ThreadKind *const *) b;
  return x->ticks < y->ticks ? 1 : x->ticks > y->ticks ? -1 : g_strcmp0 (x->kind, y->kind);
}

static void
thread_kind_free (gpointer p)
{
  ThreadKind *k = p;
  g_free (k->kind);
  g_free (k);
}

/* `THREADS kind=cpu%/threads …`: where the server's CPU went in the window, by kind of thread
 * (a profile that needs no profiler: each GStreamer streaming thread is named after its pad) */
static void
print_thread_kinds (const Sample *a, const Sample *b, double dt, double hz)
{
  g_autoptr (GHashTable) kinds = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (thread_kind_free);
  GHashTableIter it;
  gpointer tid, ticks;
  g_hash_table_iter_init (&it, b->task_ticks);
  while (g_hash_table_iter_next (&it, &tid, &ticks)) {
    g_autofree char *name = proc_task_kind (opt.server_pid, tid);
    ThreadKind *k = g_hash_table_lookup (kinds, name);
    if (!k) {
      k = g_new0 (ThreadKind, 1);
      k->kind = g_steal_pointer (&name);
      g_hash_table_insert (kinds, k->kind, k);
      g_ptr_array_add (list, k);
    }
    guint64 before = GPOINTER_TO_SIZE (g_hash_table_lookup (a->task_ticks, tid));   /* 0: born in the window */
    k->ticks += GPOINTER_TO_SIZE (ticks) - MIN (before, GPOINTER_TO_SIZE (ticks));
    k->threads++;
  }
  g_ptr_array_sort (list, thread_kind_by_ticks);
  printf ("THREADS");
  for (guint i = 0; i < list->len; i++) {
    ThreadKind *k = g_ptr_array_index (list, i);
    printf (" %s=%.1f/%u", k->kind, 100.0 * k->ticks / hz / dt, k->threads);
  }
  printf ("\n");
}

static void
take_sample (Sample *s)
{
  char path[64];
  s->at_us = g_get_monotonic_time ();
  g_clear_pointer (&s->task_ticks, g_hash_table_unref);
  s->task_ticks = proc_task_ticks (opt.server_pid);
  g_snprintf (path, sizeof path, "/proc/%d/stat", opt.server_pid);
  s->server_ticks = opt.server_pid ? proc_ticks (path) : 0;
  s->self_ticks = proc_ticks ("/proc/self/stat");
  machine_ticks (&s->machine_busy, &s->machine_total);
  proc_status (opt.server_pid, &s->rss_kb, &s->threads);
  s->sent = s->received = s->expected = 0;
  for (guint i = 0; i < lg.pubs->len; i++) {
    Pub *pub = g_ptr_array_index (lg.pubs, i);
    for (guint k = 0; k < N_TRACKS; k++)
      s->sent += __atomic_load_n (&pub->map[k]->packets, __ATOMIC_RELAXED);
    for (guint r = 0; r < pub->revs->len; r++) {
      Rev *rev = g_ptr_array_index (pub->revs, r);
      g_mutex_lock (&rev->lock);
      for (guint k = 0; k < N_TRACKS; k++) {
        s->received += rev->rx[k].packets;
        if (rev->rx[k].max_ext >= 0)
          s->expected += rev->rx[k].max_ext - rev->rx[k].first_ext + 1;
      }
      g_mutex_unlock (&rev->lock);
    }
  }
}

/* ---------- the step ---------- */

static gboolean
start_reviewer (gpointer data)
{
  Pub *pub = data;
  rev_start (pub, pub->revs->len);
  return G_SOURCE_REMOVE;
}

void
lg_pub_connected (Pub *pub)
{
  for (guint r = 0; r < lg.reviewers; r++)
    g_timeout_add (1000 + 300 * r, start_reviewer, pub);
}

typedef struct {
  char *ref, *token;
  guint index;
} CaseArg;

static gboolean
start_publisher (gpointer data)
{
  CaseArg *c = data;
  g_ptr_array_add (lg.pubs, pub_start (c->index, c->ref, c->token));
  return G_SOURCE_REMOVE;
}

static gboolean
pace_all (gpointer data)
{
  gint64 now = g_get_monotonic_time ();
  (void) data;
  for (guint i = 0; i < lg.pubs->len; i++)
    pub_pace (g_ptr_array_index (lg.pubs, i), now);
  return G_SOURCE_CONTINUE;
}

static gboolean
window_start (gpointer data)
{
  (void) data;
  take_sample (&s0);
  latency_reset ();
  return G_SOURCE_REMOVE;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* nearest-rank quantile of sorted v[n] */
static double
quantile (const double *v, guint n, double q)
{
  if (!n)
    return -1;
  guint i = (guint) (q * n + 0.999999);
  return v[MIN (MAX (i, 1), n) - 1];
}

static void
fmt_ms (char *buf, gsize size, double ms)
{
  if (ms < 0)
    g_strlcpy (buf, "–", size);
  else
    g_snprintf (buf, size, ms < 10 ? "%.1f" : "%.0f", ms);
}

static int exit_code;

static gboolean
window_end (gpointer data)
{
  Sample s1 = { 0 };
  (void) data;
  take_sample (&s1);
  double dt = (s1.at_us - s0.at_us) / 1e6, hz = (double) sysconf (_SC_CLK_TCK);
  guint n = lg.pubs->len;
  double server_cpu = 100.0 * (s1.server_ticks - s0.server_ticks) / hz / dt;
  double self_cpu = 100.0 * (s1.self_ticks - s0.self_ticks) / hz / dt;
  double busy = s1.machine_total > s0.machine_total
      ? 100.0 * (s1.machine_busy - s0.machine_busy) / (s1.machine_total - s0.machine_total) : 0;
  gint64 expected = s1.expected - s0.expected, received = s1.received - s0.received;
  double loss = expected > 0 ? 100.0 * MAX (expected - received, 0) / expected : 100.0;

  guint n_revs = 0, with_media = 0, with_key = 0, jumps = 0, ssrc_changes = 0;
  g_autofree double *join_key = g_new0 (double, n * MAX (lg.reviewers, 1) + 1);
  g_autofree double *join_conn = g_new0 (double, n * MAX (lg.reviewers, 1) + 1);
  g_autofree double *conn_key = g_new0 (double, n * MAX (lg.reviewers, 1) + 1);
  /* join→connected in three: join→offer (the server makes a peer), offer→ICE, ICE→DTLS */
  g_autofree double *join_offer = g_new0 (double, n * MAX (lg.reviewers, 1) + 1);
  g_autofree double *offer_ice = g_new0 (double, n * MAX (lg.reviewers, 1) + 1);
  g_autofree double *ice_dtls = g_new0 (double, n * MAX (lg.reviewers, 1) + 1);
  guint with_split = 0;
  guint with_conn = 0;
  for (guint i = 0; i < n; i++) {
    Pub *pub = g_ptr_array_index (lg.pubs, i);
    jumps += pub->keyframe_jumps;
    for (guint r = 0; r < pub->revs->len; r++) {
      Rev *rev = g_ptr_array_index (pub->revs, r);
      gint64 key_us = (gint64) GPOINTER_TO_SIZE (g_atomic_pointer_get (&rev->first_key_us));
      g_mutex_lock (&rev->lock);
      with_media += rev->rx[TRACK_VIDEO].packets > 0 && rev->rx[TRACK_AUDIO].packets > 0;
      ssrc_changes += rev->rx[TRACK_VIDEO].ssrc_changes + rev->rx[TRACK_AUDIO].ssrc_changes;
      g_mutex_unlock (&rev->lock);
      gint64 join_us = rev->client ? reviewer_client_join_us (rev->client) : rev->join_us;
      if (key_us && join_us)
        join_key[with_key++] = (key_us - join_us) / 1000.0;
      /* join→keyframe in two: join→connected (signaling, ICE, DTLS) and connected→keyframe */
      gint64 conn_us = (gint64) GPOINTER_TO_SIZE (g_atomic_pointer_get (&rev->connected_us));
      if (key_us && join_us && conn_us) {
        join_conn[with_conn] = (conn_us - join_us) / 1000.0;
        conn_key[with_conn++] = (key_us - conn_us) / 1000.0;
      }
      gint64 offer_us = (gint64) GPOINTER_TO_SIZE (g_atomic_pointer_get (&rev->offer_us));
      gint64 ice_us = (gint64) GPOINTER_TO_SIZE (g_atomic_pointer_get (&rev->ice_us));
      if (join_us && offer_us && ice_us && conn_us) {
        join_offer[with_split] = (offer_us - join_us) / 1000.0;
        offer_ice[with_split] = (ice_us - offer_us) / 1000.0;
        ice_dtls[with_split++] = (conn_us - ice_us) / 1000.0;
      }
      g_mutex_lock (&rev->lock);
      fprintf (stderr, "loadgen: %s: pcs %u, state %d, video %" G_GINT64_FORMAT " pkts (%" G_GINT64_FORMAT
               " keyframes), audio %" G_GINT64_FORMAT " pkts, latency samples %d\n", rev->name,
               rev->client ? reviewer_client_pcs (rev->client) : rev->audio_pt != 0, g_atomic_int_get (&rev->conn_state), rev->rx[TRACK_VIDEO].packets, rev->rx[TRACK_VIDEO].keyframes,
               rev->rx[TRACK_AUDIO].packets, g_atomic_int_get (&rev->latency_samples));
      g_mutex_unlock (&rev->lock);
    }
    n_revs += pub->revs->len;
  }
  qsort (join_key, with_key, sizeof (double), cmp_double);
  qsort (join_conn, with_conn, sizeof (double), cmp_double);
  qsort (conn_key, with_conn, sizeof (double), cmp_double);
  qsort (join_offer, with_split, sizeof (double), cmp_double);
  qsort (offer_ice, with_split, sizeof (double), cmp_double);
  qsort (ice_dtls, with_split, sizeof (double), cmp_double);
  double q[] = { 0.5, 0.99 }, lat[2];
  guint64 lat_samples;
  latency_quantiles (q, 2, lat, &lat_samples);

  char k50[16], k95[16], l50[16], l99[16], jc50[16], ck50[16], jo50[16], oi50[16], id50[16];
  fmt_ms (jo50, sizeof jo50, quantile (join_offer, with_split, 0.5));
  fmt_ms (oi50, sizeof oi50, quantile (offer_ice, with_split, 0.5));
  fmt_ms (id50, sizeof id50, quantile (ice_dtls, with_split, 0.5));
  fmt_ms (jc50, sizeof jc50, quantile (join_conn, with_conn, 0.5));
  fmt_ms (ck50, sizeof ck50, quantile (conn_key, with_conn, 0.5));
  fmt_ms (k50, sizeof k50, quantile (join_key, with_key, 0.5));
  fmt_ms (k95, sizeof k95, quantile (join_key, with_key, 0.95));
  fmt_ms (l50, sizeof l50, lat[0]);
  fmt_ms (l99, sizeof l99, lat[1]);
  if (opt.header)
    printf ("%s| inspections | server CPU %% of a core | per inspection | server RSS MB | per inspection "
            "| server threads | per inspection | loadgen CPU %% | machine busy %% (%ld cores) "
            "| RTP pkt/s in | RTP pkt/s out | loss %% | join→keyframe ms p50 | p95 "
            "| relay latency ms p50 | p99 |\n"
            "%s|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n", opt.label ? "| server " : "",
            sysconf (_SC_NPROCESSORS_ONLN), opt.label ? "|---" : "");
  if (opt.label)
    printf ("| %s ", opt.label);
  printf ("| %u | %.1f | %.1f | %.1f | %.1f | %" G_GINT64_FORMAT " | %.1f | %.1f | %.0f | %.0f | %.0f | %.2f "
          "| %s | %s | %s | %s |\n",
          n, server_cpu, server_cpu / n, s1.rss_kb / 1024.0, (s1.rss_kb - opt.idle_rss_kb) / 1024.0 / n,
          s1.threads, (double) (s1.threads - opt.idle_threads) / n, self_cpu, busy,
          (s1.sent - s0.sent) / dt, received / dt, loss, k50, k95, l50, l99);
  gboolean ok = n > 0 && with_media == n_revs && with_key == n_revs && n_revs == n * lg.reviewers;
  printf ("RESULT inspections=%u server_cpu=%.1f loss=%.3f busy=%.1f reviewers=%u with_media=%u with_keyframe=%u "
          "latency_samples=%" G_GUINT64_FORMAT " keyframe_jumps=%u ssrc_changes=%u window_s=%.1f ok=%d "
          "cpu_per=%.2f rss_per_mb=%.2f threads_per=%.2f loadgen_cpu=%.1f pkt_in=%.0f pkt_out=%.0f "
          "key_p50=%s key_p95=%s lat_p50=%s lat_p99=%s join_conn_p50=%s conn_key_p50=%s "
          "join_offer_p50=%s offer_ice_p50=%s ice_dtls_p50=%s\n",
          n, server_cpu, loss, busy, n_revs, with_media, with_key, lat_samples, jumps, ssrc_changes, dt, ok,
          server_cpu / n, (s1.rss_kb - opt.idle_rss_kb) / 1024.0 / n, (double) (s1.threads - opt.idle_threads) / n,
          self_cpu, (s1.sent - s0.sent) / dt, received / dt, k50, k95, l50, l99, jc50, ck50, jo50, oi50, id50);
  if (opt.server_pid)
    print_thread_kinds (&s0, &s1, dt, hz);
  g_clear_pointer (&s1.task_ticks, g_hash_table_unref);
  fflush (stdout);
  exit_code = ok ? 0 : 1;
  g_main_loop_quit (lg.loop);
  return G_SOURCE_REMOVE;
}

/* ---------- setup ---------- */

static GPtrArray *
read_cases (const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) err = NULL;
  GPtrArray *cases = g_ptr_array_new ();
  if (!g_file_get_contents (path, &text, NULL, &err)) {
    fprintf (stderr, "bench-loadgen: --cases: %s\n", err->message);
    return cases;
  }
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l; l++) {
    g_autoptr (JsonParser) p = json_parser_new ();
    if (**l == '{' && json_parser_load_from_data (p, *l, -1, NULL) && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p))) {
      JsonObject *o = json_node_get_object (json_parser_get_root (p));
      CaseArg *c = g_new0 (CaseArg, 1);
      c->ref = g_strdup (json_object_get_string_member_with_default (o, "ref", ""));
      c->token = g_strdup (json_object_get_string_member_with_default (o, "token", ""));
      c->index = cases->len;
      g_ptr_array_add (cases, c);
    }
  }
  return cases;
}

/* the server answers /api/health (it may still be starting) */
static gboolean
wait_health (void)
{
  g_autofree char *url = g_strdup_printf ("%s/api/health", lg.base);
  gboolean up = FALSE;
  for (int i = 0; i < 100 && !up; i++) {
    g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
    g_autoptr (GBytes) b = soup_session_send_and_read (lg.http, msg, NULL, NULL);
    up = soup_message_get_status (msg) == 200;
    if (!up)
      g_usleep (100000);
  }
  return up;
}

/* POST /api/login; keeps "kanyan_session=…" from Set-Cookie for the reviewers' upgrades */
static gboolean
login (const char *username, const char *password)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "username");
  json_builder_add_string_value (b, username);
  json_builder_set_member_name (b, "password");
  json_builder_add_string_value (b, password);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *json = json_to_string (root, FALSE);
  g_autofree char *url = g_strdup_printf ("%s/api/login", lg.base);
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST, url);
  g_autoptr (GBytes) body = g_bytes_new (json, strlen (json));
  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  g_autoptr (GError) err = NULL;
  g_autoptr (GBytes) reply = soup_session_send_and_read (lg.http, msg, NULL, &err);
  guint status = soup_message_get_status (msg);
  if (status != 200) {
    gsize len = 0;
    const char *text = reply ? g_bytes_get_data (reply, &len) : "";
    fprintf (stderr, "bench-loadgen: login as %s: %u %.*s%s\n", username, status, (int) MIN (len, 300), text,
             err ? err->message : "");
    return FALSE;
  }
  const char *cookies = soup_message_headers_get_list (soup_message_get_response_headers (msg), "Set-Cookie");
  g_auto (GStrv) parts = g_strsplit (cookies ? cookies : "", ";", -1);
  for (char **p = parts; *p; p++) {
    const char *c = *p + strspn (*p, " ,");
    if (g_str_has_prefix (c, "kanyan_session=") && c[strlen ("kanyan_session=")]) {
      lg.cookie = g_strdup (c);
      return TRUE;
    }
  }
  fprintf (stderr, "bench-loadgen: login as %s: no kanyan_session cookie in the answer\n", username);
  return FALSE;
}

/* The wall-clock watchdog: a thread of its own, so that it fires even when the main loop
 * is stuck (a blocking GStreamer call, a deadlock): the step can never hang the bench. */
static gpointer
watchdog_thread (gpointer data)
{
  g_usleep ((gulong) GPOINTER_TO_UINT (data) * G_USEC_PER_SEC);
  printf ("RESULT watchdog=%u ok=0\n", GPOINTER_TO_UINT (data));
  fflush (stdout);
  fprintf (stderr, "bench-loadgen: watchdog: still running after %u s, giving up\n", GPOINTER_TO_UINT (data));
  _Exit (3);
}

int
main (int argc, char **argv)
{
  gint reviewers = 2;
  char *base = NULL, *ice = NULL;
  GOptionEntry entries[] = {
    { "base", 0, 0, G_OPTION_ARG_STRING, &base, "Server base URL, e.g. http://127.0.0.1:18443", "URL" },
    { "cases", 0, 0, G_OPTION_ARG_FILENAME, &opt.cases_file, "`kanyan case add --json` lines", "FILE" },
    { "clip", 0, 0, G_OPTION_ARG_FILENAME, &opt.clip_path, "Pre-encoded H.264 + Opus Matroska clip", "FILE" },
    { "reviewers", 0, 0, G_OPTION_ARG_INT, &reviewers, "Reviewers per inspection (2)", "N" },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &opt.seconds, "Length of the step (20)", "S" },
    { "warmup", 0, 0, G_OPTION_ARG_DOUBLE, &opt.warmup, "Measure from S on (40 % of --seconds)", "S" },
    { "server-pid", 0, 0, G_OPTION_ARG_INT, &opt.server_pid, "The server process to sample", "PID" },
    { "idle-rss-kb", 0, 0, G_OPTION_ARG_INT, &opt.idle_rss_kb, "The idle server's VmRSS", "KB" },
    { "idle-threads", 0, 0, G_OPTION_ARG_INT, &opt.idle_threads, "The idle server's threads", "N" },
    { "ice-address", 0, 0, G_OPTION_ARG_STRING, &ice, "The only local address ICE uses", "ADDR" },
    { "header", 0, 0, G_OPTION_ARG_NONE, &opt.header, "Print the table header first", NULL },
    { "username", 0, 0, G_OPTION_ARG_STRING, &opt.username, "Log the reviewers in as this account", "NAME" },
    { "password", 0, 0, G_OPTION_ARG_STRING, &opt.password, "Its password", "PASSWORD" },
    { "watchdog", 0, 0, G_OPTION_ARG_INT, &opt.watchdog, "Exit 3 after S seconds whatever happens (--seconds + 30)", "S" },
    { "http-timeout", 0, 0, G_OPTION_ARG_INT, &opt.http_timeout, "Bound on each HTTP request and WebSocket handshake (10)", "S" },
    { "janus", 0, 0, G_OPTION_ARG_NONE, &lg.janus, "--base is Janus's HTTP API (…/janus): VideoRoom, not Kanyan", NULL },
    { "floor", 0, 0, G_OPTION_ARG_NONE, &lg.floor, "--base is bench-floor (bench/floor.c), not Kanyan", NULL },
    { "inspections", 0, 0, G_OPTION_ARG_INT, &opt.inspections, "With --janus or --floor: how many inspections", "N" },
    { "janus-rec-dir", 0, 0, G_OPTION_ARG_FILENAME, &lg.janus_rec_dir, "With --janus: where the rooms record", "DIR" },
    { "label", 0, 0, G_OPTION_ARG_STRING, &opt.label, "A first column naming the server", "NAME" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  GOptionContext *ctx = g_option_context_new ("- one Kanyan benchmark step");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  GError *err = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &err) || !base || !(lg.janus || lg.floor ? opt.inspections > 0 : !!opt.cases_file) ||
      !opt.clip_path || reviewers < 0 || opt.seconds < 2) {
    fprintf (stderr, "bench-loadgen: %s\n", err ? err->message
             : "--base, --clip and --cases (--inspections with --janus or --floor) are required");
    return 2;
  }
  g_option_context_free (ctx);
  if (!opt.watchdog)
    opt.watchdog = opt.seconds + 30;
  g_thread_unref (g_thread_new ("watchdog", watchdog_thread, GUINT_TO_POINTER ((guint) opt.watchdog)));
  lg.base = base;
  lg.ice_address = ice;
  lg.reviewers = (guint) reviewers;
  lg.pubs = g_ptr_array_new ();
  lg.loop = g_main_loop_new (NULL, FALSE);
  /* every request and WebSocket handshake is bounded (seconds) */
  lg.http = soup_session_new_with_options ("max-conns", 1000, "max-conns-per-host", 1000, "timeout", opt.http_timeout,
                                           "idle-timeout", 30, NULL);
  soup_session_set_proxy_resolver (lg.http, NULL);   /* a local server: never a proxy */
  if (opt.warmup < 0)
    opt.warmup = opt.seconds * 0.4;

  if (!clip_load (&lg.clip, opt.clip_path, &err)) {
    fprintf (stderr, "bench-loadgen: %s: %s\n", opt.clip_path, err->message);
    return 1;
  }
  gboolean anchor = lg.janus || lg.floor;
  GPtrArray *cases = anchor ? g_ptr_array_new () : read_cases (opt.cases_file);
  for (gint i = 0; anchor && i < opt.inspections; i++) {   /* an anchor: one room each, no case */
    CaseArg *c = g_new0 (CaseArg, 1);
    c->ref = g_strdup_printf ("%s%d-%d", lg.janus ? "J" : "F", opt.inspections, i + 1);
    c->token = g_strdup ("");
    c->index = (guint) i;
    g_ptr_array_add (cases, c);
  }
  if (!cases->len) {
    fprintf (stderr, "bench-loadgen: no case in %s\n", opt.cases_file);
    return 2;
  }
  if (lg.janus)
    janus_init ();
  else if (!lg.floor && !wait_health ()) {
    fprintf (stderr, "bench-loadgen: %s does not answer /api/health\n", lg.base);
    return 1;
  }
  if (!anchor && opt.username && !login (opt.username, opt.password ? opt.password : ""))
    return 1;
  for (guint i = 0; i < cases->len; i++)
    g_timeout_add (40 * i, start_publisher, g_ptr_array_index (cases, i));
  g_timeout_add_full (G_PRIORITY_HIGH, 5, pace_all, NULL, NULL);
  g_timeout_add ((guint) (opt.warmup * 1000), window_start, NULL);
  g_timeout_add ((guint) (opt.seconds * 1000), window_end, NULL);
  g_main_loop_run (lg.loop);

  /* leave politely, give the messages a moment, and do not wait for webrtcbin teardown */
  for (guint i = 0; i < lg.pubs->len; i++) {
    Pub *pub = g_ptr_array_index (lg.pubs, i);
    for (guint r = 0; r < pub->revs->len; r++)
      rev_leave (g_ptr_array_index (pub->revs, r));
    pub_delete (pub);
  }
  for (gint64 until = g_get_monotonic_time () + 500000; g_get_monotonic_time () < until;)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (5000);
  fflush (stdout);
  _Exit (exit_code);
}

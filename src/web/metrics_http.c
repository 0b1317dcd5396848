/* metrics_http.c — GET /metrics: the Prometheus text exposition format (version 0.0.4) of the
 * registry (core/metrics.c), the process (core/process_metrics.c) and what is read at scrape
 * time: open live inspections and their participants by role (live/room_metrics.c), the audit
 * chain's length (store), free space on the recordings volume (statvfs). With [metrics] token
 * set it wants "Authorization: Bearer TOKEN" (else 401 metrics_token); with [metrics] bind set it
 * answers only on that listener (http_listen_extra) and 404 on the public one. Labels are
 * fixed words (role, direction, route, status, outcome …), never a case reference or a peer.
 * Main loop; reads, changes nothing (docs/metrics.md lists every family). */
#include "web/metrics_http.h"
#include "web/http_auth.h"
#include "core/metrics.h"
#include "core/process_metrics.h"
#include "core/errors.h"
#include "live/room_metrics.h"
#include "store/store_audit.h"
#include <sys/statvfs.h>

/* the request's bearer token against [metrics] token, compared in time independent of where
 * they differ (their SHA-256s, byte by byte) */
static gboolean
token_matches (HttpExchange *ex, const gchar *token)
{
  const gchar *bearer = http_exchange_bearer (ex);
  if (!bearer)
    return FALSE;
  g_autofree gchar *given = g_compute_checksum_for_string (G_CHECKSUM_SHA256, bearer, -1);
  g_autofree gchar *wanted = g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
  guchar diff = 0;
  for (gsize i = 0; given[i] && wanted[i]; i++)
    diff |= (guchar) (given[i] ^ wanted[i]);
  return diff == 0;
}

static void
render_scrape_time (KanyanApp *app, GString *out)
{
  RoomCounts rooms;
  room_metrics_count (app, &rooms);
  metrics_text_family (out, "kanyan_live_inspections", "gauge",
                       "Live inspections open (a room exists: media flowing, awaited, or lingering after a drop).");
  metrics_text_sample (out, "kanyan_live_inspections", rooms.live_inspections, NULL);
  metrics_text_family (out, "kanyan_live_inspections_media_flowing", "gauge",
                       "Live inspections whose applicant's media is flowing now.");
  metrics_text_sample (out, "kanyan_live_inspections_media_flowing", rooms.media_flowing, NULL);
  metrics_text_family (out, "kanyan_peers", "gauge", "Participants in live inspections, by role.");
  metrics_text_sample (out, "kanyan_peers", rooms.applicants, "role", "applicant", NULL);
  metrics_text_sample (out, "kanyan_peers", rooms.reviewers, "role", "reviewer", NULL);
  metrics_text_sample (out, "kanyan_peers", rooms.watchers, "role", "watcher", NULL);
  gint64 audit = store_audit_length (app->db);
  if (audit >= 0) {
    metrics_text_family (out, "kanyan_audit_chain_length", "gauge", "Entries in the hash-chained audit log.");
    metrics_text_sample (out, "kanyan_audit_chain_length", (gdouble) audit, NULL);
  }
  struct statvfs fs;
  if (statvfs (app->config->recordings_dir, &fs) == 0) {
    metrics_text_family (out, "kanyan_recordings_volume_free_bytes", "gauge",
                         "Bytes free (for an unprivileged process) on the recordings volume.");
    metrics_text_sample (out, "kanyan_recordings_volume_free_bytes", (gdouble) fs.f_bavail * fs.f_frsize, NULL);
    metrics_text_family (out, "kanyan_recordings_volume_size_bytes", "gauge", "Size of the recordings volume in bytes.");
    metrics_text_sample (out, "kanyan_recordings_volume_size_bytes", (gdouble) fs.f_blocks * fs.f_frsize, NULL);
  }
}

void
metrics_http_handle (KanyanApp *app, HttpExchange *ex)
{
  KanyanConfig *cfg = app->config;
  if (cfg->metrics_bind && !http_exchange_on_extra_listener (ex)) {   /* served on its own listener only */
    http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such resource");
    return;
  }
  const gchar *method = http_exchange_method (ex);
  if (g_strcmp0 (method, "GET") != 0 && g_strcmp0 (method, "HEAD") != 0) {
    http_exchange_add_header (ex, "allow", "GET, HEAD");
    http_exchange_respond_code (ex, KANYAN_ERROR_METHOD_NOT_ALLOWED, "GET /metrics only");
    return;
  }
  if (cfg->metrics_token && !token_matches (ex, cfg->metrics_token)) {
    http_exchange_add_header (ex, "www-authenticate", "Bearer");
    http_exchange_respond_code (ex, KANYAN_ERROR_METRICS_TOKEN,
                                "send the [metrics] token as \"Authorization: Bearer TOKEN\"");
    return;
  }
  GString *out = g_string_sized_new (16384);
  render_scrape_time (app, out);
  metrics_render (out);
  process_metrics_render (out);
  gsize len = out->len;
  g_autoptr (GBytes) body = g_bytes_new_take (g_string_free (out, FALSE), len);
  http_exchange_respond (ex, 200, "text/plain; version=0.0.4; charset=utf-8", body);
}

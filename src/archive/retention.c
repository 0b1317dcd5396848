/* retention.c — the retention period: media (recording archives, any unfinalized source, evidence
 * stills) of a case whose final decision is older than [archive] retention_days is deleted.
 * Rows and hashes stay, so the audit chain and the case's history still verify; each deletion
 * is itself an audit entry. Never touches live rooms (a decided case has none) or the log. */
#include "archive/retention.h"
#include "archive/archive.h"
#include "review/audit.h"
#include "store/db.h"
#include <glib/gstdio.h>

#define DAY_MS ((gint64) 24 * 3600 * 1000)

guint
retention_purge (sqlite3 *db, const KanyanConfig *cfg, const gchar *actor, gboolean dry_run,
                 void (*report) (const gchar *kind, const gchar *case_ref, const gchar *path, gpointer data),
                 gpointer data)
{
  if (cfg->retention_days <= 0)
    return 0;   /* keep forever */
  g_autoptr (GPtrArray) rows = store_media_decided_before (db, db_now_ms () - cfg->retention_days * DAY_MS);
  guint purged = 0;
  for (guint i = 0; i < rows->len; i++) {
    PurgeRow *r = g_ptr_array_index (rows, i);
    if (report)
      report (r->kind, r->case_ref, r->path, data);
    if (dry_run) {
      purged++;
      continue;
    }
    gboolean gone = g_unlink (r->path) == 0 || !g_file_test (r->path, G_FILE_TEST_EXISTS);
    for (gint p = ARCHIVE_PART_VIDEO + 1; gone && g_str_has_suffix (r->path, ".mkv") && p < ARCHIVE_PART_COUNT; p++) {
      g_autofree gchar *part = archive_part_path (r->path, p);   /* a source never archived: the parts beside it */
      g_unlink (part);
    }
    if (!gone) {
      g_warning ("retention: cannot delete %s", r->path);
      continue;
    }
    store_media_mark_purged (db, r->kind, r->id);
    g_autofree gchar *id = g_strdup_printf ("%" G_GINT64_FORMAT, r->id);
    g_autofree gchar *days = g_strdup_printf ("%d", cfg->retention_days);
    audit_note (db, actor, "media.purged", r->case_ref, "kind", r->kind, "id", id, "path", r->path, "sha256", r->sha256,
                "retention_days", days, NULL);
    purged++;
  }
  return purged;
}

/* main loop */
static gboolean
on_retention_timer (gpointer data)
{
  KanyanApp *app = data;
  guint n = retention_purge (app->db, app->config, "retention", FALSE, NULL, NULL);
  if (n)
    g_message ("retention: deleted %u media file(s) past %d days after their decision", n, app->config->retention_days);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_retention_first (gpointer data)
{
  KanyanApp *app = data;
  on_retention_timer (app);
  g_timeout_add_seconds (24 * 3600, on_retention_timer, app);
  return G_SOURCE_REMOVE;
}

guint
retention_schedule (KanyanApp *app)
{
  return g_timeout_add_seconds (60, on_retention_first, app);
}

/* recordings.c — hands closed segments to archive.c on a worker thread and stores what it
 * reports (archive path, SHA-256, duration, salvaged, empty or failed, and from its shift the
 * wall-clock time of the archive's 0). Never touches live media. */
#include "archive/recordings.h"
#include "archive/archive.h"
#include "store/db.h"
#include "review/audit.h"
#include "core/metrics.h"
#include <sys/statvfs.h>

typedef struct {
  KanyanApp *app;
  gint64     recording_id;
  gchar     *path;
  gchar     *case_ref;
} Finalizing;

/* main loop */
static void
on_finalized (GObject *source, GAsyncResult *result, gpointer data)
{
  Finalizing *f = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (ArchiveResult) r = archive_finalize_finish (result, &error);
  metrics_segment (!r ? METRIC_SEGMENT_FAILED : r->empty ? METRIC_SEGMENT_EMPTY
                   : r->salvaged ? METRIC_SEGMENT_SALVAGED : METRIC_SEGMENT_ARCHIVED);
  if (r && r->empty) {   /* closed before any media reached it: nothing to archive or to play */
    store_recording_empty (f->app->db, f->recording_id);
    audit_note (f->app->db, "server", "recording.empty", f->case_ref, "source", f->path, NULL);
    g_info ("recording %" G_GINT64_FORMAT " held no media: nothing archived", f->recording_id);
  } else if (r) {
    store_recording_archived (f->app->db, f->recording_id, r->archive_path, r->sha256, r->bytes,
                              r->duration_ms, r->salvaged);
    store_recording_media_start (f->app->db, f->recording_id, r->shift_us, r->shift_known);
    g_autofree gchar *duration = g_strdup_printf ("%" G_GINT64_FORMAT, r->duration_ms);
    audit_note (f->app->db, "server", "recording.archived", f->case_ref, "source", f->path,
                "archive", r->archive_path, "sha256", r->sha256, "duration_ms", duration,
                "salvaged", r->salvaged ? "true" : "false", NULL);
    g_info ("recording %" G_GINT64_FORMAT " archived%s: %s (%" G_GINT64_FORMAT " ms, sha256 %s)",
            f->recording_id, r->salvaged ? " (salvaged)" : "", r->archive_path, r->duration_ms, r->sha256);
  } else {
    store_recording_archive_failed (f->app->db, f->recording_id, error->message);
    audit_note (f->app->db, "server", "recording.archive_failed", f->case_ref, "source", f->path,
                "error", error->message, NULL);
    g_warning ("recording %" G_GINT64_FORMAT " not archived: %s", f->recording_id, error->message);
  }
  f->app->pending_archives--;
  g_free (f->path);
  g_free (f->case_ref);
  g_free (f);
}

void
recordings_finalize (KanyanApp *app, gint64 recording_id, const gchar *path)
{
  Finalizing *f = g_new0 (Finalizing, 1);
  f->app = app;
  f->recording_id = recording_id;
  f->path = g_strdup (path);
  f->case_ref = store_recording_case_ref (app->db, recording_id);
  app->pending_archives++;
  archive_finalize_async (path, on_finalized, f);
}

void
recordings_finalize_leftovers (KanyanApp *app)
{
  g_autoptr (GPtrArray) rows = store_recordings_unarchived (app->db);
  for (guint i = 0; i < rows->len; i++) {
    gchar **row = g_ptr_array_index (rows, i);
    recordings_finalize (app, g_ascii_strtoll (row[0], NULL, 10), row[1]);
  }
}

gboolean
recordings_busy (KanyanApp *app)
{
  return app->pending_archives > 0;
}

gint64
recordings_free_mb (const KanyanConfig *cfg)
{
  struct statvfs fs;
  if (statvfs (cfg->recordings_dir, &fs) != 0)
    return G_MAXINT64;
  return (gint64) ((guint64) fs.f_bavail * fs.f_frsize / (1024 * 1024));
}

gboolean
recordings_check_space (const KanyanConfig *cfg)
{
  gint64 free_mb = recordings_free_mb (cfg);
  if (free_mb >= MAX (cfg->min_free_mb, 1))
    return TRUE;
  g_warning ("the recordings volume (%s) has %" G_GINT64_FORMAT " MiB free, under its floor of %d MiB "
             "([archive] min_free_mb): nothing will be recorded until space is freed; live inspections work, "
             "and reviewers and administrators see the alert", cfg->recordings_dir, free_mb, cfg->min_free_mb);
  return FALSE;
}

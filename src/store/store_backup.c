/* store_backup.c — SQL for backup and restore: the online backup API, the list of media files
 * a database refers to, and the path rewrite of a restored copy (store_backup.h). Knows
 * nothing of manifests or of hashing files; archive/backup.c does that. */
#include "store/store_backup.h"
#include "store/db.h"
#include "core/errors.h"
#include <glib/gstdio.h>

#define BUSY_TRIES 100

gboolean
store_backup_copy (sqlite3 *src, const gchar *dest_path, GError **error)
{
  if (g_file_test (dest_path, G_FILE_TEST_EXISTS)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "%s exists already", dest_path);
    return FALSE;
  }
  sqlite3 *dest = NULL;
  if (sqlite3_open_v2 (dest_path, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot create %s: %s", dest_path,
                 dest ? sqlite3_errmsg (dest) : "out of memory");
    sqlite3_close (dest);
    return FALSE;
  }
  sqlite3_backup *b = sqlite3_backup_init (dest, "main", src, "main");
  if (!b) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "database backup: %s", sqlite3_errmsg (dest));
    sqlite3_close (dest);
    g_unlink (dest_path);
    return FALSE;
  }
  /* every page in one step: one read transaction on the source, so one consistent moment (in
   * WAL mode it blocks no writer; copying in slices would start over whenever another
   * connection writes, which a live inspection does several times a second). BUSY only while
   * a checkpoint or recovery holds the database: try again. */
  gint rc, tries = 0;
  while ((rc = sqlite3_backup_step (b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    if (++tries > BUSY_TRIES)
      break;
    g_usleep (100 * 1000);
  }
  sqlite3_backup_finish (b);
  gboolean ok = rc == SQLITE_DONE;
  if (!ok)
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "database backup: %s", sqlite3_errstr (rc));
  /* the copy as one self-contained file: reading it (a restore's checks, from a read-only medium
   * too) then makes no -wal or -shm beside it; a restored server turns WAL on again (db_open) */
  else
    ok = db_exec (dest, "PRAGMA journal_mode = DELETE", error);
  if (sqlite3_close (dest) != SQLITE_OK && ok) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "database backup: cannot close %s", dest_path);
    ok = FALSE;
  }
  if (!ok)
    g_unlink (dest_path);
  return ok;
}

gboolean
store_backup_quick_check (sqlite3 *db, GError **error)
{
  sqlite3_stmt *st = NULL;
  g_autofree gchar *problem = NULL;
  if (sqlite3_prepare_v2 (db, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK || sqlite3_step (st) != SQLITE_ROW)
    problem = g_strdup (sqlite3_errmsg (db));
  else if (g_strcmp0 ((const gchar *) sqlite3_column_text (st, 0), "ok") != 0)
    problem = db_column_dup (st, 0, "?");
  sqlite3_finalize (st);
  if (problem)
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the database copy is damaged: %s", problem);
  return problem == NULL;
}

void
backup_media_row_free (BackupMediaRow *row)
{
  g_free (row->kind);
  g_free (row->path);
  g_free (row->sha256);
  g_free (row);
}

/* kind, id, path, sha256 of every kept file. A segment is a source not archived: still being
 * written, waiting for its finalizer, or left by a failed one (a full disk) for another try. */
#define MEDIA_SQL \
  "SELECT 'recording', id, archive_path, archive_sha256 FROM recordings WHERE archive_sha256 IS NOT NULL " \
  "  AND archive_path IS NOT NULL AND purged_at IS NULL " \
  "UNION ALL SELECT 'segment', id, path, NULL FROM recordings " \
  "  WHERE (archive_state IS NULL OR archive_state = 'failed') AND purged_at IS NULL " \
  "UNION ALL SELECT 'still', id, path, sha256 FROM stills WHERE purged_at IS NULL"

GPtrArray *
store_backup_media (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) backup_media_row_free);
  if (sqlite3_prepare_v2 (db, MEDIA_SQL, -1, &st, NULL) == SQLITE_OK)
    while (sqlite3_step (st) == SQLITE_ROW) {
      BackupMediaRow *row = g_new0 (BackupMediaRow, 1);
      row->kind = db_column_dup (st, 0, "");
      row->id = sqlite3_column_int64 (st, 1);
      row->path = db_column_dup (st, 2, "");
      row->sha256 = db_column_dup (st, 3, NULL);
      g_ptr_array_add (rows, row);
    }
  sqlite3_finalize (st);
  return rows;
}

gboolean
store_backup_relocate (sqlite3 *db, const gchar *old_root, const gchar *new_root, GError **error)
{
  static const gchar *const updates[] = {
    "UPDATE recordings SET path = ?2 || substr (path, length (?1) + 1) WHERE substr (path, 1, length (?1) + 1) = ?1 || '/'",
    "UPDATE recordings SET archive_path = ?2 || substr (archive_path, length (?1) + 1) "
    "  WHERE substr (archive_path, 1, length (?1) + 1) = ?1 || '/'",
    "UPDATE stills SET path = ?2 || substr (path, length (?1) + 1) WHERE substr (path, 1, length (?1) + 1) = ?1 || '/'",
  };
  if (!db_exec (db, "BEGIN IMMEDIATE", error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (updates); i++) {
    sqlite3_stmt *st = NULL;
    gint rc = sqlite3_prepare_v2 (db, updates[i], -1, &st, NULL);
    if (rc == SQLITE_OK) {
      sqlite3_bind_text (st, 1, old_root, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 2, new_root, -1, SQLITE_TRANSIENT);
      rc = sqlite3_step (st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize (st);
    if (rc != SQLITE_OK) {
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "moving the file paths: %s", sqlite3_errmsg (db));
      db_exec (db, "ROLLBACK", NULL);
      return FALSE;
    }
  }
  return db_exec (db, "COMMIT", error);
}

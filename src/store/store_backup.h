/* store_backup.h — the SQL side of backup and restore (archive/backup.c): SQLite's online
 * backup API copying a live database into a file, the media files a copy refers to, the quick
 * check of a copy, and moving a restored copy's file paths to another recordings root. Never
 * touches a file other than the database copies it is given. */
#pragma once
#include <glib.h>
#include <sqlite3.h>

/* Copies the database src (any connection; a server may be writing through others) into a new
 * file dest_path with sqlite3_backup_*: one read transaction, so the copy is one consistent
 * moment and writers in WAL mode go on meanwhile. dest_path must not exist. */
gboolean store_backup_copy (sqlite3 *src, const gchar *dest_path, GError **error);
/* PRAGMA quick_check on a copy: FALSE (and error naming the first problem) when damaged */
gboolean store_backup_quick_check (sqlite3 *db, GError **error);

/* one media file a database refers to */
typedef struct {
  gchar  *kind;        /* "recording": a finished archive; "segment": a recording's source not
                        * archived (yet; still being written during a live inspection), which has
                        * no hash in the database; "still": an evidence still */
  gint64  id;
  gchar  *path;        /* as the database has it */
  gchar  *sha256;      /* as the database has it; NULL for a segment */
} BackupMediaRow;
void       backup_media_row_free (BackupMediaRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupMediaRow, backup_media_row_free)
/* every file still kept (not purged): archives with their hash, unarchived segments, stills */
GPtrArray *store_backup_media (sqlite3 *db);   /* of BackupMediaRow* */
/* Rewrites every recording, archive and still path that begins with old_root + "/" to begin
 * with new_root instead (a restore into another recordings directory); one transaction. */
gboolean   store_backup_relocate (sqlite3 *db, const gchar *old_root, const gchar *new_root, GError **error);

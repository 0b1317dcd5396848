/* backup.h — `kanyan backup` and `kanyan restore`: a consistent online copy of the database,
 * the media files it refers to and the data directory's keys, described by a manifest of
 * SHA-256 hashes; and putting such a copy back, checked file by file (docs/deploy.md). */
#pragma once
#include "app/app.h"

typedef struct {
  guint  files;        /* media files and keys copied (the database not counted) */
  guint  segments;     /* of which recording sources not archived yet (a live inspection's) */
  gint64 bytes;        /* copied, the database included */
  gint64 audit_entries;   /* restore: the restored audit chain's length, verified */
} BackupSummary;

/* Copies cfg's database (through SQLite's online backup API: a server may be running and
 * writing), then every kept archive, unarchived segment and still, and the keys of the data
 * directory, into out_dir (created mode 0700; it must be new or empty), and writes
 * out_dir/manifest.json last. Each archive and still is checked against the hash the database
 * holds for it while it is copied. */
gboolean backup_create (const KanyanConfig *cfg, const gchar *out_dir, BackupSummary *summary, GError **error);

/* Checks the backup in from_dir (the manifest's format, the database copy's hash and its
 * quick_check, every file's hash, and that each archive's and still's hash is the one the
 * database copy holds and none is left out) before writing anything; then fills cfg's data and
 * recordings directories, which must be empty (or missing) unless force, moves the copy's file
 * paths to cfg's recordings directory, verifies the audit chain and appends "backup.restored". */
gboolean backup_restore (const KanyanConfig *cfg, const gchar *from_dir, gboolean force, BackupSummary *summary,
                         GError **error);

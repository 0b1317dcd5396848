/* backup.c — backup and restore (backup.h). A backup directory holds kanyan.db (a copy made by
 * SQLite's online backup API, store_backup.c), recordings/ (the kept archives, stills and
 * unarchived segments, at their places under the recordings root), data/ (the signing key and
 * the TLS certificate and key) and manifest.json, written last: every file with its SHA-256
 * (GLib's GChecksum, computed while copying). The database is copied first; the files are
 * those that copy refers to, so the manifest describes one consistent moment. Restore checks
 * everything before it writes anything. Runs in the `kanyan` command, never in the server; it
 * writes only into the backup directory (backup) or the target directories (restore). */
#include "archive/backup.h"
#include "archive/archive.h"
#include "store/db.h"
#include "store/store_backup.h"
#include "review/audit.h"
#include "core/errors.h"
#include "core/json_out.h"
#include <json-glib/json-glib.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MANIFEST    "manifest.json"
#define FORMAT      "kanyan-backup"
#define VERSION     1
#define DB_FILE     "kanyan.db"
#define CHUNK       (1024 * 1024)
#define BUSY_ATTEMPTS 5

/* the data directory's files a server cannot do without once it has made them */
static const gchar *const key_files[] = { "signing.key", "tls-cert.pem", "tls-key.pem" };

/* ---- files ------------------------------------------------------------------------------ */

/* TRUE when path is missing or an empty directory; FALSE (error saying why) otherwise */
static gboolean
dir_empty (const gchar *path, const gchar *what, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  g_autoptr (GError) local = NULL;
  g_autoptr (GDir) dir = g_dir_open (path, 0, &local);
  if (!dir) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "%s %s is not a directory one can read: %s", what, path,
                 local->message);
    return FALSE;
  }
  const gchar *name = g_dir_read_name (dir);
  if (name) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "%s %s is not empty (it holds %s)", what, path, name);
    return FALSE;
  }
  return TRUE;
}

/* Copies src to dest (made, with its parents, mode 0600; replaced only when replace) and
 * returns the SHA-256 of the bytes copied; NULL and error when something fails. */
static gchar *
copy_hashed (const gchar *src, const gchar *dest, gboolean replace, gint64 *bytes, GError **error)
{
  g_autofree gchar *parent = g_path_get_dirname (dest);
  if (g_mkdir_with_parents (parent, 0700) != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot create %s: %s", parent, g_strerror (errno));
    return NULL;
  }
  gint in = g_open (src, O_RDONLY | O_CLOEXEC, 0);
  if (in < 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "cannot read %s: %s", src, g_strerror (errno));
    return NULL;
  }
  gint out = g_open (dest, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (replace ? O_TRUNC : O_EXCL), 0600);
  if (out < 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot write %s: %s", dest, g_strerror (errno));
    close (in);
    return NULL;
  }
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *buf = g_malloc (CHUNK);
  gint64 total = 0;
  const gchar *failed = NULL;
  gint err = 0;
  for (;;) {
    gssize n = read (in, buf, CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      failed = src, err = errno;
      break;
    }
    if (n == 0)
      break;
    g_checksum_update (sum, buf, n);
    for (gssize done = 0; done < n;) {
      gssize w = write (out, buf + done, n - done);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0) {
        failed = dest, err = errno;
        break;
      }
      done += w;
    }
    if (failed)
      break;
    total += n;
  }
  if (!failed && fsync (out) != 0)
    failed = dest, err = errno;
  close (in);
  if (close (out) != 0 && !failed)
    failed = dest, err = errno;
  if (failed) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "copying %s: %s: %s", src, failed, g_strerror (err));
    g_unlink (dest);
    return NULL;
  }
  if (bytes)
    *bytes = total;
  return g_strdup (g_checksum_get_string (sum));
}

/* everything inside dir (a backup directory this run filled, after a try that must start over) */
static void
remove_contents (const gchar *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *name;
  while (d && (name = g_dir_read_name (d))) {
    g_autofree gchar *path = g_build_filename (dir, name, NULL);
    if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK)) {
      remove_contents (path);
      g_rmdir (path);
    } else {
      g_unlink (path);
    }
  }
}

/* root without its trailing slashes */
static gchar *
trim_root (const gchar *root)
{
  gchar *r = g_strdup (root);
  for (gsize n = strlen (r); n > 1 && r[n - 1] == '/'; n--)
    r[n - 1] = '\0';
  return r;
}

static gboolean
safe_relative (const gchar *rel)
{
  if (!rel || !*rel || g_path_is_absolute (rel))
    return FALSE;
  g_auto (GStrv) parts = g_strsplit (rel, "/", -1);
  for (gchar **p = parts; *p; p++)
    if (!**p || g_strcmp0 (*p, ".") == 0 || g_strcmp0 (*p, "..") == 0)
      return FALSE;
  return TRUE;
}

/* A database path's place under the recordings root: the path relative to it, and the root as
 * the database spells it (*prefix), which may differ from root (relative, through a symbolic
 * link). NULL when the file is not under the root. */
static gchar *
place_under_root (const gchar *root, const gchar *real_root, const gchar *path, gchar **prefix)
{
  gsize n = strlen (root);
  if (g_str_has_prefix (path, root) && path[n] == '/' && safe_relative (path + n + 1)) {
    *prefix = g_strdup (root);
    return g_strdup (path + n + 1);
  }
  g_autofree gchar *real = realpath (path, NULL);
  gsize m = real_root ? strlen (real_root) : 0;
  if (!real || !real_root || strncmp (real, real_root, m) != 0 || real[m] != '/')
    return NULL;
  const gchar *rel = real + m + 1;
  gsize pl = strlen (path), rl = strlen (rel);
  if (pl <= rl + 1 || strcmp (path + pl - rl, rel) != 0 || path[pl - rl - 1] != '/' || !safe_relative (rel))
    return NULL;
  *prefix = g_strndup (path, pl - rl - 1);
  return g_strdup (rel);
}

static void
add_entry (JsonBuilder *b, const gchar *kind, gint64 id, const gchar *path, const gchar *sha, gint64 bytes)
{
  json_builder_begin_object (b);
  json_out_str (b, "kind", kind);
  json_out_int (b, "id", id);
  json_out_str (b, "path", path);
  json_out_str (b, "sha256", sha);
  json_out_int (b, "bytes", bytes);
  json_builder_end_object (b);
}

/* ---- backup ----------------------------------------------------------------------------- */

/* Copies the media files the database copy refers to into out/recordings/, each entry added
 * to b; *root_prefix becomes the recordings root as the database spells it. */
static gboolean
copy_media (const KanyanConfig *cfg, sqlite3 *copy, const gchar *out, JsonBuilder *b, gchar **root_prefix,
            BackupSummary *s, GError **error)
{
  g_autofree gchar *root = trim_root (cfg->recordings_dir);
  g_autofree gchar *real_root = realpath (root, NULL);
  g_autoptr (GPtrArray) rows = store_backup_media (copy);
  for (guint i = 0; i < rows->len; i++) {
    BackupMediaRow *r = g_ptr_array_index (rows, i);
    gboolean segment = g_strcmp0 (r->kind, "segment") == 0;
    if (segment && !g_file_test (r->path, G_FILE_TEST_EXISTS)) {
      /* archived (or found empty) since the database was copied: the copy knows only the source,
       * which is gone, and not the archive. A new copy will know the archive. */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY, "segment %" G_GINT64_FORMAT " (%s) was archived while the "
                   "backup ran", r->id, r->path);
      return FALSE;
    }
    g_autofree gchar *prefix = NULL;
    g_autofree gchar *rel = place_under_root (root, real_root, r->path, &prefix);
    if (!rel) {
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "%s %" G_GINT64_FORMAT ": %s is not under the "
                   "recordings directory %s (give --recordings as the server has it)%s", r->kind, r->id, r->path, root,
                   g_file_test (r->path, G_FILE_TEST_EXISTS) ? "" : ", or the file is missing");
      return FALSE;
    }
    if (*root_prefix && g_strcmp0 (*root_prefix, prefix) != 0) {
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the database names the recordings directory both "
                   "%s and %s: a backup keeps one", *root_prefix, prefix);
      return FALSE;
    }
    if (!*root_prefix)
      *root_prefix = g_strdup (prefix);
    g_autofree gchar *entry = g_build_filename ("recordings", rel, NULL);
    g_autofree gchar *dest = g_build_filename (out, entry, NULL);
    gint64 bytes = 0;
    g_autofree gchar *sha = copy_hashed (r->path, dest, FALSE, &bytes, error);
    if (!sha)
      return FALSE;
    if (!segment && g_strcmp0 (sha, r->sha256) != 0) {
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "%s %" G_GINT64_FORMAT " (%s) does not match the "
                   "SHA-256 the database recorded for it (%s, the file has %s): it is damaged; "
                   "`kanyan audit` and the case's integrity check say more", r->kind, r->id, r->path, r->sha256, sha);
      return FALSE;
    }
    add_entry (b, r->kind, r->id, entry, sha, bytes);
    s->files++;
    s->segments += segment;
    s->bytes += bytes;
    for (gint p = ARCHIVE_PART_VIDEO + 1; segment && p < ARCHIVE_PART_COUNT; p++) {
      /* the segment's other tracks, in files beside it, go with it */
      g_autofree gchar *part = archive_part_path (r->path, p);
      if (!g_file_test (part, G_FILE_TEST_IS_REGULAR))
        continue;
      g_autofree gchar *part_entry = archive_part_path (entry, p);
      g_autofree gchar *part_dest = g_build_filename (out, part_entry, NULL);
      g_autofree gchar *part_sha = copy_hashed (part, part_dest, FALSE, &bytes, error);
      if (!part_sha)
        return FALSE;
      add_entry (b, r->kind, r->id, part_entry, part_sha, bytes);
      s->files++;
      s->bytes += bytes;
    }
  }
  if (!*root_prefix)
    *root_prefix = g_strdup (root);
  return TRUE;
}

static gboolean copy_all (const KanyanConfig *cfg, const gchar *db_path, const gchar *out_dir, BackupSummary *s,
                          GError **error);

gboolean
backup_create (const KanyanConfig *cfg, const gchar *out_dir, BackupSummary *summary, GError **error)
{
  BackupSummary s = { 0 };
  g_autofree gchar *db_path = g_build_filename (cfg->data_dir, DB_FILE, NULL);
  if (!g_file_test (db_path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "no database at %s (give --data-dir or --config "
                 "as the server has them)", db_path);
    return FALSE;
  }
  if (!dir_empty (out_dir, "the backup directory", error)) {
    g_prefix_error (error, "a backup goes into a new or empty directory: ");
    return FALSE;
  }
  if (g_mkdir_with_parents (out_dir, 0700) != 0 || g_chmod (out_dir, 0700) != 0 || access (out_dir, W_OK) != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot write to the backup directory %s: %s", out_dir,
                 g_strerror (errno));
    return FALSE;
  }
  /* a segment archived between the database copy and its file's copy: the whole copy again
   * (archiving takes seconds and segments end rarely, so a second try meets it finished) */
  gboolean done = FALSE;
  for (guint attempt = 1; !done; attempt++) {
    g_autoptr (GError) local = NULL;
    s = (BackupSummary) { 0 };
    done = copy_all (cfg, db_path, out_dir, &s, &local);
    if (!done && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_BUSY) && attempt < BUSY_ATTEMPTS) {
      g_message ("backup: %s; copying again", local->message);
      remove_contents (out_dir);
      g_usleep (G_USEC_PER_SEC);
      continue;
    }
    if (!done) {
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "no backup (%s holds an unfinished copy without "
                                  MANIFEST ": delete it): ", out_dir);
      return FALSE;
    }
  }
  if (summary)
    *summary = s;
  return TRUE;
}

/* the copy into out_dir (made, writable, empty); manifest.json last */
static gboolean
copy_all (const KanyanConfig *cfg, const gchar *db_path, const gchar *out_dir, BackupSummary *summary, GError **error)
{
  BackupSummary s = { 0 };
  /* the online copy, read-only on the source: no migration, no write on a running server's file */
  sqlite3 *live = db_open_readonly (db_path, error);
  if (!live)
    return FALSE;
  g_autofree gchar *db_copy = g_build_filename (out_dir, DB_FILE, NULL);
  gboolean copied = store_backup_copy (live, db_copy, error);
  db_close (live);
  if (!copied)
    return FALSE;
  g_chmod (db_copy, 0600);
  sqlite3 *copy = db_open_readonly (db_copy, error);
  if (!copy || !store_backup_quick_check (copy, error)) {
    db_close (copy);
    return FALSE;
  }
  gint schema = db_schema_version (copy);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_out_str (b, "format", FORMAT);
  json_out_int (b, "version", VERSION);
  json_out_str (b, "kanyan", KANYAN_VERSION);
  json_out_int (b, "created_at", db_now_ms ());
  json_out_int (b, "schema", schema);
  json_builder_set_member_name (b, "files");
  json_builder_begin_array (b);
  g_autofree gchar *root_prefix = NULL;
  gboolean ok = copy_media (cfg, copy, out_dir, b, &root_prefix, &s, error);
  db_close (copy);
  for (guint i = 0; ok && i < G_N_ELEMENTS (key_files); i++) {
    g_autofree gchar *src = g_build_filename (cfg->data_dir, key_files[i], NULL);
    if (!g_file_test (src, G_FILE_TEST_IS_REGULAR))
      continue;
    g_autofree gchar *entry = g_build_filename ("data", key_files[i], NULL);
    g_autofree gchar *dest = g_build_filename (out_dir, entry, NULL);
    gint64 bytes = 0;
    g_autofree gchar *sha = copy_hashed (src, dest, FALSE, &bytes, error);
    ok = sha != NULL;
    if (ok) {
      add_entry (b, "key", 0, entry, sha, bytes);
      s.files++;
      s.bytes += bytes;
    }
  }
  if (!ok)
    return FALSE;
  json_builder_end_array (b);
  json_out_str (b, "recordings_root", root_prefix);
  gint64 db_bytes = 0;
  g_autofree gchar *db_sha = archive_sha256_file (db_copy, &db_bytes, error);
  if (!db_sha)
    return FALSE;
  json_builder_set_member_name (b, "database");
  json_builder_begin_object (b);
  json_out_str (b, "path", DB_FILE);
  json_out_str (b, "sha256", db_sha);
  json_out_int (b, "bytes", db_bytes);
  json_builder_end_object (b);
  json_builder_end_object (b);
  s.bytes += db_bytes;
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *text = json_to_string (root, TRUE);
  g_autofree gchar *manifest = g_build_filename (out_dir, MANIFEST, NULL);
  if (!g_file_set_contents_full (manifest, text, -1, G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, error))
    return FALSE;
  if (summary)
    *summary = s;
  return TRUE;
}

/* ---- restore ---------------------------------------------------------------------------- */

static const gchar *
member_str (JsonObject *o, const gchar *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING ? json_node_get_string (n) : NULL;
}

static gint64
member_int (JsonObject *o, const gchar *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64 ? json_node_get_int (n) : -1;
}

static gboolean
bad_manifest (GError **error, const gchar *from_dir, const gchar *why)
{
  g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "%s/" MANIFEST " is not a valid kanyan backup "
               "manifest: %s", from_dir, why);
  return FALSE;
}

/* the file (relative to from_dir) hashes as the manifest says */
static gboolean
check_hash (const gchar *from_dir, const gchar *entry, const gchar *expected, GError **error)
{
  g_autofree gchar *path = g_build_filename (from_dir, entry, NULL);
  g_autoptr (GError) local = NULL;
  g_autofree gchar *sha = archive_sha256_file (path, NULL, &local);
  if (!sha) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "the backup is incomplete: %s is listed in the "
                 "manifest but cannot be read (%s)", entry, local->message);
    return FALSE;
  }
  if (g_strcmp0 (sha, expected) != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the backup is damaged: %s has SHA-256 %s, the "
                 "manifest says %s", entry, sha, expected);
    return FALSE;
  }
  return TRUE;
}

/* Everything about the backup, before anything is written: the manifest's form, the database
 * copy (hash, quick_check, schema), every file's hash, and each archive and still listed with
 * the hash the database copy holds for it, none left out. *files_out: the manifest's files. */
static gboolean
check_backup (const gchar *from_dir, JsonObject *m, JsonArray **files_out, GError **error)
{
  if (g_strcmp0 (member_str (m, "format"), FORMAT) != 0 || member_int (m, "version") != VERSION)
    return bad_manifest (error, from_dir, "its format is not " FORMAT " version 1");
  JsonObject *dbo = json_object_get_member (m, "database") && JSON_NODE_HOLDS_OBJECT (json_object_get_member (m, "database"))
                      ? json_object_get_object_member (m, "database") : NULL;
  JsonNode *fn = json_object_get_member (m, "files");
  if (!dbo || !member_str (dbo, "sha256") || !fn || !JSON_NODE_HOLDS_ARRAY (fn) || !member_str (m, "recordings_root"))
    return bad_manifest (error, from_dir, "database, files or recordings_root is missing");
  if (g_strcmp0 (member_str (dbo, "path"), DB_FILE) != 0)
    return bad_manifest (error, from_dir, "the database is not " DB_FILE);
  if (!check_hash (from_dir, DB_FILE, member_str (dbo, "sha256"), error))
    return FALSE;
  g_autofree gchar *db_copy = g_build_filename (from_dir, DB_FILE, NULL);
  sqlite3 *copy = db_open_readonly (db_copy, error);
  if (!copy || !store_backup_quick_check (copy, error)) {
    db_close (copy);
    return FALSE;
  }
  gint schema = db_schema_version (copy);
  g_autoptr (GPtrArray) rows = store_backup_media (copy);
  db_close (copy);
  if (schema > db_latest_version ()) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "the backup's database has schema %d, newer than "
                 "this kanyan's (%d): restore it with the version that made it", schema, db_latest_version ());
    return FALSE;
  }
  g_autoptr (GHashTable) held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < rows->len; i++) {
    BackupMediaRow *r = g_ptr_array_index (rows, i);
    if (r->sha256)
      g_hash_table_insert (held, g_strdup_printf ("%s %" G_GINT64_FORMAT, r->kind, r->id), r);
  }
  JsonArray *files = json_node_get_array (fn);
  for (guint i = 0; i < json_array_get_length (files); i++) {
    JsonNode *en = json_array_get_element (files, i);
    JsonObject *e = JSON_NODE_HOLDS_OBJECT (en) ? json_node_get_object (en) : NULL;
    const gchar *kind = member_str (e, "kind"), *path = member_str (e, "path"), *sha = member_str (e, "sha256");
    gboolean key = g_strcmp0 (kind, "key") == 0;
    gboolean media = g_strcmp0 (kind, "recording") == 0 || g_strcmp0 (kind, "still") == 0 ||
                     g_strcmp0 (kind, "segment") == 0;
    g_autofree gchar *what = g_strdup_printf ("file %u (%s)", i + 1, path ? path : "no path");
    if (!kind || !path || !sha || (!key && !media))
      return bad_manifest (error, from_dir, "a file lacks kind, path or sha256");
    if (!safe_relative (path) || !(key ? g_str_has_prefix (path, "data/") && !strchr (path + 5, '/')
                                       : g_str_has_prefix (path, "recordings/")))
      return bad_manifest (error, from_dir, "a file's path leads outside its place (data/ or recordings/)");
    if (!check_hash (from_dir, path, sha, error))
      return FALSE;
    if (key || g_strcmp0 (kind, "segment") == 0)
      continue;
    g_autofree gchar *k = g_strdup_printf ("%s %" G_GINT64_FORMAT, kind, member_int (e, "id"));
    BackupMediaRow *r = g_hash_table_lookup (held, k);
    if (!r || g_strcmp0 (r->sha256, sha) != 0) {
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the manifest does not match the backup's database: "
                   "%s is %s in the manifest, and the database holds %s for it", what, k,
                   r ? r->sha256 : "no such file");
      return FALSE;
    }
    g_hash_table_remove (held, k);
  }
  if (g_hash_table_size (held) > 0) {
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init (&it, held);
    g_hash_table_iter_next (&it, &k, &v);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the manifest leaves out %s (%s), which the backup's "
                 "database holds: the backup is incomplete", (gchar *) k, ((BackupMediaRow *) v)->path);
    return FALSE;
  }
  *files_out = files;
  return TRUE;
}

/* copies entry (relative to from_dir) to dest, and checks the copy's hash once more */
static gboolean
restore_file (const gchar *from_dir, const gchar *entry, const gchar *sha, const gchar *dest, gboolean force,
              BackupSummary *s, GError **error)
{
  g_autofree gchar *src = g_build_filename (from_dir, entry, NULL);
  gint64 bytes = 0;
  g_autofree gchar *got = copy_hashed (src, dest, force, &bytes, error);
  if (!got)
    return FALSE;
  if (g_strcmp0 (got, sha) != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "%s changed while it was restored (SHA-256 %s, the "
                 "manifest says %s)", entry, got, sha);
    return FALSE;
  }
  s->bytes += bytes;
  return TRUE;
}

gboolean
backup_restore (const KanyanConfig *cfg, const gchar *from_dir, gboolean force, BackupSummary *summary,
                GError **error)
{
  BackupSummary s = { 0 };
  g_autofree gchar *manifest = g_build_filename (from_dir, MANIFEST, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  if (!g_file_test (manifest, G_FILE_TEST_EXISTS)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "%s holds no " MANIFEST ": not a kanyan backup, "
                 "or one that did not finish", from_dir);
    return FALSE;
  }
  if (!json_parser_load_from_file (parser, manifest, &local) || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return bad_manifest (error, from_dir, local ? local->message : "not a JSON object");
  JsonObject *m = json_node_get_object (json_parser_get_root (parser));
  JsonArray *files = NULL;
  if (!check_backup (from_dir, m, &files, error))
    return FALSE;
  g_autoptr (GError) occupied = NULL;
  if (!force && (!dir_empty (cfg->data_dir, "the data directory", &occupied) ||
                 !dir_empty (cfg->recordings_dir, "the recordings directory", &occupied))) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "nothing restored: %s; restore into empty "
                 "directories, or pass --force to write over what is there", occupied->message);
    return FALSE;
  }
  g_autofree gchar *root = trim_root (cfg->recordings_dir);
  if (g_mkdir_with_parents (cfg->data_dir, 0750) != 0 || g_mkdir_with_parents (root, 0750) != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot create %s or %s: %s", cfg->data_dir, root,
                 g_strerror (errno));
    return FALSE;
  }
  /* a forced restore: the old database's write-ahead log must not be replayed into the copy */
  g_autofree gchar *db_path = g_build_filename (cfg->data_dir, DB_FILE, NULL);
  for (guint i = 0; i < 3; i++) {
    g_autofree gchar *p = g_strconcat (db_path, (const gchar *[]) { "", "-wal", "-shm" }[i], NULL);
    if (g_unlink (p) != 0 && errno != ENOENT) {
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot replace %s: %s", p, g_strerror (errno));
      return FALSE;
    }
  }
  JsonObject *dbo = json_object_get_object_member (m, "database");
  if (!restore_file (from_dir, DB_FILE, member_str (dbo, "sha256"), db_path, FALSE, &s, error))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (files); i++) {
    JsonObject *e = json_array_get_object_element (files, i);
    const gchar *path = member_str (e, "path");
    gboolean key = g_strcmp0 (member_str (e, "kind"), "key") == 0;
    g_autofree gchar *dest = key ? g_build_filename (cfg->data_dir, path + strlen ("data/"), NULL)
                                 : g_build_filename (root, path + strlen ("recordings/"), NULL);
    if (!restore_file (from_dir, path, member_str (e, "sha256"), dest, force, &s, error))
      return FALSE;
    s.files++;
    s.segments += g_strcmp0 (member_str (e, "kind"), "segment") == 0 &&
                  archive_part_of (path) == ARCHIVE_PART_VIDEO;   /* a segment once, not its other files */
  }
  /* the copy's paths name the old recordings root: they now name this one */
  sqlite3 *db = db_open (db_path, error);
  if (!db)
    return FALSE;
  gint64 bad = 0;
  gboolean ok = store_backup_relocate (db, member_str (m, "recordings_root"), root, error);
  g_autoptr (GError) chain = NULL;
  if (ok && !audit_verify (db, NULL, &bad, &s.audit_entries, &chain)) {
    if (chain)
      g_propagate_error (error, g_steal_pointer (&chain));
    else
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the restored audit chain is broken at entry %"
                   G_GINT64_FORMAT, bad);
    ok = FALSE;
  }
  if (ok) {
    g_autofree gchar *created = g_strdup_printf ("%" G_GINT64_FORMAT, member_int (m, "created_at"));
    audit_note (db, "cli", "backup.restored", "", "from", from_dir, "created_at", created, NULL);
    s.audit_entries++;
  }
  db_close (db);
  if (ok && summary)
    *summary = s;
  return ok;
}

/* audit.c — SQL and hashing of the audit chain (table audit_log). A row's hash is the
 * SHA-256 of its canonical content: id, time, actor, action, case and detail, each
 * length-prefixed so no two contents collide, followed by the previous row's hash. */
#include "review/audit.h"
#include "store/db.h"
#include "core/errors.h"
#include <json-glib/json-glib.h>

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

static void
put_field (GChecksum *sum, const gchar *value)
{
  const gchar *v = value ? value : "";
  gchar len[32];
  g_snprintf (len, sizeof len, "%zu:", strlen (v));
  g_checksum_update (sum, (const guchar *) len, -1);
  g_checksum_update (sum, (const guchar *) v, -1);
  g_checksum_update (sum, (const guchar *) "\n", 1);
}

gchar *
audit_row_hash (gint64 id, gint64 at, const gchar *actor, const gchar *action, const gchar *case_ref,
                const gchar *detail, const gchar *prev_hash)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree gchar *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  g_autofree gchar *at_text = g_strdup_printf ("%" G_GINT64_FORMAT, at);
  put_field (sum, "kanyan-audit-v1");
  put_field (sum, id_text);
  put_field (sum, at_text);
  put_field (sum, actor);
  put_field (sum, action);
  put_field (sum, case_ref);
  put_field (sum, detail);
  put_field (sum, prev_hash);
  return g_strdup (g_checksum_get_string (sum));
}

gint64
audit_append (sqlite3 *db, const gchar *actor, const gchar *action, const gchar *case_ref,
              const gchar *detail_json, GError **error)
{
  const gchar *detail = detail_json ? detail_json : "{}";
  sqlite3_stmt *last = NULL, *insert = NULL;
  gint64 id = 0;
  gboolean ok = FALSE;
  g_autofree gchar *prev_hash = g_strdup (GENESIS), *hash = NULL;
  /* IMMEDIATE: the chain's tip cannot move between reading it and appending */
  gboolean own_tx = sqlite3_get_autocommit (db);
  if (own_tx && sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    goto out;
  if (sqlite3_prepare_v2 (db, "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1", -1, &last, NULL) != SQLITE_OK)
    goto out;
  gint64 prev_id = 0;
  if (sqlite3_step (last) == SQLITE_ROW) {
    prev_id = sqlite3_column_int64 (last, 0);
    g_free (prev_hash);
    prev_hash = g_strdup ((const gchar *) sqlite3_column_text (last, 1));
  }
  id = prev_id + 1;
  gint64 at = db_now_ms ();
  hash = audit_row_hash (id, at, actor, action, case_ref, detail, prev_hash);
  if (sqlite3_prepare_v2 (db, "INSERT INTO audit_log (id, at, actor, action, case_ref, detail, prev_hash, hash) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &insert, NULL) != SQLITE_OK)
    goto out;
  sqlite3_bind_int64 (insert, 1, id);
  sqlite3_bind_int64 (insert, 2, at);
  sqlite3_bind_text (insert, 3, actor ? actor : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 4, action, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 5, case_ref ? case_ref : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 6, detail, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 7, prev_hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 8, hash, -1, SQLITE_TRANSIENT);
  ok = sqlite3_step (insert) == SQLITE_DONE;
out:
  if (!ok)
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "audit log: %s", sqlite3_errmsg (db));
  sqlite3_finalize (last);
  sqlite3_finalize (insert);
  if (own_tx)
    sqlite3_exec (db, ok ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
  return ok ? id : 0;
}

gboolean
audit_verify (sqlite3 *db, const gchar *case_ref, gint64 *bad_id, gint64 *checked, GError **error)
{
  sqlite3_stmt *st = NULL;
  *bad_id = 0;
  *checked = 0;
  if (sqlite3_prepare_v2 (db, "SELECT id, at, actor, action, case_ref, detail, prev_hash, hash FROM audit_log ORDER BY id",
                          -1, &st, NULL) != SQLITE_OK) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "audit log: %s", sqlite3_errmsg (db));
    return FALSE;
  }
  g_autofree gchar *expected_prev = g_strdup (GENESIS);
  gint64 expected_id = 1;
  while (sqlite3_step (st) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64 (st, 0);
    const gchar *row_case = (const gchar *) sqlite3_column_text (st, 4);
    const gchar *prev = (const gchar *) sqlite3_column_text (st, 6);
    const gchar *stored = (const gchar *) sqlite3_column_text (st, 7);
    g_autofree gchar *hash = audit_row_hash (id, sqlite3_column_int64 (st, 1), (const gchar *) sqlite3_column_text (st, 2),
                                             (const gchar *) sqlite3_column_text (st, 3), row_case,
                                             (const gchar *) sqlite3_column_text (st, 5), prev);
    gboolean counts = !case_ref || g_strcmp0 (case_ref, row_case) == 0;
    /* a row is bad if its content changed, its link changed, or a row before it vanished */
    gboolean good = g_strcmp0 (hash, stored) == 0 && g_strcmp0 (prev, expected_prev) == 0 && id == expected_id;
    if (counts)
      (*checked)++;
    if (!good && counts && !*bad_id)
      *bad_id = id;
    g_free (expected_prev);
    expected_prev = g_strdup (stored);
    expected_id = id + 1;
  }
  sqlite3_finalize (st);
  return *bad_id == 0;
}

void
audit_note (sqlite3 *db, const gchar *actor, const gchar *action, const gchar *case_ref, const gchar *first_key, ...)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  va_list args;
  va_start (args, first_key);
  for (const gchar *key = first_key; key; key = va_arg (args, const gchar *)) {
    const gchar *value = va_arg (args, const gchar *);
    json_builder_set_member_name (b, key);
    json_builder_add_string_value (b, value ? value : "");
  }
  va_end (args);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *detail = json_to_string (root, FALSE);
  g_autoptr (GError) error = NULL;
  if (!audit_append (db, actor, action, case_ref, detail, &error))
    g_warning ("%s", error->message);
}

void
audit_print (sqlite3 *db, const gchar *case_ref, FILE *out)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT id, at, actor, action, case_ref, detail, hash FROM audit_log "
                          "WHERE ?1 IS NULL OR case_ref = ?1 ORDER BY id", -1, &st, NULL) != SQLITE_OK)
    return;
  sqlite3_bind_text (st, 1, case_ref, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (st) == SQLITE_ROW)
    fprintf (out, "%lld\t%lld\t%s\t%s\t%s\t%s\t%.16s\n", sqlite3_column_int64 (st, 0), sqlite3_column_int64 (st, 1),
             sqlite3_column_text (st, 2), sqlite3_column_text (st, 3), sqlite3_column_text (st, 4),
             sqlite3_column_text (st, 5), sqlite3_column_text (st, 6));
  sqlite3_finalize (st);
}

void
audit_entry_free (AuditEntry *e)
{
  if (!e)
    return;
  g_free (e->actor);
  g_free (e->action);
  g_free (e->case_ref);
  g_free (e->detail);
  g_free (e->prev_hash);
  g_free (e->hash);
  g_free (e);
}

GPtrArray *
audit_entries (sqlite3 *db, const gchar *case_ref)
{
  sqlite3_stmt *st = NULL;
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) audit_entry_free);
  if (sqlite3_prepare_v2 (db, "SELECT id, at, actor, action, case_ref, detail, prev_hash, hash FROM audit_log "
                          "WHERE ?1 IS NULL OR case_ref = ?1 ORDER BY id", -1, &st, NULL) != SQLITE_OK)
    return rows;
  sqlite3_bind_text (st, 1, case_ref, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (st) == SQLITE_ROW) {
    AuditEntry *e = g_new0 (AuditEntry, 1);
    e->id = sqlite3_column_int64 (st, 0);
    e->at = sqlite3_column_int64 (st, 1);
    e->actor = g_strdup ((const gchar *) sqlite3_column_text (st, 2));
    e->action = g_strdup ((const gchar *) sqlite3_column_text (st, 3));
    e->case_ref = g_strdup ((const gchar *) sqlite3_column_text (st, 4));
    e->detail = g_strdup ((const gchar *) sqlite3_column_text (st, 5));
    e->prev_hash = g_strdup ((const gchar *) sqlite3_column_text (st, 6));
    e->hash = g_strdup ((const gchar *) sqlite3_column_text (st, 7));
    g_ptr_array_add (rows, e);
  }
  sqlite3_finalize (st);
  return rows;
}

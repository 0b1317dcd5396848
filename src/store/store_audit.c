/* store_audit.c — SQL of the audit log (store_audit.h). SQLite triggers (db.c) refuse
 * UPDATE and DELETE on audit_log; hashing and verification are audit.c's. */
#include "store/store_audit.h"
#include "core/errors.h"

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

gint64
store_audit_append (sqlite3 *db, gint64 at, const gchar *actor, const gchar *action, const gchar *case_ref,
                    const gchar *detail, StoreAuditHash hash_of, GError **error)
{
  sqlite3_stmt *last = NULL, *insert = NULL;
  gint64 id = 0;
  gboolean ok = FALSE;
  g_autofree gchar *prev_hash = g_strdup (AUDIT_GENESIS), *hash = NULL;
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
  hash = hash_of (id, at, actor, action, case_ref, detail, prev_hash);
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
store_audit_foreach (sqlite3 *db, const gchar *case_ref, StoreAuditRow row, gpointer data, GError **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT id, at, actor, action, case_ref, detail, prev_hash, hash FROM audit_log "
                          "WHERE ?1 IS NULL OR case_ref = ?1 ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "audit log: %s", sqlite3_errmsg (db));
    return FALSE;
  }
  sqlite3_bind_text (st, 1, case_ref, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (st) == SQLITE_ROW) {
    const AuditEntry e = {
      .id = sqlite3_column_int64 (st, 0),
      .at = sqlite3_column_int64 (st, 1),
      .actor = (gchar *) sqlite3_column_text (st, 2),
      .action = (gchar *) sqlite3_column_text (st, 3),
      .case_ref = (gchar *) sqlite3_column_text (st, 4),
      .detail = (gchar *) sqlite3_column_text (st, 5),
      .prev_hash = (gchar *) sqlite3_column_text (st, 6),
      .hash = (gchar *) sqlite3_column_text (st, 7),
    };
    row (&e, data);
  }
  sqlite3_finalize (st);
  return TRUE;
}

gint64
store_audit_length (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  gint64 n = -1;
  /* ids run 1, 2, … without gaps (each row is the tip + 1): the last id is the length, read
   * from the primary key's b-tree without counting the rows */
  if (sqlite3_prepare_v2 (db, "SELECT COALESCE(MAX(id), 0) FROM audit_log", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step (st) == SQLITE_ROW)
    n = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return n;
}

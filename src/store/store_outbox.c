/* store_outbox.c — SQL of the webhook outbox (store_outbox.h). Never builds or sends an
 * event; archive/webhooks.c does. */
#include "store/store_outbox.h"
#include "store/db.h"
#include "core/errors.h"

#define ROW_COLUMNS "o.id, o.audit_id, o.next_at, o.created_at, o.delivered_at, o.attempts, o.last_status, " \
                    "o.endpoint, o.case_ref, o.state, o.last_error, a.at, a.actor, a.action, a.detail, a.hash"

void
outbox_row_free (OutboxRow *r)
{
  if (!r)
    return;
  g_free (r->endpoint);
  g_free (r->case_ref);
  g_free (r->state);
  g_free (r->last_error);
  g_free (r->actor);
  g_free (r->action);
  g_free (r->detail);
  g_free (r->hash);
  g_free (r);
}

/* column by column, as every store's row reader is (store_sessions.c's recording_from): alike in
 * shape, each the one place its row's columns are named */
static OutboxRow *
read_row (sqlite3_stmt *st)
{
  OutboxRow *r = g_new0 (OutboxRow, 1);
  r->id = sqlite3_column_int64 (st, 0);
  r->audit_id = sqlite3_column_int64 (st, 1);
  r->next_at = sqlite3_column_int64 (st, 2);
  r->created_at = sqlite3_column_int64 (st, 3);
  r->delivered_at = sqlite3_column_int64 (st, 4);
  r->attempts = sqlite3_column_int (st, 5);
  r->last_status = sqlite3_column_int (st, 6);
  r->endpoint = db_column_dup (st, 7, NULL);
  r->case_ref = db_column_dup (st, 8, NULL);
  r->state = db_column_dup (st, 9, NULL);
  r->last_error = db_column_dup (st, 10, NULL);
  r->at = sqlite3_column_int64 (st, 11);
  r->actor = db_column_dup (st, 12, NULL);
  r->action = db_column_dup (st, 13, NULL);
  r->detail = db_column_dup (st, 14, NULL);
  r->hash = db_column_dup (st, 15, NULL);
  return r;
}

static GPtrArray *
read_rows (sqlite3_stmt *st)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) outbox_row_free);
  while (sqlite3_step (st) == SQLITE_ROW)
    g_ptr_array_add (rows, read_row (st));
  sqlite3_finalize (st);
  return rows;
}

gint
store_outbox_collect (sqlite3 *db, const gchar *endpoint, const gchar *actions, gint64 now, GError **error)
{
  sqlite3_stmt *cursor = NULL, *insert = NULL, *move = NULL;
  gint added = -1;
  gboolean own_tx = sqlite3_get_autocommit (db);
  if (own_tx && sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    goto out;
  if (sqlite3_prepare_v2 (db, "SELECT audit_id FROM webhook_cursor WHERE endpoint = ?1", -1, &cursor, NULL) != SQLITE_OK)
    goto out;
  sqlite3_bind_text (cursor, 1, endpoint, -1, SQLITE_TRANSIENT);
  gboolean known = sqlite3_step (cursor) == SQLITE_ROW;
  gint64 from = known ? sqlite3_column_int64 (cursor, 0) : 0;
  if (known) {
    if (sqlite3_prepare_v2 (db, "INSERT OR IGNORE INTO webhook_outbox (endpoint, audit_id, case_ref, next_at, created_at) "
                            "SELECT ?1, id, case_ref, ?3, ?3 FROM audit_log WHERE id > ?2 "
                            "AND instr (?4, ',' || action || ',') > 0 ORDER BY id", -1, &insert, NULL) != SQLITE_OK)
      goto out;
    sqlite3_bind_text (insert, 1, endpoint, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (insert, 2, from);
    sqlite3_bind_int64 (insert, 3, now);
    sqlite3_bind_text (insert, 4, actions, -1, SQLITE_TRANSIENT);
    if (sqlite3_step (insert) != SQLITE_DONE)
      goto out;
    added = sqlite3_changes (db);
  } else {
    added = 0;
  }
  if (sqlite3_prepare_v2 (db, "INSERT INTO webhook_cursor (endpoint, audit_id) "
                          "SELECT ?1, coalesce (max (id), 0) FROM audit_log WHERE true "
                          "ON CONFLICT (endpoint) DO UPDATE SET audit_id = excluded.audit_id", -1, &move, NULL) != SQLITE_OK) {
    added = -1;
    goto out;
  }
  sqlite3_bind_text (move, 1, endpoint, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (move) != SQLITE_DONE)
    added = -1;
out:
  if (added < 0)
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "webhook outbox: %s", sqlite3_errmsg (db));
  sqlite3_finalize (cursor);
  sqlite3_finalize (insert);
  sqlite3_finalize (move);
  if (own_tx)
    sqlite3_exec (db, added >= 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
  return added;
}

GPtrArray *
store_outbox_due (sqlite3 *db, const gchar *endpoint, gint64 now, guint limit)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT " ROW_COLUMNS " FROM webhook_outbox o JOIN audit_log a ON a.id = o.audit_id "
                          "WHERE o.endpoint = ?1 AND o.state = 'pending' AND o.next_at <= ?2 AND NOT EXISTS ("
                          "  SELECT 1 FROM webhook_outbox p WHERE p.endpoint = o.endpoint AND p.case_ref = o.case_ref"
                          "  AND p.state = 'pending' AND p.audit_id < o.audit_id) "
                          "ORDER BY o.audit_id LIMIT ?3", -1, &st, NULL) != SQLITE_OK) {
    g_warning ("webhook outbox: %s", sqlite3_errmsg (db));
    return g_ptr_array_new_with_free_func ((GDestroyNotify) outbox_row_free);
  }
  sqlite3_bind_text (st, 1, endpoint, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 2, now);
  sqlite3_bind_int (st, 3, (int) limit);
  return read_rows (st);
}

static gboolean
step_done (sqlite3 *db, sqlite3_stmt *st)
{
  gboolean ok = sqlite3_step (st) == SQLITE_DONE && sqlite3_changes (db) > 0;
  sqlite3_finalize (st);
  return ok;
}

gboolean
store_outbox_delivered (sqlite3 *db, gint64 id, gint status, gint64 now)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "UPDATE webhook_outbox SET state = 'delivered', attempts = attempts + 1, "
                          "last_status = ?2, last_error = NULL, delivered_at = ?3 WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
    return FALSE;
  sqlite3_bind_int64 (st, 1, id);
  sqlite3_bind_int (st, 2, status);
  sqlite3_bind_int64 (st, 3, now);
  return step_done (db, st);
}

gboolean
store_outbox_failed (sqlite3 *db, gint64 id, gint attempts, gint64 next_at, gboolean dead, gint status,
                     const gchar *error_text)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "UPDATE webhook_outbox SET attempts = ?2, next_at = ?3, state = ?4, "
                          "last_status = ?5, last_error = ?6 WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
    return FALSE;
  sqlite3_bind_int64 (st, 1, id);
  sqlite3_bind_int (st, 2, attempts);
  sqlite3_bind_int64 (st, 3, next_at);
  sqlite3_bind_text (st, 4, dead ? "dead" : "pending", -1, SQLITE_STATIC);
  sqlite3_bind_int (st, 5, status);
  sqlite3_bind_text (st, 6, error_text, -1, SQLITE_TRANSIENT);
  return step_done (db, st);
}

GPtrArray *
store_outbox_list (sqlite3 *db, const gchar *state, guint limit)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT " ROW_COLUMNS " FROM webhook_outbox o JOIN audit_log a ON a.id = o.audit_id "
                          "WHERE ?1 IS NULL OR o.state = ?1 ORDER BY o.id DESC LIMIT ?2", -1, &st, NULL) != SQLITE_OK) {
    g_warning ("webhook outbox: %s", sqlite3_errmsg (db));
    return g_ptr_array_new_with_free_func ((GDestroyNotify) outbox_row_free);
  }
  sqlite3_bind_text (st, 1, state, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (st, 2, (int) limit);
  return read_rows (st);
}

OutboxRow *
store_outbox_get (sqlite3 *db, gint64 id)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT " ROW_COLUMNS " FROM webhook_outbox o JOIN audit_log a ON a.id = o.audit_id "
                          "WHERE o.id = ?1", -1, &st, NULL) != SQLITE_OK)
    return NULL;
  sqlite3_bind_int64 (st, 1, id);
  OutboxRow *r = sqlite3_step (st) == SQLITE_ROW ? read_row (st) : NULL;
  sqlite3_finalize (st);
  return r;
}

gboolean
store_outbox_retry (sqlite3 *db, gint64 id, gint64 now)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_at = ?2 "
                          "WHERE id = ?1 AND state = 'dead'", -1, &st, NULL) != SQLITE_OK)
    return FALSE;
  sqlite3_bind_int64 (st, 1, id);
  sqlite3_bind_int64 (st, 2, now);
  return step_done (db, st);
}

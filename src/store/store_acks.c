/* store_acks.c — the acknowledgements table (schema 18): rows in, rows out. Never decides
 * which notice may be acknowledged nor validates a drawing (review/acknowledge.c). */
#include "store/store_acks.h"
#include "store/db.h"
#include "core/errors.h"

#define ACK_SELECT "SELECT id, case_id, decision_id, name, strokes, svg, sha256, acknowledged_at, " \
                   "coalesce(invite_id, 0) FROM acknowledgements "

void
ack_row_free (AckRow *row)
{
  if (!row)
    return;
  g_free (row->name);
  g_free (row->strokes);
  g_free (row->svg);
  g_free (row->sha256);
  g_free (row);
}

static AckRow *
ack_from (sqlite3_stmt *st)
{
  AckRow *a = g_new0 (AckRow, 1);
  a->id = sqlite3_column_int64 (st, 0);
  a->case_id = sqlite3_column_int64 (st, 1);
  a->decision_id = sqlite3_column_int64 (st, 2);
  a->name = db_column_dup (st, 3, "");
  a->strokes = db_column_dup (st, 4, "[]");
  a->svg = db_column_dup (st, 5, "");
  a->sha256 = db_column_dup (st, 6, "");
  a->acknowledged_at = sqlite3_column_int64 (st, 7);
  a->invite_id = sqlite3_column_int64 (st, 8);
  return a;
}

static GPtrArray *
acks_query (sqlite3 *db, const gchar *sql, gint64 id)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) ack_row_free);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, id);
    while (sqlite3_step (st) == SQLITE_ROW)
      g_ptr_array_add (out, ack_from (st));
  }
  sqlite3_finalize (st);
  return out;
}

gint64
store_ack_add (sqlite3 *db, gint64 case_id, gint64 decision_id, const gchar *name, const gchar *strokes,
               const gchar *svg, const gchar *sha256, gint64 at, gint64 invite_id, GError **error)
{
  sqlite3_stmt *st = NULL;
  gint rc = SQLITE_ERROR;
  if (sqlite3_prepare_v2 (db, "INSERT INTO acknowledgements (case_id, decision_id, name, strokes, svg, sha256, "
                          "acknowledged_at, invite_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, case_id);
    sqlite3_bind_int64 (st, 2, decision_id);
    sqlite3_bind_text (st, 3, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 4, strokes, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 5, svg, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 6, sha256, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 7, at);
    if (invite_id > 0)
      sqlite3_bind_int64 (st, 8, invite_id);
    else
      sqlite3_bind_null (st, 8);
    rc = sqlite3_step (st);
  }
  sqlite3_finalize (st);
  if (rc == SQLITE_CONSTRAINT) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_ALREADY_ACKNOWLEDGED, "this notice was acknowledged already");
    return 0;
  }
  if (rc != SQLITE_DONE) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "storing an acknowledgement: %s", sqlite3_errmsg (db));
    return 0;
  }
  return sqlite3_last_insert_rowid (db);
}

AckRow *
store_ack_of_decision (sqlite3 *db, gint64 decision_id)
{
  g_autoptr (GPtrArray) rows = acks_query (db, ACK_SELECT "WHERE decision_id = ?1", decision_id);
  return rows->len ? g_ptr_array_steal_index (rows, 0) : NULL;
}

GPtrArray *
store_acks_of_case (sqlite3 *db, gint64 case_id)
{
  return acks_query (db, ACK_SELECT "WHERE case_id = ?1 ORDER BY id", case_id);
}

gint64
store_invite_id (sqlite3 *db, gint64 case_id, const gchar *token)
{
  if (!token || !*token || strlen (token) > 128)
    return 0;
  g_autofree gchar *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);   /* as store_cases.c */
  sqlite3_stmt *st = NULL;
  gint64 id = 0;
  if (sqlite3_prepare_v2 (db, "SELECT id FROM invites WHERE case_id = ?1 AND token_hash = ?2", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, case_id);
    sqlite3_bind_text (st, 2, hash, -1, SQLITE_TRANSIENT);
    if (sqlite3_step (st) == SQLITE_ROW)
      id = sqlite3_column_int64 (st, 0);
  }
  sqlite3_finalize (st);
  return id;
}

gint64
store_invite_revoked_at (sqlite3 *db, gint64 case_id, const gchar *token)
{
  if (!token || !*token || strlen (token) > 128)
    return 0;
  g_autofree gchar *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);   /* as store_cases.c */
  sqlite3_stmt *st = NULL;
  gint64 at = 0;
  if (sqlite3_prepare_v2 (db, "SELECT coalesce(revoked_at, 0) FROM invites WHERE case_id = ?1 AND token_hash = ?2", -1,
                          &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, case_id);
    sqlite3_bind_text (st, 2, hash, -1, SQLITE_TRANSIENT);
    if (sqlite3_step (st) == SQLITE_ROW)
      at = sqlite3_column_int64 (st, 0);
  }
  sqlite3_finalize (st);
  return at;
}

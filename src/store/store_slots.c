/* store_slots.c — the slots table (schema 16, booking): rows in, rows out. Never decides
 * whether a time is free or a working day (review/slots.c), nor who may book (review/auth.c). */
#include "store/store_slots.h"
#include "store/db.h"
#include "core/errors.h"

#define SLOT_COLUMNS "s.id, s.case_id, c.ref, s.reviewer, s.starts_at, s.ends_at, s.state, s.offered_by, " \
                     "s.created_at, s.booked_by, s.booked_at, s.cancelled_by, s.cancelled_at, s.reason, s.revision " \
                     "FROM slots s JOIN cases c ON c.id = s.case_id "

void
slot_row_free (SlotRow *row)
{
  if (!row)
    return;
  g_free (row->case_ref);
  g_free (row->reviewer);
  g_free (row->state);
  g_free (row->offered_by);
  g_free (row->booked_by);
  g_free (row->cancelled_by);
  g_free (row->reason);
  g_free (row);
}

static SlotRow *
slot_from (sqlite3_stmt *st)
{
  SlotRow *s = g_new0 (SlotRow, 1);
  s->id = sqlite3_column_int64 (st, 0);
  s->case_id = sqlite3_column_int64 (st, 1);
  s->case_ref = db_column_dup (st, 2, "");
  s->reviewer = db_column_dup (st, 3, "");
  s->starts_at = sqlite3_column_int64 (st, 4);
  s->ends_at = sqlite3_column_int64 (st, 5);
  s->state = db_column_dup (st, 6, "");
  s->offered_by = db_column_dup (st, 7, "");
  s->created_at = sqlite3_column_int64 (st, 8);
  s->booked_by = db_column_dup (st, 9, NULL);
  s->booked_at = sqlite3_column_int64 (st, 10);
  s->cancelled_by = db_column_dup (st, 11, NULL);
  s->cancelled_at = sqlite3_column_int64 (st, 12);
  s->reason = db_column_dup (st, 13, NULL);
  s->revision = sqlite3_column_int (st, 14);
  return s;
}

gint64
store_slot_add (sqlite3 *db, gint64 case_id, const gchar *reviewer, gint64 starts_at, gint64 ends_at,
                const gchar *offered_by, GError **error)
{
  sqlite3_stmt *st = NULL;
  gint rc = SQLITE_ERROR;
  if (sqlite3_prepare_v2 (db, "INSERT INTO slots (case_id, reviewer, starts_at, ends_at, offered_by, created_at) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, case_id);
    sqlite3_bind_text (st, 2, reviewer, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 3, starts_at);
    sqlite3_bind_int64 (st, 4, ends_at);
    sqlite3_bind_text (st, 5, offered_by, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 6, db_now_ms ());
    rc = sqlite3_step (st);
  }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "offering a slot: %s", sqlite3_errmsg (db));
    return 0;
  }
  return sqlite3_last_insert_rowid (db);
}

SlotRow *
store_slot_get (sqlite3 *db, gint64 slot_id)
{
  sqlite3_stmt *st = NULL;
  SlotRow *s = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT " SLOT_COLUMNS "WHERE s.id = ?1", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, slot_id);
    if (sqlite3_step (st) == SQLITE_ROW)
      s = slot_from (st);
  }
  sqlite3_finalize (st);
  return s;
}

static GPtrArray *
slots_where (sqlite3 *db, const gchar *where, gint64 a, const gchar *text, gint64 b)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) slot_row_free);
  g_autofree gchar *sql = g_strconcat ("SELECT " SLOT_COLUMNS, where, " ORDER BY s.starts_at, s.id", NULL);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, a);
    if (text)
      sqlite3_bind_text (st, 2, text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 3, b);
    while (sqlite3_step (st) == SQLITE_ROW)
      g_ptr_array_add (out, slot_from (st));
  }
  sqlite3_finalize (st);
  return out;
}

GPtrArray *
store_slots_of_case (sqlite3 *db, gint64 case_id)
{
  return slots_where (db, "WHERE s.case_id = ?1", case_id, NULL, 0);
}

GPtrArray *
store_slots_of_reviewer (sqlite3 *db, const gchar *reviewer, gint64 from, gint64 to)
{
  return slots_where (db, "WHERE s.reviewer = ?2 AND s.state IN ('offered', 'booked') AND s.ends_at > ?1 "
                      "AND s.starts_at < ?3", from, reviewer, to);
}

GPtrArray *
store_slots_upcoming (sqlite3 *db, gint64 from)
{
  return slots_where (db, "WHERE s.state IN ('offered', 'booked') AND s.ends_at > ?1", from, NULL, 0);
}

gboolean
store_slot_set_time (sqlite3 *db, gint64 slot_id, gint64 starts_at, gint64 ends_at)
{
  sqlite3_stmt *st = NULL;
  gboolean done = FALSE;
  if (sqlite3_prepare_v2 (db, "UPDATE slots SET starts_at = ?2, ends_at = ?3, revision = revision + 1 WHERE id = ?1", -1, &st, NULL) ==
      SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, slot_id);
    sqlite3_bind_int64 (st, 2, starts_at);
    sqlite3_bind_int64 (st, 3, ends_at);
    done = sqlite3_step (st) == SQLITE_DONE && sqlite3_changes (db) == 1;
  }
  sqlite3_finalize (st);
  return done;
}

gboolean
store_slot_set_state (sqlite3 *db, gint64 slot_id, const gchar *state, const gchar *by, const gchar *reason)
{
  const gchar *sql;
  if (g_strcmp0 (state, "booked") == 0)
    sql = "UPDATE slots SET state = 'booked', booked_by = ?2, booked_at = ?4, reason = ?3, revision = revision + 1 WHERE id = ?1";
  else if (g_strcmp0 (state, "offered") == 0)
    sql = "UPDATE slots SET state = 'offered', booked_by = NULL, booked_at = NULL, reason = ?3, revision = revision + 1 WHERE id = ?1";
  else
    sql = "UPDATE slots SET state = 'cancelled', cancelled_by = ?2, cancelled_at = ?4, reason = ?3, revision = revision + 1 WHERE id = ?1";
  sqlite3_stmt *st = NULL;
  gboolean done = FALSE;
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, slot_id);
    sqlite3_bind_text (st, 2, by, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 3, reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 4, db_now_ms ());
    done = sqlite3_step (st) == SQLITE_DONE && sqlite3_changes (db) == 1;
  }
  sqlite3_finalize (st);
  return done;
}

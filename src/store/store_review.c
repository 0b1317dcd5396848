/* store_review.c — SQL of the review workflow: marks (append-only: the latest per item counts),
 * decisions and countersignatures, each live inspection's challenge code and phone location.
 * No policy here: workflow.c decides what may be written. */
#include "store/db.h"

void
mark_row_free (MarkRow *row)
{
  if (!row)
    return;
  g_free (row->result);
  g_free (row->note);
  g_free (row->by_user);
  g_free (row);
}

/* one g_free per owned field, like every free function of a row or a parsed message here: kept
 * per struct (a generic freer would hide which fields each struct owns) */
void
decision_row_free (DecisionRow *row)
{
  if (!row)
    return;
  g_free (row->kind);
  g_free (row->reason);
  g_free (row->by_user);
  g_free (row->state);
  g_free (row->countersigned_by);
  g_free (row->countersign_note);
  g_free (row->notice);
  g_free (row->case_ref);
  g_free (row);
}

void
session_row_free (SessionRow *row)
{
  if (!row)
    return;
  g_free (row->challenge);
  g_free (row->challenge_seen_by);
  g_free (row);
}

gint64
store_mark_add (sqlite3 *db, gint64 case_id, gint64 session_id, gint item, const gchar *result, const gchar *note,
                const gchar *by_user, gint64 media_ms)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "INSERT INTO marks (case_id, session_id, item, result, note, by_user, at, media_ms) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &st, NULL) != SQLITE_OK)
    return 0;
  sqlite3_bind_int64 (st, 1, case_id);
  sqlite3_bind_int64 (st, 2, session_id);
  sqlite3_bind_int (st, 3, item);
  sqlite3_bind_text (st, 4, result, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 5, note ? note : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 6, by_user, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 7, db_now_ms ());
  if (media_ms >= 0)
    sqlite3_bind_int64 (st, 8, media_ms);
  return db_step_insert (db, st);
}

GPtrArray *
store_marks (sqlite3 *db, gint64 session_id)
{
  sqlite3_stmt *st = NULL;
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) mark_row_free);
  if (sqlite3_prepare_v2 (db, "SELECT id, session_id, item, result, note, by_user, at, media_ms FROM marks "
                          "WHERE session_id = ?1 ORDER BY id", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, session_id);
    while (sqlite3_step (st) == SQLITE_ROW) {
      MarkRow *m = g_new0 (MarkRow, 1);
      m->id = sqlite3_column_int64 (st, 0);
      m->session_id = sqlite3_column_int64 (st, 1);
      m->item = sqlite3_column_int (st, 2);
      m->result = db_column_dup (st, 3, NULL);
      m->note = db_column_dup (st, 4, NULL);
      m->by_user = db_column_dup (st, 5, NULL);
      m->at = sqlite3_column_int64 (st, 6);
      m->media_ms = sqlite3_column_type (st, 7) == SQLITE_NULL ? -1 : sqlite3_column_int64 (st, 7);
      g_ptr_array_add (rows, m);
    }
  }
  sqlite3_finalize (st);
  return rows;
}

gint64
store_decision_add (sqlite3 *db, gint64 case_id, gint64 session_id, const gchar *kind, const gchar *reason,
                    const gchar *by_user, const gchar *state, const gchar *notice)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "INSERT INTO decisions (case_id, session_id, kind, reason, by_user, at, state, notice) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &st, NULL) != SQLITE_OK)
    return 0;
  sqlite3_bind_int64 (st, 1, case_id);
  if (session_id)
    sqlite3_bind_int64 (st, 2, session_id);
  sqlite3_bind_text (st, 3, kind, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 4, reason, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 5, by_user, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 6, db_now_ms ());
  sqlite3_bind_text (st, 7, state, -1, SQLITE_TRANSIENT);
  if (notice)
    sqlite3_bind_text (st, 8, notice, -1, SQLITE_TRANSIENT);
  return db_step_insert (db, st);
}

#define DECISION_SELECT \
  "SELECT d.id, d.session_id, d.kind, d.reason, d.by_user, d.at, d.state, d.countersigned_by, " \
  "d.countersigned_at, d.countersign_note, d.notice, c.ref FROM decisions d JOIN cases c ON c.id = d.case_id "

static GPtrArray *
decisions_query (sqlite3 *db, const gchar *sql, gint64 arg)
{
  sqlite3_stmt *st = NULL;
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) decision_row_free);
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK) {
    if (sqlite3_bind_parameter_count (st) > 0)
      sqlite3_bind_int64 (st, 1, arg);
    while (sqlite3_step (st) == SQLITE_ROW) {
      DecisionRow *d = g_new0 (DecisionRow, 1);
      d->id = sqlite3_column_int64 (st, 0);
      d->session_id = sqlite3_column_int64 (st, 1);
      d->kind = db_column_dup (st, 2, NULL);
      d->reason = db_column_dup (st, 3, NULL);
      d->by_user = db_column_dup (st, 4, NULL);
      d->at = sqlite3_column_int64 (st, 5);
      d->state = db_column_dup (st, 6, NULL);
      d->countersigned_by = db_column_dup (st, 7, NULL);
      d->countersigned_at = sqlite3_column_int64 (st, 8);
      d->countersign_note = db_column_dup (st, 9, NULL);
      d->notice = db_column_dup (st, 10, NULL);
      d->case_ref = db_column_dup (st, 11, NULL);
      g_ptr_array_add (rows, d);
    }
  }
  sqlite3_finalize (st);
  return rows;
}

GPtrArray *
store_decisions (sqlite3 *db, gint64 case_id)
{
  return decisions_query (db, DECISION_SELECT "WHERE d.case_id = ?1 ORDER BY d.id", case_id);
}

GPtrArray *
store_decisions_awaiting (sqlite3 *db)
{
  return decisions_query (db, DECISION_SELECT "WHERE d.state = 'awaiting_countersign' ORDER BY d.at", 0);
}

static DecisionRow *
first_or_null (GPtrArray *rows)
{
  DecisionRow *d = rows->len ? g_ptr_array_steal_index (rows, 0) : NULL;
  g_ptr_array_unref (rows);
  return d;
}

DecisionRow *
store_decision_get (sqlite3 *db, gint64 decision_id)
{
  return first_or_null (decisions_query (db, DECISION_SELECT "WHERE d.id = ?1", decision_id));
}

DecisionRow *
store_decision_latest_notice (sqlite3 *db, gint64 case_id)
{
  return first_or_null (decisions_query (db, DECISION_SELECT "WHERE d.case_id = ?1 AND d.kind = 'rectify' "
                                         "ORDER BY d.id DESC LIMIT 1", case_id));
}

gboolean
store_decision_countersign (sqlite3 *db, gint64 decision_id, const gchar *by_user, const gchar *note,
                            const gchar *state)
{
  sqlite3_stmt *st = NULL;
  gboolean ok = FALSE;
  if (sqlite3_prepare_v2 (db, "UPDATE decisions SET countersigned_by = ?2, countersigned_at = ?3, "
                          "countersign_note = ?4, state = ?5 WHERE id = ?1 AND state = 'awaiting_countersign'",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, decision_id);
    sqlite3_bind_text (st, 2, by_user, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 3, db_now_ms ());
    sqlite3_bind_text (st, 4, note ? note : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 5, state, -1, SQLITE_TRANSIENT);
    ok = sqlite3_step (st) == SQLITE_DONE && sqlite3_changes (db) == 1;
  }
  sqlite3_finalize (st);
  return ok;
}

/* prepare, bind, one row struct per step: the shape of every list query of the store files,
 * each with its own columns and struct (db_column_dup is what they share) */
GPtrArray *
store_sessions_of_case (sqlite3 *db, gint64 case_id)
{
  sqlite3_stmt *st = NULL;
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) session_row_free);
  if (sqlite3_prepare_v2 (db, "SELECT id, started_at, ended_at, challenge, challenge_seen_by, challenge_seen_at, "
                          "geo_lat, geo_lon, geo_accuracy_m, geo_at FROM live_sessions WHERE case_id = ?1 ORDER BY id",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, case_id);
    while (sqlite3_step (st) == SQLITE_ROW) {
      SessionRow *s = g_new0 (SessionRow, 1);
      s->id = sqlite3_column_int64 (st, 0);
      s->started_at = sqlite3_column_int64 (st, 1);
      s->ended_at = sqlite3_column_int64 (st, 2);
      s->challenge = db_column_dup (st, 3, NULL);
      s->challenge_seen_by = db_column_dup (st, 4, NULL);
      s->challenge_seen_at = sqlite3_column_int64 (st, 5);
      s->has_geo = sqlite3_column_type (st, 6) != SQLITE_NULL;
      s->geo_lat = sqlite3_column_double (st, 6);
      s->geo_lon = sqlite3_column_double (st, 7);
      s->geo_accuracy_m = sqlite3_column_double (st, 8);
      s->geo_at = sqlite3_column_int64 (st, 9);
      g_ptr_array_add (rows, s);
    }
  }
  sqlite3_finalize (st);
  return rows;
}

gint64
store_session_latest (sqlite3 *db, gint64 case_id)
{
  sqlite3_stmt *st = NULL;
  gint64 id = 0;
  if (sqlite3_prepare_v2 (db, "SELECT max(id) FROM live_sessions WHERE case_id = ?1", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, case_id);
    if (sqlite3_step (st) == SQLITE_ROW)
      id = sqlite3_column_int64 (st, 0);
  }
  sqlite3_finalize (st);
  return id;
}

static gboolean
session_update (sqlite3 *db, const gchar *sql, gint64 session_id, const gchar *text, const gdouble *values)
{
  sqlite3_stmt *st = NULL;
  gboolean ok = FALSE;
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, session_id);
    sqlite3_bind_int64 (st, 2, db_now_ms ());
    if (text)
      sqlite3_bind_text (st, 3, text, -1, SQLITE_TRANSIENT);
    for (gint i = 0; values && i < 3; i++)
      sqlite3_bind_double (st, 3 + i, values[i]);
    ok = sqlite3_step (st) == SQLITE_DONE && sqlite3_changes (db) == 1;
  }
  sqlite3_finalize (st);
  return ok;
}

void
store_session_set_challenge (sqlite3 *db, gint64 session_id, const gchar *code)
{
  session_update (db, "UPDATE live_sessions SET challenge = ?3 WHERE id = ?1 AND ?2 > 0", session_id, code, NULL);
}

gboolean
store_session_challenge_seen (sqlite3 *db, gint64 session_id, const gchar *by_user)
{
  return session_update (db, "UPDATE live_sessions SET challenge_seen_by = ?3, challenge_seen_at = ?2 "
                         "WHERE id = ?1 AND challenge_seen_by IS NULL", session_id, by_user, NULL);
}

gboolean
store_session_set_geo (sqlite3 *db, gint64 session_id, gdouble lat, gdouble lon, gdouble accuracy_m)
{
  const gdouble values[3] = { lat, lon, accuracy_m };
  return session_update (db, "UPDATE live_sessions SET geo_lat = ?3, geo_lon = ?4, geo_accuracy_m = ?5, geo_at = ?2 "
                         "WHERE id = ?1", session_id, NULL, values);
}

/* ---- evidence stills ---------------------------------------------------------------- */

void
still_row_free (StillRow *row)
{
  if (!row)
    return;
  g_free (row->path);
  g_free (row->sha256);
  g_free (row->by_user);
  g_free (row->annotation);
  g_free (row->annotated_by);
  g_free (row->case_ref);
  g_free (row->source);
  g_free (row);
}

gint64
store_still_add (sqlite3 *db, gint64 case_id, gint64 session_id, gint item, const gchar *path, const gchar *sha256,
                 gint64 bytes, gint64 media_ms, const gchar *by_user)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "INSERT INTO stills (case_id, session_id, item, path, sha256, bytes, media_ms, at, by_user) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", -1, &st, NULL) != SQLITE_OK)
    return 0;
  sqlite3_bind_int64 (st, 1, case_id);
  sqlite3_bind_int64 (st, 2, session_id);
  sqlite3_bind_int (st, 3, item);
  sqlite3_bind_text (st, 4, path, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 5, sha256, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 6, bytes);
  if (media_ms >= 0)
    sqlite3_bind_int64 (st, 7, media_ms);
  sqlite3_bind_int64 (st, 8, db_now_ms ());
  sqlite3_bind_text (st, 9, by_user, -1, SQLITE_TRANSIENT);
  return db_step_insert (db, st);
}

static GPtrArray *
stills_query (sqlite3 *db, const gchar *where, gint64 arg)
{
  g_autofree gchar *sql = g_strdup_printf (
      "SELECT s.id, s.case_id, s.session_id, s.item, s.path, s.sha256, s.bytes, s.media_ms, s.at, s.by_user, "
      "s.annotation, s.annotated_by, s.annotated_at, c.ref, s.purged_at, s.source, s.request_id, s.width, s.height, "
      "s.geo_lat, s.geo_lon, s.geo_accuracy_m FROM stills s JOIN cases c ON c.id = s.case_id "
      "WHERE %s ORDER BY s.id", where);
  sqlite3_stmt *st = NULL;
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) still_row_free);
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, arg);
    while (sqlite3_step (st) == SQLITE_ROW) {
      StillRow *r = g_new0 (StillRow, 1);
      r->id = sqlite3_column_int64 (st, 0);
      r->case_id = sqlite3_column_int64 (st, 1);
      r->session_id = sqlite3_column_int64 (st, 2);
      r->item = sqlite3_column_int (st, 3);
      r->path = db_column_dup (st, 4, NULL);
      r->sha256 = db_column_dup (st, 5, NULL);
      r->bytes = sqlite3_column_int64 (st, 6);
      r->media_ms = sqlite3_column_type (st, 7) == SQLITE_NULL ? -1 : sqlite3_column_int64 (st, 7);
      r->at = sqlite3_column_int64 (st, 8);
      r->by_user = db_column_dup (st, 9, NULL);
      r->annotation = db_column_dup (st, 10, NULL);
      r->annotated_by = db_column_dup (st, 11, NULL);
      r->annotated_at = sqlite3_column_int64 (st, 12);
      r->case_ref = db_column_dup (st, 13, NULL);
      r->purged_at = sqlite3_column_int64 (st, 14);
      r->source = db_column_dup (st, 15, "video");
      r->request_id = sqlite3_column_int64 (st, 16);
      r->width = sqlite3_column_int (st, 17);
      r->height = sqlite3_column_int (st, 18);
      r->has_geo = sqlite3_column_type (st, 19) != SQLITE_NULL && sqlite3_column_type (st, 20) != SQLITE_NULL;
      r->geo_lat = sqlite3_column_double (st, 19);
      r->geo_lon = sqlite3_column_double (st, 20);
      r->geo_accuracy_m = sqlite3_column_double (st, 21);
      g_ptr_array_add (rows, r);
    }
  }
  sqlite3_finalize (st);
  return rows;
}

GPtrArray *
store_stills_of_case (sqlite3 *db, gint64 case_id)
{
  return stills_query (db, "s.case_id = ?1", case_id);
}

StillRow *
store_still_get (sqlite3 *db, gint64 still_id)
{
  g_autoptr (GPtrArray) rows = stills_query (db, "s.id = ?1", still_id);
  return rows->len ? g_ptr_array_steal_index (rows, 0) : NULL;
}

gboolean
store_still_annotate (sqlite3 *db, gint64 still_id, const gchar *annotation, const gchar *by_user)
{
  sqlite3_stmt *st = NULL;
  gboolean ok = FALSE;
  if (sqlite3_prepare_v2 (db, "UPDATE stills SET annotation = ?2, annotated_by = ?3, annotated_at = ?4 WHERE id = ?1",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, still_id);
    sqlite3_bind_text (st, 2, annotation, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 3, by_user, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 4, db_now_ms ());
    ok = sqlite3_step (st) == SQLITE_DONE && sqlite3_changes (db) == 1;
  }
  sqlite3_finalize (st);
  return ok;
}

/* ---- retention ------------------------------------------------------------------------ */

void
purge_row_free (PurgeRow *row)
{
  if (!row)
    return;
  g_free (row->kind);
  g_free (row->case_ref);
  g_free (row->path);
  g_free (row->sha256);
  g_free (row);
}

GPtrArray *
store_media_decided_before (sqlite3 *db, gint64 before_ms)
{
  static const gchar sql[] =
    "WITH decided AS (SELECT d.case_id, max(d.at) AS at FROM decisions d JOIN cases c ON c.id = d.case_id "
    "  WHERE d.state = 'final' AND d.kind IN ('approve', 'reject') AND c.status IN ('approved', 'rejected') "
    "  GROUP BY d.case_id) "
    "SELECT 'recording', r.id, c.ref, coalesce(r.archive_path, r.path), coalesce(r.archive_sha256, '') "
    "  FROM recordings r JOIN live_sessions s ON s.id = r.session_id JOIN cases c ON c.id = s.case_id "
    "  JOIN decided ON decided.case_id = c.id WHERE decided.at < ?1 AND r.purged_at IS NULL "
    "UNION ALL "
    "SELECT 'still', st.id, c.ref, st.path, st.sha256 FROM stills st JOIN cases c ON c.id = st.case_id "
    "  JOIN decided ON decided.case_id = c.id WHERE decided.at < ?1 AND st.purged_at IS NULL";
  sqlite3_stmt *st = NULL;
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) purge_row_free);
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, before_ms);
    while (sqlite3_step (st) == SQLITE_ROW) {
      PurgeRow *r = g_new0 (PurgeRow, 1);
      r->kind = db_column_dup (st, 0, NULL);
      r->id = sqlite3_column_int64 (st, 1);
      r->case_ref = db_column_dup (st, 2, NULL);
      r->path = db_column_dup (st, 3, NULL);
      r->sha256 = db_column_dup (st, 4, NULL);
      g_ptr_array_add (rows, r);
    }
  } else {
    g_warning ("retention query: %s", sqlite3_errmsg (db));
  }
  sqlite3_finalize (st);
  return rows;
}

void
store_media_mark_purged (sqlite3 *db, const gchar *kind, gint64 id)
{
  sqlite3_stmt *st = NULL;
  const gchar *sql = g_strcmp0 (kind, "still") == 0 ? "UPDATE stills SET purged_at = ?2 WHERE id = ?1"
                                                      : "UPDATE recordings SET purged_at = ?2 WHERE id = ?1";
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, id);
    sqlite3_bind_int64 (st, 2, db_now_ms ());
    sqlite3_step (st);
  }
  sqlite3_finalize (st);
}

gboolean
store_still_in_notice (sqlite3 *db, gint64 case_id, gint64 still_id)
{
  sqlite3_stmt *st = NULL;
  gboolean found = FALSE;
  if (sqlite3_prepare_v2 (db, "SELECT 1 FROM decisions d, json_each (d.notice, '$.items') i, "
                          "json_each (i.value, '$.stills') s WHERE d.case_id = ?1 AND d.kind = 'rectify' "
                          "AND d.notice IS NOT NULL AND json_extract (s.value, '$.id') = ?2 LIMIT 1",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, case_id);
    sqlite3_bind_int64 (st, 2, still_id);
    found = sqlite3_step (st) == SQLITE_ROW;
  }
  sqlite3_finalize (st);
  return found;
}

/* store_sessions.c — SQL for live inspections (live_sessions), their participants and
 * their recording segments. Failures here are logged, never fatal to live media. */
#include "store/db.h"
#include "core/errors.h"

static gint64
insert_returning_id (sqlite3 *db, sqlite3_stmt *st)
{
  gint64 id = 0;
  if (sqlite3_step (st) == SQLITE_DONE)
    id = sqlite3_last_insert_rowid (db);
  else
    g_warning ("database insert failed: %s", sqlite3_errmsg (db));
  sqlite3_finalize (st);
  return id;
}

gint64
store_session_open (sqlite3 *db, gint64 case_id, GError **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "INSERT INTO live_sessions (case_id, started_at) VALUES (?1, ?2)",
                          -1, &st, NULL) != SQLITE_OK) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "%s", sqlite3_errmsg (db));
    return 0;
  }
  sqlite3_bind_int64 (st, 1, case_id);
  sqlite3_bind_int64 (st, 2, db_now_ms ());
  gint64 id = insert_returning_id (db, st);
  if (!id)
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot open a live inspection");
  return id;
}

static void
update_id (sqlite3 *db, const gchar *sql, gint64 id)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, id);
    sqlite3_bind_int64 (st, 2, db_now_ms ());
    if (sqlite3_step (st) != SQLITE_DONE)
      g_warning ("database update failed: %s", sqlite3_errmsg (db));
  }
  sqlite3_finalize (st);
}

void
store_session_close (sqlite3 *db, gint64 session_id)
{
  update_id (db, "UPDATE live_sessions SET ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL", session_id);
}

gint64
store_participant_join (sqlite3 *db, gint64 session_id, const gchar *peer, const gchar *role,
                        const gchar *name)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "INSERT INTO participants (session_id, peer, role, name, joined_at) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st, NULL) != SQLITE_OK)
    return 0;
  sqlite3_bind_int64 (st, 1, session_id);
  sqlite3_bind_text (st, 2, peer, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 3, role, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 4, name ? name : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 5, db_now_ms ());
  return insert_returning_id (db, st);
}

void
store_participant_leave (sqlite3 *db, gint64 participant_id)
{
  update_id (db, "UPDATE participants SET left_at = ?2 WHERE id = ?1 AND left_at IS NULL", participant_id);
}

void
store_participant_set_ice (sqlite3 *db, gint64 participant_id, const gchar *local, const gchar *remote)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "UPDATE participants SET ice_local = ?2, ice_remote = ?3, ice_at = ?4 WHERE id = ?1",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, participant_id);
    sqlite3_bind_text (st, 2, local, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 3, remote, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 4, db_now_ms ());
    if (sqlite3_step (st) != SQLITE_DONE)
      g_warning ("database update failed: %s", sqlite3_errmsg (db));
  }
  sqlite3_finalize (st);
}

void
participant_row_free (ParticipantRow *row)
{
  if (!row)
    return;
  g_free (row->peer);
  g_free (row->role);
  g_free (row->name);
  g_free (row->ice_local);
  g_free (row->ice_remote);
  g_free (row);
}

GPtrArray *
store_participants_of_session (sqlite3 *db, gint64 session_id)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) participant_row_free);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT id, session_id, joined_at, left_at, ice_at, peer, role, name, ice_local, ice_remote "
                          "FROM participants WHERE session_id = ?1 ORDER BY id", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, session_id);
    while (sqlite3_step (st) == SQLITE_ROW) {
      ParticipantRow *r = g_new0 (ParticipantRow, 1);
      r->id = sqlite3_column_int64 (st, 0);
      r->session_id = sqlite3_column_int64 (st, 1);
      r->joined_at = sqlite3_column_int64 (st, 2);
      r->left_at = sqlite3_column_int64 (st, 3);
      r->ice_at = sqlite3_column_int64 (st, 4);
      r->peer = db_column_dup (st, 5, NULL);
      r->role = db_column_dup (st, 6, NULL);
      r->name = db_column_dup (st, 7, NULL);
      r->ice_local = db_column_dup (st, 8, NULL);
      r->ice_remote = db_column_dup (st, 9, NULL);
      g_ptr_array_add (out, r);
    }
  }
  sqlite3_finalize (st);
  return out;
}

gint64
store_recording_begin (sqlite3 *db, gint64 session_id, gint seq, const gchar *path,
                       const gchar *video_codec, const gchar *audio_codec)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "INSERT INTO recordings (session_id, seq, path, video_codec, audio_codec, started_at) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &st, NULL) != SQLITE_OK)
    return 0;
  sqlite3_bind_int64 (st, 1, session_id);
  sqlite3_bind_int (st, 2, seq);
  sqlite3_bind_text (st, 3, path, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 4, video_codec, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 5, audio_codec, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 6, db_now_ms ());
  return insert_returning_id (db, st);
}

void
store_recording_end (sqlite3 *db, gint64 recording_id, gint64 bytes, const gchar *state)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "UPDATE recordings SET ended_at = ?2, bytes = ?3, state = ?4 WHERE id = ?1",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, recording_id);
    sqlite3_bind_int64 (st, 2, db_now_ms ());
    sqlite3_bind_int64 (st, 3, bytes);
    sqlite3_bind_text (st, 4, state, -1, SQLITE_TRANSIENT);
    if (sqlite3_step (st) != SQLITE_DONE)
      g_warning ("database update failed: %s", sqlite3_errmsg (db));
  }
  sqlite3_finalize (st);
}

/* an UPDATE of one recording row whose other parameters (?2, ?3) are integers */
static void
update_recording (sqlite3 *db, const gchar *sql, gint64 recording_id, gint64 a, gint64 b)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, recording_id);
    sqlite3_bind_int64 (st, 2, a);
    if (sqlite3_bind_parameter_count (st) >= 3)
      sqlite3_bind_int64 (st, 3, b);
    if (sqlite3_step (st) != SQLITE_DONE)
      g_warning ("database update failed: %s", sqlite3_errmsg (db));
  }
  sqlite3_finalize (st);
}

void
store_recording_stopped (sqlite3 *db, gint64 recording_id, gint64 at_ms)
{
  update_recording (db, "UPDATE recordings SET ended_at = ?2 WHERE id = ?1", recording_id, at_ms, 0);
}

void
store_recording_media_clock (sqlite3 *db, gint64 recording_id, gint64 at_ms, gint64 pts_us)
{
  update_recording (db, "UPDATE recordings SET media_ref_at = ?2, media_ref_pts_us = ?3 WHERE id = ?1",
                    recording_id, at_ms, pts_us);
}

/* The archive's 0 is the source's time shift_us; the reference buffer, at media_ref_pts_us in
 * the source, reached the muxer at media_ref_at: so the archive's 0 happened
 * (media_ref_pts_us - shift_us) earlier. When the shift is unknown (an archive picked up after
 * a crash) or the two disagree, it stays NULL: readers take started_at, which the first media
 * follows within the keyframe wait. */
void
store_recording_media_start (sqlite3 *db, gint64 recording_id, gint64 shift_us, gboolean shift_known)
{
  update_recording (db, "UPDATE recordings SET media_started_at = CASE "
                        "WHEN media_ref_at IS NULL THEN NULL "
                        "WHEN ?3 AND media_ref_pts_us >= ?2 THEN media_ref_at - (media_ref_pts_us - ?2) / 1000 "
                        "ELSE NULL END WHERE id = ?1", recording_id, shift_us, shift_known ? 1 : 0);
}

void
store_recordings_mark_interrupted (sqlite3 *db)
{
  sqlite3_exec (db, "UPDATE recordings SET state = 'interrupted' WHERE state = 'recording';"
                    "UPDATE live_sessions SET ended_at = started_at WHERE ended_at IS NULL;"
                    "UPDATE participants SET left_at = joined_at WHERE left_at IS NULL;",
                NULL, NULL, NULL);
}

void
store_recording_archived (sqlite3 *db, gint64 recording_id, const gchar *path, const gchar *sha256,
                          gint64 bytes, gint64 duration_ms, gboolean salvaged)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "UPDATE recordings SET archive_path = ?2, archive_sha256 = ?3, archive_bytes = ?4, "
                          "duration_ms = ?5, archive_state = ?6, archive_error = NULL WHERE id = ?1",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, recording_id);
    sqlite3_bind_text (st, 2, path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 3, sha256, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 4, bytes);
    sqlite3_bind_int64 (st, 5, duration_ms);
    sqlite3_bind_text (st, 6, salvaged ? "salvaged" : "archived", -1, SQLITE_STATIC);
    if (sqlite3_step (st) != SQLITE_DONE)
      g_warning ("database update failed: %s", sqlite3_errmsg (db));
  }
  sqlite3_finalize (st);
}

void
store_recording_empty (sqlite3 *db, gint64 recording_id)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "UPDATE recordings SET archive_state = 'empty', duration_ms = 0, archive_error = NULL "
                          "WHERE id = ?1", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, recording_id);
    if (sqlite3_step (st) != SQLITE_DONE)
      g_warning ("database update failed: %s", sqlite3_errmsg (db));
  }
  sqlite3_finalize (st);
}

void
store_recording_archive_failed (sqlite3 *db, gint64 recording_id, const gchar *message)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "UPDATE recordings SET archive_state = 'failed', archive_error = ?2 WHERE id = ?1",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, recording_id);
    sqlite3_bind_text (st, 2, message, -1, SQLITE_TRANSIENT);
    sqlite3_step (st);
  }
  sqlite3_finalize (st);
}

GPtrArray *
store_recordings_unarchived (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  if (sqlite3_prepare_v2 (db, "SELECT id, path FROM recordings WHERE archive_state IS NULL "
                          "AND state <> 'recording' ORDER BY id", -1, &st, NULL) == SQLITE_OK)
    while (sqlite3_step (st) == SQLITE_ROW) {
      gchar **row = g_new0 (gchar *, 3);
      row[0] = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (st, 0));
      row[1] = g_strdup ((const gchar *) sqlite3_column_text (st, 1));
      g_ptr_array_add (rows, row);
    }
  sqlite3_finalize (st);
  return rows;
}

gchar *
store_recording_case_ref (sqlite3 *db, gint64 recording_id)
{
  sqlite3_stmt *st = NULL;
  gchar *ref = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT c.ref FROM recordings r JOIN live_sessions s ON s.id = r.session_id "
                          "JOIN cases c ON c.id = s.case_id WHERE r.id = ?1", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, recording_id);
    if (sqlite3_step (st) == SQLITE_ROW)
      ref = g_strdup ((const gchar *) sqlite3_column_text (st, 0));
  }
  sqlite3_finalize (st);
  return ref ? ref : g_strdup ("");
}

/* one g_free per owned field, like every free function of a row or a parsed message here: kept
 * per struct (a generic freer would hide which fields each struct owns) */
void
recording_row_free (RecordingRow *row)
{
  if (!row)
    return;
  g_free (row->video_codec);
  g_free (row->audio_codec);
  g_free (row->state);
  g_free (row->archive_state);
  g_free (row->archive_path);
  g_free (row->archive_sha256);
  g_free (row);
}

/* the columns of a RecordingRow, read back by recording_from (from column 0 on) */
#define RECORDING_COLUMNS "r.id, r.session_id, r.seq, r.started_at, r.ended_at, r.duration_ms, r.archive_bytes, " \
  "r.purged_at, r.video_codec, r.audio_codec, r.state, r.archive_state, r.archive_path, r.archive_sha256, " \
  "COALESCE (r.media_started_at, r.started_at)"

static RecordingRow *
recording_from (sqlite3_stmt *st)
{
  RecordingRow *r = g_new0 (RecordingRow, 1);
  r->id = sqlite3_column_int64 (st, 0);
  r->session_id = sqlite3_column_int64 (st, 1);
  r->seq = sqlite3_column_int (st, 2);
  r->started_at = sqlite3_column_int64 (st, 3);
  r->ended_at = sqlite3_column_int64 (st, 4);
  r->duration_ms = sqlite3_column_int64 (st, 5);
  r->archive_bytes = sqlite3_column_int64 (st, 6);
  r->purged_at = sqlite3_column_int64 (st, 7);
  r->video_codec = db_column_dup (st, 8, NULL);
  r->audio_codec = db_column_dup (st, 9, NULL);
  r->state = db_column_dup (st, 10, NULL);
  r->archive_state = db_column_dup (st, 11, NULL);
  r->archive_path = db_column_dup (st, 12, NULL);
  r->archive_sha256 = db_column_dup (st, 13, NULL);
  r->media_started_at = sqlite3_column_int64 (st, 14);
  return r;
}

GPtrArray *
store_recordings_of_case (sqlite3 *db, gint64 case_id)
{
  sqlite3_stmt *st = NULL;
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) recording_row_free);
  if (sqlite3_prepare_v2 (db, "SELECT " RECORDING_COLUMNS " FROM recordings r JOIN live_sessions s ON s.id = r.session_id "
                          "WHERE s.case_id = ?1 ORDER BY r.started_at, r.id", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, case_id);
    while (sqlite3_step (st) == SQLITE_ROW)
      g_ptr_array_add (rows, recording_from (st));
  }
  sqlite3_finalize (st);
  return rows;
}

/* One recording with the reference of its case, for the media URL (media_http.c). NULL when
 * the id is unknown. *case_ref is set (never NULL) when a row is returned. */
RecordingRow *
store_recording_get (sqlite3 *db, gint64 recording_id, gchar **case_ref)
{
  sqlite3_stmt *st = NULL;
  RecordingRow *r = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT " RECORDING_COLUMNS ", c.ref FROM recordings r "
                          "JOIN live_sessions s ON s.id = r.session_id JOIN cases c ON c.id = s.case_id "
                          "WHERE r.id = ?1", -1, &st, NULL) != SQLITE_OK) {
    g_warning ("database query failed: %s", sqlite3_errmsg (db));
    return NULL;
  }
  sqlite3_bind_int64 (st, 1, recording_id);
  if (sqlite3_step (st) == SQLITE_ROW) {
    r = recording_from (st);
    *case_ref = db_column_dup (st, 15, NULL);
  }
  sqlite3_finalize (st);
  return r;
}

void
store_recording_gap_add (sqlite3 *db, gint64 recording_id, gint64 at, gint64 duration_ms, const gchar *reason)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "INSERT INTO recording_gaps (recording_id, at, duration_ms, reason) "
                          "VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL) != SQLITE_OK) {
    g_warning ("database insert failed: %s", sqlite3_errmsg (db));
    return;
  }
  sqlite3_bind_int64 (st, 1, recording_id);
  sqlite3_bind_int64 (st, 2, at);
  sqlite3_bind_int64 (st, 3, duration_ms);
  sqlite3_bind_text (st, 4, reason, -1, SQLITE_TRANSIENT);
  insert_returning_id (db, st);
}

GArray *
store_recording_gaps (sqlite3 *db, gint64 recording_id)
{
  GArray *gaps = g_array_new (FALSE, FALSE, sizeof (GapRow));
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT at, duration_ms FROM recording_gaps WHERE recording_id = ?1 ORDER BY at, id",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, recording_id);
    while (sqlite3_step (st) == SQLITE_ROW) {
      GapRow gap = { sqlite3_column_int64 (st, 0), sqlite3_column_int64 (st, 1) };
      g_array_append_val (gaps, gap);
    }
  }
  sqlite3_finalize (st);
  return gaps;
}

GPtrArray *
store_recordings_archive_failed (sqlite3 *db, gint64 session_id)
{
  sqlite3_stmt *st = NULL;
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  if (sqlite3_prepare_v2 (db, "SELECT id, path FROM recordings WHERE session_id = ?1 AND archive_state = 'failed' "
                          "AND state <> 'recording' AND purged_at IS NULL ORDER BY id", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, session_id);
    while (sqlite3_step (st) == SQLITE_ROW) {
      gchar **row = g_new0 (gchar *, 3);
      row[0] = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (st, 0));
      row[1] = g_strdup ((const gchar *) sqlite3_column_text (st, 1));
      g_ptr_array_add (rows, row);
    }
  }
  sqlite3_finalize (st);
  /* claimed: back to "not archived yet", so no second sweep finalizes the same file at once
   * (and a crash meanwhile leaves them to the start-up leftovers) */
  for (guint i = 0; i < rows->len; i++) {
    gchar **row = g_ptr_array_index (rows, i);
    sqlite3_stmt *up = NULL;
    if (sqlite3_prepare_v2 (db, "UPDATE recordings SET archive_state = NULL, archive_error = NULL WHERE id = ?1",
                            -1, &up, NULL) == SQLITE_OK) {
      sqlite3_bind_int64 (up, 1, g_ascii_strtoll (row[0], NULL, 10));
      sqlite3_step (up);
    }
    sqlite3_finalize (up);
  }
  return rows;
}

/* store_photos.c — SQL of photo requests and photo stills (store_photos.h). Never decides
 * whether a request may be used: review/photos.c does. */
#include "store/store_photos.h"

void
photo_request_row_free (PhotoRequestRow *row)
{
  if (!row)
    return;
  g_free (row->requested_by);
  g_free (row->key_hash);
  g_free (row->case_ref);
  g_free (row);
}

gint64
store_photo_request_add (sqlite3 *db, gint64 case_id, gint64 session_id, gint item, const gchar *by_user,
                         gint64 expires_at, const gchar *key_hash)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "INSERT INTO photo_requests (case_id, session_id, item, requested_by, requested_at, "
                          "expires_at, key_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &st, NULL) != SQLITE_OK)
    return 0;
  sqlite3_bind_int64 (st, 1, case_id);
  sqlite3_bind_int64 (st, 2, session_id);
  sqlite3_bind_int (st, 3, item);
  sqlite3_bind_text (st, 4, by_user, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 5, db_now_ms ());
  sqlite3_bind_int64 (st, 6, expires_at);
  sqlite3_bind_text (st, 7, key_hash, -1, SQLITE_TRANSIENT);
  return db_step_insert (db, st);
}

PhotoRequestRow *
store_photo_request_get (sqlite3 *db, gint64 request_id)
{
  sqlite3_stmt *st = NULL;
  PhotoRequestRow *r = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT p.id, p.case_id, p.session_id, p.item, p.requested_by, p.requested_at, "
                          "p.expires_at, p.key_hash, p.fulfilled_at, p.still_id, c.ref FROM photo_requests p "
                          "JOIN cases c ON c.id = p.case_id WHERE p.id = ?1", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, request_id);
    if (sqlite3_step (st) == SQLITE_ROW) {
      r = g_new0 (PhotoRequestRow, 1);
      r->id = sqlite3_column_int64 (st, 0);
      r->case_id = sqlite3_column_int64 (st, 1);
      r->session_id = sqlite3_column_int64 (st, 2);
      r->item = sqlite3_column_int (st, 3);
      r->requested_by = db_column_dup (st, 4, "");
      r->requested_at = sqlite3_column_int64 (st, 5);
      r->expires_at = sqlite3_column_int64 (st, 6);
      r->key_hash = db_column_dup (st, 7, "");
      r->fulfilled_at = sqlite3_column_int64 (st, 8);
      r->still_id = sqlite3_column_int64 (st, 9);
      r->case_ref = db_column_dup (st, 10, "");
    }
  }
  sqlite3_finalize (st);
  return r;
}

gboolean
store_photo_request_fulfil (sqlite3 *db, gint64 request_id, gint64 still_id)
{
  sqlite3_stmt *st = NULL;
  gboolean ok = FALSE;
  if (sqlite3_prepare_v2 (db, "UPDATE photo_requests SET fulfilled_at = ?2, still_id = ?3 "
                          "WHERE id = ?1 AND fulfilled_at IS NULL", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, request_id);
    sqlite3_bind_int64 (st, 2, db_now_ms ());
    sqlite3_bind_int64 (st, 3, still_id);
    ok = sqlite3_step (st) == SQLITE_DONE && sqlite3_changes (db) == 1;
  }
  sqlite3_finalize (st);
  return ok;
}

gint64
store_photo_still_add (sqlite3 *db, const PhotoStill *p)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "INSERT INTO stills (case_id, session_id, item, path, sha256, bytes, media_ms, at, by_user, "
                          "source, request_id, width, height, geo_lat, geo_lon, geo_accuracy_m) VALUES "
                          "(?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?8, 'photo', ?9, ?10, ?11, ?12, ?13, ?14)",
                          -1, &st, NULL) != SQLITE_OK)
    return 0;
  sqlite3_bind_int64 (st, 1, p->case_id);
  sqlite3_bind_int64 (st, 2, p->session_id);
  sqlite3_bind_int (st, 3, p->item);
  sqlite3_bind_text (st, 4, p->path, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 5, p->sha256, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 6, p->bytes);
  sqlite3_bind_int64 (st, 7, db_now_ms ());
  sqlite3_bind_text (st, 8, p->by_user, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 9, p->request_id);
  if (p->width > 0 && p->height > 0) {
    sqlite3_bind_int (st, 10, p->width);
    sqlite3_bind_int (st, 11, p->height);
  }
  if (p->has_geo) {
    sqlite3_bind_double (st, 12, p->lat);
    sqlite3_bind_double (st, 13, p->lon);
    sqlite3_bind_double (st, 14, p->accuracy_m);
  }
  return db_step_insert (db, st);
}

/* store_watch.c — WHEP viewing tokens (schema 14): issued for one case by a reviewer or lead,
 * short-lived, stored as their SHA-256 like invites, revocable, their first use recorded.
 * Never decides who may issue one (review/) nor what a token lets a viewer see (web/whep.c). */
#include "store/store_watch.h"
#include "store/db.h"
#include "core/errors.h"
#include <sodium.h>

static gchar *
token_hash (const gchar *token)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
}

gchar *
store_watch_token_issue (sqlite3 *db, gint64 case_id, const gchar *issued_by, gint64 ttl_s, gint64 *id,
                         gint64 *expires_at, GError **error)
{
  guint8 raw[32];
  gchar encoded[sodium_base64_ENCODED_LEN (32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  randombytes_buf (raw, sizeof raw);
  sodium_bin2base64 (encoded, sizeof encoded, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero (raw, sizeof raw);

  g_autofree gchar *hash = token_hash (encoded);
  gint64 now = db_now_ms ();
  gint64 expires = now + ttl_s * 1000;
  sqlite3_stmt *st = NULL;
  gint rc = SQLITE_ERROR;
  if (sqlite3_prepare_v2 (db, "INSERT INTO watch_tokens (case_id, token_hash, issued_by, created_at, expires_at) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, case_id);
    sqlite3_bind_text (st, 2, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 3, issued_by, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 4, now);
    sqlite3_bind_int64 (st, 5, expires);
    rc = sqlite3_step (st);
  }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "issuing a viewing token: %s", sqlite3_errmsg (db));
    return NULL;
  }
  if (id)
    *id = sqlite3_last_insert_rowid (db);
  if (expires_at)
    *expires_at = expires;
  return g_strdup (encoded);
}

WatchTokenStatus
store_watch_token_check (sqlite3 *db, gint64 case_id, const gchar *token, gint64 *id, gchar **issued_by)
{
  if (!token || !*token || strlen (token) > 128)
    return WATCH_TOKEN_UNKNOWN;
  g_autofree gchar *hash = token_hash (token);
  sqlite3_stmt *st = NULL;
  WatchTokenStatus status = WATCH_TOKEN_UNKNOWN;
  if (sqlite3_prepare_v2 (db, "SELECT id, case_id, issued_by, expires_at, revoked_at FROM watch_tokens "
                          "WHERE token_hash = ?1", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, hash, -1, SQLITE_TRANSIENT);
    if (sqlite3_step (st) == SQLITE_ROW) {
      if (sqlite3_column_int64 (st, 1) != case_id)
        status = WATCH_TOKEN_WRONG_CASE;
      else if (sqlite3_column_type (st, 4) != SQLITE_NULL)
        status = WATCH_TOKEN_REVOKED;
      else if (sqlite3_column_int64 (st, 3) <= db_now_ms ())
        status = WATCH_TOKEN_EXPIRED;
      else {
        status = WATCH_TOKEN_OK;
        if (id)
          *id = sqlite3_column_int64 (st, 0);
        if (issued_by)
          *issued_by = g_strdup ((const gchar *) sqlite3_column_text (st, 2));
      }
    }
  }
  sqlite3_finalize (st);
  return status;
}

gboolean
store_watch_token_revoke (sqlite3 *db, gint64 case_id, gint64 id)
{
  sqlite3_stmt *st = NULL;
  gboolean done = FALSE;
  if (sqlite3_prepare_v2 (db, "UPDATE watch_tokens SET revoked_at = ?3 WHERE id = ?1 AND case_id = ?2 "
                          "AND revoked_at IS NULL", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, id);
    sqlite3_bind_int64 (st, 2, case_id);
    sqlite3_bind_int64 (st, 3, db_now_ms ());
    done = sqlite3_step (st) == SQLITE_DONE && sqlite3_changes (db) == 1;
  }
  sqlite3_finalize (st);
  return done;
}

void
store_watch_token_used (sqlite3 *db, gint64 id, const gchar *address)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "UPDATE watch_tokens SET used_at = ?2, used_from = ?3 WHERE id = ?1 "
                          "AND used_at IS NULL", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, id);
    sqlite3_bind_int64 (st, 2, db_now_ms ());
    sqlite3_bind_text (st, 3, address ? address : "", -1, SQLITE_TRANSIENT);
    sqlite3_step (st);
  }
  sqlite3_finalize (st);
}

/* store_short_codes.c — the invite_codes table (schema 16, booking). Holds no code itself,
 * only its hash and the sealed token; revoking or the expiry of the invite ends the code with
 * it (the lookup joins the invite). Never draws nor opens a code (review/short_code.c). */
#include "store/store_short_codes.h"
#include "store/db.h"
#include "core/errors.h"

gint64
store_invite_id_of_token (sqlite3 *db, const gchar *token)
{
  g_autofree gchar *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
  sqlite3_stmt *st = NULL;
  gint64 id = 0;
  if (sqlite3_prepare_v2 (db, "SELECT id FROM invites WHERE token_hash = ?1", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, hash, -1, SQLITE_TRANSIENT);
    if (sqlite3_step (st) == SQLITE_ROW)
      id = sqlite3_column_int64 (st, 0);
  }
  sqlite3_finalize (st);
  return id;
}

gboolean
store_invite_code_add (sqlite3 *db, gint64 invite_id, const gchar *code_hash, const gchar *sealed, GError **error)
{
  sqlite3_stmt *st = NULL;
  gint rc = SQLITE_ERROR;
  if (sqlite3_prepare_v2 (db, "INSERT INTO invite_codes (invite_id, code_hash, sealed, created_at) "
                          "VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, invite_id);
    sqlite3_bind_text (st, 2, code_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 3, sealed, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 4, db_now_ms ());
    rc = sqlite3_step (st);
  }
  gint ext = sqlite3_extended_errcode (db);
  sqlite3_finalize (st);
  if (rc == SQLITE_DONE)
    return TRUE;
  if (ext == SQLITE_CONSTRAINT_UNIQUE)
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "that short code is taken");
  else
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "storing a short code: %s", sqlite3_errmsg (db));
  return FALSE;
}

gboolean
store_invite_code_find (sqlite3 *db, const gchar *code_hash, gchar **case_ref, gchar **sealed)
{
  sqlite3_stmt *st = NULL;
  gboolean found = FALSE;
  if (sqlite3_prepare_v2 (db, "SELECT c.ref, k.sealed FROM invite_codes k JOIN invites i ON i.id = k.invite_id "
                          "JOIN cases c ON c.id = i.case_id WHERE k.code_hash = ?1 AND i.revoked_at IS NULL "
                          "AND i.expires_at > ?2", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, code_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 2, db_now_ms ());
    if (sqlite3_step (st) == SQLITE_ROW) {
      found = TRUE;
      *case_ref = db_column_dup (st, 0, "");
      *sealed = db_column_dup (st, 1, "");
    }
  }
  sqlite3_finalize (st);
  return found;
}

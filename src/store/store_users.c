/* store_users.c — SQL of accounts and login sessions (store_users.h). No policy and no
 * cryptography here: users.c validates, hashes and decides. */
#include "store/store_users.h"
#include "store/db.h"
#include "core/errors.h"

#define USER_SELECT "SELECT id, username, role, department, disabled_at, password_hash, failed_logins, last_failed_at FROM users "

void
user_free (User *user)
{
  if (!user)
    return;
  g_free (user->username);
  g_free (user->role);
  g_free (user->department);
  g_free (user);
}

static User *
user_from (sqlite3_stmt *st)
{
  User *u = g_new0 (User, 1);
  u->id = sqlite3_column_int64 (st, 0);
  u->username = g_strdup ((const gchar *) sqlite3_column_text (st, 1));
  u->role = g_strdup ((const gchar *) sqlite3_column_text (st, 2));
  u->department = g_strdup ((const gchar *) sqlite3_column_text (st, 3));
  u->disabled = sqlite3_column_type (st, 4) != SQLITE_NULL;
  return u;
}

User *
store_user_find (sqlite3 *db, const gchar *username, gchar **password_hash)
{
  sqlite3_stmt *st = NULL;
  User *u = NULL;
  if (sqlite3_prepare_v2 (db, USER_SELECT "WHERE username = ?1", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, username, -1, SQLITE_TRANSIENT);
    if (sqlite3_step (st) == SQLITE_ROW) {
      u = user_from (st);
      if (password_hash)
        *password_hash = g_strdup ((const gchar *) sqlite3_column_text (st, 5));
    }
  }
  sqlite3_finalize (st);
  return u;
}

gboolean
store_user_add (sqlite3 *db, const gchar *username, const gchar *password_hash, const gchar *role,
                const gchar *department, GError **error)
{
  sqlite3_stmt *st = NULL;
  gint rc = SQLITE_ERROR;
  if (sqlite3_prepare_v2 (db, "INSERT INTO users (username, password_hash, role, department, created_at) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, username, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 2, password_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 3, role, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 4, department ? department : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 5, db_now_ms ());
    rc = sqlite3_step (st);
  }
  sqlite3_finalize (st);
  if (rc == SQLITE_CONSTRAINT) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "a user '%s' exists already", username);
    return FALSE;
  }
  if (rc != SQLITE_DONE) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "adding a user: %s", sqlite3_errmsg (db));
    return FALSE;
  }
  return TRUE;
}

/* ?1 the username, ?2 the value (NULL: now); TRUE when exactly one row changed */
static gboolean
update_user (sqlite3 *db, const gchar *sql, const gchar *username, const gchar *value)
{
  sqlite3_stmt *st = NULL;
  gboolean ok = FALSE;
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, username, -1, SQLITE_TRANSIENT);
    if (value)
      sqlite3_bind_text (st, 2, value, -1, SQLITE_TRANSIENT);
    else
      sqlite3_bind_int64 (st, 2, db_now_ms ());
    ok = sqlite3_step (st) == SQLITE_DONE && sqlite3_changes (db) == 1;
  }
  sqlite3_finalize (st);
  return ok;
}

gboolean
store_user_set_password_hash (sqlite3 *db, const gchar *username, const gchar *password_hash)
{
  return update_user (db, "UPDATE users SET password_hash = ?2, failed_logins = 0 WHERE username = ?1", username,
                      password_hash);
}

gboolean
store_user_disable (sqlite3 *db, const gchar *username)
{
  if (!update_user (db, "UPDATE users SET disabled_at = ?2 WHERE username = ?1", username, NULL))
    return FALSE;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "UPDATE sessions SET ended_at = ?2 WHERE ended_at IS NULL AND user_id = "
                          "(SELECT id FROM users WHERE username = ?1)", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, username, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 2, db_now_ms ());
    sqlite3_step (st);
  }
  sqlite3_finalize (st);
  return TRUE;
}

gboolean
store_user_reset_password_hash (sqlite3 *db, const gchar *username, const gchar *password_hash)
{
  if (!store_user_set_password_hash (db, username, password_hash))
    return FALSE;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "UPDATE sessions SET ended_at = ?2 WHERE ended_at IS NULL AND user_id = "
                          "(SELECT id FROM users WHERE username = ?1)", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, username, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 2, db_now_ms ());
    sqlite3_step (st);
  }
  sqlite3_finalize (st);
  return TRUE;
}

gint
store_users_count (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  gint n = 0;
  if (sqlite3_prepare_v2 (db, "SELECT count(*) FROM users", -1, &st, NULL) == SQLITE_OK && sqlite3_step (st) == SQLITE_ROW)
    n = sqlite3_column_int (st, 0);
  sqlite3_finalize (st);
  return n;
}

GPtrArray *
store_users_list (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) user_free);
  if (sqlite3_prepare_v2 (db, USER_SELECT "ORDER BY username", -1, &st, NULL) == SQLITE_OK)
    while (sqlite3_step (st) == SQLITE_ROW)
      g_ptr_array_add (list, user_from (st));
  sqlite3_finalize (st);
  return list;
}

gboolean
store_login_session_add (sqlite3 *db, gint64 user_id, const gchar *token_hash, GError **error)
{
  sqlite3_stmt *st = NULL;
  gboolean ok = FALSE;
  if (sqlite3_prepare_v2 (db, "INSERT INTO sessions (user_id, token_hash, created_at, last_seen_at) VALUES (?1, ?2, ?3, ?3)",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, user_id);
    sqlite3_bind_text (st, 2, token_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 3, db_now_ms ());
    ok = sqlite3_step (st) == SQLITE_DONE;
  }
  sqlite3_finalize (st);
  if (!ok)
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot open a session: %s", sqlite3_errmsg (db));
  return ok;
}

User *
store_login_session_touch (sqlite3 *db, const gchar *token_hash, gint64 now, gint64 idle_after, gint64 created_after)
{
  sqlite3_stmt *st = NULL;
  User *u = NULL;
  gint64 session_id = 0;
  if (sqlite3_prepare_v2 (db, "SELECT u.id, u.username, u.role, u.department, u.disabled_at, s.id FROM sessions s "
                          "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1 AND s.ended_at IS NULL "
                          "AND u.disabled_at IS NULL AND s.last_seen_at > ?2 AND s.created_at > ?3",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, token_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 2, idle_after);
    sqlite3_bind_int64 (st, 3, created_after);
    if (sqlite3_step (st) == SQLITE_ROW) {
      u = user_from (st);
      session_id = sqlite3_column_int64 (st, 5);
    }
  }
  sqlite3_finalize (st);
  if (u && sqlite3_prepare_v2 (db, "UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, session_id);
    sqlite3_bind_int64 (st, 2, now);
    sqlite3_step (st);
    sqlite3_finalize (st);
  }
  return u;
}

void
store_login_session_end (sqlite3 *db, const gchar *token_hash)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "UPDATE sessions SET ended_at = ?2 WHERE token_hash = ?1 AND ended_at IS NULL",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, token_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 2, db_now_ms ());
    sqlite3_step (st);
  }
  sqlite3_finalize (st);
}

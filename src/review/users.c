/* users.c — SQL and cryptography of accounts and sessions. Passwords: Argon2id through
 * crypto_pwhash_str (interactive limits: 64 MiB each), checked on a pool of two threads with
 * a short queue; a login beyond it is refused at once. Who may try when is login_guard.c's.
 * Session tokens: 32 random bytes, base64url, only their SHA-256 is stored. */
#include "review/users.h"
#include <gio/gio.h>
#include "store/db.h"
#include "core/errors.h"
#include <sodium.h>

#include "review/login_guard.h"

#define HASH_THREADS 2       /* password checks running at once (64 MiB each) */
#define HASH_PENDING 8       /* … running and waiting: beyond this a login is refused at once */

static const gchar *const roles[] = { "admin", "reviewer", "lead", "auditor", NULL };

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

gboolean
users_role_is_valid (const gchar *role)
{
  return role && g_strv_contains (roles, role);
}

static gchar *
hash_password (const gchar *password, GError **error)
{
  gchar out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str (out, password, strlen (password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                         crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "out of memory hashing a password");
    return NULL;
  }
  return g_strdup (out);
}

static gboolean
password_acceptable (const gchar *password, GError **error)
{
  if (!password || g_utf8_strlen (password, -1) < 10 || strlen (password) > 256) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "a password has 10 to 256 characters");
    return FALSE;
  }
  return TRUE;
}

gchar *
users_random_password (void)
{
  guint8 raw[12];
  gchar out[sodium_base64_ENCODED_LEN (12, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  randombytes_buf (raw, sizeof raw);
  return g_strdup (sodium_bin2base64 (out, sizeof out, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING));
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

#define USER_SELECT "SELECT id, username, role, department, disabled_at, password_hash, failed_logins, last_failed_at FROM users "

User *
users_find (sqlite3 *db, const gchar *username)
{
  sqlite3_stmt *st = NULL;
  User *u = NULL;
  if (sqlite3_prepare_v2 (db, USER_SELECT "WHERE username = ?1", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, username, -1, SQLITE_TRANSIENT);
    if (sqlite3_step (st) == SQLITE_ROW)
      u = user_from (st);
  }
  sqlite3_finalize (st);
  return u;
}

User *
users_add (sqlite3 *db, const gchar *username, const gchar *password, const gchar *role, const gchar *department,
           GError **error)
{
  if (!username || !*username || strlen (username) > 64 || !g_utf8_validate (username, -1, NULL)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "a username has 1 to 64 characters");
    return NULL;
  }
  if (!users_role_is_valid (role)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "role must be admin, reviewer, lead or auditor");
    return NULL;
  }
  if (!password_acceptable (password, error))
    return NULL;
  g_autofree gchar *hash = hash_password (password, error);
  if (!hash)
    return NULL;
  sqlite3_stmt *st = NULL;
  gint rc = SQLITE_ERROR;
  if (sqlite3_prepare_v2 (db, "INSERT INTO users (username, password_hash, role, department, created_at) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, username, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 2, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 3, role, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 4, department ? department : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 5, db_now_ms ());
    rc = sqlite3_step (st);
  }
  sqlite3_finalize (st);
  if (rc == SQLITE_CONSTRAINT) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "a user '%s' exists already", username);
    return NULL;
  }
  if (rc != SQLITE_DONE) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "adding a user: %s", sqlite3_errmsg (db));
    return NULL;
  }
  return users_find (db, username);
}

static gboolean
update_user (sqlite3 *db, const gchar *sql, const gchar *username, const gchar *value, GError **error)
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
  if (!ok)
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "no user '%s'", username);
  return ok;
}

gboolean
users_set_password (sqlite3 *db, const gchar *username, const gchar *password, GError **error)
{
  if (!password_acceptable (password, error))
    return FALSE;
  g_autofree gchar *hash = hash_password (password, error);
  return hash && update_user (db, "UPDATE users SET password_hash = ?2, failed_logins = 0 WHERE username = ?1",
                              username, hash, error);
}

static UsersRevokedHook revoked_hook;

void
users_set_revoked_hook (UsersRevokedHook hook)
{
  revoked_hook = hook;
}

gboolean
users_disable (sqlite3 *db, const gchar *username, GError **error)
{
  if (!update_user (db, "UPDATE users SET disabled_at = ?2 WHERE username = ?1", username, NULL, error))
    return FALSE;
  /* a disabled account's sessions end now */
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "UPDATE sessions SET ended_at = ?2 WHERE ended_at IS NULL AND user_id = "
                          "(SELECT id FROM users WHERE username = ?1)", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, username, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 2, db_now_ms ());
    sqlite3_step (st);
  }
  sqlite3_finalize (st);
  if (revoked_hook)   /* their open connections go now, not at the next request */
    revoked_hook (username, NULL, "account_disabled");
  return TRUE;
}

gint
users_count (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  gint n = 0;
  if (sqlite3_prepare_v2 (db, "SELECT count(*) FROM users", -1, &st, NULL) == SQLITE_OK && sqlite3_step (st) == SQLITE_ROW)
    n = sqlite3_column_int (st, 0);
  sqlite3_finalize (st);
  return n;
}

GPtrArray *
users_list (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) user_free);
  if (sqlite3_prepare_v2 (db, USER_SELECT "ORDER BY username", -1, &st, NULL) == SQLITE_OK)
    while (sqlite3_step (st) == SQLITE_ROW)
      g_ptr_array_add (list, user_from (st));
  sqlite3_finalize (st);
  return list;
}

/* A login in three steps: the back-off decided and the attempt counted on the main loop
 * (login_guard.c), the Argon2id check (~0.1 s of CPU, 64 MiB) on the pool of HASH_THREADS so
 * signaling and media setup never wait for it, then the result recorded on the main loop. An
 * unknown name is checked against a dummy hash, so the answer takes as long as for a real
 * account and does not reveal which names exist. */
typedef struct {
  sqlite3       *db;
  User          *user;       /* NULL: no such account */
  gchar         *username, *address, *hash, *password;
  gboolean       match;
  UsersLoginDone done;
  gpointer       data;
} Login;

static GThreadPool *hash_pool;
static guint hashes_pending;   /* running and queued; main loop only */

static void
login_free (Login *l)
{
  user_free (l->user);
  g_free (l->username);
  g_free (l->address);
  g_free (l->hash);
  if (l->password) {
    sodium_memzero (l->password, strlen (l->password));
    g_free (l->password);
  }
  g_free (l);
}

static const gchar *
dummy_hash (void)
{
  static gchar *hash;
  if (g_once_init_enter (&hash)) {
    g_autofree gchar *password = users_random_password ();
    g_once_init_leave (&hash, hash_password (password, NULL));
  }
  return hash;
}

/* pool thread: touches nothing but the Login its task owns */
static void
login_verify (gpointer task_ptr, gpointer unused)
{
  GTask *task = task_ptr;
  Login *l = g_task_get_task_data (task);
  const gchar *hash = l->hash ? l->hash : dummy_hash ();
  l->match = hash && crypto_pwhash_str_verify (hash, l->password, strlen (l->password)) == 0 && l->user;
  sodium_memzero (l->password, strlen (l->password));
  g_task_return_boolean (task, TRUE);   /* login_finish runs on the main loop */
  g_object_unref (task);
}

/* main loop */
static void
login_finish (GObject *source, GAsyncResult *result, gpointer data)
{
  Login *l = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  hashes_pending--;
  if (!l->match)
    g_set_error (&error, KANYAN_ERROR, KANYAN_ERROR_BAD_TOKEN, "wrong username or password");
  else if (l->user->disabled)
    g_set_error (&error, KANYAN_ERROR, KANYAN_ERROR_FORBIDDEN, "this account is disabled");
  login_guard_end (l->db, l->username, l->address, !error, error ? kanyan_error_code (error->code) : NULL);
  l->done (l->data, error ? NULL : g_steal_pointer (&l->user), 0, error);
}

void
users_login_async (sqlite3 *db, const gchar *username, const gchar *password, const gchar *address,
                   UsersLoginDone done, gpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 retry = 0;
  if (!login_guard_begin (db, username ? username : "", address, &retry, &error)) {
    done (data, NULL, retry, error);
    return;
  }
  if (hashes_pending >= HASH_PENDING) {   /* the queue is full: answered now, nothing hashed */
    login_guard_cancel (username ? username : "", address);
    g_set_error (&error, KANYAN_ERROR, KANYAN_ERROR_LOGIN_QUEUE_FULL, "too many logins at once: try again in a second");
    done (data, NULL, 1000, error);
    return;
  }
  if (!hash_pool)
    hash_pool = g_thread_pool_new (login_verify, NULL, HASH_THREADS, FALSE, NULL);
  Login *l = g_new0 (Login, 1);
  l->db = db;
  l->done = done;
  l->data = data;
  l->username = g_strdup (username ? username : "");
  l->address = g_strdup (address);
  l->password = g_strdup (password ? password : "");
  sqlite3_stmt *st = NULL;
  if (username && sqlite3_prepare_v2 (db, USER_SELECT "WHERE username = ?1", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, username, -1, SQLITE_TRANSIENT);
    if (sqlite3_step (st) == SQLITE_ROW) {
      l->user = user_from (st);
      l->hash = g_strdup ((const gchar *) sqlite3_column_text (st, 5));
    }
  }
  sqlite3_finalize (st);
  GTask *task = g_task_new (NULL, NULL, login_finish, NULL);
  g_task_set_task_data (task, l, (GDestroyNotify) login_free);
  hashes_pending++;
  g_thread_pool_push (hash_pool, task, NULL);   /* the pool thread drops this reference */
}

static gchar *
token_hash (const gchar *token)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
}

gchar *
sessions_create (sqlite3 *db, gint64 user_id, GError **error)
{
  guint8 raw[32];
  gchar token[sodium_base64_ENCODED_LEN (32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  randombytes_buf (raw, sizeof raw);
  sodium_bin2base64 (token, sizeof token, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  g_autofree gchar *hash = token_hash (token);
  sqlite3_stmt *st = NULL;
  gboolean ok = FALSE;
  if (sqlite3_prepare_v2 (db, "INSERT INTO sessions (user_id, token_hash, created_at, last_seen_at) VALUES (?1, ?2, ?3, ?3)",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, user_id);
    sqlite3_bind_text (st, 2, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 3, db_now_ms ());
    ok = sqlite3_step (st) == SQLITE_DONE;
  }
  sqlite3_finalize (st);
  if (!ok) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot open a session: %s", sqlite3_errmsg (db));
    return NULL;
  }
  return g_strdup (token);
}

User *
sessions_lookup (sqlite3 *db, const gchar *token)
{
  if (!token || !*token || strlen (token) > 128)
    return NULL;
  g_autofree gchar *hash = token_hash (token);
  gint64 now = db_now_ms ();
  sqlite3_stmt *st = NULL;
  User *u = NULL;
  gint64 session_id = 0;
  if (sqlite3_prepare_v2 (db, "SELECT u.id, u.username, u.role, u.department, u.disabled_at, s.id FROM sessions s "
                          "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1 AND s.ended_at IS NULL "
                          "AND u.disabled_at IS NULL AND s.last_seen_at > ?2 AND s.created_at > ?3",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 2, now - SESSION_IDLE_MS);
    sqlite3_bind_int64 (st, 3, now - SESSION_ABSOLUTE_MS);
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
sessions_end (sqlite3 *db, const gchar *token)
{
  if (!token)
    return;
  g_autofree gchar *hash = token_hash (token);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "UPDATE sessions SET ended_at = ?2 WHERE token_hash = ?1 AND ended_at IS NULL",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 2, db_now_ms ());
    sqlite3_step (st);
  }
  sqlite3_finalize (st);
  if (revoked_hook)
    revoked_hook (NULL, token, "session_ended");
}

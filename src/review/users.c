/* users.c — the rules and cryptography of accounts and sessions (their SQL is
 * store_users.c). Passwords: Argon2id through
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

static const gchar *const roles[] = { "admin", "reviewer", "lead", "auditor", "clerk", NULL };

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

User *
users_find (sqlite3 *db, const gchar *username)
{
  return store_user_find (db, username, NULL);
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
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "role must be admin, reviewer, lead, auditor or clerk");
    return NULL;
  }
  if (!password_acceptable (password, error))
    return NULL;
  g_autofree gchar *hash = hash_password (password, error);
  if (!hash)
    return NULL;
  if (!store_user_add (db, username, hash, role, department, error))
    return NULL;
  return users_find (db, username);
}

gboolean
users_set_password (sqlite3 *db, const gchar *username, const gchar *password, GError **error)
{
  if (!password_acceptable (password, error))
    return FALSE;
  g_autofree gchar *hash = hash_password (password, error);
  if (!hash)
    return FALSE;
  if (!store_user_set_password_hash (db, username, hash)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "no user '%s'", username);
    return FALSE;
  }
  return TRUE;
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
  if (!store_user_disable (db, username)) {   /* a disabled account's sessions end now */
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "no user '%s'", username);
    return FALSE;
  }
  if (revoked_hook)   /* their open connections go now, not at the next request */
    revoked_hook (username, NULL, "account_disabled");
  return TRUE;
}

gchar *
users_reset_password (sqlite3 *db, const gchar *username, GError **error)
{
  g_autofree gchar *password = users_random_password ();
  g_autofree gchar *hash = hash_password (password, error);
  if (!hash)
    return NULL;
  if (!store_user_reset_password_hash (db, username, hash)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "no user '%s'", username);
    return NULL;
  }
  if (revoked_hook)   /* whoever was signed in with the old password goes now */
    revoked_hook (username, NULL, "session_ended");
  return g_steal_pointer (&password);
}

gint
users_count (sqlite3 *db)
{
  return store_users_count (db);
}

GPtrArray *
users_list (sqlite3 *db)
{
  return store_users_list (db);
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
  if (username)
    l->user = store_user_find (db, username, &l->hash);
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
  if (!store_login_session_add (db, user_id, hash, error))
    return NULL;
  return g_strdup (token);
}

User *
sessions_lookup (sqlite3 *db, const gchar *token)
{
  if (!token || !*token || strlen (token) > 128)
    return NULL;
  g_autofree gchar *hash = token_hash (token);
  gint64 now = db_now_ms ();
  return store_login_session_touch (db, hash, now, now - SESSION_IDLE_MS, now - SESSION_ABSOLUTE_MS);
}

void
sessions_end (sqlite3 *db, const gchar *token)
{
  if (!token)
    return;
  g_autofree gchar *hash = token_hash (token);
  store_login_session_end (db, hash);
  if (revoked_hook)
    revoked_hook (NULL, token, "session_ended");
}

/* users.h — accounts and sessions: Argon2id passwords (libsodium), random 256-bit session
 * tokens stored only as SHA-256, idle and absolute expiry; logins bounded by login_guard.h. */
#pragma once
#include <glib.h>
#include <sqlite3.h>
#include "store/store_users.h"

#define SESSION_IDLE_MS     (30 * 60 * 1000)         /* 30 minutes without a request */
#define SESSION_ABSOLUTE_MS (12 * 3600 * 1000)       /* a working day at most */

/* User (the account's row) and user_free() are store_users.h's */

gboolean  users_role_is_valid (const gchar *role);
User     *users_add (sqlite3 *db, const gchar *username, const gchar *password, const gchar *role,
                     const gchar *department, GError **error);
gboolean  users_set_password (sqlite3 *db, const gchar *username, const gchar *password, GError **error);
/* An administrator's reset: a new random password (returned, to be shown once; only its hash
 * is kept); the account's sessions and live connections end. NOT_FOUND for no such user. */
gchar    *users_reset_password (sqlite3 *db, const gchar *username, GError **error);
gboolean  users_disable (sqlite3 *db, const gchar *username, GError **error);
GPtrArray *users_list (sqlite3 *db);                       /* of User* */
User     *users_find (sqlite3 *db, const gchar *username);  /* NULL: no such user (disabled ones too) */
gint      users_count (sqlite3 *db);
gchar    *users_random_password (void);
/* Login from a client address, answered on the main loop (the password check runs on a small
 * thread pool): the user (transfer full) on success. Wrong name or password → BAD_TOKEN; too
 * soon after failures of this name from this address, or too many from this address →
 * RATE_LIMITED with retry_after_ms (login_guard.h); too many checks queued →
 * LOGIN_QUEUE_FULL; disabled → FORBIDDEN. Failures are audited, aggregated, by login_guard.c. */
typedef void (*UsersLoginDone) (gpointer data, User *user, gint64 retry_after_ms, const GError *error);
void      users_login_async (sqlite3 *db, const gchar *username, const gchar *password, const gchar *address,
                             UsersLoginDone done, gpointer data);
gchar    *sessions_create (sqlite3 *db, gint64 user_id, GError **error);   /* the token, shown once */
User     *sessions_lookup (sqlite3 *db, const gchar *token);               /* NULL: unknown or expired */
void      sessions_end (sqlite3 *db, const gchar *token);

/* Told (main loop) when an account is disabled or a session ends, so that the live
 * connections resting on it are closed at once (signaling.c): the username or the session
 * token (the other NULL), and why ("account_disabled", "session_ended"). One hook. */
typedef void (*UsersRevokedHook) (const gchar *username, const gchar *session_token, const gchar *reason);
void      users_set_revoked_hook (UsersRevokedHook hook);

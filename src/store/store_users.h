/* store_users.h — SQL of accounts (users) and their login sessions (sessions). The row type
 * User lives here, like the other rows; passwords and tokens arrive already hashed: the
 * cryptography and the rules are users.c's. */
#pragma once
#include <glib.h>
#include <sqlite3.h>

typedef struct {
  gint64  id;
  gchar  *username;
  gchar  *role;          /* admin | reviewer | lead | auditor | clerk */
  gchar  *department;
  gboolean disabled;
} User;
void user_free (User *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (User, user_free)

/* NULL: no such user (disabled ones are found); password_hash (may be NULL) gets its hash */
User      *store_user_find (sqlite3 *db, const gchar *username, gchar **password_hash);
/* CONFLICT when the name is taken, INTERNAL else */
gboolean   store_user_add (sqlite3 *db, const gchar *username, const gchar *password_hash, const gchar *role,
                           const gchar *department, GError **error);
/* a new hash, failed logins forgotten; FALSE: no such user */
gboolean   store_user_set_password_hash (sqlite3 *db, const gchar *username, const gchar *password_hash);
/* disabled now, and every open session of the account ended; FALSE: no such user */
gboolean   store_user_disable (sqlite3 *db, const gchar *username);
/* a new password hash, and every open session of the account ends (a password reset) */
gboolean   store_user_reset_password_hash (sqlite3 *db, const gchar *username, const gchar *password_hash);
gint       store_users_count (sqlite3 *db);
GPtrArray *store_users_list (sqlite3 *db);   /* of User*, by name */

/* login sessions, by the SHA-256 of their token */
gboolean   store_login_session_add (sqlite3 *db, gint64 user_id, const gchar *token_hash, GError **error);
/* the account of a session that has not ended, seen after idle_after and begun after
 * created_after (ms), whose account is enabled; its last_seen_at becomes now. NULL: none */
User      *store_login_session_touch (sqlite3 *db, const gchar *token_hash, gint64 now, gint64 idle_after,
                                      gint64 created_after);
void       store_login_session_end (sqlite3 *db, const gchar *token_hash);

/* store_watch.h — WHEP viewing tokens (schema 14): one case, short-lived, hashed, revocable. */
#pragma once
#include <glib.h>
#include <sqlite3.h>

typedef enum {
  WATCH_TOKEN_OK,
  WATCH_TOKEN_UNKNOWN,      /* no such token (or none given) */
  WATCH_TOKEN_WRONG_CASE,   /* a real token, for another case */
  WATCH_TOKEN_EXPIRED,
  WATCH_TOKEN_REVOKED,
} WatchTokenStatus;

/* A new token (returned once; only its hash is kept) and its row id and expiry (ms). */
gchar           *store_watch_token_issue (sqlite3 *db, gint64 case_id, const gchar *issued_by, gint64 ttl_s,
                                          gint64 *id, gint64 *expires_at, GError **error);
/* What the token is worth for this case; on OK, its row id and who issued it. */
WatchTokenStatus store_watch_token_check (sqlite3 *db, gint64 case_id, const gchar *token, gint64 *id,
                                          gchar **issued_by);
/* TRUE when a live (not yet revoked) token of this case was revoked now */
gboolean         store_watch_token_revoke (sqlite3 *db, gint64 case_id, gint64 id);
/* the first use is kept: when, from which address */
void             store_watch_token_used (sqlite3 *db, gint64 id, const gchar *address);

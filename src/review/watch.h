/* watch.h — WHEP viewing tokens as the review domain sees them: issued and revoked, audited. */
#pragma once
#include "store/db.h"
#include "store/store_watch.h"

#define WATCH_TTL_DEFAULT_S (2 * 3600)
#define WATCH_TTL_MAX_S     (24 * 3600)

typedef struct {
  gint64 id;
  gchar *token;
  gint64 expires_at;   /* ms */
} WatchToken;
void watch_token_free (WatchToken *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WatchToken, watch_token_free)

/* ttl_s in 1..WATCH_TTL_MAX_S, else bad_field */
WatchToken *watch_token_issue (sqlite3 *db, const gchar *actor, const CaseRow *row, gint64 ttl_s, GError **error);
gboolean    watch_token_revoke (sqlite3 *db, const gchar *actor, const CaseRow *row, gint64 id, GError **error);
/* "1h30m", "2h", "90m", "45s", "3600": seconds, or -1 */
gint64      watch_ttl_parse (const gchar *text);

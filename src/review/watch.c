/* watch.c — WHEP viewing tokens: a reviewer or lead issues one for one case with a ttl, may
 * revoke it; both are audited with who did it. Never checks a token at the door (web/whep.c)
 * nor touches a live inspection. */
#include "review/watch.h"
#include "review/audit.h"
#include "core/errors.h"

void
watch_token_free (WatchToken *t)
{
  if (!t)
    return;
  g_free (t->token);
  g_free (t);
}

WatchToken *
watch_token_issue (sqlite3 *db, const gchar *actor, const CaseRow *row, gint64 ttl_s, GError **error)
{
  if (ttl_s < 1 || ttl_s > WATCH_TTL_MAX_S) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "ttl must be between 1 s and %d s", WATCH_TTL_MAX_S);
    return NULL;
  }
  WatchToken *t = g_new0 (WatchToken, 1);
  t->token = store_watch_token_issue (db, row->id, actor, ttl_s, &t->id, &t->expires_at, error);
  if (!t->token) {
    watch_token_free (t);
    return NULL;
  }
  g_autofree gchar *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, t->id);
  g_autofree gchar *ttl_text = g_strdup_printf ("%" G_GINT64_FORMAT, ttl_s);
  audit_note (db, actor, "watch_token.issued", row->ref, "token_id", id_text, "ttl_s", ttl_text, NULL);
  return t;
}

gboolean
watch_token_revoke (sqlite3 *db, const gchar *actor, const CaseRow *row, gint64 id, GError **error)
{
  if (!store_watch_token_revoke (db, row->id, id)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "no live viewing token %" G_GINT64_FORMAT
                 " for this case", id);
    return FALSE;
  }
  g_autofree gchar *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  audit_note (db, actor, "watch_token.revoked", row->ref, "token_id", id_text, NULL);
  return TRUE;
}

gint64
watch_ttl_parse (const gchar *text)
{
  if (!text || !*text)
    return -1;
  gint64 total = 0;
  const gchar *p = text;
  while (*p) {
    gchar *end = NULL;
    guint64 n = g_ascii_strtoull (p, &end, 10);
    if (end == p || n > WATCH_TTL_MAX_S)
      return -1;
    gint64 unit = 1;
    if (*end == 'h') unit = 3600, end++;
    else if (*end == 'm') unit = 60, end++;
    else if (*end == 's') end++;
    else if (*end) return -1;
    total += (gint64) n * unit;
    if (total > WATCH_TTL_MAX_S)
      return -1;
    p = end;
  }
  return total;
}

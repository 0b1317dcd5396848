/* cases.c — case-level operations shared by the CLI and the API: issuing invites and
 * building their links. The token travels in the URL fragment, so it never reaches a
 * server log or a Referer header. */
#include "cases.h"

void
invite_free (Invite *invite)
{
  if (!invite)
    return;
  g_free (invite->token);
  g_free (invite->url);
  g_free (invite);
}

gchar *
cases_invite_url (const KanyanConfig *cfg, const gchar *ref, const gchar *token)
{
  g_autofree gchar *base = config_public_url (cfg);
  g_autofree gchar *escaped = g_uri_escape_string (ref, NULL, FALSE);
  return g_strdup_printf ("%s/apply/#case=%s&token=%s", base, escaped, token);
}

Invite *
cases_issue_invite (sqlite3 *db, const KanyanConfig *cfg, const CaseRow *row, GError **error)
{
  gchar *token = store_invite_issue (db, row->id, cfg->invite_days, error);
  if (!token)
    return NULL;
  Invite *invite = g_new0 (Invite, 1);
  invite->token = token;
  invite->url = cases_invite_url (cfg, row->ref, token);
  invite->expires_at = db_now_ms () + (gint64) cfg->invite_days * 24 * 3600 * 1000;
  return invite;
}

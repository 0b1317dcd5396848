/* cases.c — case-level operations shared by the CLI and the API: issuing invites and
 * building their links. The token travels in the URL fragment, so it never reaches a
 * server log or a Referer header. */
#include "cases.h"
#include "audit.h"

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

CaseRow *
cases_create (sqlite3 *db, const gchar *actor, const gchar *ref, const gchar *type_key, GError **error)
{
  CaseRow *row = store_case_add (db, ref, type_key, error);
  if (row)
    audit_note (db, actor, "case.created", row->ref, "type", row->type_key, NULL);
  return row;
}

Invite *
cases_issue_invite (sqlite3 *db, const gchar *actor, const KanyanConfig *cfg, const CaseRow *row, GError **error)
{
  gchar *token = store_invite_issue (db, row->id, cfg->invite_days, error);
  if (!token)
    return NULL;
  g_autofree gchar *expires = g_strdup_printf ("%" G_GINT64_FORMAT, db_now_ms () + (gint64) cfg->invite_days * 24 * 3600 * 1000);
  audit_note (db, actor, "invite.issued", row->ref, "expires_at", expires, NULL);   /* never the token */
  Invite *invite = g_new0 (Invite, 1);
  invite->token = token;
  invite->url = cases_invite_url (cfg, row->ref, token);
  invite->expires_at = db_now_ms () + (gint64) cfg->invite_days * 24 * 3600 * 1000;
  return invite;
}

gint
cases_revoke_invites (sqlite3 *db, const gchar *actor, const CaseRow *row)
{
  gint n = store_invites_revoke (db, row->id);
  g_autofree gchar *count = g_strdup_printf ("%d", n);
  audit_note (db, actor, "invite.revoked", row->ref, "count", count, NULL);
  return n;
}

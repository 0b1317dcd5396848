/* cases.h — the case domain the entry points call: create a case, issue its invite (audited). */
#pragma once
#include "app.h"
#include "db.h"

typedef struct {
  gchar *token;        /* shown once, never stored */
  gchar *url;          /* the applicant page with the case and token */
  gint64 expires_at;
} Invite;
void invite_free (Invite *invite);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Invite, invite_free)

CaseRow *cases_create (sqlite3 *db, const gchar *actor, const gchar *ref, const gchar *type_key, GError **error);
Invite  *cases_issue_invite (sqlite3 *db, const gchar *actor, const KanyanConfig *cfg, const CaseRow *row, GError **error);
gint     cases_revoke_invites (sqlite3 *db, const gchar *actor, const CaseRow *row);
gchar  *cases_invite_url (const KanyanConfig *cfg, const gchar *ref, const gchar *token);

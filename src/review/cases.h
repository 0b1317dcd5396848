/* cases.h — the case domain the entry points call: create a case, issue its invite (audited). */
#pragma once
#include "app/app.h"
#include "store/db.h"

typedef struct {
  gchar *token;        /* shown once, never stored */
  gchar *url;          /* the applicant page with the case and token */
  gint64 expires_at;
  gchar *short_code;   /* the same capability for an SMS: /i/CODE (review/short_code.c) */
  gchar *short_url;
} Invite;
void invite_free (Invite *invite);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Invite, invite_free)

/* owner: a reviewer's or lead's username, or NULL for none yet; the deadline counts the type's
 * time limit in working days from today */
CaseRow *cases_create (sqlite3 *db, const KanyanConfig *cfg, const gchar *actor, CaseFacts *facts, const gchar *owner,
                       GError **error);
gboolean cases_assign (sqlite3 *db, const gchar *actor, const CaseRow *row, const gchar *owner, GError **error);
gboolean cases_add_reviewer (sqlite3 *db, const gchar *actor, const CaseRow *row, const gchar *username,
                             GError **error);
/* Whether `username` could co-review a case owned by `owner` (NULL: none yet): an active
 * reviewer or lead other than the owner. Checked for every name before a case is created
 * with its co-reviewers, so a bad name creates nothing. BAD_FIELD or CONFLICT as cases_add_reviewer. */
gboolean cases_check_reviewer (sqlite3 *db, const gchar *owner, const gchar *username, GError **error);
Invite  *cases_issue_invite (sqlite3 *db, const gchar *actor, const KanyanConfig *cfg, const CaseRow *row, GError **error);
gint     cases_revoke_invites (sqlite3 *db, const gchar *actor, const CaseRow *row);
gchar  *cases_invite_url (const KanyanConfig *cfg, const gchar *ref, const gchar *token);

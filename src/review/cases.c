/* cases.c — case-level operations shared by the CLI and the API: creating a case (its owner,
 * department and working-day deadline), co-reviewers, issuing invites and building their links. The token travels in the URL fragment, so it never reaches a
 * server log or a Referer header. */
#include "review/cases.h"
#include "review/audit.h"
#include "review/calendar.h"
#include "review/short_code.h"
#include "core/errors.h"
#include "review/users.h"
#include "review/workflow.h"

void
invite_free (Invite *invite)
{
  if (!invite)
    return;
  g_free (invite->token);
  g_free (invite->url);
  g_free (invite->short_code);
  g_free (invite->short_url);
  g_free (invite);
}

gchar *
cases_invite_url (const KanyanConfig *cfg, const gchar *ref, const gchar *token)
{
  g_autofree gchar *base = config_public_url (cfg);
  g_autofree gchar *escaped = g_uri_escape_string (ref, NULL, FALSE);
  return g_strdup_printf ("%s/apply/#case=%s&token=%s", base, escaped, token);
}

/* a reviewer or lead who can own or co-review a case */
static User *
case_staff (sqlite3 *db, const gchar *username, GError **error)
{
  g_autoptr (User) user = users_find (db, username);
  if (!user || user->disabled || (g_strcmp0 (user->role, "reviewer") != 0 && g_strcmp0 (user->role, "lead") != 0)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'%s' is not an active reviewer or lead", username);
    return NULL;
  }
  return g_steal_pointer (&user);
}

CaseRow *
cases_create (sqlite3 *db, const KanyanConfig *cfg, const gchar *actor, CaseFacts *facts, const gchar *owner,
              GError **error)
{
  g_autoptr (User) owner_user = NULL;
  if (owner && *owner) {
    if (!(owner_user = case_staff (db, owner, error)))
      return NULL;
    facts->owner_id = owner_user->id;
    facts->department = owner_user->department;
  }
  gint limit = store_case_type_time_limit (db, facts->type_key);
  g_autoptr (WorkCalendar) cal = calendar_new ((const gchar *const *) cfg->holidays,
                                               (const gchar *const *) cfg->workdays, NULL);
  GDate accepted, deadline;
  calendar_today (&accepted);
  calendar_add_working_days (cal, &accepted, MAX (limit, 0), &deadline);
  g_autofree gchar *accepted_on = calendar_format_date (&accepted);
  g_autofree gchar *deadline_on = calendar_format_date (&deadline);
  facts->accepted_on = accepted_on;
  facts->deadline_on = deadline_on;
  CaseRow *row = store_case_add (db, facts, error);
  if (row)
    audit_note (db, actor, "case.created", row->ref, "type", row->type_key, "owner", row->owner,
                "deadline_on", row->deadline_on, NULL);
  return row;
}

gboolean
cases_assign (sqlite3 *db, const gchar *actor, const CaseRow *row, const gchar *owner, GError **error)
{
  g_autoptr (User) user = case_staff (db, owner, error);
  if (!user)
    return FALSE;
  store_case_set_owner (db, row->id, user->id, user->department);
  audit_note (db, actor, "case.assigned", row->ref, "owner", user->username, "department", user->department, NULL);
  return TRUE;
}

gboolean
cases_add_reviewer (sqlite3 *db, const gchar *actor, const CaseRow *row, const gchar *username, GError **error)
{
  g_autoptr (User) user = case_staff (db, username, error);
  if (!user)
    return FALSE;
  if (user->id == row->owner_id) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "'%s' owns the case already", username);
    return FALSE;
  }
  store_case_add_reviewer (db, row->id, user->id);
  audit_note (db, actor, "case.co_reviewer_added", row->ref, "username", user->username, "department",
              user->department, NULL);
  return TRUE;
}

gboolean
cases_check_reviewer (sqlite3 *db, const gchar *owner, const gchar *username, GError **error)
{
  g_autoptr (User) user = case_staff (db, username, error);
  if (!user)
    return FALSE;
  if (g_strcmp0 (user->username, owner) == 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "'%s' owns the case already", username);
    return FALSE;
  }
  return TRUE;
}

Invite *
cases_issue_invite (sqlite3 *db, const gchar *actor, const KanyanConfig *cfg, const CaseRow *row, GError **error)
{
  if (!workflow_check_open (row, error))   /* a finally decided case takes no applicant until reopened */
    return NULL;
  gchar *token = store_invite_issue (db, row->id, cfg->invite_days, error);
  if (!token)
    return NULL;
  gchar *short_code = short_code_issue (db, token, error);
  if (!short_code) {
    g_free (token);
    return NULL;
  }
  g_autofree gchar *expires = g_strdup_printf ("%" G_GINT64_FORMAT, db_now_ms () + (gint64) cfg->invite_days * 24 * 3600 * 1000);
  audit_note (db, actor, "invite.issued", row->ref, "expires_at", expires, NULL);   /* never the token */
  workflow_note (db, actor, row, CASE_EVENT_INVITE);
  Invite *invite = g_new0 (Invite, 1);
  invite->token = token;
  invite->url = cases_invite_url (cfg, row->ref, token);
  invite->short_code = short_code;
  invite->short_url = short_code_url (cfg, short_code);
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

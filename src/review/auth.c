/* auth.c — identities (session cookie or invite token) and the one authorization policy.
 * Owns the table of who may do what; never answers requests or touches rooms itself.
 *
 *   admin     manages users and case types, creates and assigns cases, reads case facts,
 *             issues and revokes invites (the bureau's intake clerk: /intake/), reopens a
 *             closed case; never watches, marks or decides
 *   auditor   reads every case, its media and its audit log; changes nothing
 *   clerk     intake (/intake/): lists and reads every case's facts and state, creates cases
 *             (naming the owner), assigns owner and co-reviewers, issues and revokes invites;
 *             never watches, marks, decides, reads media or the log, manages nobody
 *   reviewer  creates cases (becoming their owner); on cases it owns or co-reviews: reads,
 *             joins live, reads media, marks; the owner also manages invites and decides
 *   lead      a reviewer, plus on every case of its department: reads, joins live, reads
 *             media, marks, manages invites, assigns, countersigns rejections, reads the log
 *             reopens a closed (finally decided) case
 *   applicant an invite token: publishes to its one case and reads that case's page */
#include "review/auth.h"
#include "core/errors.h"

void
identity_free (Identity *id)
{
  if (!id)
    return;
  user_free (id->user);
  g_free (id->invite_token);
  g_free (id);
}

static const gchar *const ability_names[N_ABILITIES] = {
  "list_cases", "create_case", "read_case", "assign_case", "manage_invites", "join_live", "publish",
  "read_invite_view", "read_media", "mark", "decide", "countersign", "read_audit", "manage_users",
  "manage_types", "reopen",
};

const gchar *
auth_ability_name (Ability what)
{
  return what < N_ABILITIES ? ability_names[what] : "?";
}

gchar *
auth_session_token (const gchar *cookie_header)
{
  if (!cookie_header)
    return NULL;
  g_auto (GStrv) parts = g_strsplit (cookie_header, ";", -1);
  for (gchar **p = parts; *p; p++) {
    gchar *c = g_strstrip (*p);
    if (g_str_has_prefix (c, "kanyan_session=") && c[strlen ("kanyan_session=")])
      return g_strdup (c + strlen ("kanyan_session="));
  }
  return NULL;
}

Identity *
auth_identify_cookie (KanyanApp *app, const gchar *cookie_header)
{
  Identity *id = g_new0 (Identity, 1);
  g_autofree gchar *token = auth_session_token (cookie_header);
  if (token)
    id->user = sessions_lookup (app->db, token);
  return id;
}

const gchar *
auth_actor (const Identity *id)
{
  if (id && id->user)
    return id->user->username;
  return id && id->invite_token ? "applicant" : "anonymous";
}

typedef enum { ROLE_NONE, ROLE_ADMIN, ROLE_AUDITOR, ROLE_REVIEWER, ROLE_LEAD, ROLE_CLERK } StaffRole;

static StaffRole
staff_role (const User *u)
{
  if (!u || u->disabled)
    return ROLE_NONE;
  if (g_strcmp0 (u->role, "admin") == 0)
    return ROLE_ADMIN;
  if (g_strcmp0 (u->role, "auditor") == 0)
    return ROLE_AUDITOR;
  if (g_strcmp0 (u->role, "lead") == 0)
    return ROLE_LEAD;
  if (g_strcmp0 (u->role, "clerk") == 0)
    return ROLE_CLERK;
  return g_strcmp0 (u->role, "reviewer") == 0 ? ROLE_REVIEWER : ROLE_NONE;
}

/* what a user is to one case */
typedef struct { gboolean owner, co_reviewer, dept_lead; } Relation;

static Relation
relation_to (KanyanApp *app, const User *u, StaffRole role, const CaseRow *row)
{
  Relation r = { FALSE, FALSE, FALSE };
  if (!row)
    return r;
  r.owner = row->owner_id != 0 && row->owner_id == u->id;
  r.co_reviewer = !r.owner && store_case_has_reviewer (app->db, row->id, u->id);
  r.dept_lead = role == ROLE_LEAD && *row->department && g_strcmp0 (row->department, u->department) == 0;
  return r;
}

static gboolean
staff_allows (KanyanApp *app, const User *u, Ability what, const CaseRow *row)
{
  StaffRole role = staff_role (u);
  switch (role) {
    case ROLE_NONE:
      return FALSE;
    case ROLE_ADMIN:
      return what == ABILITY_LIST_CASES || what == ABILITY_READ_CASE || what == ABILITY_CREATE_CASE ||
             what == ABILITY_ASSIGN_CASE || what == ABILITY_MANAGE_USERS || what == ABILITY_MANAGE_TYPES ||
             what == ABILITY_REOPEN || what == ABILITY_MANAGE_INVITES;
    case ROLE_AUDITOR:
      return what == ABILITY_LIST_CASES || what == ABILITY_READ_CASE || what == ABILITY_READ_MEDIA ||
             what == ABILITY_READ_AUDIT;
    case ROLE_CLERK:
      return what == ABILITY_LIST_CASES || what == ABILITY_READ_CASE || what == ABILITY_CREATE_CASE ||
             what == ABILITY_ASSIGN_CASE || what == ABILITY_MANAGE_INVITES;
    case ROLE_REVIEWER:
    case ROLE_LEAD:
      break;
  }
  if (what == ABILITY_LIST_CASES || what == ABILITY_CREATE_CASE)
    return TRUE;
  Relation r = relation_to (app, u, role, row);
  gboolean involved = r.owner || r.co_reviewer || r.dept_lead;
  switch (what) {
    case ABILITY_READ_CASE:
    case ABILITY_JOIN_LIVE:
    case ABILITY_READ_MEDIA:
    case ABILITY_MARK:
      return involved;
    case ABILITY_MANAGE_INVITES:
      return r.owner || r.dept_lead;
    case ABILITY_DECIDE:
      return r.owner;
    case ABILITY_ASSIGN_CASE:
    case ABILITY_COUNTERSIGN:
    case ABILITY_READ_AUDIT:
    case ABILITY_REOPEN:
      return r.dept_lead;
    default:
      return FALSE;
  }
}

gboolean
auth_allows (KanyanApp *app, const Identity *id, Ability what, const CaseRow *row)
{
  if (!id)
    return FALSE;
  if (id->user && staff_allows (app, id->user, what, row))
    return TRUE;
  if ((what == ABILITY_PUBLISH || what == ABILITY_READ_INVITE_VIEW) && row && id->invite_token)
    return store_invite_check (app->db, row->id, id->invite_token);
  return FALSE;
}

gboolean
auth_may_mark_item (KanyanApp *app, const Identity *id, const CaseRow *row, const gchar *item_department)
{
  if (!auth_allows (app, id, ABILITY_MARK, row))
    return FALSE;
  Relation r = relation_to (app, id->user, staff_role (id->user), row);
  const gchar *department = item_department && *item_department ? item_department : row->department;
  if (r.owner || r.dept_lead)   /* all but the items of a department that has its own co-reviewer here */
    return g_strcmp0 (department, row->department) == 0 || !store_case_has_reviewer_of (app->db, row->id, department);
  return *department && g_strcmp0 (department, id->user->department) == 0;
}

gboolean
auth_check (KanyanApp *app, const Identity *id, Ability what, const CaseRow *row, GError **error)
{
  if (auth_allows (app, id, what, row))
    return TRUE;
  if ((what == ABILITY_PUBLISH || what == ABILITY_READ_INVITE_VIEW) && !(id && id->user))
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_TOKEN, "the invite link is wrong, expired or revoked");
  else if (!id || !id->user)
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_UNAUTHENTICATED, "log in first (or the session expired)");
  else
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_FORBIDDEN, "%s (%s) may not %s%s%s", id->user->username,
                 id->user->role, auth_ability_name (what), row ? " on case " : "", row ? row->ref : "");
  return FALSE;
}

/* auth.h — who is asking and what they may do. Every REST route, signaling message, WHIP
 * request and media URL asks auth_allows(); the policy lives in one table in auth.c. */
#pragma once
#include "app/app.h"
#include "store/db.h"
#include "review/users.h"

typedef struct {
  User  *user;           /* a logged-in account (session cookie), or NULL */
  gchar *invite_token;   /* an applicant's capability (Bearer), valid for one case at most */
} Identity;
void identity_free (Identity *id);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Identity, identity_free)

typedef enum {
  ABILITY_LIST_CASES,       /* the case list (each entry still needs READ_CASE) */
  ABILITY_CREATE_CASE,
  ABILITY_READ_CASE,        /* facts, items, marks, decisions, stills list */
  ABILITY_ASSIGN_CASE,      /* owner and co-reviewers */
  ABILITY_MANAGE_INVITES,   /* issue and revoke the applicant's invite */
  ABILITY_JOIN_LIVE,        /* watch and talk in the live inspection */
  ABILITY_PUBLISH,          /* the applicant's camera (WebSocket or WHIP) */
  ABILITY_READ_INVITE_VIEW, /* the applicant's page: item titles and the notice */
  ABILITY_READ_MEDIA,       /* recordings and stills */
  ABILITY_MARK,             /* marks, stills, challenge */
  ABILITY_DECIDE,           /* approve / rectify / reject */
  ABILITY_COUNTERSIGN,      /* sign or return a rejection */
  ABILITY_READ_AUDIT,       /* the case's audit timeline, the integrity check */
  ABILITY_MANAGE_USERS,
  ABILITY_MANAGE_TYPES,
  ABILITY_REOPEN,           /* reopen a finally decided case (audited, with a reason) */
  N_ABILITIES
} Ability;

const gchar *auth_ability_name (Ability what);
/* (From a request: auth_identify() in web/http_auth.h.) */
/* From a WebSocket upgrade's Cookie header (may be NULL). */
Identity *auth_identify_cookie (KanyanApp *app, const gchar *cookie_header);
gchar    *auth_session_token (const gchar *cookie_header);   /* the kanyan_session value, or NULL */
/* row: the case concerned, NULL for abilities that concern no case */
gboolean  auth_allows (KanyanApp *app, const Identity *id, Ability what, const CaseRow *row);
/* auth_allows, or an error: UNAUTHENTICATED for nobody, BAD_TOKEN for a wrong invite, FORBIDDEN else */
gboolean  auth_check (KanyanApp *app, const Identity *id, Ability what, const CaseRow *row, GError **error);
/* who to name in the audit log: the username, "applicant", or "anonymous" */
const gchar *auth_actor (const Identity *id);
/* Parallel approval: of the items a user may mark (ABILITY_MARK), which are theirs. An item
 * belongs to its department (or the case's, when it names none). A co-reviewer marks the
 * items of their own department; the owner and the case department's lead mark the rest —
 * every item whose department has no co-reviewer on the case. */
gboolean  auth_may_mark_item (KanyanApp *app, const Identity *id, const CaseRow *row, const gchar *item_department);

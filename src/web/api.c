/* api.c — REST routes: identify the caller, ask auth.c, validate, call the domain (store,
 * cases, rooms), answer JSON. Each handler is thin; errors are KANYAN_ERROR codes rendered
 * by http.c. Every state-changing request must be application/json (the CSRF defence with
 * SameSite=Strict: another site's page cannot send that without a CORS preflight). */
#include "web/api.h"
#include "web/api_private.h"
#include "review/auth.h"
#include "web/http_auth.h"
#include "review/calendar.h"
#include "review/workflow.h"
#include "web/bodies.h"
#include "review/cases.h"
#include "live/room.h"
#include "web/qr.h"
#include "core/errors.h"
#include "review/users.h"
#include "review/audit.h"
#include "media/ice_servers.h"
#include "review/serialize.h"
#include "review/acknowledge.h"

/* the case row in the shape `flags` asks (serialize.h), with what the row does not hold: its
 * live room, the working-day calendar, its co-reviewers */
static void
add_case (JsonBuilder *b, KanyanApp *app, const CaseRow *row, CaseJsonFlags flags, const WorkCalendar *cal)
{
  Room *room = rooms_get (app, row->ref);
  GDate today;
  calendar_today (&today);
  g_autoptr (GPtrArray) co = flags & CASE_JSON_CO_REVIEWERS ? store_case_reviewers (app->db, row->id) : NULL;
  AckState ack = { 0 };   /* the notice's acknowledgement, or its flag (issue 18) */
  if (flags & CASE_JSON_NOTICE_ACK)
    ack_state_load (app->db, row, cal, &today, app->config->notice_ack_days, &ack);
  CaseJsonContext ctx = { .live = room && room_is_live (room), .participants = room ? room_participant_count (room) : 0,
                          .calendar = cal, .today = &today, .co_reviewers = co, .ack = &ack,
                          .waiting_since = room ? room_waiting_since (room) : 0 };
  case_members (b, row, flags, &ctx);
  ack_state_clear (&ack);
}

static WorkCalendar *
api_calendar (KanyanApp *app)
{
  return calendar_new ((const gchar *const *) app->config->holidays, (const gchar *const *) app->config->workdays, NULL);
}

static void
add_items (JsonBuilder *b, KanyanApp *app, const CaseRow *row)
{
  g_autoptr (GPtrArray) items = store_case_items (app->db, row->id);
  json_builder_set_member_name (b, "items");
  json_builder_begin_array (b);
  for (guint i = 0; i < items->len; i++) {
    item_to_json (b, i + 1, g_ptr_array_index (items, i));
  }
  json_builder_end_array (b);
}

void
api_respond_builder (HttpExchange *ex, guint status, JsonBuilder *b)
{
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  http_exchange_respond_json (ex, status, root);
}

JsonBuilder *
api_object_begin (void)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  return b;
}

/* ---- accounts --------------------------------------------------------------------- */

/* A JSON object body; state-changing requests must say application/json, which a page of
 * another site cannot send without a CORS preflight (with SameSite=Strict: the CSRF defence). */
static JsonObject *
json_body (HttpExchange *ex, JsonParser *parser)
{
  const gchar *type = http_exchange_header (ex, "content-type");
  if (!type || g_ascii_strncasecmp (type, "application/json", 16) != 0) {
    http_exchange_respond_code (ex, KANYAN_ERROR_UNSUPPORTED_MEDIA_TYPE, "send the body as application/json");
    return NULL;
  }
  g_autoptr (GBytes) body = http_exchange_body (ex);
  gsize len = 0;
  const gchar *data = g_bytes_get_data (body, &len);
  g_autoptr (GError) error = NULL;
  JsonObject *obj = bodies_parse_object (parser, data, len, &error);
  if (!obj)
    http_exchange_respond_error (ex, error);
  return obj;
}

static void
api_health (KanyanApp *app, HttpExchange *ex)
{
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "ok");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, KANYAN_VERSION);
  api_respond_builder (ex, 200, b);
}

/* responds and returns FALSE when the caller may not */
gboolean
api_allowed (KanyanApp *app, HttpExchange *ex, const Identity *id, Ability what, const CaseRow *row)
{
  g_autoptr (GError) error = NULL;
  if (auth_check (app, id, what, row, &error))
    return TRUE;
  if (error->code == KANYAN_ERROR_BAD_TOKEN)
    http_exchange_add_header (ex, "www-authenticate", "Bearer");
  http_exchange_respond_error (ex, error);
  return FALSE;
}

static void
api_case_list (KanyanApp *app, HttpExchange *ex, const Identity *id)
{
  if (!api_allowed (app, ex, id, ABILITY_LIST_CASES, NULL))
    return;
  g_autoptr (GPtrArray) rows = store_case_list (app->db);
  g_autoptr (WorkCalendar) cal = api_calendar (app);
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "cases");
  json_builder_begin_array (b);
  for (guint i = 0; i < rows->len; i++) {
    CaseRow *row = g_ptr_array_index (rows, i);
    if (!auth_allows (app, id, ABILITY_READ_CASE, row))
      continue;
    json_builder_begin_object (b);
    add_case (b, app, row, CASE_JSON_SUMMARY, cal);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  api_respond_builder (ex, 200, b);
}

static void
api_case_get (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body)
{
  Room *room = rooms_get (app, row->ref);
  g_autoptr (WorkCalendar) cal = api_calendar (app);
  g_autoptr (JsonBuilder) b = api_object_begin ();
  add_case (b, app, row, CASE_JSON_FULL, cal);
  json_builder_set_member_name (b, "session");
  if (room)
    json_builder_add_int_value (b, room_session_id (room));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "can");
  json_builder_begin_array (b);
  for (Ability a = 0; a < N_ABILITIES; a++)
    if (a != ABILITY_LIST_CASES && a != ABILITY_CREATE_CASE && auth_allows (app, id, a, row))
      json_builder_add_string_value (b, auth_ability_name (a));
  json_builder_end_array (b);
  gint64 latest = store_session_latest (app->db, row->id);
  ApiMarkerScope scope = { app, id, row };
  workflow_add_items_with_marks (b, app->db, row, latest, api_review_may_mark, &scope);
  api_review_add_sessions (b, app, row);
  api_review_add_decisions (b, app, row);
  api_review_add_stills (b, app, row);
  api_review_add_notice (b, app, row);
  json_builder_set_member_name (b, "challenge");
  if (room)
    json_builder_add_string_value (b, room_challenge (room));
  else
    json_builder_add_null_value (b);
  api_respond_builder (ex, 200, b);
}

static void
api_invite_issue (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Invite) invite = cases_issue_invite (app->db, auth_actor (id), app->config, row, &error);
  if (!invite) {
    http_exchange_respond_error (ex, error);
    return;
  }
  g_autofree gchar *svg = qr_svg (invite->url);
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "ref");
  json_builder_add_string_value (b, row->ref);
  json_builder_set_member_name (b, "token");
  json_builder_add_string_value (b, invite->token);
  json_builder_set_member_name (b, "invite_url");
  json_builder_add_string_value (b, invite->url);
  json_builder_set_member_name (b, "expires_at");
  json_builder_add_int_value (b, invite->expires_at);
  json_builder_set_member_name (b, "short_code");   /* booking: the same capability, for an SMS */
  json_builder_add_string_value (b, invite->short_code);
  json_builder_set_member_name (b, "short_url");
  json_builder_add_string_value (b, invite->short_url);
  json_builder_set_member_name (b, "qr_svg");
  json_builder_add_string_value (b, svg ? svg : "");
  api_respond_builder (ex, 201, b);
}

static void
api_invite_revoke (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body)
{
  gint n = cases_revoke_invites (app->db, auth_actor (id), row);
  Room *room = rooms_get (app, row->ref);
  if (room)   /* revocation reaches the open connection at once: the applicant (WebSocket or WHIP) goes */
    room_end_applicant (room, "invite_revoked");
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "revoked");
  json_builder_add_int_value (b, n);
  api_respond_builder (ex, 200, b);
}

static void
api_case_assign (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body)
{
  g_autoptr (GError) error = NULL;
  AssignBody a = { 0 };
  gboolean ok = bodies_parse_assign (body, &a, &error) &&
                (!a.owner || cases_assign (app->db, auth_actor (id), row, a.owner, &error));
  for (guint i = 0; ok && i < a.co_reviewers->len; i++) {
    g_autoptr (CaseRow) now = store_case_get (app->db, row->ref, NULL);   /* the owner may have changed */
    ok = cases_add_reviewer (app->db, auth_actor (id), now ? now : row, g_ptr_array_index (a.co_reviewers, i), &error);
  }
  g_clear_pointer (&a.co_reviewers, g_ptr_array_unref);
  if (!ok) {
    http_exchange_respond_error (ex, error);
    return;
  }
  g_autoptr (CaseRow) updated = store_case_get (app->db, row->ref, &error);
  g_autoptr (WorkCalendar) cal = api_calendar (app);
  g_autoptr (JsonBuilder) b = api_object_begin ();
  add_case (b, app, updated, CASE_JSON_FULL, cal);
  api_respond_builder (ex, 200, b);
}

/* POST /api/cases {ref, type, owner?, applicant_name?, applicant_phone?, site_address?, site?: {lat, lon}} */
static void
api_case_create (KanyanApp *app, HttpExchange *ex, const Identity *id, JsonObject *body)
{
  g_autoptr (GError) error = NULL;
  CaseBody c;
  if (!bodies_parse_case (body, &c, &error)) {
    http_exchange_respond_error (ex, error);
    return;
  }
  CaseFacts f = { .ref = c.ref, .type_key = c.type_key, .applicant_name = c.applicant_name,
                  .applicant_phone = c.applicant_phone, .site_address = c.site_address, .has_site = c.has_site,
                  .site_lat = c.site_lat, .site_lon = c.site_lon };
  /* a reviewer takes the case it accepts (首问负责); a lead or admin may name its owner */
  const gchar *owner = c.owner;
  if (g_strcmp0 (id->user->role, "reviewer") == 0 || (!owner && g_strcmp0 (id->user->role, "lead") == 0))
    owner = id->user->username;
  /* co_reviewers (intake names them with the case): every name checked before anything is made */
  AssignBody co = { 0 };
  gboolean with_co = json_object_has_member (body, "co_reviewers");
  gboolean ok = !with_co || bodies_parse_assign (body, &co, &error);
  for (guint i = 0; ok && co.co_reviewers && i < co.co_reviewers->len; i++)
    ok = cases_check_reviewer (app->db, owner, g_ptr_array_index (co.co_reviewers, i), &error);
  g_autoptr (CaseRow) row = ok ? cases_create (app->db, app->config, auth_actor (id), &f, owner, &error) : NULL;
  for (guint i = 0; row && co.co_reviewers && i < co.co_reviewers->len; i++)   /* checked above: audited as assign does */
    cases_add_reviewer (app->db, auth_actor (id), row, g_ptr_array_index (co.co_reviewers, i), NULL);
  g_clear_pointer (&co.co_reviewers, g_ptr_array_unref);
  if (!row) {
    http_exchange_respond_error (ex, error);
    return;
  }
  g_autoptr (WorkCalendar) cal = api_calendar (app);
  g_autoptr (JsonBuilder) b = api_object_begin ();
  add_case (b, app, row, CASE_JSON_FULL, cal);
  api_respond_builder (ex, 201, b);
}

/* what an applicant's page may read with its token: the case and its items */
static void
api_invite_view (KanyanApp *app, HttpExchange *ex, const Identity *id)
{
  const gchar *ref = http_exchange_query (ex, "case");
  if (!ref) {
    http_exchange_respond_code (ex, KANYAN_ERROR_MISSING_FIELD, "'case' is required");
    return;
  }
  g_autoptr (CaseRow) row = store_case_get (app->db, ref, NULL);
  Identity applicant = { NULL, id->invite_token };   /* the token alone: a staff cookie does not count here */
  if (row && workflow_status_is_closed (row->status) && store_invite_known (app->db, row->id, id->invite_token)) {
    /* its own applicant learns the outcome, not that the link is wrong (the invite ended with the case) */
    g_autoptr (GError) error = NULL;
    workflow_check_open (row, &error);
    g_autoptr (JsonBuilder) b = api_object_begin ();
    json_builder_set_member_name (b, "code");
    json_builder_add_string_value (b, kanyan_error_code (KANYAN_ERROR_CASE_CLOSED));
    json_builder_set_member_name (b, "message");
    json_builder_add_string_value (b, error->message);
    json_builder_set_member_name (b, "status");
    json_builder_add_string_value (b, row->status);
    if (ack_invite_closed_by_rejection (app->db, row, id->invite_token))   /* issue 18: its notice to acknowledge */
      api_ack_add_invite (b, app, row);
    api_respond_builder (ex, kanyan_error_http_status (KANYAN_ERROR_CASE_CLOSED), b);
    return;
  }
  if (!row || !auth_allows (app, &applicant, ABILITY_READ_INVITE_VIEW, row)) {
    http_exchange_add_header (ex, "www-authenticate", "Bearer");
    http_exchange_respond_code (ex, KANYAN_ERROR_BAD_TOKEN, "the invite link is wrong, expired or revoked");
    return;
  }
  g_autoptr (JsonBuilder) b = api_object_begin ();
  case_members (b, row, CASE_JSON_INVITE, NULL);
  json_builder_set_member_name (b, "timezone");   /* [bureau]: the notice's date in the bureau's zone */
  json_builder_add_string_value (b, config_timezone (app->config));
  add_items (b, app, row);
  api_review_add_notice (b, app, row);
  api_ack_add_invite (b, app, row);   /* issue 18: the notice to acknowledge, and whether it was */
  Room *room = rooms_get (app, row->ref);
  json_builder_set_member_name (b, "challenge");
  if (room)
    json_builder_add_string_value (b, room_challenge (room));
  else
    json_builder_add_null_value (b);
  /* [ice]: the servers the page's pre-flight check gathers with (the same the join gives) */
  g_autofree gchar *ice_label = g_strdup_printf ("%s.check", row->ref);
  g_strdelimit (ice_label, ":", '-');
  json_builder_set_member_name (b, "iceServers");
  json_builder_add_value (b, ice_servers_for (app->config, ice_label, g_get_real_time () / G_USEC_PER_SEC));
  api_respond_builder (ex, 200, b);
}

static void
api_user_list (KanyanApp *app, HttpExchange *ex, const Identity *id)
{
  if (!api_allowed (app, ex, id, ABILITY_MANAGE_USERS, NULL))
    return;
  g_autoptr (GPtrArray) users = users_list (app->db);
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "users");
  json_builder_begin_array (b);
  for (guint i = 0; i < users->len; i++) {
    User *u = g_ptr_array_index (users, i);
    json_builder_begin_object (b);
    user_members (b, u);
    json_builder_set_member_name (b, "disabled");
    json_builder_add_boolean_value (b, u->disabled);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  api_respond_builder (ex, 200, b);
}

typedef struct {
  KanyanApp    *app;
  HttpExchange *ex;
  gchar        *username;
} LoginRequest;

/* main loop: the password check is back from its worker thread */
static void
on_login (gpointer data, User *user_in, gint64 retry_ms, const GError *failure)
{
  LoginRequest *req = data;
  g_autoptr (User) user = user_in;
  KanyanApp *app = req->app;
  HttpExchange *ex = req->ex;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token = NULL;
  if (!user) {   /* failures reach the audit log aggregated (login_guard.c) */
    if (retry_ms > 0 && http_exchange_is_open (ex)) {
      g_autofree gchar *seconds = g_strdup_printf ("%" G_GINT64_FORMAT, (retry_ms + 999) / 1000);
      http_exchange_add_header (ex, "retry-after", seconds);
    }
    if (http_exchange_is_open (ex))
      http_exchange_respond_error (ex, failure);
  } else if (!(token = sessions_create (app->db, user->id, &error))) {
    if (http_exchange_is_open (ex))
      http_exchange_respond_error (ex, error);
  } else {
    audit_note (app->db, user->username, "login", "", "role", user->role, NULL);
    if (http_exchange_is_open (ex)) {
      g_autofree gchar *cookie = g_strdup_printf ("kanyan_session=%s; Path=/; HttpOnly; SameSite=Strict%s", token,
                                                  app->config->tls ? "; Secure" : "");
      http_exchange_add_header (ex, "set-cookie", cookie);
      g_autoptr (JsonBuilder) b = api_object_begin ();
      user_members (b, user);
      api_respond_builder (ex, 200, b);
    } else {
      sessions_end (app->db, token);   /* nobody is there to receive it */
    }
  }
  http_exchange_unref (ex);
  g_free (req->username);
  g_free (req);
}

static void
api_login (KanyanApp *app, HttpExchange *ex, JsonObject *obj)
{
  g_autoptr (GError) error = NULL;
  LoginBody login;
  if (!bodies_parse_login (obj, &login, &error)) {
    http_exchange_respond_error (ex, error);
    return;
  }
  LoginRequest *req = g_new0 (LoginRequest, 1);
  req->app = app;
  req->ex = http_exchange_ref (ex);
  req->username = g_strdup (login.username);
  users_login_async (app->db, login.username, login.password, http_exchange_peer (ex), on_login, req);
}

static void
api_logout (KanyanApp *app, HttpExchange *ex)
{
  g_autofree gchar *token = auth_session_token (http_exchange_header (ex, "cookie"));
  g_autoptr (User) user = sessions_lookup (app->db, token);
  sessions_end (app->db, token);
  if (user)
    audit_note (app->db, user->username, "logout", "", "via", "api", NULL);
  http_exchange_add_header (ex, "set-cookie", "kanyan_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  http_exchange_respond (ex, 204, "text/plain", NULL);
}

static void
api_me (KanyanApp *app, HttpExchange *ex, const Identity *id)
{
  if (!id->user) {
    http_exchange_respond_code (ex, KANYAN_ERROR_UNAUTHENTICATED, "not logged in, or the session expired");
    return;
  }
  g_autoptr (JsonBuilder) b = api_object_begin ();
  user_members (b, id->user);
  json_builder_set_member_name (b, "timezone");   /* [bureau]: the zone pages show times in */
  json_builder_add_string_value (b, config_timezone (app->config));
  json_builder_set_member_name (b, "can");
  json_builder_begin_array (b);
  for (Ability a = 0; a < N_ABILITIES; a++)
    if (auth_allows (app, id, a, NULL))
      json_builder_add_string_value (b, auth_ability_name (a));
  json_builder_end_array (b);
  api_respond_builder (ex, 200, b);
}

/* /api/cases/{ref}[/{action}]: who may, and who answers */
static const struct {
  const gchar *method, *action;   /* action NULL: the case itself */
  Ability ability;
  CaseHandler handler;
} case_routes[] = {
  { "GET",  NULL,             ABILITY_READ_CASE,      api_case_get },
  { "POST", "invite",         ABILITY_MANAGE_INVITES, api_invite_issue },
  { "POST", "revoke-invites", ABILITY_MANAGE_INVITES, api_invite_revoke },
  { "POST", "assign",         ABILITY_ASSIGN_CASE,    api_case_assign },
  { "POST", "marks",          ABILITY_MARK,           api_review_mark },
  { "GET",  "marks",          ABILITY_READ_CASE,      api_review_marks },
  { "POST", "challenge-seen", ABILITY_MARK,           api_review_challenge_seen },
  { "POST", "decisions",      ABILITY_DECIDE,         api_review_decide },
  { "POST", "countersign",    ABILITY_COUNTERSIGN,    api_review_countersign },
  { "POST", "stills",         ABILITY_MARK,           api_review_still },
  { "POST", "annotations",    ABILITY_MARK,           api_review_annotate },
  { "GET",  "timeline",       ABILITY_READ_AUDIT,     api_audit_timeline },
  { "GET",  "integrity",      ABILITY_READ_AUDIT,     api_audit_integrity },
  { "GET",  "report.pdf",     ABILITY_READ_CASE,      api_audit_report_pdf },
  { "GET",  "report",         ABILITY_READ_CASE,      api_audit_report },
  { "POST", "reopen",         ABILITY_REOPEN,         api_review_reopen },
  { "POST", "watch-tokens",   ABILITY_JOIN_LIVE,      api_watch_issue },
  { "POST", "photo-requests", ABILITY_MARK,           api_photos_request },
};

static void
api_case_route (KanyanApp *app, HttpExchange *ex, const Identity *id, const gchar *ref, const gchar *action,
                JsonObject *body)
{
  const gchar *method = http_exchange_method (ex);
  for (guint i = 0; i < G_N_ELEMENTS (case_routes); i++) {
    if (g_strcmp0 (case_routes[i].method, method) != 0 || g_strcmp0 (case_routes[i].action, action) != 0)
      continue;
    if (!id->user) {   /* nobody learns which cases exist */
      http_exchange_respond_code (ex, KANYAN_ERROR_UNAUTHENTICATED, "log in first (or the session expired)");
      return;
    }
    g_autoptr (GError) error = NULL;
    g_autoptr (CaseRow) row = store_case_get (app->db, ref, &error);
    if (!row)
      http_exchange_respond_error (ex, error);
    else if (api_allowed (app, ex, id, case_routes[i].ability, row))
      case_routes[i].handler (app, ex, id, row, body);
    return;
  }
  http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such API route");
}

void
api_handle (KanyanApp *app, HttpExchange *ex)
{
  const gchar *method = http_exchange_method (ex);
  g_auto (GStrv) parts = g_strsplit (http_exchange_path (ex) + 5, "/", 0);   /* after "/api/" */
  guint n = g_strv_length (parts);
  gboolean get = g_strcmp0 (method, "GET") == 0 || g_strcmp0 (method, "HEAD") == 0;
  gboolean post = g_strcmp0 (method, "POST") == 0;
  if (post && api_photos_is_upload (ex))   /* an image body, not JSON: api_photos.c checks its type */
    { api_photos_upload (app, ex); return; }
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *body = NULL;
  if (!get && !(body = json_body (ex, parser)))   /* the CSRF defence: state changes are JSON */
    return;
  g_autoptr (Identity) id = auth_identify (app, ex);

  if (n == 1 && g_strcmp0 (parts[0], "health") == 0 && get)
    { api_health (app, ex); return; }
  if (n == 1 && g_strcmp0 (parts[0], "signing-key") == 0 && get)
    { api_audit_signing_key (app, ex); return; }
  if (n == 1 && g_strcmp0 (parts[0], "login") == 0 && post)
    { api_login (app, ex, body); return; }
  if (n == 1 && g_strcmp0 (parts[0], "logout") == 0 && post)
    { api_logout (app, ex); return; }
  if (n == 1 && g_strcmp0 (parts[0], "me") == 0 && get)
    { api_me (app, ex, id); return; }
  if (n == 1 && g_strcmp0 (parts[0], "invite") == 0 && get)
    { api_invite_view (app, ex, id); return; }
  if (n == 1 && g_strcmp0 (parts[0], "cases") == 0 && get)
    { api_case_list (app, ex, id); return; }
  if (n == 1 && g_strcmp0 (parts[0], "cases") == 0 && post) {
    if (api_allowed (app, ex, id, ABILITY_CREATE_CASE, NULL))
      api_case_create (app, ex, id, body);
    return;
  }
  if (n == 1 && g_strcmp0 (parts[0], "search") == 0 && get)
    { api_audit_search (app, ex, id); return; }
  if (n == 1 && g_strcmp0 (parts[0], "countersign") == 0 && get)
    { api_review_queue (app, ex, id); return; }
  if (n == 2 && g_strcmp0 (parts[0], "invite") == 0 && g_strcmp0 (parts[1], "geo") == 0 && post)
    { api_review_geo (app, ex, id, body); return; }
  if (n == 1 && g_strcmp0 (parts[0], "users") == 0 && get)
    { api_user_list (app, ex, id); return; }
  if (n == 1 && g_strcmp0 (parts[0], "staff") == 0 && get)
    { api_admin_staff (app, ex, id); return; }
  if (n == 1 && g_strcmp0 (parts[0], "users") == 0 && post)
    { api_admin_user_add (app, ex, id, body); return; }
  if (n == 3 && g_strcmp0 (parts[0], "users") == 0 && g_strcmp0 (parts[2], "disable") == 0 && post)
    { api_admin_user_disable (app, ex, id, parts[1]); return; }
  if (n == 3 && g_strcmp0 (parts[0], "users") == 0 && g_strcmp0 (parts[2], "reset-password") == 0 && post)
    { api_admin_user_reset_password (app, ex, id, parts[1]); return; }
  if (n == 1 && g_strcmp0 (parts[0], "alerts") == 0 && get)
    { api_admin_alerts (app, ex, id); return; }
  if (n == 2 && g_strcmp0 (parts[0], "webhooks") == 0 && g_strcmp0 (parts[1], "deliveries") == 0 && get)
    { api_webhooks_deliveries (app, ex, id); return; }
  if (n == 4 && g_strcmp0 (parts[0], "webhooks") == 0 && g_strcmp0 (parts[1], "deliveries") == 0 &&
      g_strcmp0 (parts[3], "retry") == 0 && post)
    { api_webhooks_retry (app, ex, id, parts[2]); return; }
  if (n == 1 && g_strcmp0 (parts[0], "case-types") == 0 && get)
    { api_admin_case_types (app, ex, id); return; }
  if (n <= 2 && g_strcmp0 (parts[0], "case-types") == 0 && post)
    { api_admin_case_type_save (app, ex, id, n == 2 ? parts[1] : NULL, body); return; }
  if (n == 4 && g_strcmp0 (parts[0], "cases") == 0 && g_strcmp0 (parts[2], "watch-tokens") == 0 &&
      g_strcmp0 (method, "DELETE") == 0) {
    if (!id->user) {
      http_exchange_respond_code (ex, KANYAN_ERROR_UNAUTHENTICATED, "log in first (or the session expired)");
      return;
    }
    g_autoptr (GError) error = NULL;
    g_autoptr (CaseRow) row = store_case_get (app->db, parts[1], &error);
    if (!row)
      http_exchange_respond_error (ex, error);
    else if (api_allowed (app, ex, id, ABILITY_JOIN_LIVE, row))
      api_watch_revoke (app, ex, id, row, parts[3]);
    return;
  }
  if (api_ack_route (app, ex, id, parts, n, body))   /* the applicant's acknowledgement: /api/invite/acknowledge */
    return;
  if (api_slots_route (app, ex, id, parts, n, body))   /* booking: /api/slots, …/slots, /api/invite/slots */
    return;
  if (n >= 2 && n <= 3 && g_strcmp0 (parts[0], "cases") == 0 && *parts[1]) {
    api_case_route (app, ex, id, parts[1], n == 3 ? parts[2] : NULL, body);
    return;
  }
  http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such API route");
}

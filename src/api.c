/* api.c — REST routes: validate, call the domain (store, cases, rooms), answer JSON.
 * Each handler is thin; errors are KANYAN_ERROR codes rendered by http.c. */
#include "api.h"
#include "cases.h"
#include "room.h"
#include "qr.h"
#include "errors.h"
#include "users.h"
#include "audit.h"

static void
add_case_summary (JsonBuilder *b, KanyanApp *app, const CaseRow *row)
{
  Room *room = app_get_room (app, row->ref);
  json_builder_set_member_name (b, "ref");
  json_builder_add_string_value (b, row->ref);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, row->type_key);
  json_builder_set_member_name (b, "type_title");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "en");
  json_builder_add_string_value (b, row->type_title_en);
  json_builder_set_member_name (b, "zh");
  json_builder_add_string_value (b, row->type_title_zh);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, row->status);
  json_builder_set_member_name (b, "live");
  json_builder_add_boolean_value (b, room && room_is_live (room));
  json_builder_set_member_name (b, "participants");
  json_builder_add_int_value (b, room ? room_participant_count (room) : 0);
  json_builder_set_member_name (b, "created_at");
  json_builder_add_int_value (b, row->created_at);
}

static void
add_items (JsonBuilder *b, KanyanApp *app, const CaseRow *row)
{
  g_autoptr (GPtrArray) items = store_case_items (app->db, row->id);
  json_builder_set_member_name (b, "items");
  json_builder_begin_array (b);
  for (guint i = 0; i < items->len; i++) {
    gchar **item = g_ptr_array_index (items, i);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "position");
    json_builder_add_int_value (b, i + 1);
    json_builder_set_member_name (b, "title_en");
    json_builder_add_string_value (b, item[0]);
    json_builder_set_member_name (b, "title_zh");
    json_builder_add_string_value (b, item[1]);
    json_builder_set_member_name (b, "guidance");
    json_builder_add_string_value (b, item[2]);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}

static void
respond_builder (HttpExchange *ex, guint status, JsonBuilder *b)
{
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  http_exchange_respond_json (ex, status, root);
}

static JsonBuilder *
object_begin (void)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  return b;
}

static void
api_health (KanyanApp *app, HttpExchange *ex)
{
  g_autoptr (JsonBuilder) b = object_begin ();
  json_builder_set_member_name (b, "ok");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, KANYAN_VERSION);
  respond_builder (ex, 200, b);
}

static void
api_case_list (KanyanApp *app, HttpExchange *ex)
{
  g_autoptr (GPtrArray) rows = store_case_list (app->db);
  g_autoptr (JsonBuilder) b = object_begin ();
  json_builder_set_member_name (b, "cases");
  json_builder_begin_array (b);
  for (guint i = 0; i < rows->len; i++) {
    json_builder_begin_object (b);
    add_case_summary (b, app, g_ptr_array_index (rows, i));
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  respond_builder (ex, 200, b);
}

static void
api_case_get (KanyanApp *app, HttpExchange *ex, const CaseRow *row)
{
  Room *room = app_get_room (app, row->ref);
  g_autoptr (JsonBuilder) b = object_begin ();
  add_case_summary (b, app, row);
  json_builder_set_member_name (b, "session");
  if (room)
    json_builder_add_int_value (b, room_session_id (room));
  else
    json_builder_add_null_value (b);
  add_items (b, app, row);
  respond_builder (ex, 200, b);
}

static void
api_invite_issue (KanyanApp *app, HttpExchange *ex, const CaseRow *row)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Invite) invite = cases_issue_invite (app->db, "api", app->config, row, &error);
  if (!invite) {
    http_exchange_respond_error (ex, error);
    return;
  }
  g_autofree gchar *svg = qr_svg (invite->url);
  g_autoptr (JsonBuilder) b = object_begin ();
  json_builder_set_member_name (b, "ref");
  json_builder_add_string_value (b, row->ref);
  json_builder_set_member_name (b, "token");
  json_builder_add_string_value (b, invite->token);
  json_builder_set_member_name (b, "invite_url");
  json_builder_add_string_value (b, invite->url);
  json_builder_set_member_name (b, "expires_at");
  json_builder_add_int_value (b, invite->expires_at);
  json_builder_set_member_name (b, "qr_svg");
  json_builder_add_string_value (b, svg ? svg : "");
  respond_builder (ex, 201, b);
}

/* what an applicant's page may read with its token: the case and its items */
static void
api_invite_view (KanyanApp *app, HttpExchange *ex)
{
  const gchar *ref = http_exchange_query (ex, "case");
  const gchar *token = http_exchange_header (ex, "authorization");
  if (token && g_ascii_strncasecmp (token, "Bearer ", 7) == 0)
    token += 7;
  else
    token = NULL;
  if (!ref) {
    http_exchange_respond_code (ex, KANYAN_ERROR_MISSING_FIELD, "'case' is required");
    return;
  }
  g_autoptr (GError) error = NULL;
  g_autoptr (CaseRow) row = store_case_get (app->db, ref, &error);
  if (!row || !store_invite_check (app->db, row->id, token)) {
    http_exchange_respond_code (ex, KANYAN_ERROR_BAD_TOKEN, "the invite link is wrong, expired or revoked");
    return;
  }
  g_autoptr (JsonBuilder) b = object_begin ();
  json_builder_set_member_name (b, "ref");
  json_builder_add_string_value (b, row->ref);
  json_builder_set_member_name (b, "type_title");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "en");
  json_builder_add_string_value (b, row->type_title_en);
  json_builder_set_member_name (b, "zh");
  json_builder_add_string_value (b, row->type_title_zh);
  json_builder_end_object (b);
  add_items (b, app, row);
  respond_builder (ex, 200, b);
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
  if (!data || !g_utf8_validate (data, len, NULL) || !json_parser_load_from_data (parser, data, len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    http_exchange_respond_code (ex, KANYAN_ERROR_BAD_JSON, "the body must be a JSON object");
    return NULL;
  }
  return json_node_get_object (json_parser_get_root (parser));
}

static const gchar *
string_member (JsonObject *obj, const gchar *name)
{
  JsonNode *node = json_object_get_member (obj, name);
  if (!node || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gchar *
session_cookie (HttpExchange *ex)
{
  const gchar *cookies = http_exchange_header (ex, "cookie");
  if (!cookies)
    return NULL;
  g_auto (GStrv) parts = g_strsplit (cookies, ";", -1);
  for (gchar **p = parts; *p; p++) {
    gchar *c = g_strstrip (*p);
    if (g_str_has_prefix (c, "kanyan_session="))
      return g_strdup (c + strlen ("kanyan_session="));
  }
  return NULL;
}

static void
add_user (JsonBuilder *b, const User *u)
{
  json_builder_set_member_name (b, "username");
  json_builder_add_string_value (b, u->username);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, u->role);
  json_builder_set_member_name (b, "department");
  json_builder_add_string_value (b, u->department);
}

static void
api_login (KanyanApp *app, HttpExchange *ex)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj = json_body (ex, parser);
  if (!obj)
    return;
  const gchar *username = string_member (obj, "username"), *password = string_member (obj, "password");
  if (!username || !password) {
    http_exchange_respond_code (ex, KANYAN_ERROR_MISSING_FIELD, "'username' and 'password' are required strings");
    return;
  }
  g_autoptr (GError) error = NULL;
  gint64 retry_ms = 0;
  g_autoptr (User) user = users_login (app->db, username, password, &retry_ms, &error);
  if (!user) {
    audit_note (app->db, username, "login.failed", "", "reason", kanyan_error_code (error->code), NULL);
    if (retry_ms > 0) {
      g_autofree gchar *seconds = g_strdup_printf ("%" G_GINT64_FORMAT, (retry_ms + 999) / 1000);
      http_exchange_add_header (ex, "retry-after", seconds);
    }
    http_exchange_respond_error (ex, error);
    return;
  }
  g_autofree gchar *token = sessions_create (app->db, user->id, &error);
  if (!token) {
    http_exchange_respond_error (ex, error);
    return;
  }
  audit_note (app->db, user->username, "login", "", "role", user->role, NULL);
  g_autofree gchar *cookie = g_strdup_printf ("kanyan_session=%s; Path=/; HttpOnly; SameSite=Strict%s", token,
                                              app->config->tls ? "; Secure" : "");
  http_exchange_add_header (ex, "set-cookie", cookie);
  g_autoptr (JsonBuilder) b = object_begin ();
  add_user (b, user);
  respond_builder (ex, 200, b);
}

static void
api_logout (KanyanApp *app, HttpExchange *ex)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_body (ex, parser))
    return;
  g_autofree gchar *token = session_cookie (ex);
  g_autoptr (User) user = sessions_lookup (app->db, token);
  sessions_end (app->db, token);
  if (user)
    audit_note (app->db, user->username, "logout", "", "via", "api", NULL);
  http_exchange_add_header (ex, "set-cookie", "kanyan_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  http_exchange_respond (ex, 204, "text/plain", NULL);
}

static void
api_me (KanyanApp *app, HttpExchange *ex)
{
  g_autofree gchar *token = session_cookie (ex);
  g_autoptr (User) user = sessions_lookup (app->db, token);
  if (!user) {
    http_exchange_respond_code (ex, KANYAN_ERROR_BAD_TOKEN, "not logged in, or the session expired");
    return;
  }
  g_autoptr (JsonBuilder) b = object_begin ();
  add_user (b, user);
  respond_builder (ex, 200, b);
}

void
api_handle (KanyanApp *app, HttpExchange *ex)
{
  const gchar *method = http_exchange_method (ex);
  g_auto (GStrv) parts = g_strsplit (http_exchange_path (ex) + 5, "/", 0);   /* after "/api/" */
  guint n = g_strv_length (parts);
  gboolean get = g_strcmp0 (method, "GET") == 0, post = g_strcmp0 (method, "POST") == 0;

  if (n == 1 && g_strcmp0 (parts[0], "health") == 0 && get)
    { api_health (app, ex); return; }
  if (n == 1 && g_strcmp0 (parts[0], "cases") == 0 && get)
    { api_case_list (app, ex); return; }
  if (n == 1 && g_strcmp0 (parts[0], "invite") == 0 && get)
    { api_invite_view (app, ex); return; }
  if (n == 1 && g_strcmp0 (parts[0], "login") == 0 && post)
    { api_login (app, ex); return; }
  if (n == 1 && g_strcmp0 (parts[0], "logout") == 0 && post)
    { api_logout (app, ex); return; }
  if (n == 1 && g_strcmp0 (parts[0], "me") == 0 && get)
    { api_me (app, ex); return; }
  if (n >= 2 && n <= 3 && g_strcmp0 (parts[0], "cases") == 0) {
    g_autoptr (GError) error = NULL;
    g_autoptr (CaseRow) row = store_case_get (app->db, parts[1], &error);
    if (!row)
      { http_exchange_respond_error (ex, error); return; }
    if (n == 2 && get)
      { api_case_get (app, ex, row); return; }
    if (n == 3 && g_strcmp0 (parts[2], "invite") == 0 && post)
      { api_invite_issue (app, ex, row); return; }
  }
  http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such API route");
}

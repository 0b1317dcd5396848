/* api.c — REST routes: validate, call the domain (store, cases, rooms), answer JSON.
 * Each handler is thin; errors are KANYAN_ERROR codes rendered by http.c. */
#include "api.h"
#include "cases.h"
#include "room.h"
#include "qr.h"
#include "errors.h"

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

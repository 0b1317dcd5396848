/* api_admin.c — REST routes of administration: case types (their required items and time
 * limits) and accounts. Only admins change anything here (auth.c); every change is audited. */
#include "web/api_private.h"
#include "web/bodies.h"
#include "review/audit.h"
#include "core/errors.h"
#include "review/users.h"
#include "review/serialize.h"
#include "live/room.h"
#include "core/json_out.h"

/* GET /api/case-types: any signed-in staff (the case form needs them) */
void
api_admin_case_types (KanyanApp *app, HttpExchange *ex, const Identity *id)
{
  if (!id->user) {
    http_exchange_respond_code (ex, KANYAN_ERROR_UNAUTHENTICATED, "log in first (or the session expired)");
    return;
  }
  g_autoptr (GPtrArray) types = store_case_types (app->db);
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "types");
  json_builder_begin_array (b);
  for (guint i = 0; i < types->len; i++) {
    gchar **t = g_ptr_array_index (types, i);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "key");
    json_builder_add_string_value (b, t[0]);
    json_builder_set_member_name (b, "title_en");
    json_builder_add_string_value (b, t[1]);
    json_builder_set_member_name (b, "title_zh");
    json_builder_add_string_value (b, t[2]);
    json_builder_set_member_name (b, "time_limit_days");
    json_builder_add_int_value (b, g_ascii_strtoll (t[3], NULL, 10));
    json_builder_set_member_name (b, "cases");
    json_builder_add_int_value (b, g_ascii_strtoll (t[4], NULL, 10));
    g_autoptr (GPtrArray) items = store_case_type_items (app->db, t[0]);
    json_builder_set_member_name (b, "items");
    json_builder_begin_array (b);
    for (guint k = 0; k < items->len; k++) {
      item_to_json (b, k + 1, g_ptr_array_index (items, k));
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  api_respond_builder (ex, 200, b);
}

/* POST /api/case-types (create) and POST /api/case-types/{key} (edit) */
void
api_admin_case_type_save (KanyanApp *app, HttpExchange *ex, const Identity *id, const gchar *key, JsonObject *body)
{
  if (!api_allowed (app, ex, id, ABILITY_MANAGE_TYPES, NULL))
    return;
  g_autoptr (GError) error = NULL;
  CaseTypeDef def;
  gboolean ok = bodies_parse_case_type (body, key, &def, &error) && store_case_type_save (app->db, &def, key != NULL, &error);
  if (ok) {
    g_autofree gchar *days = g_strdup_printf ("%d", def.time_limit_days);
    g_autofree gchar *items = def.items ? g_strdup_printf ("%u", def.items->len) : g_strdup ("unchanged");
    audit_note (app->db, auth_actor (id), key ? "case_type.edited" : "case_type.created", "", "key", def.key,
                "time_limit_days", days, "items", items, NULL);
  }
  g_clear_pointer (&def.items, g_array_unref);
  if (!ok) {
    http_exchange_respond_error (ex, error);
    return;
  }
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "key");
  json_builder_add_string_value (b, def.key);
  api_respond_builder (ex, key ? 200 : 201, b);
}

/* GET /api/staff: who may own or co-review a case (active reviewers and leads), for whoever
 * may create one — the intake page's owner and co-reviewer fields; never passwords or dates */
void
api_admin_staff (KanyanApp *app, HttpExchange *ex, const Identity *id)
{
  if (!api_allowed (app, ex, id, ABILITY_CREATE_CASE, NULL))
    return;
  g_autoptr (GPtrArray) users = users_list (app->db);
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "staff");
  json_builder_begin_array (b);
  for (guint i = 0; i < users->len; i++) {
    User *u = g_ptr_array_index (users, i);
    if (u->disabled || (g_strcmp0 (u->role, "reviewer") != 0 && g_strcmp0 (u->role, "lead") != 0))
      continue;
    json_builder_begin_object (b);
    user_members (b, u);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  api_respond_builder (ex, 200, b);
}

/* POST /api/users {username, role, department?}: the new account's password is shown once */
void
api_admin_user_add (KanyanApp *app, HttpExchange *ex, const Identity *id, JsonObject *body)
{
  if (!api_allowed (app, ex, id, ABILITY_MANAGE_USERS, NULL))
    return;
  g_autoptr (GError) error = NULL;
  UserBody u;
  if (!bodies_parse_user (body, &u, &error)) {
    http_exchange_respond_error (ex, error);
    return;
  }
  g_autofree gchar *password = users_random_password ();
  g_autoptr (User) user = users_add (app->db, u.username, password, u.role, u.department ? u.department : "", &error);
  if (!user) {
    http_exchange_respond_error (ex, error);
    return;
  }
  audit_note (app->db, auth_actor (id), "user.created", "", "username", user->username, "role", user->role,
              "department", user->department, NULL);
  g_autoptr (JsonBuilder) b = api_object_begin ();
  user_members (b, user);
  json_builder_set_member_name (b, "password");   /* once: only its Argon2id hash is kept */
  json_builder_add_string_value (b, password);
  api_respond_builder (ex, 201, b);
}

/* POST /api/users/{name}/disable {} */
void
api_admin_user_disable (KanyanApp *app, HttpExchange *ex, const Identity *id, const gchar *username)
{
  if (!api_allowed (app, ex, id, ABILITY_MANAGE_USERS, NULL))
    return;
  g_autoptr (GError) error = NULL;
  if (g_strcmp0 (username, id->user->username) == 0) {
    http_exchange_respond_code (ex, KANYAN_ERROR_CONFLICT, "an admin cannot disable its own account");
    return;
  }
  if (!users_disable (app->db, username, &error)) {
    http_exchange_respond_error (ex, error);
    return;
  }
  audit_note (app->db, auth_actor (id), "user.disabled", "", "username", username, NULL);
  http_exchange_respond (ex, 204, "text/plain", NULL);
}

/* POST /api/users/{name}/reset-password {}: a new one-time password, shown once in the answer
 * (only its hash is kept); the account's sessions end. Kanyan has no "must change at next
 * sign-in" state: the user changes it with `kanyan user passwd` or asks again. Audited, never
 * the password. An admin does not reset its own account here (it knows its password). */
void
api_admin_user_reset_password (KanyanApp *app, HttpExchange *ex, const Identity *id, const gchar *username)
{
  if (!api_allowed (app, ex, id, ABILITY_MANAGE_USERS, NULL))
    return;
  if (g_strcmp0 (username, id->user->username) == 0) {
    http_exchange_respond_code (ex, KANYAN_ERROR_CONFLICT, "an admin does not reset its own password here");
    return;
  }
  g_autoptr (GError) error = NULL;
  g_autofree gchar *password = users_reset_password (app->db, username, &error);
  if (!password) {
    http_exchange_respond_error (ex, error);
    return;
  }
  audit_note (app->db, auth_actor (id), "user.password_reset", "", "username", username, NULL);
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_out_str (b, "username", username);
  json_out_str (b, "password", password);   /* once */
  api_respond_builder (ex, 200, b);
}

/* GET /api/alerts: what an administrator must see now — live inspections whose recording
 * stopped on a write failure (a full disk), with the case and since when. Admins only. */
void
api_admin_alerts (KanyanApp *app, HttpExchange *ex, const Identity *id)
{
  if (!api_allowed (app, ex, id, ABILITY_MANAGE_USERS, NULL))
    return;
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "alerts");
  json_builder_begin_array (b);
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, app->rooms);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    gint64 since = 0;
    const gchar *reason = room_recording_stopped (value, &since);
    if (!reason)
      continue;
    json_builder_begin_object (b);
    json_out_str (b, "kind", "recording_stopped");
    json_out_str (b, "case", room_case_ref (value));
    json_out_str (b, "reason", reason);
    json_out_int (b, "since", since);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  api_respond_builder (ex, 200, b);
}

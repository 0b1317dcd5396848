/* api_slots.c — REST for booking (issue 18): the desk's upcoming slots, a case's slots (offer,
 * book for the applicant, move, cancel: staff who manage the case's invites), and the
 * applicant's side with the invite token (list, pick, cancel, the .ics file). Turns HTTP into
 * review/slots.c calls and nothing more; docs/api.md lists the routes. */
#include "web/api_private.h"
#include "review/slots.h"
#include "core/errors.h"

/* a string member: NULL when absent; BAD_FIELD when not a string */
static gboolean
member_string (JsonObject *body, const gchar *name, const gchar **out, GError **error)
{
  JsonNode *node = body ? json_object_get_member (body, name) : NULL;
  *out = NULL;
  if (!node || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'%s' must be a string", name);
    return FALSE;
  }
  *out = json_node_get_string (node);
  return TRUE;
}

/* "at" (required) and "minutes" (default 30) of an offer or a move */
static gboolean
parse_time (JsonObject *body, gint64 *start, gint *minutes, GError **error)
{
  const gchar *at = NULL;
  if (!member_string (body, "at", &at, error))
    return FALSE;
  if (!at) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "'at' is required: \"2026-12-10 14:30\"");
    return FALSE;
  }
  JsonNode *node = json_object_get_member (body, "minutes");
  *minutes = SLOT_MINUTES_DEFAULT;
  if (node) {
    if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64 ||
        json_node_get_int (node) > G_MAXINT || json_node_get_int (node) < 0) {
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'minutes' must be a whole number");
      return FALSE;
    }
    *minutes = (gint) json_node_get_int (node);
  }
  return slots_parse_time (at, NULL, start, error);
}

static void
respond_slot (HttpExchange *ex, guint status, const SlotRow *s, gboolean staff)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  slot_to_json (b, s, staff);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  http_exchange_respond_json (ex, status, root);
}

static void
respond_list (HttpExchange *ex, GPtrArray *slots, gboolean staff, gboolean (*keep) (const SlotRow *, gpointer),
              gpointer data)
{
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "slots");
  json_builder_begin_array (b);
  for (guint i = 0; i < slots->len; i++) {
    SlotRow *s = g_ptr_array_index (slots, i);
    if (!keep || keep (s, data))
      slot_to_json (b, s, staff);
  }
  json_builder_end_array (b);
  api_respond_builder (ex, 200, b);
}

/* ---- staff -------------------------------------------------------------------------- */

typedef struct { KanyanApp *app; const Identity *id; GHashTable *cases; } DeskScope;

static gboolean
desk_keeps (const SlotRow *s, gpointer data)
{
  DeskScope *scope = data;
  CaseRow *row = g_hash_table_lookup (scope->cases, s->case_ref);
  if (!row) {
    row = store_case_get (scope->app->db, s->case_ref, NULL);
    if (!row)
      return FALSE;
    g_hash_table_insert (scope->cases, g_strdup (s->case_ref), row);
  }
  return auth_allows (scope->app, scope->id, ABILITY_READ_CASE, row);
}

/* GET /api/slots: today's (from the day's start, the server's time) and upcoming slots of the
 * cases the caller may read, in time order */
static void
desk (KanyanApp *app, HttpExchange *ex, const Identity *id)
{
  if (!api_allowed (app, ex, id, ABILITY_LIST_CASES, NULL))
    return;
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autoptr (GDateTime) day = g_date_time_new_local (g_date_time_get_year (now), g_date_time_get_month (now),
                                                     g_date_time_get_day_of_month (now), 0, 0, 0);
  g_autoptr (GPtrArray) slots = store_slots_upcoming (app->db, g_date_time_to_unix (day) * 1000);
  g_autoptr (GHashTable) cases = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify) case_row_free);
  DeskScope scope = { app, id, cases };
  respond_list (ex, slots, TRUE, desk_keeps, &scope);
}

/* /api/cases/{ref}/slots[/{id}/{verb}] */
static void
case_slots (KanyanApp *app, HttpExchange *ex, const Identity *id, const gchar *ref, const gchar *slot_id,
            const gchar *verb, JsonObject *body)
{
  const gchar *method = http_exchange_method (ex);
  gboolean get = g_strcmp0 (method, "GET") == 0 || g_strcmp0 (method, "HEAD") == 0;
  gboolean post = g_strcmp0 (method, "POST") == 0;
  if (slot_id ? !(post && (g_strcmp0 (verb, "book") == 0 || g_strcmp0 (verb, "move") == 0 ||
                           g_strcmp0 (verb, "cancel") == 0))
              : !(get || post)) {
    http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such API route");
    return;
  }
  if (!id->user) {   /* nobody learns which cases exist */
    http_exchange_respond_code (ex, KANYAN_ERROR_UNAUTHENTICATED, "log in first (or the session expired)");
    return;
  }
  g_autoptr (GError) error = NULL;
  g_autoptr (CaseRow) row = store_case_get (app->db, ref, &error);
  if (!row) {
    http_exchange_respond_error (ex, error);
    return;
  }
  if (!api_allowed (app, ex, id, get ? ABILITY_READ_CASE : ABILITY_MANAGE_INVITES, row))
    return;
  if (get) {
    g_autoptr (GPtrArray) slots = store_slots_of_case (app->db, row->id);
    respond_list (ex, slots, TRUE, NULL, NULL);
    return;
  }
  const gchar *actor = auth_actor (id), *reason = NULL;
  gint64 start = 0;
  gint minutes = 0;
  g_autoptr (SlotRow) s = NULL;
  g_autoptr (SlotRow) target = slot_id ? slots_get (app->db, row, slot_id, &error) : NULL;
  if (slot_id && !target)
    ;
  else if (!member_string (body, "reason", &reason, &error))
    ;
  else if (!slot_id) {
    if (parse_time (body, &start, &minutes, &error))
      s = slots_offer (app->db, app->config, actor, row, start, minutes, &error);
  } else if (g_strcmp0 (verb, "book") == 0) {
    s = slots_book (app->db, actor, row, target->id, reason, &error);
  } else if (g_strcmp0 (verb, "move") == 0) {
    if (parse_time (body, &start, &minutes, &error))
      s = slots_move (app->db, app->config, actor, row, target->id, start, minutes, reason, &error);
  } else {
    s = slots_cancel (app->db, actor, row, target->id, reason, FALSE, &error);
  }
  if (!s)
    http_exchange_respond_error (ex, error);
  else
    respond_slot (ex, slot_id ? 200 : 201, s, TRUE);
}

/* ---- the applicant (the invite token as Bearer, ?case=REF) --------------------------- */

static gboolean
applicant_keeps (const SlotRow *s, gpointer data)
{
  gint64 now = *(gint64 *) data;
  return g_strcmp0 (s->state, "booked") == 0 || (g_strcmp0 (s->state, "offered") == 0 && s->starts_at > now);
}

static void
respond_ics (HttpExchange *ex, const CaseRow *row, const SlotRow *s)
{
  if (g_strcmp0 (s->state, "booked") != 0) {
    http_exchange_respond_code (ex, KANYAN_ERROR_ILLEGAL_TRANSITION, "only a booked slot has a calendar file");
    return;
  }
  gchar *text = slots_ics (row, s);
  g_autofree gchar *name = g_strdup_printf ("attachment; filename=\"inspection-%" G_GINT64_FORMAT ".ics\"", s->id);
  http_exchange_add_header (ex, "content-disposition", name);
  http_exchange_add_header (ex, "cache-control", "no-store");
  g_autoptr (GBytes) bytes = g_bytes_new_take (text, strlen (text));
  http_exchange_respond (ex, 200, "text/calendar; charset=utf-8", bytes);
}

/* /api/invite/slots[/{id}/{verb}]?case=REF */
static void
invite_slots (KanyanApp *app, HttpExchange *ex, const Identity *id, const gchar *slot_id, const gchar *verb,
              JsonObject *body)
{
  const gchar *method = http_exchange_method (ex);
  gboolean get = g_strcmp0 (method, "GET") == 0 || g_strcmp0 (method, "HEAD") == 0;
  gboolean post = g_strcmp0 (method, "POST") == 0;
  if (slot_id ? !((post && (g_strcmp0 (verb, "pick") == 0 || g_strcmp0 (verb, "cancel") == 0)) ||
                  (get && g_strcmp0 (verb, "ics") == 0))
              : !get) {
    http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such API route");
    return;
  }
  const gchar *ref = http_exchange_query (ex, "case");
  g_autoptr (CaseRow) row = ref ? store_case_get (app->db, ref, NULL) : NULL;
  Identity applicant = { NULL, id->invite_token };   /* the token alone: a staff cookie does not count here */
  if (!row || !auth_allows (app, &applicant, ABILITY_READ_INVITE_VIEW, row)) {
    http_exchange_add_header (ex, "www-authenticate", "Bearer");
    http_exchange_respond_code (ex, KANYAN_ERROR_BAD_TOKEN, "the invite link is wrong, expired or revoked");
    return;
  }
  if (!slot_id) {
    gint64 now = g_get_real_time () / 1000;
    g_autoptr (GPtrArray) slots = store_slots_of_case (app->db, row->id);
    respond_list (ex, slots, FALSE, applicant_keeps, &now);
    return;
  }
  g_autoptr (GError) error = NULL;
  g_autoptr (SlotRow) target = slots_get (app->db, row, slot_id, &error);
  const gchar *reason = NULL;
  g_autoptr (SlotRow) s = NULL;
  if (target && g_strcmp0 (verb, "ics") == 0) {
    respond_ics (ex, row, target);
    return;
  }
  if (target && member_string (body, "reason", &reason, &error))
    s = g_strcmp0 (verb, "pick") == 0 ? slots_book (app->db, "applicant", row, target->id, reason, &error)
                                      : slots_cancel (app->db, "applicant", row, target->id, reason, TRUE, &error);
  if (!s)
    http_exchange_respond_error (ex, error);
  else
    respond_slot (ex, 200, s, FALSE);
}

gboolean
api_slots_route (KanyanApp *app, HttpExchange *ex, const Identity *id, gchar **parts, guint n, JsonObject *body)
{
  if (n == 1 && g_strcmp0 (parts[0], "slots") == 0) {
    if (g_strcmp0 (http_exchange_method (ex), "GET") == 0 || g_strcmp0 (http_exchange_method (ex), "HEAD") == 0)
      desk (app, ex, id);
    else
      http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such API route");
    return TRUE;
  }
  if ((n == 3 || n == 5) && g_strcmp0 (parts[0], "cases") == 0 && *parts[1] && g_strcmp0 (parts[2], "slots") == 0) {
    case_slots (app, ex, id, parts[1], n == 5 ? parts[3] : NULL, n == 5 ? parts[4] : NULL, body);
    return TRUE;
  }
  if ((n == 2 || n == 4) && g_strcmp0 (parts[0], "invite") == 0 && g_strcmp0 (parts[1], "slots") == 0) {
    invite_slots (app, ex, id, n == 4 ? parts[2] : NULL, n == 4 ? parts[3] : NULL, body);
    return TRUE;
  }
  return FALSE;
}

/* api_review.c — REST routes of the review workflow: marks, the challenge, decisions and
 * countersignatures, the applicant's location. Validates and calls workflow.c; the policy of
 * who may call each route sits in api.c's table and auth.c. */
#include "web/api_private.h"
#include "review/workflow.h"
#include "live/room.h"
#include "review/audit.h"
#include "core/errors.h"
#include "review/stills.h"
#include "review/serialize.h"
#include "web/bodies.h"
#include <math.h>

static void
respond_ok (HttpExchange *ex, guint status, const gchar *member, gint64 value)
{
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, member);
  json_builder_add_int_value (b, value);
  api_respond_builder (ex, status, b);
}

gboolean
api_review_may_mark (const gchar *item_department, gpointer scope)
{
  const ApiMarkerScope *s = scope;
  return auth_may_mark_item (s->app, s->id, s->row, item_department);
}

/* parallel approval: only the items that are the user's to mark (auth_may_mark_item) */
static gboolean
check_item_is_theirs (KanyanApp *app, const Identity *id, const CaseRow *row, gint item, GError **error)
{
  g_autoptr (GPtrArray) items = store_case_items (app->db, row->id);
  if (item < 1 || (guint) item > items->len)
    return TRUE;   /* workflow_mark names the valid range */
  const gchar *department = ((gchar **) g_ptr_array_index (items, item - 1))[3];
  if (auth_may_mark_item (app, id, row, department))
    return TRUE;
  g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_YOUR_ITEM,
               "item %d is for the %s department: that department's reviewer on this case marks it", item,
               *department ? department : (*row->department ? row->department : "owner's"));
  return FALSE;
}

/* POST /api/cases/{ref}/marks {item, result, note?} */
void
api_review_mark (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body)
{
  g_autoptr (GError) error = NULL;
  MarkBody m;
  if (!bodies_parse_mark (body, &m, &error) || !check_item_is_theirs (app, id, row, m.item, &error) ||
      !workflow_mark (app, auth_actor (id), row, m.item, m.result, m.note, &error)) {
    http_exchange_respond_error (ex, error);
    return;
  }
  respond_ok (ex, 201, "item", m.item);
}

/* GET /api/cases/{ref}/marks[?session=N]: every mark of an inspection (the latest by default), oldest first */
void
api_review_marks (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body)
{
  const gchar *which = http_exchange_query (ex, "session");
  gint64 session = store_session_latest (app->db, row->id);
  if (which) {
    g_autoptr (GPtrArray) sessions = store_sessions_of_case (app->db, row->id);
    guint64 wanted = 0;
    gboolean found = FALSE;
    if (g_ascii_string_to_unsigned (which, 10, 1, G_MAXINT64, &wanted, NULL))
      for (guint i = 0; i < sessions->len; i++)
        found |= ((SessionRow *) g_ptr_array_index (sessions, i))->id == (gint64) wanted;
    if (!found) {
      http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such live inspection of this case");
      return;
    }
    session = (gint64) wanted;
  }
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "session");
  json_builder_add_int_value (b, session);
  ApiMarkerScope scope = { app, id, row };
  workflow_add_items_with_marks (b, app->db, row, session, api_review_may_mark, &scope);
  g_autoptr (GPtrArray) marks = session ? store_marks (app->db, session) : g_ptr_array_new ();
  json_builder_set_member_name (b, "history");
  json_builder_begin_array (b);
  for (guint i = 0; i < marks->len; i++)
    mark_to_json (b, g_ptr_array_index (marks, i));
  json_builder_end_array (b);
  api_respond_builder (ex, 200, b);
}

/* POST /api/cases/{ref}/challenge-seen {} */
void
api_review_challenge_seen (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row,
                           JsonObject *body)
{
  g_autoptr (GError) error = NULL;
  if (!workflow_challenge_seen (app, auth_actor (id), row, &error))
    http_exchange_respond_error (ex, error);
  else
    http_exchange_respond (ex, 204, "text/plain", NULL);
}

/* POST /api/cases/{ref}/decisions {kind, reason} */
void
api_review_decide (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body)
{
  g_autoptr (GError) error = NULL;
  DecisionBody d;
  gint64 decision = 0;
  if (!bodies_parse_decision (body, &d, &error) ||
      !(decision = workflow_decide (app, auth_actor (id), row, d.kind, d.reason, &error))) {
    http_exchange_respond_error (ex, error);
    return;
  }
  respond_ok (ex, 201, "decision", decision);
}

/* POST /api/cases/{ref}/reopen {reason}: a lead of the case's department (or an admin) reopens
 * a finally decided case; audited with the reason */
void
api_review_reopen (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = json_object_get_member (body, "reason");
  const gchar *reason = node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
                        ? json_node_get_string (node) : NULL;
  g_autofree gchar *trimmed = reason ? g_strstrip (g_strdup (reason)) : NULL;
  if (!reason)
    g_set_error (&error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "'reason' (why the case is reopened) is required");
  else if (!*trimmed || strlen (reason) > BODY_REASON_MAX)
    g_set_error (&error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'reason' must say why, in at most %d bytes",
                 BODY_REASON_MAX);
  if (error || !workflow_reopen (app, auth_actor (id), row, reason, &error)) {
    http_exchange_respond_error (ex, error);
    return;
  }
  g_autoptr (CaseRow) now = store_case_get (app->db, row->ref, NULL);
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, now ? now->status : "accepted");
  api_respond_builder (ex, 200, b);
}

/* POST /api/cases/{ref}/countersign {decision, sign: true|false, note?} */
void
api_review_countersign (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body)
{
  g_autoptr (GError) error = NULL;
  CountersignBody c;
  if (!bodies_parse_countersign (body, &c, &error) ||
      !workflow_countersign (app, auth_actor (id), row, c.decision, c.sign, c.note, &error))
    http_exchange_respond_error (ex, error);
  else
    respond_ok (ex, 200, "decision", c.decision);
}

/* GET /api/countersign: the rejections this lead may sign or return */
void
api_review_queue (KanyanApp *app, HttpExchange *ex, const Identity *id)
{
  if (!id->user) {
    http_exchange_respond_code (ex, KANYAN_ERROR_UNAUTHENTICATED, "log in first (or the session expired)");
    return;
  }
  g_autoptr (GPtrArray) pending = store_decisions_awaiting (app->db);
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "decisions");
  json_builder_begin_array (b);
  for (guint i = 0; i < pending->len; i++) {
    DecisionRow *d = g_ptr_array_index (pending, i);
    g_autoptr (CaseRow) row = store_case_get (app->db, d->case_ref, NULL);
    if (row && auth_allows (app, id, ABILITY_COUNTERSIGN, row))
      decision_to_json (b, d);
  }
  json_builder_end_array (b);
  api_respond_builder (ex, 200, b);
}

void
api_review_add_decisions (JsonBuilder *b, KanyanApp *app, const CaseRow *row)
{
  g_autoptr (GPtrArray) decisions = store_decisions (app->db, row->id);
  json_builder_set_member_name (b, "decisions");
  json_builder_begin_array (b);
  for (guint i = 0; i < decisions->len; i++)
    decision_to_json (b, g_ptr_array_index (decisions, i));
  json_builder_end_array (b);
}

void
api_review_add_notice (JsonBuilder *b, KanyanApp *app, const CaseRow *row)
{
  g_autoptr (DecisionRow) d = store_decision_latest_notice (app->db, row->id);
  g_autoptr (JsonParser) parser = json_parser_new ();
  json_builder_set_member_name (b, "notice");
  if (d && d->notice && json_parser_load_from_data (parser, d->notice, -1, NULL))
    json_builder_add_value (b, json_node_copy (json_parser_get_root (parser)));
  else
    json_builder_add_null_value (b);
}

void
api_review_add_sessions (JsonBuilder *b, KanyanApp *app, const CaseRow *row)
{
  g_autoptr (GPtrArray) sessions = store_sessions_of_case (app->db, row->id);
  json_builder_set_member_name (b, "sessions");
  json_builder_begin_array (b);
  for (guint i = 0; i < sessions->len; i++) {
    const SessionRow *s = g_ptr_array_index (sessions, i);
    g_autoptr (GPtrArray) peers = store_participants_of_session (app->db, s->id);
    session_to_json (b, s, row, peers);
  }
  json_builder_end_array (b);
}

/* POST /api/invite/geo?case=REF {lat, lon, accuracy} with the invite as Bearer: the phone's
 * location during the live inspection */
void
api_review_geo (KanyanApp *app, HttpExchange *ex, const Identity *id, JsonObject *body)
{
  const gchar *ref = http_exchange_query (ex, "case");
  g_autoptr (CaseRow) row = ref ? store_case_get (app->db, ref, NULL) : NULL;
  Identity applicant = { NULL, id->invite_token };
  if (!row || !auth_allows (app, &applicant, ABILITY_PUBLISH, row)) {
    http_exchange_add_header (ex, "www-authenticate", "Bearer");
    http_exchange_respond_code (ex, KANYAN_ERROR_BAD_TOKEN, "the invite link is wrong, expired or revoked");
    return;
  }
  g_autoptr (GError) error = NULL;
  GeoBody g;
  if (!bodies_parse_geo (body, &g, &error)) {
    http_exchange_respond_error (ex, error);
    return;
  }
  gdouble lat = g.lat, lon = g.lon, accuracy = g.accuracy;
  Room *room = rooms_get (app, row->ref);
  if (!room) {
    http_exchange_respond_code (ex, KANYAN_ERROR_CONFLICT, "the location is sent during a live inspection");
    return;
  }
  store_session_set_geo (app->db, room_session_id (room), lat, lon, accuracy);
  /* numbers in text and JSON never follow the locale (a comma-decimal LC_NUMERIC would break both) */
  gchar lat_text[G_ASCII_DTOSTR_BUF_SIZE], lon_text[G_ASCII_DTOSTR_BUF_SIZE], acc_text[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (lat_text, sizeof lat_text, "%.6f", lat);
  g_ascii_formatd (lon_text, sizeof lon_text, "%.6f", lon);
  g_ascii_formatd (acc_text, sizeof acc_text, "%.0f", accuracy);
  g_autofree gchar *where = g_strdup_printf ("%s,%s ±%s m", lat_text, lon_text, acc_text);
  audit_note (app->db, "applicant", "location", row->ref, "where", where, NULL);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "location");
  json_builder_set_member_name (b, "lat");
  json_builder_add_double_value (b, round (lat * 1e6) / 1e6);
  json_builder_set_member_name (b, "lon");
  json_builder_add_double_value (b, round (lon * 1e6) / 1e6);
  json_builder_set_member_name (b, "accuracy_m");
  json_builder_add_int_value (b, (gint64) round (accuracy));
  json_builder_set_member_name (b, "distance_m");
  if (row->has_site)
    json_builder_add_int_value (b, (gint64) round (serialize_distance_m (lat, lon, row->site_lat, row->site_lon)));
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *msg = json_to_string (root, FALSE);
  room_broadcast (room, msg, TRUE);
  http_exchange_respond (ex, 204, "text/plain", NULL);
}

/* main loop: the still is stored (or failed); the request has waited for it */
static void
on_still_reply (gpointer data, const StillRow *still, const GError *error)
{
  HttpExchange *ex = data;
  if (http_exchange_is_open (ex)) {
    if (!still) {
      http_exchange_respond_error (ex, error);
    } else {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      still_to_json (b, still);
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      http_exchange_respond_json (ex, 201, root);
    }
  }
  http_exchange_unref (ex);
}

/* POST /api/cases/{ref}/stills {item}: answers once the next keyframe is stored as a JPEG */
void
api_review_still (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body)
{
  g_autoptr (GError) error = NULL;
  StillBody b;
  if (!bodies_parse_still (body, &b, &error) || !workflow_check_open (row, &error) ||
      !check_item_is_theirs (app, id, row, b.item, &error)) {   /* as marks: their own items only */
    http_exchange_respond_error (ex, error);
    return;
  }
  http_exchange_ref (ex);
  if (!stills_capture (app, auth_actor (id), row, b.item, on_still_reply, ex, &error)) {
    http_exchange_respond_error (ex, error);
    http_exchange_unref (ex);
  }
}

/* POST /api/cases/{ref}/annotations {still, shapes} */
void
api_review_annotate (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body)
{
  g_autoptr (GError) error = NULL;
  AnnotationBody a;
  if (!bodies_parse_annotation (body, &a, &error)) {
    http_exchange_respond_error (ex, error);
    return;
  }
  /* a drawing is judged like a mark of the still's item: who may mark that item may draw on
   * it (and replace an earlier drawing), nobody else */
  g_autoptr (StillRow) still = store_still_get (app->db, a.still);
  if ((still && still->case_id == row->id && !check_item_is_theirs (app, id, row, still->item, &error)) ||
      !stills_annotate (app, auth_actor (id), row, a.still, a.shapes, &error))
    http_exchange_respond_error (ex, error);
  else
    http_exchange_respond (ex, 204, "text/plain", NULL);
}

void
api_review_add_stills (JsonBuilder *b, KanyanApp *app, const CaseRow *row)
{
  g_autoptr (GPtrArray) stills = store_stills_of_case (app->db, row->id);
  json_builder_set_member_name (b, "stills");
  json_builder_begin_array (b);
  for (guint i = 0; i < stills->len; i++)
    still_to_json (b, g_ptr_array_index (stills, i));
  json_builder_end_array (b);
}

/* api_ack.c — REST: the applicant's acknowledgement of a notice (issue 18).
 *   POST /api/invite/acknowledge?case=REF {name, strokes | typed: true, notice?}  with the invite as Bearer
 * The invite token is the only credential (a staff cookie does not count): a live one, or the one
 * a countersigned rejection revoked (its notice is still to be acknowledged); the domain
 * (review/acknowledge.c) validates, builds the SVG, stores and audits. Never touches SQL. */
#include "web/api_private.h"
#include "web/http_auth.h"
#include "review/acknowledge.h"
#include "review/serialize.h"
#include "core/errors.h"
#include "core/json_out.h"

void
api_ack_add_invite (JsonBuilder *b, KanyanApp *app, const CaseRow *row)
{
  AckState state;
  ack_state_load (app->db, row, NULL, NULL, 0, &state);
  json_out_int_or_null (b, "ack_notice", state.notice ? state.notice->id : 0, state.notice != NULL);
  /* what the applicant signs for, in the reviewer's words: a rejection has no notice card on
   * the phone, so its reason is shown above the form from here */
  json_builder_set_member_name (b, "ack_decision");
  if (state.notice) {
    /* not decision_to_json: the phone needs no staff names, session or countersignature note */
    json_builder_begin_object (b);
    json_out_str (b, "kind", state.notice->kind);
    json_out_str (b, "reason", state.notice->reason ? state.notice->reason : "");
    json_out_int (b, "at", state.notice->at);
    json_builder_end_object (b);
  } else {
    json_builder_add_null_value (b);
  }
  json_builder_set_member_name (b, "acknowledgement");
  if (state.ack)
    ack_to_json (b, state.ack, FALSE);
  else
    json_builder_add_null_value (b);
  ack_state_clear (&state);
}

static void
acknowledge (KanyanApp *app, HttpExchange *ex, const Identity *id, JsonObject *body)
{
  const gchar *ref = http_exchange_query (ex, "case");
  g_autoptr (CaseRow) row = ref ? store_case_get (app->db, ref, NULL) : NULL;
  Identity applicant = { NULL, id->invite_token };   /* the token alone */
  /* a live invite; or the one a countersigned rejection ended, for that rejection's notice only
   * (the route signs nothing else: join, WHIP and the invite view still answer case_closed) */
  if (!row || !(auth_allows (app, &applicant, ABILITY_READ_INVITE_VIEW, row) ||
                ack_invite_closed_by_rejection (app->db, row, id->invite_token))) {
    http_exchange_add_header (ex, "www-authenticate", "Bearer");
    http_exchange_respond_code (ex, KANYAN_ERROR_BAD_TOKEN, "the invite link is wrong, expired or revoked");
    return;
  }
  JsonNode *name = json_object_get_member (body, "name");
  JsonNode *strokes = json_object_get_member (body, "strokes");
  JsonNode *typed_node = json_object_get_member (body, "typed");
  gboolean typed = typed_node && JSON_NODE_HOLDS_VALUE (typed_node) &&
                   json_node_get_value_type (typed_node) == G_TYPE_BOOLEAN && json_node_get_boolean (typed_node);
  if (typed_node && !JSON_NODE_HOLDS_NULL (typed_node) &&
      !(JSON_NODE_HOLDS_VALUE (typed_node) && json_node_get_value_type (typed_node) == G_TYPE_BOOLEAN)) {
    http_exchange_respond_code (ex, KANYAN_ERROR_BAD_FIELD, "'typed' is true or false");
    return;
  }
  if (!name || (!strokes && !typed) || !JSON_NODE_HOLDS_VALUE (name) || json_node_get_value_type (name) != G_TYPE_STRING) {
    http_exchange_respond_code (ex, KANYAN_ERROR_MISSING_FIELD, "'name' (a string) and 'strokes' (or 'typed': true) "
                                "are required");
    return;
  }
  /* the notice the page showed: a newer one since then is not what this signature answers */
  JsonNode *notice = json_object_get_member (body, "notice");
  if (notice && !JSON_NODE_HOLDS_NULL (notice)) {
    g_autoptr (DecisionRow) current = ack_notice_of (app->db, row);
    if (!JSON_NODE_HOLDS_VALUE (notice) || json_node_get_value_type (notice) != G_TYPE_INT64) {
      http_exchange_respond_code (ex, KANYAN_ERROR_BAD_FIELD, "'notice' is the notice's decision id (a number)");
      return;
    }
    if (current && current->id != json_node_get_int (notice)) {
      http_exchange_respond_code (ex, KANYAN_ERROR_CONFLICT, "a newer notice was issued: read it, then acknowledge it");
      return;
    }
  }
  g_autoptr (GError) error = NULL;
  g_autoptr (AckRow) ack = ack_submit (app, row, id->invite_token, json_node_get_string (name), strokes, typed, &error);
  if (!ack) {
    if (g_error_matches (error, KANYAN_ERROR, KANYAN_ERROR_ALREADY_ACKNOWLEDGED)) {
      AckState state;   /* who signed and when, with the code */
      ack_state_load (app->db, row, NULL, NULL, 0, &state);
      g_autoptr (JsonBuilder) b = api_object_begin ();
      json_out_str (b, "code", kanyan_error_code (error->code));
      json_out_str (b, "message", error->message);
      json_builder_set_member_name (b, "acknowledgement");
      if (state.ack)
        ack_to_json (b, state.ack, FALSE);
      else
        json_builder_add_null_value (b);
      ack_state_clear (&state);
      api_respond_builder (ex, kanyan_error_http_status (error->code), b);
      return;
    }
    http_exchange_respond_error (ex, error);
    return;
  }
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "acknowledgement");
  ack_to_json (b, ack, FALSE);
  api_respond_builder (ex, 201, b);
}

gboolean
api_ack_route (KanyanApp *app, HttpExchange *ex, const Identity *id, gchar **parts, guint n, JsonObject *body)
{
  if (n != 2 || g_strcmp0 (parts[0], "invite") != 0 || g_strcmp0 (parts[1], "acknowledge") != 0)
    return FALSE;
  if (g_strcmp0 (http_exchange_method (ex), "POST") != 0)
    http_exchange_respond_code (ex, KANYAN_ERROR_METHOD_NOT_ALLOWED, "POST an acknowledgement");
  else
    acknowledge (app, ex, id, body);
  return TRUE;
}

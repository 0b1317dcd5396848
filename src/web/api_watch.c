/* api_watch.c — REST for WHEP viewing tokens: POST /api/cases/{ref}/watch-tokens {"ttl_s":N}
 * issues one (the token is shown once), DELETE /api/cases/{ref}/watch-tokens/{id} revokes it.
 * Who may: whoever may join the case's live inspection (ABILITY_JOIN_LIVE). Revoking lets go
 * of the players the token let in, at once. Turns HTTP into
 * review/watch.c calls and nothing more. */
#include "web/api_private.h"
#include "review/watch.h"
#include "review/serialize.h"
#include "web/whep.h"
#include "core/errors.h"

void
api_watch_issue (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body)
{
  gint64 ttl_s = WATCH_TTL_DEFAULT_S;
  JsonNode *node = body ? json_object_get_member (body, "ttl_s") : NULL;
  if (node) {
    if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64) {
      http_exchange_respond_code (ex, KANYAN_ERROR_BAD_FIELD, "ttl_s must be a whole number of seconds");
      return;
    }
    ttl_s = json_node_get_int (node);
  }
  g_autoptr (GError) error = NULL;
  g_autoptr (WatchToken) t = watch_token_issue (app->db, auth_actor (id), row, ttl_s, &error);
  if (!t) {
    http_exchange_respond_error (ex, error);
    return;
  }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  watch_token_to_json (b, t, row);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  http_exchange_respond_json (ex, 201, root);
}

void
api_watch_revoke (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, const gchar *token_id)
{
  gchar *end = NULL;
  gint64 n = g_ascii_strtoll (token_id, &end, 10);
  g_autoptr (GError) error = NULL;
  if (!*token_id || *end || n <= 0)
    g_set_error (&error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "no such viewing token");
  else
    watch_token_revoke (app->db, auth_actor (id), row, n, &error);
  if (error) {
    http_exchange_respond_error (ex, error);
    return;
  }
  guint ended = whep_end_token (app, row->ref, row->id, n);
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "revoked");
  json_builder_add_int_value (b, n);
  json_builder_set_member_name (b, "players_ended");
  json_builder_add_int_value (b, ended);
  api_respond_builder (ex, 200, b);
}

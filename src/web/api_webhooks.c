/* api_webhooks.c — REST routes of the webhook outbox for administrators: the deliveries (by
 * state, e.g. the dead ones) and the retry of a dead one (audited). Sending is
 * archive/webhooks.c's; nothing here touches an endpoint. */
#include "web/api_private.h"
#include "archive/webhooks.h"
#include "review/audit.h"
#include "core/errors.h"
#include "core/json_out.h"

/* GET /api/webhooks/deliveries[?state=pending|delivered|dead]: newest first, at most 500 */
void
api_webhooks_deliveries (KanyanApp *app, HttpExchange *ex, const Identity *id)
{
  if (!api_allowed (app, ex, id, ABILITY_MANAGE_USERS, NULL))
    return;
  const gchar *state = http_exchange_query (ex, "state");
  if (state && !*state)
    state = NULL;
  if (state && g_strcmp0 (state, "pending") != 0 && g_strcmp0 (state, "delivered") != 0 && g_strcmp0 (state, "dead") != 0) {
    http_exchange_respond_code (ex, KANYAN_ERROR_BAD_FIELD, "state is pending, delivered or dead");
    return;
  }
  g_autoptr (GPtrArray) rows = store_outbox_list (app->db, state, 500);
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "deliveries");
  json_builder_begin_array (b);
  for (guint i = 0; i < rows->len; i++)
    webhooks_delivery_to_json (b, g_ptr_array_index (rows, i));
  json_builder_end_array (b);
  api_respond_builder (ex, 200, b);
}

/* POST /api/webhooks/deliveries/{id}/retry {}: a dead delivery is pending again */
void
api_webhooks_retry (KanyanApp *app, HttpExchange *ex, const Identity *id, const gchar *id_text)
{
  if (!api_allowed (app, ex, id, ABILITY_MANAGE_USERS, NULL))
    return;
  gchar *end = NULL;
  gint64 delivery = g_ascii_strtoll (id_text, &end, 10);
  g_autoptr (OutboxRow) row = end && !*end && delivery > 0 ? store_outbox_get (app->db, delivery) : NULL;
  if (!row) {
    http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such webhook delivery");
    return;
  }
  if (!webhooks_retry (app, delivery)) {
    http_exchange_respond_code (ex, KANYAN_ERROR_CONFLICT, "only a dead delivery can be retried");
    return;
  }
  /* case "" : the retry is the admin's act, not an event of the case */
  audit_note (app->db, auth_actor (id), "webhook.retried", "", "delivery", id_text, "endpoint", row->endpoint,
              "event", row->hash, "case", row->case_ref, NULL);
  g_autoptr (OutboxRow) now = store_outbox_get (app->db, delivery);
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "delivery");
  webhooks_delivery_to_json (b, now);
  api_respond_builder (ex, 200, b);
}

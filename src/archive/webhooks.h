/* webhooks.h — case events to [webhooks] endpoints as signed JSON POSTs, from the persistent
 * outbox (store/store_outbox.h). docs/webhooks.md is the receivers' contract. */
#pragma once
#include <glib.h>
#include <json-glib/json-glib.h>
#include "app/app.h"
#include "store/store_outbox.h"

/* Main loop. Starts the sender when endpoints are configured (nothing otherwise): deliveries
 * left pending by an earlier run are sent again, new audit rows of the event kinds become
 * deliveries. */
void     webhooks_start (KanyanApp *app);
void     webhooks_stop (KanyanApp *app);   /* in-flight POSTs cancelled; their rows stay pending */
/* the event (what is POSTed) of an outbox row, as JSON text */
gchar   *webhooks_event_json (const OutboxRow *row);
/* "sha256=" + hex HMAC-SHA256 (secret, timestamp "." body) */
gchar   *webhooks_signature (const gchar *secret, const gchar *timestamp, const gchar *body);
/* one delivery as the admin endpoint shows it */
void     webhooks_delivery_to_json (JsonBuilder *b, const OutboxRow *row);
/* an admin's retry of a dead delivery: pending again, attempts from 0; sending is woken */
gboolean webhooks_retry (KanyanApp *app, gint64 id);

/* webhooks.c — sends the webhook outbox (store_outbox.c) to the [webhooks] endpoints with
 * libsoup 3, asynchronously on the main loop. It owns the event's shape, its signature
 * (HMAC-SHA256 over timestamp "." body, GHmac), retries with capped exponential back-off, the
 * dead state after max_attempts, and order per case (a case's next event waits until the one
 * before it is delivered or dead). It never writes the audit log: the audit log is the source
 * of events — each audit row of an event kind becomes one delivery per endpoint, in one
 * transaction that also moves the endpoint's cursor (the audit row's own transaction when the
 * row was written by this process: audit.h's listener), so a row is never lost nor enqueued
 * twice; rows written by the CLI are collected by the timer; a restart resumes from the rows
 * still pending.
 * Layer: archive — it needs store (the outbox) and review (audit.h's listener) and nothing of
 * media or live; like export and retention it acts on what the case has recorded. Main loop
 * only: every callback here (timer, idle, soup's async completion) runs on it. */
#include "archive/webhooks.h"
#include "review/audit.h"
#include "store/db.h"
#include <libsoup/soup.h>

/* the audit actions that are case events (docs/webhooks.md names them) */
#define EVENT_ACTIONS ",case.created,case.assigned,case.status,case.reopened,participant.joined,participant.left," \
                      "inspection.started,inspection.ended,recording.started,recording.ended,mark,still.captured,decision,decision.countersigned," \
                      "decision.returned,notice.issued,recording.archived,media.purged,photo.captured,"
#define BATCH       32
#define POLL_MS     250   /* due retries are looked for this often; new events wake the sender at once */

typedef struct {
  KanyanApp    *app;
  SoupSession  *session;
  GCancellable *cancel;
  GHashTable   *in_flight;   /* outbox id (gint64*) -> TRUE */
  guint         timer, idle;
} Sender;

typedef struct {
  Sender *s;
  gint64  id;
  gint    attempts;
  gchar  *endpoint;
  SoupMessage *msg;
} Post;

static void pump (Sender *s);

gchar *
webhooks_signature (const gchar *secret, const gchar *timestamp, const gchar *body)
{
  g_autoptr (GHmac) mac = g_hmac_new (G_CHECKSUM_SHA256, (const guchar *) secret, strlen (secret));
  g_hmac_update (mac, (const guchar *) timestamp, -1);
  g_hmac_update (mac, (const guchar *) ".", 1);
  g_hmac_update (mac, (const guchar *) body, -1);
  return g_strconcat ("sha256=", g_hmac_get_string (mac), NULL);
}

static gchar *
iso_time (gint64 ms)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (ms / 1000);
  g_autofree gchar *base = g_date_time_format (t, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%03dZ", base, (int) (ms % 1000));
}

gchar *
webhooks_event_json (const OutboxRow *row)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *at = iso_time (row->at);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");          /* the audit row's hash: stable across retries */
  json_builder_add_string_value (b, row->hash);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, row->action);
  json_builder_set_member_name (b, "case_ref");
  json_builder_add_string_value (b, row->case_ref);
  json_builder_set_member_name (b, "sequence");    /* the audit row's id: increases along a case */
  json_builder_add_int_value (b, row->audit_id);
  json_builder_set_member_name (b, "occurred_at");
  json_builder_add_string_value (b, at);
  json_builder_set_member_name (b, "actor");
  json_builder_add_string_value (b, row->actor);
  json_builder_set_member_name (b, "data");
  g_autoptr (JsonParser) p = json_parser_new ();
  if (row->detail && json_parser_load_from_data (p, row->detail, -1, NULL) && json_parser_get_root (p))
    json_builder_add_value (b, json_node_copy (json_parser_get_root (p)));
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

void
webhooks_delivery_to_json (JsonBuilder *b, const OutboxRow *r)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, r->id);
  json_builder_set_member_name (b, "endpoint");
  json_builder_add_string_value (b, r->endpoint);
  json_builder_set_member_name (b, "event_id");
  json_builder_add_string_value (b, r->hash);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, r->action);
  json_builder_set_member_name (b, "case_ref");
  json_builder_add_string_value (b, r->case_ref);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, r->state);
  json_builder_set_member_name (b, "attempts");
  json_builder_add_int_value (b, r->attempts);
  json_builder_set_member_name (b, "last_status");
  json_builder_add_int_value (b, r->last_status);
  json_builder_set_member_name (b, "last_error");
  if (r->last_error)
    json_builder_add_string_value (b, r->last_error);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "next_at");
  json_builder_add_int_value (b, r->next_at);
  json_builder_end_object (b);
}

static void
post_free (Post *p)
{
  g_free (p->endpoint);
  g_clear_object (&p->msg);
  g_free (p);
}

/* main loop: soup's completion of one POST */
static void
on_sent (GObject *source, GAsyncResult *result, gpointer data)
{
  Post *p = data;
  Sender *s = p->s;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) reply = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {   /* stopping: the row stays pending */
    post_free (p);
    return;
  }
  g_hash_table_remove (s->in_flight, &p->id);
  KanyanConfig *cfg = s->app->config;
  guint status = error ? 0 : soup_message_get_status (p->msg);
  gint64 now = db_now_ms ();
  if (status >= 200 && status < 300) {
    store_outbox_delivered (s->app->db, p->id, (gint) status, now);
  } else {
    gint attempts = p->attempts + 1;
    gint64 delay = cfg->webhook_retry_base_ms;
    for (gint i = 1; i < attempts && delay < cfg->webhook_retry_cap_ms; i++)
      delay *= 2;
    delay = MIN (delay, (gint64) cfg->webhook_retry_cap_ms);
    gboolean dead = attempts >= cfg->webhook_max_attempts;
    g_autofree gchar *why = error ? g_strdup (error->message) : g_strdup_printf ("HTTP %u", status);
    store_outbox_failed (s->app->db, p->id, attempts, now + delay, dead, (gint) status, why);
    if (dead)
      g_warning ("webhook %s: delivery %" G_GINT64_FORMAT " is dead after %d attempts (%s)", p->endpoint, p->id,
                 attempts, why);
    else
      g_info ("webhook %s: delivery %" G_GINT64_FORMAT " failed (%s); next try in %" G_GINT64_FORMAT " ms",
              p->endpoint, p->id, why, delay);
  }
  post_free (p);
  pump (s);
}

static void
send_row (Sender *s, gint index, const OutboxRow *row)
{
  KanyanConfig *cfg = s->app->config;
  SoupMessage *msg = soup_message_new ("POST", cfg->webhook_urls[index]);
  if (!msg) {
    store_outbox_failed (s->app->db, row->id, cfg->webhook_max_attempts, db_now_ms (), TRUE, 0, "bad URL");
    return;
  }
  g_autofree gchar *body = webhooks_event_json (row);
  g_autofree gchar *timestamp = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / G_USEC_PER_SEC);
  g_autofree gchar *signature = webhooks_signature (cfg->webhook_secrets[index], timestamp, body);
  g_autofree gchar *attempt = g_strdup_printf ("%d", row->attempts + 1);
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  soup_message_headers_replace (h, "X-Kanyan-Timestamp", timestamp);
  soup_message_headers_replace (h, "X-Kanyan-Signature", signature);
  soup_message_headers_replace (h, "X-Kanyan-Event-Id", row->hash);
  soup_message_headers_replace (h, "X-Kanyan-Event", row->action);
  soup_message_headers_replace (h, "X-Kanyan-Attempt", attempt);
  g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));
  soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  Post *p = g_new0 (Post, 1);
  p->s = s;
  p->id = row->id;
  p->attempts = row->attempts;
  p->endpoint = g_strdup (row->endpoint);
  p->msg = msg;
  gint64 *key = g_new (gint64, 1);
  *key = row->id;
  g_hash_table_add (s->in_flight, key);
  soup_session_send_and_read_async (s->session, msg, G_PRIORITY_DEFAULT, s->cancel, on_sent, p);
}

/* main loop: new audit rows become deliveries; due deliveries not in flight are sent */
static void
pump (Sender *s)
{
  KanyanConfig *cfg = s->app->config;
  gint64 now = db_now_ms ();
  for (gint i = 0; cfg->webhook_names[i]; i++) {
    g_autoptr (GError) error = NULL;
    if (store_outbox_collect (s->app->db, cfg->webhook_names[i], EVENT_ACTIONS, now, &error) < 0)
      g_warning ("webhook %s: %s", cfg->webhook_names[i], error->message);
    g_autoptr (GPtrArray) due = store_outbox_due (s->app->db, cfg->webhook_names[i], now, BATCH);
    for (guint k = 0; k < due->len; k++) {
      OutboxRow *row = g_ptr_array_index (due, k);
      if (!g_hash_table_contains (s->in_flight, &row->id))   /* a case's head in flight blocks the case */
        send_row (s, i, row);
    }
  }
}

static gboolean
on_timer (gpointer data)
{
  pump (data);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_idle (gpointer data)
{
  Sender *s = data;
  s->idle = 0;
  pump (s);
  return G_SOURCE_REMOVE;
}

/* main loop, from audit_append right after the row: its deliveries are made now, inside the
 * caller's transaction when one is open (the row and its deliveries commit or roll back
 * together); sending waits until that is over */
static void
on_audit (gpointer data)
{
  Sender *s = data;
  KanyanConfig *cfg = s->app->config;
  if (!g_main_context_is_owner (g_main_context_default ()))
    return;   /* not the main loop (no caller does this today): the timer collects the row */
  for (gint i = 0; cfg->webhook_names[i]; i++) {
    g_autoptr (GError) error = NULL;
    if (store_outbox_collect (s->app->db, cfg->webhook_names[i], EVENT_ACTIONS, db_now_ms (), &error) < 0)
      g_warning ("webhook %s: %s (the timer tries again)", cfg->webhook_names[i], error->message);
  }
  if (!s->idle)
    s->idle = g_idle_add (on_idle, s);
}

void
webhooks_start (KanyanApp *app)
{
  KanyanConfig *cfg = app->config;
  if (!cfg->webhook_names || !cfg->webhook_names[0] || app->webhooks)
    return;
  Sender *s = g_new0 (Sender, 1);
  s->app = app;
  s->session = soup_session_new_with_options ("timeout", (guint) cfg->webhook_timeout_s, "user-agent",
                                              "kanyan-webhooks/" KANYAN_VERSION, NULL);
  s->cancel = g_cancellable_new ();
  s->in_flight = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  s->timer = g_timeout_add (MIN (POLL_MS, cfg->webhook_retry_base_ms), on_timer, s);
  app->webhooks = s;
  audit_set_listener (on_audit, s);
  for (gint i = 0; cfg->webhook_names[i]; i++)
    g_message ("webhook %s: events go to %s", cfg->webhook_names[i], cfg->webhook_urls[i]);
  pump (s);
}

void
webhooks_stop (KanyanApp *app)
{
  Sender *s = app->webhooks;
  if (!s)
    return;
  audit_set_listener (NULL, NULL);
  g_cancellable_cancel (s->cancel);
  g_clear_handle_id (&s->timer, g_source_remove);
  g_clear_handle_id (&s->idle, g_source_remove);
  soup_session_abort (s->session);
  g_object_unref (s->session);
  g_object_unref (s->cancel);
  g_hash_table_unref (s->in_flight);
  g_free (s);
  app->webhooks = NULL;
}

gboolean
webhooks_retry (KanyanApp *app, gint64 id)
{
  if (!store_outbox_retry (app->db, id, db_now_ms ()))
    return FALSE;
  Sender *s = app->webhooks;
  if (s && !s->idle)
    s->idle = g_idle_add (on_idle, s);
  return TRUE;
}

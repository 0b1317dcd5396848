/* store_outbox.h — SQL of the webhook outbox (tables webhook_outbox and webhook_cursor,
 * migration 13): which audit rows each endpoint must still receive, their attempts and
 * state (pending, delivered, dead). What an event looks like and how it is sent is
 * archive/webhooks.c's; the store only keeps rows, their order and their state. */
#pragma once
#include <glib.h>
#include <sqlite3.h>

typedef struct {
  gint64 id, audit_id, next_at, created_at, delivered_at;
  gint   attempts, last_status;
  gchar *endpoint, *case_ref, *state, *last_error;
  /* the audit row's */
  gint64 at;
  gchar *actor, *action, *detail, *hash;
} OutboxRow;
void outbox_row_free (OutboxRow *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OutboxRow, outbox_row_free)

/* One IMMEDIATE transaction: a delivery row for every audit row after endpoint's cursor whose
 * action is in actions (",a,b,c," — commas around each), and the cursor moved to the audit
 * log's tip. An endpoint seen for the first time starts at the tip (no history is sent).
 * Returns the rows added, -1 on failure. */
gint       store_outbox_collect (sqlite3 *db, const gchar *endpoint, const gchar *actions, gint64 now,
                                 GError **error);
/* pending rows of endpoint due by now that are the oldest pending row of their case (a case's
 * next event waits for the one before it), oldest first; at most limit */
GPtrArray *store_outbox_due (sqlite3 *db, const gchar *endpoint, gint64 now, guint limit);
gboolean   store_outbox_delivered (sqlite3 *db, gint64 id, gint status, gint64 now);
/* attempts counted, next try at next_at, or state dead when dead */
gboolean   store_outbox_failed (sqlite3 *db, gint64 id, gint attempts, gint64 next_at, gboolean dead, gint status,
                                const gchar *error_text);
/* rows in state (NULL: all), newest first, at most limit */
GPtrArray *store_outbox_list (sqlite3 *db, const gchar *state, guint limit);
OutboxRow *store_outbox_get (sqlite3 *db, gint64 id);
/* a dead row back to pending, attempts 0, due now; FALSE when id is not dead */
gboolean   store_outbox_retry (sqlite3 *db, gint64 id, gint64 now);

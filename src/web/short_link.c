/* short_link.c — the /i/{CODE} route: resolves an invite's short code (review/short_code.c)
 * and redirects to the invite's link, whose token stays in the fragment. A token bucket per
 * source address is spent by unknown codes; an empty one refuses every code from there
 * (429 rate_limited, Retry-After) until it refills, so 2^30 codes cannot be walked. The
 * buckets live in memory (a restart forgets them), bounded. Main loop only; never logs a code. */
#include "web/short_link.h"
#include "review/short_code.h"
#include "core/errors.h"

#define MAX_ADDRESSES 10000

typedef struct {
  gdouble tokens;
  gint64  at;   /* ms, when tokens was reckoned */
} Bucket;

static GHashTable *buckets;   /* address -> Bucket* */

static Bucket *
bucket_for (const gchar *address, gint64 now)
{
  if (!buckets)
    buckets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  Bucket *b = g_hash_table_lookup (buckets, address);
  if (!b) {
    if (g_hash_table_size (buckets) >= MAX_ADDRESSES) {   /* the full (forgiven) ones go first */
      GHashTableIter iter;
      gpointer value;
      g_hash_table_iter_init (&iter, buckets);
      while (g_hash_table_iter_next (&iter, NULL, &value)) {
        Bucket *o = value;
        if (o->tokens + (gdouble) (now - o->at) / SHORT_LINK_REFILL_MS >= SHORT_LINK_BURST)
          g_hash_table_iter_remove (&iter);
      }
    }
    b = g_new0 (Bucket, 1);
    b->tokens = SHORT_LINK_BURST;
    b->at = now;
    g_hash_table_insert (buckets, g_strdup (address), b);
  }
  b->tokens = MIN ((gdouble) SHORT_LINK_BURST, b->tokens + (gdouble) (now - b->at) / SHORT_LINK_REFILL_MS);
  b->at = now;
  return b;
}

void
short_link_handle (KanyanApp *app, HttpExchange *ex)
{
  const gchar *method = http_exchange_method (ex);
  if (g_strcmp0 (method, "GET") != 0 && g_strcmp0 (method, "HEAD") != 0) {
    http_exchange_respond_code (ex, KANYAN_ERROR_METHOD_NOT_ALLOWED, "a short link is opened with GET");
    return;
  }
  gint64 now = g_get_monotonic_time () / 1000;
  const gchar *address = http_exchange_peer (ex);
  Bucket *b = bucket_for (address ? address : "", now);
  if (b->tokens < 1) {
    g_autofree gchar *seconds = g_strdup_printf ("%d", (gint) ((1 - b->tokens) * SHORT_LINK_REFILL_MS / 1000) + 1);
    http_exchange_add_header (ex, "retry-after", seconds);
    http_exchange_respond_code (ex, KANYAN_ERROR_RATE_LIMITED, "too many unknown codes from this address: wait a little");
    return;
  }
  const gchar *code = http_exchange_path (ex) + strlen ("/i/");
  g_autofree gchar *url = NULL, *ref = NULL;
  g_autoptr (GError) error = NULL;
  if (!short_code_resolve (app->db, app->config, code, &url, &ref, &error)) {
    b->tokens -= 1;
    http_exchange_respond_error (ex, error);
    return;
  }
  http_exchange_add_header (ex, "location", url);
  http_exchange_add_header (ex, "cache-control", "no-store");
  http_exchange_respond (ex, 302, "text/plain", NULL);
}

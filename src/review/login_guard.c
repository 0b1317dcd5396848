/* login_guard.c — the back-off state of logins, in memory (a restart forgets it), bounded:
 * entries idle for LOGIN_FORGET_MS are swept every 10 s, and at LOGIN_MAX_ENTRIES the idle
 * ones go first. Audit rows go through audit_note; nothing else is written. Main loop only. */
#include "review/login_guard.h"
#include "review/audit.h"
#include "store/db.h"
#include "core/errors.h"

#define LOGIN_FORGET_MS    (15 * 60 * 1000)
#define LOGIN_MAX_ENTRIES  10000
#define SWEEP_S            10

typedef struct {
  gint     failures;
  gint64   next_allowed, last_seen;
  gboolean in_flight;
} Pair;

typedef struct {
  gdouble tokens;
  gint64  tokens_at, last_seen;
  gint    in_flight;
} Address;

/* one audit key (action, username, address) in its window */
typedef struct {
  gchar  *action, *username, *address, *reason;
  gint64  window_start, first_pending, last_pending;
  gint    pending;          /* counted since the row that opened the window */
} Tally;

static GHashTable *pairs;      /* "address\nusername" -> Pair* */
static GHashTable *addresses;  /* address -> Address* */
static GHashTable *tallies;    /* "action\naddress\nusername" -> Tally* */
static guint sweep_source;

static void
tally_free (Tally *t)
{
  g_free (t->action);
  g_free (t->username);
  g_free (t->address);
  g_free (t->reason);
  g_free (t);
}

static void
tally_write (sqlite3 *db, Tally *t)
{
  if (!t->pending)
    return;
  g_autofree gchar *count = g_strdup_printf ("%d", t->pending);
  g_autofree gchar *first = g_strdup_printf ("%" G_GINT64_FORMAT, t->first_pending);
  g_autofree gchar *last = g_strdup_printf ("%" G_GINT64_FORMAT, t->last_pending);
  audit_note (db, t->username, t->action, "", "address", t->address, "reason", t->reason, "count", count,
              "first_at", first, "last_at", last, NULL);
  t->pending = 0;
}

static gboolean
sweep (gpointer db)
{
  gint64 now = db_now_ms ();
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, tallies);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Tally *t = value;
    if (now >= t->window_start + LOGIN_AUDIT_WINDOW_MS) {
      tally_write (db, t);
      g_hash_table_iter_remove (&iter);
    }
  }
  g_hash_table_iter_init (&iter, pairs);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Pair *p = value;
    if (!p->in_flight && now - p->last_seen > LOGIN_FORGET_MS && now >= p->next_allowed)
      g_hash_table_iter_remove (&iter);
  }
  g_hash_table_iter_init (&iter, addresses);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Address *a = value;
    if (!a->in_flight && now - a->last_seen > LOGIN_ADDR_BURST * LOGIN_ADDR_REFILL_MS)
      g_hash_table_iter_remove (&iter);
  }
  return G_SOURCE_CONTINUE;
}

static void
ensure_tables (sqlite3 *db)
{
  if (pairs)
    return;
  pairs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  addresses = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  tallies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) tally_free);
  sweep_source = g_timeout_add_seconds (SWEEP_S, sweep, db);
}

/* room for one more entry: the idle ones go first */
static void
make_room (GHashTable *table, gboolean is_pair)
{
  if (g_hash_table_size (table) < LOGIN_MAX_ENTRIES)
    return;
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (is_pair ? !((Pair *) value)->in_flight : !((Address *) value)->in_flight) {
      g_hash_table_iter_remove (&iter);
      return;
    }
}

static void
count (sqlite3 *db, const gchar *action, const gchar *username, const gchar *address, const gchar *reason)
{
  gint64 now = db_now_ms ();
  g_autofree gchar *key = g_strdup_printf ("%s\n%s\n%s", action, address, username);
  Tally *t = g_hash_table_lookup (tallies, key);
  if (t && now >= t->window_start + LOGIN_AUDIT_WINDOW_MS) {
    tally_write (db, t);
    g_hash_table_remove (tallies, key);
    t = NULL;
  }
  if (t) {   /* within the window: counted, written when it ends */
    if (!t->pending++)
      t->first_pending = now;
    t->last_pending = now;
    return;
  }
  if (g_hash_table_size (tallies) >= LOGIN_MAX_ENTRIES) {   /* full: one row early rather than none */
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init (&iter, tallies);
    if (g_hash_table_iter_next (&iter, NULL, &value)) {
      tally_write (db, value);
      g_hash_table_iter_remove (&iter);
    }
  }
  t = g_new0 (Tally, 1);
  t->action = g_strdup (action);
  t->username = g_strdup (username);
  t->address = g_strdup (address);
  t->reason = g_strdup (reason);
  t->window_start = now;
  g_hash_table_insert (tallies, g_steal_pointer (&key), t);
  audit_note (db, username, action, "", "address", address, "reason", reason, "count", "1", NULL);
}

static Address *
address_get (const gchar *address, gint64 now)
{
  Address *a = g_hash_table_lookup (addresses, address);
  if (!a) {
    make_room (addresses, FALSE);
    a = g_new0 (Address, 1);
    a->tokens = LOGIN_ADDR_BURST;
    a->tokens_at = now;
    g_hash_table_insert (addresses, g_strdup (address), a);
  }
  a->tokens = MIN ((gdouble) LOGIN_ADDR_BURST, a->tokens + (gdouble) (now - a->tokens_at) / LOGIN_ADDR_REFILL_MS);
  a->tokens_at = now;
  a->last_seen = now;
  return a;
}

gboolean
login_guard_begin (sqlite3 *db, const gchar *username, const gchar *address, gint64 *retry_after_ms, GError **error)
{
  ensure_tables (db);
  gint64 now = db_now_ms ();
  address = address && *address ? address : "unknown";
  g_autofree gchar *key = g_strdup_printf ("%s\n%s", address, username);
  Pair *p = g_hash_table_lookup (pairs, key);
  Address *a = address_get (address, now);
  gint64 wait = 0;
  const gchar *why = NULL;
  if (p && p->in_flight) {
    wait = 1000;
    why = "a login to this account from this address is being checked";
  } else if (p && now < p->next_allowed) {
    wait = p->next_allowed - now;
    why = "too many failed logins to this account from this address";
  } else if (a->tokens < 1.0) {
    wait = (gint64) ((1.0 - a->tokens) * LOGIN_ADDR_REFILL_MS) + 1;
    why = "too many failed logins from this address";
  } else if (a->in_flight >= LOGIN_ADDR_IN_FLIGHT) {
    wait = 1000;
    why = "too many logins from this address at once";
  }
  if (why) {
    *retry_after_ms = wait;
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_RATE_LIMITED, "%s: try again in %" G_GINT64_FORMAT " ms", why, wait);
    count (db, "login.refused", "", address, "rate_limited");   /* per address: a spray of names is one tally */
    return FALSE;
  }
  if (!p) {
    make_room (pairs, TRUE);
    p = g_new0 (Pair, 1);
    g_hash_table_insert (pairs, g_steal_pointer (&key), p);
  }
  p->in_flight = TRUE;
  p->last_seen = now;
  a->in_flight++;
  a->tokens -= 1.0;   /* counted now; a success gives it back */
  return TRUE;
}

static void
release (const gchar *username, const gchar *address, gboolean refund, Pair **pair_out)
{
  address = address && *address ? address : "unknown";
  g_autofree gchar *key = g_strdup_printf ("%s\n%s", address, username);
  Pair *p = g_hash_table_lookup (pairs, key);
  Address *a = g_hash_table_lookup (addresses, address);
  if (p)
    p->in_flight = FALSE;
  if (a) {
    a->in_flight = MAX (a->in_flight - 1, 0);
    if (refund)
      a->tokens = MIN ((gdouble) LOGIN_ADDR_BURST, a->tokens + 1.0);
  }
  *pair_out = p;
}

void
login_guard_end (sqlite3 *db, const gchar *username, const gchar *address, gboolean ok, const gchar *reason)
{
  if (!pairs)
    return;
  Pair *p = NULL;
  release (username, address, ok, &p);
  gint64 now = db_now_ms ();
  if (!p)
    return;
  p->last_seen = now;
  if (ok) {
    p->failures = 0;
    p->next_allowed = 0;
    return;
  }
  p->failures++;
  p->next_allowed = now + MIN ((gint64) LOGIN_PAIR_BASE_MS << MIN (p->failures - 1, 16), LOGIN_PAIR_MAX_MS);
  count (db, "login.failed", username, address && *address ? address : "unknown", reason);
}

void
login_guard_cancel (const gchar *username, const gchar *address)
{
  Pair *p = NULL;
  if (pairs)
    release (username, address, TRUE, &p);
}

void
login_guard_flush (sqlite3 *db)
{
  if (!tallies)
    return;
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, tallies);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    tally_write (db, value);
  g_hash_table_remove_all (tallies);
}

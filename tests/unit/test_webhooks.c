/* test_webhooks.c — the webhook outbox on a real SQLite file (collect from the audit log once
 * per row, heads of each case only, failures holding a case back, dead rows releasing it) and
 * the event's signature and shape. Sending is test_webhooks.py's, against a real receiver. */
#include "archive/webhooks.h"
#include "review/audit.h"
#include "store/db.h"
#include <glib/gstdio.h>
#include <unistd.h>

#define ACTIONS ",case.created,mark,"

static void
test_signature (void)
{
  /* Python: hmac.new(b"receiver-secret-0123456789", b'1764726000.{"id":"x"}', hashlib.sha256).hexdigest() */
  g_autofree gchar *sig = webhooks_signature ("receiver-secret-0123456789", "1764726000", "{\"id\":\"x\"}");
  g_assert_cmpstr (sig, ==, "sha256=173a30150e01207e00742dde7e1f2048026c22065cd588f43ffce1ef0fcb3d39");
  g_autofree gchar *other = webhooks_signature ("receiver-secret-0123456789", "1764726001", "{\"id\":\"x\"}");
  g_assert_cmpstr (sig, !=, other);
}

static void
note (sqlite3 *db, const gchar *action, const gchar *ref)
{
  g_autoptr (GError) error = NULL;
  g_assert_cmpint (audit_append (db, "owner", action, ref, "{\"item\":\"1\"}", &error), >, 0);
  g_assert_no_error (error);
}

static gint
collect (sqlite3 *db)
{
  g_autoptr (GError) error = NULL;
  gint n = store_outbox_collect (db, "permits", ACTIONS, db_now_ms (), &error);
  g_assert_no_error (error);
  return n;
}

static void
test_outbox (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("kanyan-outbox-XXXXXX", &error);
  g_autofree gchar *path = g_build_filename (dir, "kanyan.db", NULL);
  sqlite3 *db = db_open (path, &error);
  g_assert_no_error (error);
  note (db, "case.created", "OLD-1");
  g_assert_cmpint (collect (db), ==, 0);   /* a new endpoint starts at the tip: no history */
  note (db, "case.created", "A");
  note (db, "invite.issued", "A");          /* not an event kind */
  note (db, "mark", "A");
  note (db, "case.created", "B");
  g_assert_cmpint (collect (db), ==, 3);
  g_assert_cmpint (collect (db), ==, 0);   /* each audit row once */
  g_autoptr (GPtrArray) due = store_outbox_due (db, "permits", db_now_ms (), 10);
  g_assert_cmpuint (due->len, ==, 2);       /* the heads of A and B; A's mark waits */
  OutboxRow *a = g_ptr_array_index (due, 0);
  g_assert_cmpstr (a->case_ref, ==, "A");
  g_assert_cmpstr (a->action, ==, "case.created");
  /* A's head failed: A waits for its retry, B goes on */
  g_assert_true (store_outbox_failed (db, a->id, 1, db_now_ms () + 60000, FALSE, 500, "HTTP 500"));
  g_autoptr (GPtrArray) later = store_outbox_due (db, "permits", db_now_ms (), 10);
  g_assert_cmpuint (later->len, ==, 1);
  g_assert_cmpstr (((OutboxRow *) g_ptr_array_index (later, 0))->case_ref, ==, "B");
  /* dead: no longer holds A back */
  g_assert_true (store_outbox_failed (db, a->id, 2, db_now_ms (), TRUE, 500, "HTTP 500"));
  g_autoptr (GPtrArray) freed = store_outbox_due (db, "permits", db_now_ms (), 10);
  g_assert_cmpuint (freed->len, ==, 2);
  g_assert_cmpstr (((OutboxRow *) g_ptr_array_index (freed, 0))->action, ==, "mark");
  g_autoptr (GPtrArray) dead = store_outbox_list (db, "dead", 10);
  g_assert_cmpuint (dead->len, ==, 1);
  g_assert_false (store_outbox_retry (db, ((OutboxRow *) g_ptr_array_index (freed, 0))->id, db_now_ms ()));
  g_assert_true (store_outbox_retry (db, a->id, db_now_ms ()));
  g_autoptr (OutboxRow) again = store_outbox_get (db, a->id);
  g_assert_cmpstr (again->state, ==, "pending");
  g_assert_cmpint (again->attempts, ==, 0);
  /* the event: the audit row's hash is its id, its detail the data */
  g_autofree gchar *json = webhooks_event_json (again);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, json, -1, NULL));
  JsonObject *o = json_node_get_object (json_parser_get_root (p));
  g_assert_cmpstr (json_object_get_string_member (o, "id"), ==, again->hash);
  g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "case.created");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "data"), "item"), ==, "1");
  g_assert_true (g_str_has_suffix (json_object_get_string_member (o, "occurred_at"), "Z"));
  g_assert_true (store_outbox_delivered (db, a->id, 200, db_now_ms ()));
  db_close (db);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  for (const gchar *name; d && (name = g_dir_read_name (d));) {
    g_autofree gchar *file = g_build_filename (dir, name, NULL);
    g_unlink (file);
  }
  g_rmdir (dir);
}

static gboolean
load (KanyanConfig *cfg, const gchar *text, GError **error)
{
  gchar *path = NULL;
  gint fd = g_file_open_tmp ("kanyan-XXXXXX.conf", &path, NULL);
  close (fd);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  gboolean ok = config_load_file (cfg, path, error);
  g_unlink (path);
  g_free (path);
  return ok;
}

/* [webhooks] and [webhook:NAME] settings: read, and refused with the key named */
static void
test_settings (void)
{
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_assert_null (cfg->webhook_names);
  g_assert_cmpint (cfg->webhook_max_attempts, ==, 12);
  g_autoptr (GError) error = NULL;
  g_assert_true (load (cfg, "[webhooks]\nendpoints=permits;ops\nretry_base_ms=100\nretry_cap_ms=400\nmax_attempts=3\n"
                       "[webhook:permits]\nurl=https://p.example/hook\nsecret=0123456789abcdef\n"
                       "[webhook:ops]\nurl=http://10.0.0.1:8080/\nsecret=fedcba9876543210\n", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (cfg->webhook_names), ==, 2);
  g_assert_cmpstr (cfg->webhook_urls[1], ==, "http://10.0.0.1:8080/");
  g_assert_cmpstr (cfg->webhook_secrets[0], ==, "0123456789abcdef");
  g_assert_cmpint (cfg->webhook_retry_cap_ms, ==, 400);
  const gchar *bad[] = { "[webhooks]\nendpoints=x\n[webhook:x]\nurl=ftp://x/\nsecret=0123456789abcdef\n",
                         "[webhooks]\nendpoints=x\n[webhook:x]\nurl=http://x/\nsecret=short\n",
                         "[webhooks]\nretry_base_ms=500\nretry_cap_ms=100\n",
                         "[webhooks]\nmax_attempts=0\n" };
  const gchar *named[] = { "url", "secret", "retry_cap_ms", "max_attempts" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (KanyanConfig) other = config_new_defaults ();
    g_autoptr (GError) err = NULL;
    g_assert_false (load (other, bad[i], &err));
    g_assert_nonnull (strstr (err->message, named[i]));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/webhooks/signature", test_signature);
  g_test_add_func ("/webhooks/outbox", test_outbox);
  g_test_add_func ("/webhooks/settings", test_settings);
  return g_test_run ();
}

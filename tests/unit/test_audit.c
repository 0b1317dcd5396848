/* test_audit.c — the hash chain: deterministic row hashes, verification, and tampering named. */
#include "review/audit.h"
#include "store/db.h"

static void
test_row_hash (void)
{
  g_autofree gchar *a = audit_row_hash (1, 1000, "cli", "case.created", "C", "{}", "00");
  g_autofree gchar *b = audit_row_hash (1, 1000, "cli", "case.created", "C", "{}", "00");
  g_autofree gchar *c = audit_row_hash (1, 1000, "cli", "case.created", "C", "{ }", "00");
  /* length prefixes: moving a character between fields changes the hash */
  g_autofree gchar *d = audit_row_hash (1, 1000, "clic", "ase.created", "C", "{}", "00");
  g_assert_cmpuint (strlen (a), ==, 64);
  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (a, !=, c);
  g_assert_cmpstr (a, !=, d);
}

static void
test_chain (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("kanyan-audit-XXXXXX", NULL);
  g_autofree gchar *path = g_build_filename (dir, "kanyan.db", NULL);
  sqlite3 *db = db_open (path, NULL);
  g_assert_nonnull (db);
  for (gint i = 0; i < 5; i++)
    g_assert_cmpint (audit_append (db, "t", "x.happened", i % 2 ? "A" : "B", "{\"n\":1}", NULL), ==, i + 1);
  gint64 bad = -1, checked = 0;
  g_assert_true (audit_verify (db, NULL, &bad, &checked, NULL));
  g_assert_cmpint (checked, ==, 5);
  g_assert_true (audit_verify (db, "A", &bad, &checked, NULL));
  g_assert_cmpint (checked, ==, 2);
  /* behind the trigger's back */
  g_assert_false (db_exec (db, "UPDATE audit_log SET detail = '{}' WHERE id = 4", NULL));
  g_assert_true (db_exec (db, "DROP TRIGGER audit_log_no_update", NULL));
  g_assert_true (db_exec (db, "UPDATE audit_log SET detail = '{}' WHERE id = 4", NULL));
  g_assert_false (audit_verify (db, NULL, &bad, &checked, NULL));
  g_assert_cmpint (bad, ==, 4);
  g_assert_true (audit_verify (db, "B", &bad, &checked, NULL));   /* row 4 is case A */
  db_close (db);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/audit/row-hash", test_row_hash);
  g_test_add_func ("/audit/chain", test_chain);
  return g_test_run ();
}

/* test_journal.c — journal_field_of(): the journal field a log message's lead names. */
#include "app/journal.h"

static void
check (const gchar *message, const gchar *key, const gchar *value)
{
  const gchar *got_key = NULL;
  g_autofree gchar *got = NULL;
  gboolean found = journal_field_of (message, &got_key, &got);
  g_assert_cmpint (found, ==, key != NULL);
  g_assert_cmpstr (got_key, ==, key);
  g_assert_cmpstr (got, ==, value);
}

static void
test_leads (void)
{
  check ("case F-2027-001: live inspection closed", "KANYAN_CASE_REF", "F-2027-001");
  check ("peer case-X.whip-3: webrtcbin refused TURN server turn:a", "KANYAN_PEER", "case-X.whip-3");
  check ("case of a missing file: nothing", NULL, NULL);
  check ("case : empty", NULL, NULL);
  check ("case F-1 without a colon", NULL, NULL);
  check ("stopping: closing recordings", NULL, NULL);
  check ("", NULL, NULL);
  check (NULL, NULL, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/journal/leads", test_leads);
  return g_test_run ();
}

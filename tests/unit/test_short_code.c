/* test_short_code.c — invite short codes: drawn from Crockford's base32 without I L O U (every
 * character of it drawn, collisions rare), read case-insensitively with hyphens ignored and O
 * as 0, I and L as 1, anything else refused; the sealed token opens with its own code only. */
#include "review/short_code.h"
#include <sodium.h>

static void
test_short_codes (void)
{
  g_assert_cmpuint (strlen (short_code_alphabet), ==, 32);
  for (const gchar *p = "ILOU"; *p; p++)
    g_assert_null (strchr (short_code_alphabet, *p));
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint per_char[32] = { 0 };
  for (guint i = 0; i < 2000; i++) {
    gchar code[SHORT_CODE_LEN + 1], back[SHORT_CODE_LEN + 1];
    short_code_new (code);
    g_assert_cmpuint (strlen (code), ==, SHORT_CODE_LEN);
    for (guint j = 0; j < SHORT_CODE_LEN; j++) {
      const gchar *at_char = strchr (short_code_alphabet, code[j]);
      g_assert_nonnull (at_char);
      per_char[at_char - short_code_alphabet]++;
    }
    g_assert_true (short_code_parse (code, back));
    g_assert_cmpstr (back, ==, code);
    g_autofree gchar *lower = g_ascii_strdown (code, -1);
    g_assert_true (short_code_parse (lower, back));
    g_assert_cmpstr (back, ==, code);
    g_hash_table_add (seen, g_strdup (code));
  }
  g_assert_cmpuint (g_hash_table_size (seen), >, 1990);   /* 2^30 codes: collisions are rare */
  for (guint c = 0; c < 32; c++)
    g_assert_cmpuint (per_char[c], >, 0);                 /* every character is drawn */
  g_hash_table_unref (seen);
  gchar out[SHORT_CODE_LEN + 1];
  g_assert_true (short_code_parse ("7k3-qxz", out));
  g_assert_cmpstr (out, ==, "7K3QXZ");
  g_assert_true (short_code_parse ("o1lI9z", out));       /* Crockford: O is 0, I and L are 1 */
  g_assert_cmpstr (out, ==, "01119Z");
  const gchar *bad[] = { "", "7K3QX", "7K3QXZA", "7K3QXU", "7K3/XZ", "7K3QX\xc3\xa9", "7K3QXZ\n", NULL };
  for (guint i = 0; bad[i]; i++)
    g_assert_false (short_code_parse (bad[i], out));
  /* the sealed token opens with its code only */
  g_autofree gchar *sealed = short_code_seal ("7K3QXZ", "the-invite-token");
  g_autofree gchar *opened = short_code_open ("7K3QXZ", sealed);
  g_assert_cmpstr (opened, ==, "the-invite-token");
  g_autofree gchar *wrong = short_code_open ("7K3QXY", sealed);
  g_assert_null (wrong);
  g_autofree gchar *h1 = short_code_hash ("7K3QXZ"), *h2 = short_code_hash ("7K3QXY");
  g_assert_cmpstr (h1, !=, h2);
  g_assert_null (strstr (sealed, "the-invite-token"));
}

int
main (int argc, char **argv)
{
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/short-code/codes", test_short_codes);
  return g_test_run ();
}

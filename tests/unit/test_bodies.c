/* test_bodies.c — bodies_parse_object(): a REST body whose strings hold U+0000 is refused with
 * bad_field naming the member, wherever the string is; look-alikes are kept as text. */
#include "web/bodies.h"
#include "core/errors.h"

static JsonObject *
parse (JsonParser *parser, const gchar *text, GError **error)
{
  return bodies_parse_object (parser, text, strlen (text), error);
}

static void
test_nul_refused (void)
{
  static const struct { const gchar *body, *member; } refused[] = {
    { "{\"username\":\"r1\\u0000X\",\"password\":\"pw\"}", "'username'" },   /* signed in as r1, once */
    { "{\"username\":\"r1\",\"password\":\"pw\\u0000\"}", "'password'" },
    { "{\"kind\":\"reject\",\"reason\":\"fine\\u0000 not fine\"}", "'reason'" },
    { "{\"owner\":\"a\",\"co_reviewers\":[\"b\",\"c\\u0000d\"]}", "'co_reviewers'" },
    { "{\"key\":\"k\",\"items\":[{\"title_en\":\"x\"},{\"title_zh\":\"\\u0000\"}],\"title_en\":\"t\"}", "'title_zh'" },
    { "{\"site\":{\"lat\":1},\"site_address\":\"\\u0000\"}", "'site_address'" },
    { "{\"ref\":\"A\",\"x\":1 /* \" */, \"type\":\"r1\\u0000X\"}", "'type'" },   /* a quote in a comment */
    { "{\"k\\u0000\":\"v\"}", "member name" },
    { "{\"a\\\\b\":\"\\u0000\"}", "a string" },   /* an escaped name is not quoted back */
  };
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++) {
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_autoptr (GError) error = NULL;
    JsonObject *obj = parse (parser, refused[i].body, &error);
    if (obj || !g_error_matches (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD) ||
        !strstr (error->message, refused[i].member) || !strstr (error->message, "U+0000"))
      g_error ("%s: %s", refused[i].body, error ? error->message : "accepted");
  }
}

static void
test_look_alikes_kept (void)
{
  static const struct { const gchar *body, *value; } kept[] = {
    { "{\"username\":\"a\\\\u0000b\",\"password\":\"pw\"}", "a\\u0000b" },   /* escaped backslash, then text */
    { "{\"username\":\"a\\\\\\\\u0000b\",\"password\":\"pw\"}", "a\\\\u0000b" },
    { "{\"username\":\"a\\u0001b\",\"password\":\"pw\"}", "a\001b" },
    { "{\"username\":\"a\\u00000\",\"password\":\"pw\"}", NULL },            /* NUL, then "0": refused */
    { "{\"username\":'a\\u0000b',\"password\":\"pw\"}", "a\\u0000b" },        /* no escapes in '…' */
    { "{\"username\":\"李\\u4e00\",\"password\":\"pw\"}", "李一" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (kept); i++) {
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_autoptr (GError) error = NULL;
    JsonObject *obj = parse (parser, kept[i].body, &error);
    if (!kept[i].value) {
      g_assert_null (obj);
      g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD);
      continue;
    }
    g_assert_no_error (error);
    LoginBody login;
    g_assert_true (bodies_parse_login (obj, &login, &error));
    g_assert_cmpstr (login.username, ==, kept[i].value);
  }
  /* a raw NUL byte is refused before (not UTF-8 text as far as g_utf8_validate goes) */
  const gchar raw[] = "{\"username\":\"r1\0X\",\"password\":\"pw\"}";
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_assert_null (bodies_parse_object (parser, raw, sizeof raw - 1, &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_JSON);
}

/* deeper than the names are tracked still refuses, with the name left out */
static void
test_deep (void)
{
  GString *s = g_string_new ("{\"a\":");
  for (gint i = 0; i < 100; i++)
    g_string_append (s, "[");
  g_string_append (s, "\"\\u0000\"");
  for (gint i = 0; i < 100; i++)
    g_string_append (s, "]");
  g_string_append (s, "}");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_assert_null (parse (parser, s->str, &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD);
  g_string_free (s, TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bodies/nul/refused", test_nul_refused);
  g_test_add_func ("/bodies/nul/look-alikes", test_look_alikes_kept);
  g_test_add_func ("/bodies/nul/deep", test_deep);
  return g_test_run ();
}

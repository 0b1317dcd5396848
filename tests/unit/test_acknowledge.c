/* test_acknowledge.c — the pure parts of the applicant's acknowledgement (review/acknowledge.c):
 * strokes validated strictly (counts, ranges, shapes of the JSON), the SVG the server builds from
 * them (only numbers from the strokes, a typed name escaped), and the name's rules. */
#include "review/acknowledge.h"
#include "core/errors.h"
#include <string.h>

static JsonNode *
parse (const gchar *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
  return json_node_copy (json_parser_get_root (p));
}

static gboolean
valid (const gchar *text)
{
  g_autoptr (JsonNode) n = parse (text);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) s = ack_strokes_parse (n, &error);
  if (!s)
    g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD);
  return s != NULL;
}

static void
test_strokes (void)
{
  g_assert_true (valid ("[[[0, 0], [1, 1]], [[0.5, 0.25]]]"));
  g_assert_false (valid ("[]"));
  g_assert_false (valid ("{}"));
  g_assert_false (valid ("[[]]"));
  g_assert_false (valid ("[[[0, 1.0001]]]"));
  g_assert_false (valid ("[[[-0.1, 0]]]"));
  g_assert_false (valid ("[[[0, 0, 0]]]"));
  g_assert_false (valid ("[[[\"0\", 0]]]"));
  g_assert_false (valid ("[[[true, 0]]]"));
  g_assert_false (valid ("[[[null, 0]]]"));
  g_assert_false (valid ("[[0, 0]]"));
  /* the limits: ACK_MAX_STROKES strokes, ACK_MAX_POINTS in one, ACK_MAX_TOTAL in all */
  GString *many = g_string_new ("[");
  for (gint i = 0; i < ACK_MAX_STROKES + 1; i++)
    g_string_append (many, i ? ",[[0.1,0.1]]" : "[[0.1,0.1]]");
  g_string_append (many, "]");
  g_assert_false (valid (many->str));
  g_string_free (many, TRUE);
  GString *one = g_string_new ("[[");
  for (gint i = 0; i < ACK_MAX_POINTS + 1; i++)
    g_string_append (one, i ? ",[0.1,0.1]" : "[0.1,0.1]");
  g_string_append (one, "]]");
  g_assert_false (valid (one->str));
  g_string_free (one, TRUE);
  GString *total = g_string_new ("[");   /* 4 strokes of 900: each allowed, too many in all */
  for (gint s = 0; s < 4; s++) {
    g_string_append (total, s ? ",[" : "[");
    for (gint i = 0; i < 900; i++)
      g_string_append (total, i ? ",[0.2,0.2]" : "[0.2,0.2]");
    g_string_append (total, "]");
  }
  g_string_append (total, "]");
  g_assert_false (valid (total->str));
  g_string_free (total, TRUE);
}

static void
test_svg (void)
{
  g_autoptr (JsonNode) n = parse ("[[[0, 0], [0.5, 0.25], [1, 1]], [[0.1, 0.9]]]");
  g_autoptr (GPtrArray) s = ack_strokes_parse (n, NULL);
  g_autofree gchar *svg = ack_svg (s, "<Zhou>");
  g_assert_true (g_str_has_prefix (svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 500 200\""));
  g_assert_nonnull (strstr (svg, "<path d=\"M0.0 0.0L250.0 50.0L500.0 200.0\"/>"));
  g_assert_nonnull (strstr (svg, "<path d=\"M50.0 180.0l0.1 0\"/>"));   /* a dot */
  g_assert_null (strstr (svg, "Zhou"));   /* drawn: the name is not in the picture */
  g_autofree gchar *json = ack_strokes_to_json (s);   /* what is stored parses back to the same strokes */
  g_autoptr (JsonNode) again = parse (json);
  g_autoptr (GPtrArray) s2 = ack_strokes_parse (again, NULL);
  g_autofree gchar *svg2 = ack_svg (s2, NULL);
  g_assert_cmpstr (svg2, ==, svg);
  /* typed: the name as text, escaped */
  g_autoptr (GPtrArray) none = g_ptr_array_new ();
  g_autofree gchar *typed = ack_svg (none, "<Zhou & \"Min\">");
  g_assert_nonnull (strstr (typed, ">&lt;Zhou &amp; &quot;Min&quot;&gt;</text>"));
  g_assert_null (strstr (typed, "<path"));
}

static void
test_name (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *a = ack_name_valid ("  周敏 ", &error);
  g_assert_cmpstr (a, ==, "周敏");
  g_autofree gchar *long_name = g_strnfill (ACK_NAME_MAX + 1, 'x');
  const gchar *bad[] = { "", "   ", "a\tb", "a\nb", long_name, NULL };
  for (guint i = 0; bad[i]; i++) {
    g_clear_error (&error);
    g_assert_null (ack_name_valid (bad[i], &error));
    g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD);
  }
  g_autofree gchar *max = g_strnfill (ACK_NAME_MAX, 'x');
  g_autofree gchar *ok = ack_name_valid (max, NULL);
  g_assert_nonnull (ok);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/acknowledge/strokes", test_strokes);
  g_test_add_func ("/acknowledge/svg", test_svg);
  g_test_add_func ("/acknowledge/name", test_name);
  return g_test_run ();
}

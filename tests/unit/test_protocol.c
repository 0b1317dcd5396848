/* test_protocol.c — protocol_parse(): every message shape, and each rejection's stable code. */
#include "protocol.h"
#include "errors.h"
#include <json-glib/json-glib.h>

static ProtocolMessage *
parse (const gchar *text, gint expect_code, gchar **id_out)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *id = NULL;
  ProtocolMessage *msg = protocol_parse (text, strlen (text), &id, &error);
  if (expect_code < 0) {
    g_assert_no_error (error);
    g_assert_nonnull (msg);
  } else {
    g_assert_null (msg);
    g_assert_error (error, KANYAN_ERROR, expect_code);
  }
  if (id_out)
    *id_out = g_steal_pointer (&id);
  return msg;
}

static void
test_valid_messages (void)
{
  g_autoptr (ProtocolMessage) a = parse ("{\"type\":\"join\",\"case\":\"C-1\",\"role\":\"applicant\",\"token\":\"t0k\"}", -1, NULL);
  g_assert_cmpint (a->type, ==, MSG_JOIN);
  g_assert_cmpstr (a->case_ref, ==, "C-1");
  g_assert_cmpstr (a->token, ==, "t0k");
  g_autoptr (ProtocolMessage) r = parse ("{\"type\":\"join\",\"case\":\"C-1\",\"role\":\"reviewer\",\"name\":\"李\"}", -1, NULL);
  g_assert_cmpstr (r->role, ==, "reviewer");
  g_assert_cmpstr (r->name, ==, "李");
  g_assert_null (r->token);
  g_autoptr (ProtocolMessage) o = parse ("{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}", -1, NULL);
  g_assert_cmpstr (o->sdp, ==, "v=0\r\n");
  g_autoptr (ProtocolMessage) an = parse ("{\"type\":\"answer\",\"pc\":\"p1.1\",\"sdp\":\"v=0\"}", -1, NULL);
  g_assert_cmpstr (an->pc, ==, "p1.1");
  g_autoptr (ProtocolMessage) ice = parse ("{\"type\":\"ice\",\"candidate\":\"candidate:1\",\"sdpMLineIndex\":3}", -1, NULL);
  g_assert_cmpuint (ice->mline, ==, 3);
  g_autoptr (ProtocolMessage) end = parse ("{\"type\":\"ice\",\"candidate\":\"\",\"sdpMLineIndex\":0}", -1, NULL);
  g_assert_cmpstr (end->candidate, ==, "");
  g_autoptr (ProtocolMessage) l = parse ("{\"type\":\"leave\"}", -1, NULL);
  g_assert_cmpint (l->type, ==, MSG_LEAVE);
  g_autoptr (ProtocolMessage) p = parse ("{\"type\":\"ping\"}", -1, NULL);
  g_assert_cmpint (p->type, ==, MSG_PING);
}

static void
test_rejections (void)
{
  parse ("not json", KANYAN_ERROR_BAD_JSON, NULL);
  parse ("[1,2]", KANYAN_ERROR_BAD_JSON, NULL);
  parse ("42", KANYAN_ERROR_BAD_JSON, NULL);
  parse ("{}", KANYAN_ERROR_MISSING_FIELD, NULL);
  parse ("{\"type\":7}", KANYAN_ERROR_BAD_FIELD, NULL);
  parse ("{\"type\":\"dance\"}", KANYAN_ERROR_UNKNOWN_TYPE, NULL);
  parse ("{\"type\":\"join\",\"case\":\"C\",\"role\":\"applicant\"}", KANYAN_ERROR_MISSING_FIELD, NULL);
  parse ("{\"type\":\"join\",\"case\":\"C\",\"role\":\"judge\"}", KANYAN_ERROR_BAD_FIELD, NULL);
  parse ("{\"type\":\"join\",\"role\":\"reviewer\"}", KANYAN_ERROR_MISSING_FIELD, NULL);
  parse ("{\"type\":\"answer\",\"sdp\":\"v=0\"}", KANYAN_ERROR_MISSING_FIELD, NULL);
  parse ("{\"type\":\"ice\",\"candidate\":\"c\",\"sdpMLineIndex\":\"0\"}", KANYAN_ERROR_BAD_FIELD, NULL);
  parse ("{\"type\":\"ice\",\"candidate\":\"c\",\"sdpMLineIndex\":17}", KANYAN_ERROR_BAD_FIELD, NULL);
  parse ("{\"type\":\"ice\",\"candidate\":\"c\",\"sdpMLineIndex\":-1}", KANYAN_ERROR_BAD_FIELD, NULL);
  parse ("{\"type\":\"ice\",\"candidate\":\"c\"}", KANYAN_ERROR_BAD_FIELD, NULL);
  g_autofree gchar *long_case = g_strdup_printf ("{\"type\":\"join\",\"case\":\"%0100d\",\"role\":\"reviewer\"}", 0);
  parse (long_case, KANYAN_ERROR_BAD_FIELD, NULL);
}

static void
test_invalid_utf8_and_size (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *id = NULL;
  const gchar bad[] = "{\"type\":\"ping\",\"x\":\"\xff\xfe\"}";
  g_assert_null (protocol_parse (bad, sizeof bad - 1, &id, &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_JSON);
  g_clear_error (&error);
  gsize big = 70000;
  g_autofree gchar *huge = g_malloc (big);
  memset (huge, ' ', big);
  g_assert_null (protocol_parse (huge, big, &id, &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_TOO_LARGE);
}

static void
test_id_echo (void)
{
  g_autofree gchar *sid = NULL, *nid = NULL, *oid = NULL;
  g_autoptr (ProtocolMessage) a = parse ("{\"type\":\"ping\",\"id\":\"abc\"}", -1, &sid);
  g_assert_cmpstr (sid, ==, "\"abc\"");
  parse ("{\"type\":\"nope\",\"id\":12}", KANYAN_ERROR_UNKNOWN_TYPE, &nid);
  g_assert_cmpstr (nid, ==, "12");
  g_autoptr (ProtocolMessage) b = parse ("{\"type\":\"ping\",\"id\":{\"x\":1}}", -1, &oid);
  g_assert_null (oid);
}

static void
test_error_json (void)
{
  g_autofree gchar *json = protocol_error_json (KANYAN_ERROR_BAD_SDP, "no \"video\"", "\"r7\"");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "error");
  g_assert_cmpstr (json_object_get_string_member (o, "code"), ==, "bad_sdp");
  g_assert_cmpstr (json_object_get_string_member (o, "message"), ==, "no \"video\"");
  g_assert_cmpstr (json_object_get_string_member (o, "id"), ==, "r7");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/protocol/valid", test_valid_messages);
  g_test_add_func ("/protocol/rejections", test_rejections);
  g_test_add_func ("/protocol/utf8-and-size", test_invalid_utf8_and_size);
  g_test_add_func ("/protocol/id-echo", test_id_echo);
  g_test_add_func ("/protocol/error-json", test_error_json);
  return g_test_run ();
}

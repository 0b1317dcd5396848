/* test_protocol.c — protocol_parse(): every message shape, each rejection's stable code (a
 * string holding U+0000 among them), id echo, error JSON. */
#include "web/protocol.h"
#include "core/errors.h"
#include "web/http.h"
#include <json-glib/json-glib.h>

/* Parses text (its exact bytes, not NUL-terminated on the heap) and checks the outcome:
 * expect_code < 0 means it must succeed. Returns the message (or NULL) and the echoed id. */
static ProtocolMessage *
parse_bytes (const gchar *bytes, gsize len, gint expect_code, gchar **id_out)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *exact = g_malloc (MAX (len, 1));   /* exact-size copy: no terminator to lean on */
  memcpy (exact, bytes, len);
  gchar *id = (gchar *) 0x1;                            /* must be reset by protocol_parse */
  ProtocolMessage *msg = protocol_parse (exact, len, &id, &error);
  if (expect_code < 0) {
    g_assert_no_error (error);
    g_assert_nonnull (msg);
    g_assert_cmpstr (msg->id, ==, id);
  } else {
    g_assert_null (msg);
    g_assert_error (error, KANYAN_ERROR, expect_code);
    g_assert_nonnull (error->message);
  }
  if (id_out)
    *id_out = id;
  else
    g_free (id);
  return msg;
}

static ProtocolMessage *
parse (const gchar *text, gint expect_code)
{
  return parse_bytes (text, strlen (text), expect_code, NULL);
}

static void
reject (const gchar *text, gint expect_code)
{
  g_assert_cmpint (expect_code, >=, 0);
  g_assert_null (parse (text, expect_code));
}

static void
test_join (void)
{
  g_autoptr (ProtocolMessage) a = parse ("{\"type\":\"join\",\"case\":\"C-1\",\"role\":\"applicant\",\"token\":\"t0k\"}", -1);
  g_assert_cmpint (a->type, ==, MSG_JOIN);
  g_assert_cmpstr (a->case_ref, ==, "C-1");
  g_assert_cmpstr (a->role, ==, "applicant");
  g_assert_cmpstr (a->token, ==, "t0k");
  g_assert_null (a->name);
  g_assert_null (a->id);
  g_autoptr (ProtocolMessage) r = parse ("{\"type\":\"join\",\"case\":\"C-2\",\"role\":\"reviewer\",\"name\":\"李 Wei\"}", -1);
  g_assert_cmpint (r->type, ==, MSG_JOIN);
  g_assert_cmpstr (r->case_ref, ==, "C-2");
  g_assert_cmpstr (r->role, ==, "reviewer");
  g_assert_cmpstr (r->name, ==, "李 Wei");
  g_assert_null (r->token);
  g_autoptr (ProtocolMessage) anon = parse ("{\"type\":\"join\",\"case\":\"C-3\",\"role\":\"reviewer\"}", -1);
  g_assert_cmpstr (anon->role, ==, "reviewer");
  g_assert_null (anon->name);
  g_autoptr (ProtocolMessage) nul = parse ("{\"type\":\"join\",\"case\":\"C\",\"role\":\"reviewer\",\"name\":null}", -1);
  g_assert_null (nul->name);   /* an optional field given as null is absent */
  /* a reviewer may carry a token; unknown members are ignored */
  g_autoptr (ProtocolMessage) extra = parse ("{\"role\":\"reviewer\",\"x\":[1],\"case\":\"C\",\"type\":\"join\",\"token\":\"t\"}", -1);
  g_assert_cmpstr (extra->token, ==, "t");
}

static void
test_offer_answer (void)
{
  g_autoptr (ProtocolMessage) o = parse ("{\"type\":\"offer\",\"sdp\":\"v=0\\r\\nm=video 9\\r\\n\"}", -1);
  g_assert_cmpint (o->type, ==, MSG_OFFER);
  g_assert_cmpstr (o->sdp, ==, "v=0\r\nm=video 9\r\n");
  g_assert_null (o->pc);
  g_autoptr (ProtocolMessage) an = parse ("{\"type\":\"answer\",\"pc\":\"p1.1\",\"sdp\":\"v=0\"}", -1);
  g_assert_cmpint (an->type, ==, MSG_ANSWER);
  g_assert_cmpstr (an->pc, ==, "p1.1");
  g_assert_cmpstr (an->sdp, ==, "v=0");
}

static void
test_ice (void)
{
  g_autoptr (ProtocolMessage) ice = parse ("{\"type\":\"ice\",\"candidate\":\"candidate:1 1 UDP 2 10.0.0.1 9 typ host\","
                                           "\"sdpMLineIndex\":3,\"pc\":\"p2.1\"}", -1);
  g_assert_cmpint (ice->type, ==, MSG_ICE);
  g_assert_cmpstr (ice->candidate, ==, "candidate:1 1 UDP 2 10.0.0.1 9 typ host");
  g_assert_cmpuint (ice->mline, ==, 3);
  g_assert_cmpstr (ice->pc, ==, "p2.1");
  g_autoptr (ProtocolMessage) lo = parse ("{\"type\":\"ice\",\"candidate\":\"c\",\"sdpMLineIndex\":0}", -1);
  g_assert_cmpuint (lo->mline, ==, 0);
  g_assert_null (lo->pc);   /* pc is optional (the applicant has one connection) */
  g_autoptr (ProtocolMessage) hi = parse ("{\"type\":\"ice\",\"candidate\":\"c\",\"sdpMLineIndex\":16}", -1);
  g_assert_cmpuint (hi->mline, ==, 16);
  g_autoptr (ProtocolMessage) end = parse ("{\"type\":\"ice\",\"candidate\":\"\",\"sdpMLineIndex\":1}", -1);
  g_assert_cmpstr (end->candidate, ==, "");   /* end of candidates: empty, not NULL */
  g_assert_cmpuint (end->mline, ==, 1);
}

static void
test_leave_ping (void)
{
  g_autoptr (ProtocolMessage) l = parse ("{\"type\":\"leave\"}", -1);
  g_assert_cmpint (l->type, ==, MSG_LEAVE);
  g_autoptr (ProtocolMessage) p = parse (" {\"type\" : \"ping\"}\n", -1);
  g_assert_cmpint (p->type, ==, MSG_PING);
  g_assert_null (p->case_ref);
}

static void
test_link_mode (void)
{
  g_autoptr (ProtocolMessage) a = parse ("{\"type\":\"link_mode\",\"mode\":\"audio_first\"}", -1);
  g_assert_cmpint (a->type, ==, MSG_LINK_MODE);
  g_assert_cmpstr (a->mode, ==, "audio_first");
  g_autoptr (ProtocolMessage) f = parse ("{\"type\":\"link_mode\",\"mode\":\"full\"}", -1);
  g_assert_cmpstr (f->mode, ==, "full");
  reject ("{\"type\":\"link_mode\"}", KANYAN_ERROR_MISSING_FIELD);
  reject ("{\"type\":\"link_mode\",\"mode\":\"video_only\"}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":\"link_mode\",\"mode\":1}", KANYAN_ERROR_BAD_FIELD);
}

/* the camera messages keep their whole object for the room (room_camera.c checks the members,
 * which depend on the action); the id is echoed as for any message */
static void
test_camera (void)
{
  static const struct { const gchar *text; MessageType type; } ok[] = {
    { "{\"type\":\"camera\",\"action\":\"point\",\"x\":0.25,\"y\":1,\"id\":\"k1\"}", MSG_CAMERA },
    { "{\"type\":\"camera_result\",\"request\":\"c1\",\"ok\":false,\"reason\":\"unsupported\"}", MSG_CAMERA_RESULT },
    { "{\"type\":\"camera_caps\",\"facing\":true,\"torch\":false,\"focus\":true,\"zoom\":null}", MSG_CAMERA_CAPS },
  };
  for (guint i = 0; i < G_N_ELEMENTS (ok); i++) {
    g_autoptr (ProtocolMessage) m = parse (ok[i].text, -1);
    g_assert_cmpint (m->type, ==, ok[i].type);
    g_assert_nonnull (m->body);
    g_assert_true (JSON_NODE_HOLDS_OBJECT (m->body));
  }
  g_autoptr (ProtocolMessage) point = parse (ok[0].text, -1);
  JsonObject *obj = json_node_get_object (point->body);
  g_assert_cmpfloat (json_object_get_double_member (obj, "x"), ==, 0.25);
  g_assert_cmpstr (point->id, ==, "\"k1\"");
  reject ("{\"type\":\"camera\",\"action\":\"point\",\"x\":\"\\u0000\"}", KANYAN_ERROR_BAD_FIELD);
}

/* the waiting room: an applicant's join may ask to wait; a reviewer's admit names its case */
static void
test_wait_admit (void)
{
  g_autoptr (ProtocolMessage) w = parse ("{\"type\":\"join\",\"case\":\"C\",\"role\":\"applicant\",\"token\":\"t\",\"wait\":true}", -1);
  g_assert_true (w->wait);
  g_autoptr (ProtocolMessage) n = parse ("{\"type\":\"join\",\"case\":\"C\",\"role\":\"applicant\",\"token\":\"t\"}", -1);
  g_assert_false (n->wait);
  reject ("{\"type\":\"join\",\"case\":\"C\",\"role\":\"applicant\",\"token\":\"t\",\"wait\":\"yes\"}",
          KANYAN_ERROR_BAD_FIELD);
  g_autoptr (ProtocolMessage) a = parse ("{\"type\":\"admit\",\"case\":\"C-1\"}", -1);
  g_assert_cmpint (a->type, ==, MSG_ADMIT);
  g_assert_cmpstr (a->case_ref, ==, "C-1");
  reject ("{\"type\":\"admit\"}", KANYAN_ERROR_MISSING_FIELD);
  reject ("{\"type\":\"admit\",\"case\":7}", KANYAN_ERROR_BAD_FIELD);
}

static void
test_not_json (void)
{
  reject ("not json", KANYAN_ERROR_BAD_JSON);
  reject ("{\"type\":\"ping\"", KANYAN_ERROR_BAD_JSON);
  reject ("{\"type\":\"ping\"} trailing", KANYAN_ERROR_BAD_JSON);
  reject ("", KANYAN_ERROR_BAD_JSON);
  reject ("[1,2]", KANYAN_ERROR_BAD_JSON);
  reject ("[{\"type\":\"ping\"}]", KANYAN_ERROR_BAD_JSON);
  reject ("42", KANYAN_ERROR_BAD_JSON);
  reject ("\"ping\"", KANYAN_ERROR_BAD_JSON);
  reject ("null", KANYAN_ERROR_BAD_JSON);
}

static void
test_type_field (void)
{
  reject ("{}", KANYAN_ERROR_MISSING_FIELD);
  reject ("{\"type\":null}", KANYAN_ERROR_MISSING_FIELD);
  reject ("{\"typ\":\"ping\"}", KANYAN_ERROR_MISSING_FIELD);
  reject ("{\"type\":7}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":true}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":[\"ping\"]}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":{\"v\":\"ping\"}}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":\"dance\"}", KANYAN_ERROR_UNKNOWN_TYPE);
  reject ("{\"type\":\"PING\"}", KANYAN_ERROR_UNKNOWN_TYPE);
  reject ("{\"type\":\"\"}", KANYAN_ERROR_UNKNOWN_TYPE);
  reject ("{\"type\":\"error\"}", KANYAN_ERROR_UNKNOWN_TYPE);   /* server→client types are not accepted */
}

static void
test_wrong_field_types (void)
{
  reject ("{\"type\":\"join\",\"case\":5,\"role\":\"reviewer\"}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":\"join\",\"case\":\"C\",\"role\":[\"reviewer\"]}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":\"join\",\"case\":\"C\",\"role\":\"judge\"}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":\"join\",\"case\":\"C\",\"role\":\"applicant\",\"token\":123}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":\"join\",\"case\":\"C\",\"role\":\"reviewer\",\"name\":{}}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":\"offer\",\"sdp\":false}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":\"answer\",\"sdp\":\"v=0\",\"pc\":1}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":\"ice\",\"candidate\":7,\"sdpMLineIndex\":0}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":\"ice\",\"candidate\":\"c\",\"sdpMLineIndex\":0,\"pc\":[]}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":\"ice\",\"candidate\":\"c\",\"sdpMLineIndex\":\"0\"}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":\"ice\",\"candidate\":\"c\",\"sdpMLineIndex\":17}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":\"ice\",\"candidate\":\"c\",\"sdpMLineIndex\":-1}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":\"ice\",\"candidate\":\"c\",\"sdpMLineIndex\":1.5}", KANYAN_ERROR_BAD_FIELD);
  reject ("{\"type\":\"ice\",\"candidate\":\"c\",\"sdpMLineIndex\":4294967296}", KANYAN_ERROR_BAD_FIELD);
  /* a missing sdpMLineIndex is refused (today with bad_field; see the report about missing_field) */
  g_autoptr (GError) error = NULL;
  g_autofree gchar *id = NULL;
  const gchar *no_index = "{\"type\":\"ice\",\"candidate\":\"c\"}";
  g_assert_null (protocol_parse (no_index, strlen (no_index), &id, &error));
  g_assert_true (error && error->domain == KANYAN_ERROR);
}

static void
test_missing_fields (void)
{
  reject ("{\"type\":\"join\",\"case\":\"C\",\"role\":\"applicant\"}", KANYAN_ERROR_MISSING_FIELD);
  reject ("{\"type\":\"join\",\"case\":\"C\",\"role\":\"applicant\",\"token\":null}", KANYAN_ERROR_MISSING_FIELD);
  reject ("{\"type\":\"join\",\"role\":\"reviewer\"}", KANYAN_ERROR_MISSING_FIELD);
  reject ("{\"type\":\"join\",\"case\":\"C\"}", KANYAN_ERROR_MISSING_FIELD);
  reject ("{\"type\":\"offer\"}", KANYAN_ERROR_MISSING_FIELD);
  reject ("{\"type\":\"answer\",\"sdp\":\"v=0\"}", KANYAN_ERROR_MISSING_FIELD);
  reject ("{\"type\":\"answer\",\"pc\":\"p1.1\"}", KANYAN_ERROR_MISSING_FIELD);
  reject ("{\"type\":\"ice\",\"sdpMLineIndex\":0}", KANYAN_ERROR_MISSING_FIELD);
}

/* {"type":"join",…} with field `name` set to n copies of 'x': accepted at max, refused at max + 1 */
static void
check_length_limit (const gchar *prefix, const gchar *suffix, gsize max)
{
  for (gsize n = max; n <= max + 1; n++) {
    g_autofree gchar *value = g_strnfill (n, 'x');
    g_autofree gchar *text = g_strconcat (prefix, value, suffix, NULL);
    protocol_message_free (parse (text, n == max ? -1 : KANYAN_ERROR_BAD_FIELD));
  }
}

static void
test_over_long_fields (void)
{
  check_length_limit ("{\"type\":\"join\",\"role\":\"reviewer\",\"case\":\"", "\"}", 64);
  check_length_limit ("{\"type\":\"join\",\"case\":\"C\",\"role\":\"reviewer\",\"name\":\"", "\"}", 128);
  check_length_limit ("{\"type\":\"join\",\"case\":\"C\",\"role\":\"applicant\",\"token\":\"", "\"}", 256);
  check_length_limit ("{\"type\":\"answer\",\"sdp\":\"v=0\",\"pc\":\"", "\"}", 64);
  check_length_limit ("{\"type\":\"ice\",\"sdpMLineIndex\":0,\"candidate\":\"", "\"}", 1024);
  /* role is limited to 32 before its value is checked */
  g_autofree gchar *role = g_strnfill (33, 'r');
  g_autofree gchar *text = g_strdup_printf ("{\"type\":\"join\",\"case\":\"C\",\"role\":\"%s\"}", role);
  reject (text, KANYAN_ERROR_BAD_FIELD);
  g_autofree gchar *type = g_strnfill (300, 't');
  g_autofree gchar *long_type = g_strdup_printf ("{\"type\":\"%s\"}", type);
  reject (long_type, KANYAN_ERROR_BAD_FIELD);
}

static void
test_invalid_utf8 (void)
{
  const gchar *bad[] = {
    "{\"type\":\"ping\",\"x\":\"\xff\xfe\"}",               /* never valid bytes */
    "{\"type\":\"join\",\"case\":\"C\",\"role\":\"reviewer\",\"name\":\"\xc0\xaf\"}",   /* overlong '/' */
    "{\"type\":\"join\",\"case\":\"C\",\"role\":\"reviewer\",\"name\":\"\xe6\x9d\"}",   /* truncated 李 */
    "{\"type\":\"ping\",\"x\":\"\xed\xa0\x80\"}",           /* UTF-16 surrogate */
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_null (parse_bytes (bad[i], strlen (bad[i]), KANYAN_ERROR_BAD_JSON, NULL));
  const gchar with_nul[] = "{\"type\":\"ping\"}\0{}";       /* a raw NUL inside the frame */
  g_assert_null (parse_bytes (with_nul, sizeof with_nul - 1, KANYAN_ERROR_BAD_JSON, NULL));
}

/* A ping padded with spaces to exactly `len` bytes. */
static gchar *
padded_ping (gsize len)
{
  const gchar ping[] = "{\"type\":\"ping\"}";
  gchar *buf = g_malloc (len);
  memset (buf, ' ', len);
  memcpy (buf, ping, sizeof ping - 1);
  return buf;
}

static void
test_size_limit (void)
{
  g_assert_cmpint (WS_MAX_MESSAGE, ==, 65536);
  g_autofree gchar *at_limit = padded_ping (WS_MAX_MESSAGE);
  g_autoptr (ProtocolMessage) ok = parse_bytes (at_limit, WS_MAX_MESSAGE, -1, NULL);
  g_assert_cmpint (ok->type, ==, MSG_PING);
  g_autofree gchar *over = padded_ping (WS_MAX_MESSAGE + 1);
  g_assert_null (parse_bytes (over, WS_MAX_MESSAGE + 1, KANYAN_ERROR_TOO_LARGE, NULL));
  g_autofree gchar *huge = padded_ping (70000);
  g_autofree gchar *id = NULL;
  g_assert_null (parse_bytes (huge, 70000, KANYAN_ERROR_TOO_LARGE, &id));
  g_assert_null (id);
  /* the limit is on the frame, not on valid JSON: 70000 bytes of garbage are too_large too */
  g_autofree gchar *junk = g_strnfill (70000, '\xff');
  g_assert_null (parse_bytes (junk, 70000, KANYAN_ERROR_TOO_LARGE, NULL));
}

static void
test_id_echo (void)
{
  gchar *id = NULL;
  const gchar *t = "{\"type\":\"ping\",\"id\":\"abc\"}";
  g_autoptr (ProtocolMessage) s = parse_bytes (t, strlen (t), -1, &id);
  g_assert_cmpstr (id, ==, "\"abc\"");       /* re-serialised as JSON text */
  g_assert_cmpstr (s->id, ==, "\"abc\"");
  g_free (id);
  t = "{\"type\":\"leave\",\"id\":12}";
  g_autoptr (ProtocolMessage) n = parse_bytes (t, strlen (t), -1, &id);
  g_assert_cmpstr (id, ==, "12");
  g_assert_cmpint (n->type, ==, MSG_LEAVE);
  g_free (id);
  t = "{\"id\":-5,\"type\":\"ping\"}";
  g_autoptr (ProtocolMessage) neg = parse_bytes (t, strlen (t), -1, &id);
  g_assert_cmpstr (id, ==, "-5");
  g_assert_cmpint (neg->type, ==, MSG_PING);
  g_free (id);
  t = "{\"type\":\"ping\",\"id\":\"q\\\"x\"}";
  g_autoptr (ProtocolMessage) quoted = parse_bytes (t, strlen (t), -1, &id);
  g_assert_cmpstr (id, ==, "\"q\\\"x\"");
  g_assert_cmpstr (quoted->id, ==, id);
  g_free (id);
  /* ids that are not a string or an integer are ignored, and so is an over-long one */
  const gchar *ignored[] = { "{\"type\":\"ping\",\"id\":{\"x\":1}}", "{\"type\":\"ping\",\"id\":[1]}",
                             "{\"type\":\"ping\",\"id\":true}", "{\"type\":\"ping\",\"id\":null}" };
  for (guint i = 0; i < G_N_ELEMENTS (ignored); i++) {
    g_autoptr (ProtocolMessage) m = parse_bytes (ignored[i], strlen (ignored[i]), -1, &id);
    g_assert_null (id);
    g_assert_null (m->id);
  }
  g_autofree gchar *long_id = g_strnfill (257, 'i');
  g_autofree gchar *lt = g_strdup_printf ("{\"type\":\"ping\",\"id\":\"%s\"}", long_id);
  g_autoptr (ProtocolMessage) l = parse_bytes (lt, strlen (lt), -1, &id);
  g_assert_null (id);
  g_assert_null (l->id);
  /* an error after the object was read still echoes the id; unreadable JSON cannot */
  t = "{\"type\":\"nope\",\"id\":12}";
  parse_bytes (t, strlen (t), KANYAN_ERROR_UNKNOWN_TYPE, &id);
  g_assert_cmpstr (id, ==, "12");
  g_free (id);
  t = "{\"type\":\"answer\",\"id\":\"r1\",\"sdp\":\"v=0\"}";
  parse_bytes (t, strlen (t), KANYAN_ERROR_MISSING_FIELD, &id);
  g_assert_cmpstr (id, ==, "\"r1\"");
  g_free (id);
  t = "{\"type\":\"ping\",\"id\":\"r2\"";
  parse_bytes (t, strlen (t), KANYAN_ERROR_BAD_JSON, &id);
  g_assert_null (id);
}

/* json-glib reads "\u0000" into a NUL byte of a NUL-terminated string: "r1\u0000X" would
 * silently become "r1". Every such string is refused, wherever it is in the message. */
static void
test_nul_escape (void)
{
  const gchar *refused[] = {
    "{\"type\":\"join\",\"case\":\"C-1\\u0000X\",\"role\":\"reviewer\"}",
    "{\"type\":\"join\",\"case\":\"C-1\",\"role\":\"reviewer\\u0000\"}",
    "{\"type\":\"join\",\"case\":\"C-1\",\"role\":\"applicant\",\"token\":\"t0k\\u0000more\"}",
    "{\"type\":\"join\",\"case\":\"C-1\",\"role\":\"reviewer\",\"name\":\"\\u0000\"}",
    "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\\u0000a=evil\"}",
    "{\"type\":\"ice\",\"candidate\":\"candidate:1 1 udp 1 10.0.0.1 9 typ host\\u0000\",\"sdpMLineIndex\":0}",
    "{\"type\":\"ping\\u0000\"}",
    "{\"type\":\"ping\",\"id\":\"a\\u0000b\"}",               /* the id too */
    "{\"type\":\"ping\",\"extra\":[\"x\",\"\\u0000\"]}",     /* even a member nobody reads */
    "{\"type\":\"ping\",\"k\\u0000\":1}",                    /* a member name */
    "{\"type\":\"ping\",\"x\":1 /* \" */, \"y\":\"r1\\u0000X\"}",   /* a quote in a comment */
    "{\"type\":\"ping\",'x':\"\\\\\\u0000\"}",               /* an escaped backslash, then NUL */
  };
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++) {
    g_autoptr (GError) error = NULL;
    gchar *id = NULL;
    ProtocolMessage *msg = protocol_parse (refused[i], strlen (refused[i]), &id, &error);
    g_free (id);
    if (msg || !g_error_matches (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD))
      g_error ("accepted or wrongly refused: %s (%s)", refused[i], error ? error->message : "accepted");
    g_assert_nonnull (strstr (error->message, "U+0000"));
  }
  /* the message names the member */
  g_autoptr (GError) error = NULL;
  gchar *id = NULL;
  const gchar *named = "{\"type\":\"join\",\"case\":\"C-1\",\"role\":\"reviewer\",\"name\":\"r1\\u0000X\"}";
  g_assert_null (protocol_parse (named, strlen (named), &id, &error));
  g_free (id);
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD);
  g_assert_nonnull (strstr (error->message, "'name'"));
  /* what only looks like one is text: an escaped backslash followed by "u0000", other
   * control characters, and \u0000 spelled inside a 'single-quoted' string (no escapes there) */
  g_autoptr (ProtocolMessage) a = parse ("{\"type\":\"join\",\"case\":\"C-1\",\"role\":\"reviewer\",\"name\":\"a\\\\u0000b\"}", -1);
  g_assert_cmpstr (a->name, ==, "a\\u0000b");
  g_autoptr (ProtocolMessage) b = parse ("{\"type\":\"join\",\"case\":\"C-1\",\"role\":\"reviewer\",\"name\":\"a\\u0001b\"}", -1);
  g_assert_cmpstr (b->name, ==, "a\001b");
  g_autoptr (ProtocolMessage) c = parse ("{\"type\":\"join\",\"case\":\"C-1\",\"role\":\"reviewer\",\"name\":'a\\u0000b'}", -1);
  g_assert_cmpstr (c->name, ==, "a\\u0000b");
  /* a raw NUL byte is not valid text at all */
  const gchar raw[] = "{\"type\":\"ping\",\"id\":\"a\0b\"}";
  g_assert_null (parse_bytes (raw, sizeof raw - 1, KANYAN_ERROR_BAD_JSON, NULL));
}

static JsonObject *
parse_object (JsonParser *parser, const gchar *json)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_data (parser, json, -1, &error));
  g_assert_no_error (error);
  JsonNode *root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_node_get_object (root);
}

static void
test_error_json (void)
{
  g_autofree gchar *json = protocol_error_json (KANYAN_ERROR_BAD_SDP, "no \"video\" — 视频", "\"r7\"");
  g_autoptr (JsonParser) p1 = json_parser_new ();
  JsonObject *o = parse_object (p1, json);
  g_assert_cmpuint (json_object_get_size (o), ==, 4);
  g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "error");
  g_assert_cmpstr (json_object_get_string_member (o, "code"), ==, "bad_sdp");
  g_assert_cmpstr (json_object_get_string_member (o, "message"), ==, "no \"video\" — 视频");
  g_assert_cmpstr (json_object_get_string_member (o, "id"), ==, "r7");

  g_autofree gchar *num = protocol_error_json (KANYAN_ERROR_TOO_LARGE, "big", "12");
  g_autoptr (JsonParser) p2 = json_parser_new ();
  o = parse_object (p2, num);
  g_assert_cmpstr (json_object_get_string_member (o, "code"), ==, "too_large");
  JsonNode *id = json_object_get_member (o, "id");
  g_assert_nonnull (id);
  g_assert_cmpint (json_node_get_value_type (id), ==, G_TYPE_INT64);
  g_assert_cmpint (json_node_get_int (id), ==, 12);

  g_autofree gchar *none = protocol_error_json (KANYAN_ERROR_UNKNOWN_TYPE, "what", NULL);
  g_autoptr (JsonParser) p3 = json_parser_new ();
  o = parse_object (p3, none);
  g_assert_cmpstr (json_object_get_string_member (o, "code"), ==, "unknown_type");
  g_assert_false (json_object_has_member (o, "id"));
  g_assert_cmpuint (json_object_get_size (o), ==, 3);

  /* the id comes back exactly as protocol_parse() echoed it */
  gchar *echoed = NULL;
  const gchar *t = "{\"type\":\"nope\",\"id\":\"x-9\"}";
  parse_bytes (t, strlen (t), KANYAN_ERROR_UNKNOWN_TYPE, &echoed);
  g_autofree gchar *round = protocol_error_json (KANYAN_ERROR_UNKNOWN_TYPE, "m", echoed);
  g_free (echoed);
  g_autoptr (JsonParser) p4 = json_parser_new ();
  o = parse_object (p4, round);
  g_assert_cmpstr (json_object_get_string_member (o, "id"), ==, "x-9");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/protocol/join", test_join);
  g_test_add_func ("/protocol/offer-answer", test_offer_answer);
  g_test_add_func ("/protocol/ice", test_ice);
  g_test_add_func ("/protocol/leave-ping", test_leave_ping);
  g_test_add_func ("/protocol/link-mode", test_link_mode);
  g_test_add_func ("/protocol/camera", test_camera);
  g_test_add_func ("/protocol/wait-admit", test_wait_admit);
  g_test_add_func ("/protocol/reject/not-json", test_not_json);
  g_test_add_func ("/protocol/reject/type", test_type_field);
  g_test_add_func ("/protocol/reject/wrong-field-types", test_wrong_field_types);
  g_test_add_func ("/protocol/reject/missing-fields", test_missing_fields);
  g_test_add_func ("/protocol/reject/over-long-fields", test_over_long_fields);
  g_test_add_func ("/protocol/reject/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/protocol/reject/size-limit", test_size_limit);
  g_test_add_func ("/protocol/reject/nul-escape", test_nul_escape);
  g_test_add_func ("/protocol/id-echo", test_id_echo);
  g_test_add_func ("/protocol/error-json", test_error_json);
  return g_test_run ();
}

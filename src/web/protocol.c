/* protocol.c — parses and validates one signaling message with json-glib: the object shape,
 * each field's type and length, no string holding U+0000 (the check is bodies.c's, shared
 * with the REST bodies). Every failure is a KANYAN_ERROR with a stable code. */
#include "web/protocol.h"
#include "core/errors.h"
#include "web/bodies.h"
#include <json-glib/json-glib.h>

#define MAX_SHORT_FIELD 256

/* one g_free per owned field, like every free function of a row or a parsed message here: kept
 * per struct (a generic freer would hide which fields each struct owns) */
void
protocol_message_free (ProtocolMessage *msg)
{
  if (!msg)
    return;
  g_free (msg->id);
  g_free (msg->case_ref);
  g_free (msg->role);
  g_free (msg->token);
  g_free (msg->name);
  g_free (msg->sdp);
  g_free (msg->pc);
  g_free (msg->candidate);
  g_free (msg->mode);
  if (msg->body)
    json_node_unref (msg->body);
  g_free (msg);
}

/* An optional boolean member (absent or null: FALSE). */
static gboolean
get_bool (JsonObject *obj, const gchar *name, gboolean *out, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);
  if (!node || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'%s' must be true or false", name);
    return FALSE;
  }
  *out = json_node_get_boolean (node);
  return TRUE;
}

/* A string member: required or optional, with a maximum length. */
static gboolean
get_string (JsonObject *obj, const gchar *name, gboolean required, gsize max, gchar **out, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);
  if (!node || JSON_NODE_HOLDS_NULL (node)) {
    if (required)
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "'%s' is required", name);
    return !required;
  }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'%s' must be a string", name);
    return FALSE;
  }
  const gchar *value = json_node_get_string (node);
  if (strlen (value) > max) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'%s' is longer than %" G_GSIZE_FORMAT " bytes", name, max);
    return FALSE;
  }
  *out = g_strdup (value);
  return TRUE;
}

static const struct { const gchar *name; MessageType type; } message_types[] = {
  { "join", MSG_JOIN }, { "offer", MSG_OFFER }, { "answer", MSG_ANSWER },
  { "ice", MSG_ICE }, { "leave", MSG_LEAVE }, { "ping", MSG_PING }, { "link_mode", MSG_LINK_MODE },
  { "camera", MSG_CAMERA }, { "camera_result", MSG_CAMERA_RESULT }, { "camera_caps", MSG_CAMERA_CAPS },
  { "admit", MSG_ADMIT },
};

ProtocolMessage *
protocol_parse (const gchar *data, gsize len, gchar **id_out, GError **error)
{
  *id_out = NULL;
  if (len > WS_MAX_MESSAGE) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_TOO_LARGE, "messages are limited to %d bytes", WS_MAX_MESSAGE);
    return NULL;
  }
  g_autoptr (JsonParser) parser = json_parser_new ();
  GError *parse_error = NULL;
  if (!g_utf8_validate (data, len, NULL) || !json_parser_load_from_data (parser, data, len, &parse_error)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_JSON, "not valid JSON%s%s",
                 parse_error ? ": " : "", parse_error ? parse_error->message : "");
    g_clear_error (&parse_error);
    return NULL;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_JSON, "a message must be a JSON object");
    return NULL;
  }
  /* "\u0000" in any string would cut it short unseen ("r1\u0000X" read as "r1"): refused */
  if (!bodies_json_refuse_nul (data, len, error))
    return NULL;
  JsonObject *obj = json_node_get_object (root);
  JsonNode *id = json_object_get_member (obj, "id");
  if (id && JSON_NODE_HOLDS_VALUE (id) &&
      (json_node_get_value_type (id) == G_TYPE_STRING || json_node_get_value_type (id) == G_TYPE_INT64) &&
      (json_node_get_value_type (id) != G_TYPE_STRING || strlen (json_node_get_string (id)) <= MAX_SHORT_FIELD))
    *id_out = json_to_string (id, FALSE);

  g_autofree gchar *type = NULL;
  if (!get_string (obj, "type", TRUE, MAX_SHORT_FIELD, &type, error))
    return NULL;
  ProtocolMessage *msg = g_new0 (ProtocolMessage, 1);
  gboolean known = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (message_types); i++)
    if (g_strcmp0 (type, message_types[i].name) == 0) {
      msg->type = message_types[i].type;
      known = TRUE;
    }
  if (!known) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_UNKNOWN_TYPE, "unknown message type '%.64s'", type);
    protocol_message_free (msg);
    return NULL;
  }
  gboolean ok = TRUE;
  switch (msg->type) {
    case MSG_JOIN:
      ok = get_string (obj, "case", TRUE, 64, &msg->case_ref, error) &&
           get_string (obj, "role", TRUE, 32, &msg->role, error) &&
           get_string (obj, "token", FALSE, MAX_SHORT_FIELD, &msg->token, error) &&
           get_string (obj, "name", FALSE, 128, &msg->name, error) &&
           get_bool (obj, "wait", &msg->wait, error);
      if (ok && g_strcmp0 (msg->role, "applicant") != 0 && g_strcmp0 (msg->role, "reviewer") != 0) {
        g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'role' must be 'applicant' or 'reviewer'");
        ok = FALSE;
      }
      if (ok && g_strcmp0 (msg->role, "applicant") == 0 && !msg->token) {
        g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "an applicant joins with the invite 'token'");
        ok = FALSE;
      }
      break;
    case MSG_OFFER:
      ok = get_string (obj, "sdp", TRUE, WS_MAX_MESSAGE, &msg->sdp, error);
      break;
    case MSG_ANSWER:
      ok = get_string (obj, "sdp", TRUE, WS_MAX_MESSAGE, &msg->sdp, error) &&
           get_string (obj, "pc", TRUE, 64, &msg->pc, error);
      break;
    case MSG_ICE: {
      ok = get_string (obj, "candidate", TRUE, 1024, &msg->candidate, error) &&
           get_string (obj, "pc", FALSE, 64, &msg->pc, error);
      JsonNode *mline = ok ? json_object_get_member (obj, "sdpMLineIndex") : NULL;
      if (ok && (!mline || !JSON_NODE_HOLDS_VALUE (mline) || json_node_get_value_type (mline) != G_TYPE_INT64 ||
                 json_node_get_int (mline) < 0 || json_node_get_int (mline) > 16)) {
        g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'sdpMLineIndex' must be an integer from 0 to 16");
        ok = FALSE;
      }
      if (ok)
        msg->mline = (guint) json_node_get_int (mline);
      break;
    }
    case MSG_LINK_MODE:
      ok = get_string (obj, "mode", TRUE, 32, &msg->mode, error);
      if (ok && g_strcmp0 (msg->mode, "audio_first") != 0 && g_strcmp0 (msg->mode, "full") != 0) {
        g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'mode' must be 'audio_first' or 'full'");
        ok = FALSE;
      }
      break;
    case MSG_CAMERA:
    case MSG_CAMERA_RESULT:
    case MSG_CAMERA_CAPS:
      msg->body = json_node_copy (root);
      break;
    case MSG_ADMIT:
      ok = get_string (obj, "case", TRUE, 64, &msg->case_ref, error);
      break;
    case MSG_LEAVE:
    case MSG_PING:
      break;
  }
  if (!ok) {
    protocol_message_free (msg);
    return NULL;
  }
  msg->id = g_strdup (*id_out);
  return msg;
}

gchar *
protocol_error_json (gint code, const gchar *message, const gchar *id_json)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "error");
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, kanyan_error_code (code));
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  if (id_json) {
    g_autoptr (JsonNode) id = json_from_string (id_json, NULL);
    if (id) {
      json_builder_set_member_name (b, "id");
      json_builder_add_value (b, g_steal_pointer (&id));
    }
  }
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

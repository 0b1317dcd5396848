/* bodies.c — validation of every REST request body, one function per body. Pure: what is
 * well-formed is decided here; whether it is allowed and what it does is not (auth.c,
 * workflow.c, cases.c). Every refusal is a KANYAN_ERROR with a message naming the field. */
#include "web/bodies.h"
#include "core/errors.h"
#include <math.h>

/* The member name a string at `at` belongs to, for an error message: the raw text of the
 * key, when it is short, plain UTF-8 without escapes; NULL otherwise. */
static gchar *
member_name (const gchar *data, gssize start, gssize end)
{
  if (start < 0 || end - start > 64 || memchr (data + start, '\\', (gsize) (end - start)) ||
      !g_utf8_validate (data + start, end - start, NULL))
    return NULL;
  return g_strndup (data + start, (gsize) (end - start));
}

gboolean
bodies_json_refuse_nul (const gchar *data, gsize len, GError **error)
{
  /* json-glib turns the escape \u0000 into a NUL byte inside its NUL-terminated strings, so
   * "r1\u0000X" would silently read as "r1": such text is refused here, on the raw JSON the
   * parser has already accepted (raw NUL bytes never get this far: g_utf8_validate refuses
   * them). The walk follows json-glib 1.6's scanner: "strings" with escapes, 'strings'
   * without (it accepts both), C-style block comments skipped. Each escape is stepped over
   * whole, so \\u0000 (an escaped backslash, then "u0000") is no NUL. The member name is
   * tracked per nesting level, for the message: an array's strings belong to its member. */
  enum { MAX_DEPTH = 64 };
  gssize key_start[MAX_DEPTH + 1], key_end[MAX_DEPTH + 1];
  gint depth = 0;
  key_start[0] = key_end[0] = -1;
  for (gsize i = 0; i < len; i++) {
    gchar c = data[i];
    if (c == '/' && i + 1 < len && data[i + 1] == '*') {
      const gchar *close = g_strstr_len (data + i + 2, (gssize) (len - i - 2), "*/");
      if (!close)
        break;
      i = (gsize) (close - data) + 1;
      continue;
    }
    if (c == '{' || c == '[') {
      depth++;
      if (depth <= MAX_DEPTH) {
        key_start[depth] = key_start[depth - 1];
        key_end[depth] = key_end[depth - 1];
      }
      continue;
    }
    if (c == '}' || c == ']') {
      depth = MAX (depth - 1, 0);
      continue;
    }
    if (c != '"' && c != '\'')
      continue;
    gsize start = ++i;
    gboolean nul = FALSE;
    for (; i < len && data[i] != c; i++)
      if (c == '"' && data[i] == '\\' && i + 1 < len) {
        if (data[i + 1] == 'u' && i + 5 < len && memcmp (data + i + 2, "0000", 4) == 0)
          nul = TRUE;
        i++;   /* the escaped character (of \uXXXX, the hex digits are plain characters) */
      }
    gsize end = i;
    gsize next = i + 1;
    while (next < len && g_ascii_isspace (data[next]))
      next++;
    gboolean is_key = next < len && data[next] == ':';
    if (is_key && depth <= MAX_DEPTH) {
      key_start[depth] = (gssize) start;
      key_end[depth] = (gssize) end;
    }
    if (nul) {
      g_autofree gchar *name = is_key || depth > MAX_DEPTH ? NULL : member_name (data, key_start[depth], key_end[depth]);
      if (is_key)
        g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD,
                     "a member name contains the character U+0000 (\\u0000), which no text may hold");
      else if (name)
        g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD,
                     "'%s' contains the character U+0000 (\\u0000), which no text may hold", name);
      else
        g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD,
                     "a string contains the character U+0000 (\\u0000), which no text may hold");
      return FALSE;
    }
  }
  return TRUE;
}

JsonObject *
bodies_parse_object (JsonParser *parser, const gchar *data, gsize len, GError **error)
{
  if (!data || len == 0 || !g_utf8_validate (data, len, NULL) ||
      !json_parser_load_from_data (parser, data, len, NULL) || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_JSON, "the body must be a JSON object");
    return NULL;
  }
  if (!bodies_json_refuse_nul (data, len, error))
    return NULL;
  return json_node_get_object (json_parser_get_root (parser));
}

static const gchar *
string_member (JsonObject *obj, const gchar *name)
{
  JsonNode *node = json_object_get_member (obj, name);
  if (!node || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* absent or null: TRUE and *out NULL; a string: TRUE; anything else: FALSE */
static gboolean
optional_string (JsonObject *obj, const gchar *name, const gchar **out, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);
  *out = NULL;
  if (!node || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!(*out = string_member (obj, name))) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'%s' must be a string", name);
    return FALSE;
  }
  return TRUE;
}

static gboolean
required_strings (JsonObject *obj, GError **error, const gchar *a, const gchar **out_a, const gchar *b,
                  const gchar **out_b)
{
  *out_a = string_member (obj, a);
  *out_b = string_member (obj, b);
  if (!*out_a || !*out_b) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "'%s' and '%s' are required strings", a, b);
    return FALSE;
  }
  return TRUE;
}

static gboolean
number_member (JsonObject *obj, const gchar *name, gdouble *out)
{
  JsonNode *node = json_object_get_member (obj, name);
  if (!node || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  GType t = json_node_get_value_type (node);
  if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_double (node);
  return isfinite (*out);
}

static gboolean
int_member (JsonObject *obj, const gchar *name, gint64 *out)
{
  JsonNode *node = json_object_get_member (obj, name);
  if (!node || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

static gboolean
text_limit (const gchar *text, const gchar *name, glong max, GError **error)
{
  if (text && g_utf8_strlen (text, -1) > max) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'%s' is limited to %ld characters", name, max);
    return FALSE;
  }
  return TRUE;
}

gboolean
bodies_parse_login (JsonObject *obj, LoginBody *out, GError **error)
{
  return required_strings (obj, error, "username", &out->username, "password", &out->password) &&
         text_limit (out->username, "username", 64, error) && text_limit (out->password, "password", 1024, error);
}

gboolean
bodies_parse_case (JsonObject *obj, CaseBody *out, GError **error)
{
  memset (out, 0, sizeof *out);
  if (!required_strings (obj, error, "ref", &out->ref, "type", &out->type_key) ||
      !optional_string (obj, "owner", &out->owner, error) ||
      !optional_string (obj, "applicant_name", &out->applicant_name, error) ||
      !optional_string (obj, "applicant_phone", &out->applicant_phone, error) ||
      !optional_string (obj, "site_address", &out->site_address, error) ||
      !text_limit (out->applicant_name, "applicant_name", 200, error) ||
      !text_limit (out->applicant_phone, "applicant_phone", 40, error) ||
      !text_limit (out->site_address, "site_address", 500, error))
    return FALSE;
  JsonNode *site = json_object_get_member (obj, "site");
  if (site && !JSON_NODE_HOLDS_NULL (site)) {
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (site) ? json_node_get_object (site) : NULL;
    if (!o || !number_member (o, "lat", &out->site_lat) || !number_member (o, "lon", &out->site_lon) ||
        fabs (out->site_lat) > 90 || fabs (out->site_lon) > 180) {
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'site' must be {\"lat\": degrees, \"lon\": degrees}");
      return FALSE;
    }
    out->has_site = TRUE;
  }
  return TRUE;
}

gboolean
bodies_parse_assign (JsonObject *obj, AssignBody *out, GError **error)
{
  out->co_reviewers = g_ptr_array_new ();
  if (!optional_string (obj, "owner", &out->owner, error))
    return FALSE;
  JsonNode *co = json_object_get_member (obj, "co_reviewers");
  if (!out->owner && !co) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "give 'owner' and/or 'co_reviewers'");
    return FALSE;
  }
  JsonArray *names = co && JSON_NODE_HOLDS_ARRAY (co) ? json_node_get_array (co) : NULL;
  if (co && (!names || json_array_get_length (names) > 20)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'co_reviewers' must be an array of at most 20 usernames");
    return FALSE;
  }
  for (guint i = 0; names && i < json_array_get_length (names); i++) {
    JsonNode *n = json_array_get_element (names, i);
    if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING) {
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'co_reviewers' must be an array of usernames");
      return FALSE;
    }
    g_ptr_array_add (out->co_reviewers, (gpointer) json_node_get_string (n));
  }
  return TRUE;
}

gboolean
bodies_parse_mark (JsonObject *obj, MarkBody *out, GError **error)
{
  gint64 item = 0;
  out->result = string_member (obj, "result");
  if (!int_member (obj, "item", &item) || !out->result) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "'item' (a number) and 'result' are required");
    return FALSE;
  }
  static const gchar *const results[] = { "pass", "fail", "not_shown", NULL };
  if (!g_strv_contains (results, out->result)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'result' must be pass, fail or not_shown");
    return FALSE;
  }
  if (item < 1 || item > 1000) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'item' is the item's position, from 1");
    return FALSE;
  }
  out->item = (gint) item;
  return optional_string (obj, "note", &out->note, error) && text_limit (out->note, "note", BODY_NOTE_MAX, error);
}

gboolean
bodies_parse_decision (JsonObject *obj, DecisionBody *out, GError **error)
{
  if (!required_strings (obj, error, "kind", &out->kind, "reason", &out->reason))
    return FALSE;
  static const gchar *const kinds[] = { "approve", "rectify", "reject", NULL };
  if (!g_strv_contains (kinds, out->kind)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'kind' must be approve, rectify or reject");
    return FALSE;
  }
  g_autofree gchar *trimmed = g_strstrip (g_strdup (out->reason));
  if (!*trimmed || !text_limit (out->reason, "reason", BODY_REASON_MAX, error)) {
    if (error && !*error)
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "a decision needs a 'reason'");
    return FALSE;
  }
  return TRUE;
}

gboolean
bodies_parse_countersign (JsonObject *obj, CountersignBody *out, GError **error)
{
  JsonNode *sign = json_object_get_member (obj, "sign");
  if (!int_member (obj, "decision", &out->decision) || !sign || !JSON_NODE_HOLDS_VALUE (sign) ||
      json_node_get_value_type (sign) != G_TYPE_BOOLEAN) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "'decision' (a number) and 'sign' (true or false) "
                 "are required");
    return FALSE;
  }
  out->sign = json_node_get_boolean (sign);
  if (!optional_string (obj, "note", &out->note, error) || !text_limit (out->note, "note", BODY_NOTE_MAX, error))
    return FALSE;
  if (!out->sign && (!out->note || !*out->note)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "returning a rejection needs a 'note' for its owner");
    return FALSE;
  }
  return TRUE;
}

gboolean
bodies_parse_geo (JsonObject *obj, GeoBody *out, GError **error)
{
  if (!number_member (obj, "lat", &out->lat) || !number_member (obj, "lon", &out->lon) ||
      !number_member (obj, "accuracy", &out->accuracy) || fabs (out->lat) > 90 || fabs (out->lon) > 180 ||
      out->accuracy < 0 || out->accuracy > 1e6) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'lat', 'lon' (degrees) and 'accuracy' (metres) are required");
    return FALSE;
  }
  return TRUE;
}

gboolean
bodies_parse_still (JsonObject *obj, StillBody *out, GError **error)
{
  gint64 item = 0;
  if (!int_member (obj, "item", &item)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "'item' (a number) is required");
    return FALSE;
  }
  if (item < 1 || item > 1000) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'item' is the item's position, from 1");
    return FALSE;
  }
  out->item = (gint) item;
  return TRUE;
}

static gboolean
coordinate (JsonObject *o, const gchar *name)
{
  gdouble v;
  return number_member (o, name, &v) && v >= 0 && v <= 1;
}

gboolean
bodies_parse_annotation (JsonObject *obj, AnnotationBody *out, GError **error)
{
  out->shapes = json_object_get_member (obj, "shapes");
  if (!int_member (obj, "still", &out->still) || !out->shapes) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "'still' (a number) and 'shapes' are required");
    return FALSE;
  }
  JsonArray *list = JSON_NODE_HOLDS_ARRAY (out->shapes) ? json_node_get_array (out->shapes) : NULL;
  if (!list || json_array_get_length (list) > BODY_SHAPES_MAX) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'shapes' must be an array of at most %d shapes",
                 BODY_SHAPES_MAX);
    return FALSE;
  }
  static const gchar *const kinds[] = { "arrow", "circle", "box", NULL };
  for (guint i = 0; i < json_array_get_length (list); i++) {
    JsonNode *n = json_array_get_element (list, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
    const gchar *kind = o ? string_member (o, "kind") : NULL;
    if (!kind || !g_strv_contains (kinds, kind) || !coordinate (o, "x1") || !coordinate (o, "y1") ||
        !coordinate (o, "x2") || !coordinate (o, "y2") || json_object_get_size (o) != 5) {
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "shape %u must be {kind: arrow|circle|box, x1, y1, x2, "
                   "y2} with coordinates from 0 to 1 of the image", i + 1);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
type_key_is_valid (const gchar *key)
{
  gsize len = strlen (key);
  if (len == 0 || len > 40 || !g_ascii_islower (key[0]))
    return FALSE;
  for (const gchar *p = key; *p; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '-')
      return FALSE;
  return TRUE;
}

gboolean
bodies_parse_case_type (JsonObject *obj, const gchar *key_from_url, CaseTypeDef *out, GError **error)
{
  memset (out, 0, sizeof *out);
  out->key = key_from_url ? key_from_url : string_member (obj, "key");
  if (!out->key) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "'key' is required");
    return FALSE;
  }
  if (!required_strings (obj, error, "title_en", &out->title_en, "title_zh", &out->title_zh))
    return FALSE;
  gint64 days = 0;
  if (!type_key_is_valid (out->key) || !int_member (obj, "time_limit_days", &days) || days < 1 || days > 365 ||
      !*out->title_en || !*out->title_zh || g_utf8_strlen (out->title_en, -1) > 200 ||
      g_utf8_strlen (out->title_zh, -1) > 200) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "a case type needs a 'key' (lower-case letters, digits, "
                 "'-'), both titles (up to 200 characters), and 'time_limit_days' from 1 to 365");
    return FALSE;
  }
  out->time_limit_days = (gint) days;
  JsonNode *items = json_object_get_member (obj, "items");
  if (!items) {
    if (key_from_url)
      return TRUE;   /* editing titles and time limit only */
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "a new case type needs its 'items'");
    return FALSE;
  }
  JsonArray *list = JSON_NODE_HOLDS_ARRAY (items) ? json_node_get_array (items) : NULL;
  if (!list || json_array_get_length (list) < 1 || json_array_get_length (list) > 100) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'items' must be an array of 1 to 100 items");
    return FALSE;
  }
  out->items = g_array_new (FALSE, TRUE, sizeof (CaseTypeItemDef));
  for (guint i = 0; i < json_array_get_length (list); i++) {
    JsonNode *n = json_array_get_element (list, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
    CaseTypeItemDef item = { NULL, NULL, NULL, NULL };
    if (!o || !(item.title_en = string_member (o, "title_en")) || !(item.title_zh = string_member (o, "title_zh")) ||
        !*item.title_en || !*item.title_zh || !optional_string (o, "guidance", &item.guidance, NULL) ||
        !optional_string (o, "department", &item.department, NULL) ||
        (item.department && g_utf8_strlen (item.department, -1) > 100) ||
        g_utf8_strlen (item.title_en, -1) > 300 || g_utf8_strlen (item.title_zh, -1) > 300 ||
        (item.guidance && g_utf8_strlen (item.guidance, -1) > 2000)) {
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "item %u needs 'title_en' and 'title_zh' (up to 300 "
                   "characters) and may have 'guidance' (up to 2000) and 'department' (up to 100)", i + 1);
      g_clear_pointer (&out->items, g_array_unref);
      return FALSE;
    }
    g_array_append_val (out->items, item);
  }
  return TRUE;
}

gboolean
bodies_parse_user (JsonObject *obj, UserBody *out, GError **error)
{
  static const gchar *const roles[] = { "admin", "reviewer", "lead", "auditor", "clerk", NULL };
  if (!required_strings (obj, error, "username", &out->username, "role", &out->role) ||
      !optional_string (obj, "department", &out->department, error))
    return FALSE;
  if (!g_strv_contains (roles, out->role)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'role' must be admin, reviewer, lead, auditor or clerk");
    return FALSE;
  }
  return text_limit (out->username, "username", 64, error) && text_limit (out->department, "department", 100, error);
}

/* json_out.h — one member of a JSON object being built, in one call: the name and its value
 * (json-glib's builder, never printf). For the serializers and answers that write many
 * members; a value that may be missing is written as null. Pure, header-only. */
#pragma once
#include <json-glib/json-glib.h>

static inline void
json_out_str (JsonBuilder *b, const gchar *name, const gchar *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static inline void
json_out_int (JsonBuilder *b, const gchar *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static inline void
json_out_bool (JsonBuilder *b, const gchar *name, gboolean value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_boolean_value (b, value);
}

static inline void
json_out_double (JsonBuilder *b, const gchar *name, gdouble value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, value);
}

/* the string, or null when it is NULL */
static inline void
json_out_str_or_null (JsonBuilder *b, const gchar *name, const gchar *value)
{
  json_builder_set_member_name (b, name);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

/* the number, or null when `known` is FALSE */
static inline void
json_out_int_or_null (JsonBuilder *b, const gchar *name, gint64 value, gboolean known)
{
  json_builder_set_member_name (b, name);
  if (known)
    json_builder_add_int_value (b, value);
  else
    json_builder_add_null_value (b);
}

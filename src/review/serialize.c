/* serialize.c — one JSON shape per row type (serialize.h). Every route and message that sends a
 * mark, an item, a decision, a still or an account builds it here. Never reads the database,
 * never decides who may see a row (auth.c and the routes do). */
#include "review/serialize.h"

void
mark_to_json (JsonBuilder *b, const MarkRow *m)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, m->id);
  json_builder_set_member_name (b, "session");
  json_builder_add_int_value (b, m->session_id);
  json_builder_set_member_name (b, "item");
  json_builder_add_int_value (b, m->item);
  json_builder_set_member_name (b, "result");
  json_builder_add_string_value (b, m->result);
  json_builder_set_member_name (b, "note");
  json_builder_add_string_value (b, m->note);
  json_builder_set_member_name (b, "by");
  json_builder_add_string_value (b, m->by_user);
  json_builder_set_member_name (b, "at");
  json_builder_add_int_value (b, m->at);
  json_builder_set_member_name (b, "media_ms");
  if (m->media_ms >= 0)
    json_builder_add_int_value (b, m->media_ms);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
}

void
item_members (JsonBuilder *b, guint position, gchar **item)
{
  json_builder_set_member_name (b, "position");
  json_builder_add_int_value (b, position);
  json_builder_set_member_name (b, "title_en");
  json_builder_add_string_value (b, item[0]);
  json_builder_set_member_name (b, "title_zh");
  json_builder_add_string_value (b, item[1]);
  json_builder_set_member_name (b, "guidance");
  json_builder_add_string_value (b, item[2]);
  json_builder_set_member_name (b, "department");
  json_builder_add_string_value (b, item[3]);
}

void
item_to_json (JsonBuilder *b, guint position, gchar **item)
{
  json_builder_begin_object (b);
  item_members (b, position, item);
  json_builder_end_object (b);
}

void
decision_to_json (JsonBuilder *b, const DecisionRow *d)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, d->id);
  json_builder_set_member_name (b, "case");
  json_builder_add_string_value (b, d->case_ref);
  json_builder_set_member_name (b, "session");
  json_builder_add_int_value (b, d->session_id);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, d->kind);
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, d->reason);
  json_builder_set_member_name (b, "by");
  json_builder_add_string_value (b, d->by_user);
  json_builder_set_member_name (b, "at");
  json_builder_add_int_value (b, d->at);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, d->state);
  json_builder_set_member_name (b, "countersigned_by");
  if (d->countersigned_by)
    json_builder_add_string_value (b, d->countersigned_by);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "countersign_note");
  json_builder_add_string_value (b, d->countersign_note ? d->countersign_note : "");
  json_builder_end_object (b);
}

void
still_to_json (JsonBuilder *b, const StillRow *s)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, s->id);
  json_builder_set_member_name (b, "item");
  json_builder_add_int_value (b, s->item);
  json_builder_set_member_name (b, "session");
  json_builder_add_int_value (b, s->session_id);
  json_builder_set_member_name (b, "sha256");
  json_builder_add_string_value (b, s->sha256);
  json_builder_set_member_name (b, "bytes");
  json_builder_add_int_value (b, s->bytes);
  json_builder_set_member_name (b, "media_ms");
  if (s->media_ms >= 0)
    json_builder_add_int_value (b, s->media_ms);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "at");
  json_builder_add_int_value (b, s->at);
  json_builder_set_member_name (b, "by");
  json_builder_add_string_value (b, s->by_user);
  json_builder_set_member_name (b, "url");
  g_autofree gchar *url = g_strdup_printf ("/media/stills/%" G_GINT64_FORMAT, s->id);
  json_builder_add_string_value (b, url);
  json_builder_set_member_name (b, "annotation");
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (s->annotation && json_parser_load_from_data (parser, s->annotation, -1, NULL))
    json_builder_add_value (b, json_node_copy (json_parser_get_root (parser)));
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
}

void
user_members (JsonBuilder *b, const User *u)
{
  json_builder_set_member_name (b, "username");
  json_builder_add_string_value (b, u->username);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, u->role);
  json_builder_set_member_name (b, "department");
  json_builder_add_string_value (b, u->department);
}

/* serialize.c — one JSON shape per row type (serialize.h). Every route and message that sends a
 * mark, an item, a decision, a still or an account builds it here. Never reads the database,
 * never decides who may see a row (auth.c and the routes do). The functions list their rows'
 * members one by one and so look alike: that is the point, one place per shape. */
#include "review/serialize.h"
#include "core/json_out.h"

void
mark_to_json (JsonBuilder *b, const MarkRow *m)
{
  json_builder_begin_object (b);
  json_out_int (b, "id", m->id);
  json_out_int (b, "session", m->session_id);
  json_out_int (b, "item", m->item);
  json_out_str (b, "result", m->result);
  json_out_str (b, "note", m->note);
  json_out_str (b, "by", m->by_user);
  json_out_int (b, "at", m->at);
  json_out_int_or_null (b, "media_ms", m->media_ms, m->media_ms >= 0);
  json_builder_end_object (b);
}

void
item_members (JsonBuilder *b, guint position, gchar **item)
{
  json_out_int (b, "position", position);
  json_out_str (b, "title_en", item[0]);
  json_out_str (b, "title_zh", item[1]);
  json_out_str (b, "guidance", item[2]);
  json_out_str (b, "department", item[3]);
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
  json_out_int (b, "id", d->id);
  json_out_str (b, "case", d->case_ref);
  json_out_int (b, "session", d->session_id);
  json_out_str (b, "kind", d->kind);
  json_out_str (b, "reason", d->reason);
  json_out_str (b, "by", d->by_user);
  json_out_int (b, "at", d->at);
  json_out_str (b, "state", d->state);
  json_out_str_or_null (b, "countersigned_by", d->countersigned_by);
  json_out_str (b, "countersign_note", d->countersign_note ? d->countersign_note : "");
  json_builder_end_object (b);
}

void
still_to_json (JsonBuilder *b, const StillRow *s)
{
  json_builder_begin_object (b);
  json_out_int (b, "id", s->id);
  json_out_int (b, "item", s->item);
  json_out_int (b, "session", s->session_id);
  json_out_str (b, "sha256", s->sha256);
  json_out_int (b, "bytes", s->bytes);
  json_out_int_or_null (b, "media_ms", s->media_ms, s->media_ms >= 0);
  json_out_int (b, "at", s->at);
  json_out_str (b, "by", s->by_user);
  g_autofree gchar *url = g_strdup_printf ("/media/stills/%" G_GINT64_FORMAT, s->id);
  json_out_str (b, "url", url);
  json_builder_set_member_name (b, "annotation");   /* the drawing, stored as JSON text */
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
  json_out_str (b, "username", u->username);
  json_out_str (b, "role", u->role);
  json_out_str (b, "department", u->department);
}

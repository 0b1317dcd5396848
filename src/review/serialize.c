/* serialize.c — one JSON shape per row type (serialize.h). Every route and message that sends a
 * mark, an item, a decision, a still, an account, a case or a viewing token builds it here. Never reads the database,
 * never decides who may see a row (auth.c and the routes do). The functions list their rows'
 * members one by one and so look alike: that is the point, one place per shape. */
#include "review/serialize.h"
#include "core/json_out.h"
#include "review/workflow.h"
#include <math.h>

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
  json_out_str (b, "source", s->source ? s->source : "video");   /* "video" | "photo" (photos.c) */
  json_out_int_or_null (b, "request", s->request_id, s->request_id > 0);
  json_out_int_or_null (b, "width", s->width, s->width > 0);
  json_out_int_or_null (b, "height", s->height, s->height > 0);
  json_builder_set_member_name (b, "location");   /* where the phone said it was when the photo came */
  if (s->has_geo) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "lat");
    json_builder_add_double_value (b, round (s->geo_lat * 1e6) / 1e6);
    json_builder_set_member_name (b, "lon");
    json_builder_add_double_value (b, round (s->geo_lon * 1e6) / 1e6);
    json_out_int (b, "accuracy_m", (gint64) round (s->geo_accuracy_m));
    json_builder_end_object (b);
  } else {
    json_builder_add_null_value (b);
  }
  json_builder_set_member_name (b, "annotation");   /* the drawing, stored as JSON text */
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (s->annotation && json_parser_load_from_data (parser, s->annotation, -1, NULL))
    json_builder_add_value (b, json_node_copy (json_parser_get_root (parser)));
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
}

void
ack_to_json (JsonBuilder *b, const AckRow *a, gboolean with_svg)
{
  json_builder_begin_object (b);
  json_out_int (b, "id", a->id);
  json_out_int (b, "decision", a->decision_id);
  json_out_str (b, "name", a->name);
  json_out_int (b, "at", a->acknowledged_at);
  json_out_str (b, "sha256", a->sha256);
  if (with_svg)
    json_out_str (b, "svg", a->svg);
  json_builder_end_object (b);
}

void
user_members (JsonBuilder *b, const User *u)
{
  json_out_str (b, "username", u->username);
  json_out_str (b, "role", u->role);
  json_out_str (b, "department", u->department);
}

gdouble
serialize_distance_m (gdouble lat1, gdouble lon1, gdouble lat2, gdouble lon2)
{
  const gdouble r = 6371000.0, rad = G_PI / 180.0;
  gdouble dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
  gdouble a = sin (dlat / 2) * sin (dlat / 2) + cos (lat1 * rad) * cos (lat2 * rad) * sin (dlon / 2) * sin (dlon / 2);
  return 2 * r * atan2 (sqrt (a), sqrt (1 - a));
}

void
session_to_json (JsonBuilder *b, const SessionRow *s, const CaseRow *row, GPtrArray *peers)
{
  json_builder_begin_object (b);
  json_out_int (b, "id", s->id);
  json_out_int (b, "started_at", s->started_at);
  json_out_int_or_null (b, "ended_at", s->ended_at, s->ended_at != 0);
  json_out_str (b, "challenge", s->challenge ? s->challenge : "");
  json_out_str_or_null (b, "challenge_seen_by", s->challenge_seen_by);
  json_builder_set_member_name (b, "location");
  if (s->has_geo) {
    json_builder_begin_object (b);
    json_out_double (b, "lat", s->geo_lat);
    json_out_double (b, "lon", s->geo_lon);
    json_out_double (b, "accuracy_m", s->geo_accuracy_m);
    json_out_int_or_null (b, "distance_m", row->has_site ?
                          (gint64) round (serialize_distance_m (s->geo_lat, s->geo_lon, row->site_lat, row->site_lon)) : 0,
                          row->has_site);
    json_builder_end_object (b);
  } else {
    json_builder_add_null_value (b);
  }
  if (peers) {
    json_builder_set_member_name (b, "peers");
    json_builder_begin_array (b);
    for (guint i = 0; i < peers->len; i++) {
      const ParticipantRow *p = g_ptr_array_index (peers, i);
      json_builder_begin_object (b);
      json_out_str (b, "peer", p->peer);
      json_out_str (b, "role", p->role);
      json_out_str (b, "name", p->name ? p->name : "");
      json_out_int (b, "joined_at", p->joined_at);
      json_builder_set_member_name (b, "ice");
      if (p->ice_local) {
        json_builder_begin_object (b);
        json_out_str (b, "server", p->ice_local);
        json_out_str (b, "peer", p->ice_remote ? p->ice_remote : "");
        json_out_int (b, "at", p->ice_at);
        json_builder_end_object (b);
      } else {
        json_builder_add_null_value (b);
      }
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
  }
  json_builder_end_object (b);
}

void
recording_to_json (JsonBuilder *b, const RecordingRow *r, GArray *gaps)
{
  json_builder_begin_object (b);
  json_out_int (b, "id", r->id);
  json_out_int (b, "session", r->session_id);
  json_out_int (b, "seq", r->seq);
  json_out_int (b, "started_at", r->started_at);
  json_out_int (b, "ended_at", r->ended_at);
  /* the wall-clock time of the archive's 0: where the file lies on the case's axis */
  json_out_int (b, "media_started_at", r->media_started_at ? r->media_started_at : r->started_at);
  json_out_int (b, "duration_ms", r->duration_ms);
  json_out_str (b, "video_codec", r->video_codec ? r->video_codec : "");
  json_out_str (b, "archive_state", r->purged_at ? "purged" : r->archive_state ? r->archive_state : r->state);
  json_out_str (b, "sha256", r->archive_sha256 ? r->archive_sha256 : "");
  g_autofree gchar *url = g_strdup_printf ("/media/recordings/%" G_GINT64_FORMAT, r->id);
  json_out_str_or_null (b, "url", r->archive_path && !r->purged_at ? url : NULL);
  if (gaps) {   /* stretches frozen after a loss (recorder.c): the timeline shows them */
    json_builder_set_member_name (b, "gaps");
    json_builder_begin_array (b);
    for (guint g = 0; g < gaps->len; g++) {
      const GapRow *gap = &g_array_index (gaps, GapRow, g);
      json_builder_begin_object (b);
      json_out_int (b, "at", gap->at);
      json_out_int (b, "duration_ms", gap->duration_ms);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
  }
  json_builder_end_object (b);
}

void
case_members (JsonBuilder *b, const CaseRow *row, CaseJsonFlags flags, const CaseJsonContext *ctx)
{
  json_out_str (b, "ref", row->ref);
  if (flags & CASE_JSON_TYPE)
    json_out_str (b, "type", row->type_key);
  if (flags & CASE_JSON_TYPE_TITLE) {
    json_builder_set_member_name (b, "type_title");
    json_builder_begin_object (b);
    json_out_str (b, "en", row->type_title_en);
    json_out_str (b, "zh", row->type_title_zh);
    json_builder_end_object (b);
  }
  if (flags & CASE_JSON_STATUS)
    json_out_str (b, "status", row->status);
  if (flags & CASE_JSON_LIVE) {
    json_out_bool (b, "live", ctx->live);
    json_out_int (b, "participants", ctx->participants);
    json_out_int_or_null (b, "waiting_since", ctx->waiting_since, ctx->waiting_since > 0);
  }
  if (flags & CASE_JSON_CREATED)
    json_out_int (b, "created_at", row->created_at);
  if (flags & CASE_JSON_OWNER)
    json_out_str (b, "owner", row->owner);
  if (flags & CASE_JSON_DEPARTMENT)
    json_out_str (b, "department", row->department);
  if (flags & CASE_JSON_APPLICANT)
    json_out_str (b, "applicant_name", row->applicant_name);
  if (flags & CASE_JSON_CONTACT) {
    json_out_str (b, "applicant_phone", row->applicant_phone);
    json_out_str (b, "site_address", row->site_address);
  }
  if (flags & CASE_JSON_SITE) {
    json_builder_set_member_name (b, "site");
    if (row->has_site) {
      json_builder_begin_object (b);
      json_out_double (b, "lat", row->site_lat);
      json_out_double (b, "lon", row->site_lon);
      json_builder_end_object (b);
    } else {
      json_builder_add_null_value (b);
    }
  }
  if (flags & CASE_JSON_DATES) {
    json_out_str (b, "accepted_on", row->accepted_on);
    json_out_str (b, "deadline_on", row->deadline_on);
  }
  if (flags & (CASE_JSON_DAYS_LEFT | CASE_JSON_OVERDUE)) {
    GDate deadline;
    gboolean known = calendar_parse_date (row->deadline_on, &deadline);
    gint left = known ? calendar_working_days_left (ctx->calendar, ctx->today, &deadline) : 0;
    if (flags & CASE_JSON_DAYS_LEFT)
      json_out_int_or_null (b, "working_days_left", left, known);
    if (flags & CASE_JSON_OVERDUE)
      json_out_bool (b, "overdue", known && left < 0 && workflow_status_is_open (row->status));
  }
  if (flags & CASE_JSON_NOTICE_ACK) {
    const AckState *ack = ctx ? ctx->ack : NULL;
    json_builder_set_member_name (b, "notice_ack");
    if (ack && ack->ack)
      ack_to_json (b, ack->ack, FALSE);
    else
      json_builder_add_null_value (b);
    json_out_bool (b, "notice_unacknowledged", ack && ack->flagged);
  }
  if (flags & CASE_JSON_CO_REVIEWERS) {
    json_builder_set_member_name (b, "co_reviewers");
    json_builder_begin_array (b);
    for (guint i = 0; ctx->co_reviewers && i < ctx->co_reviewers->len; i++)
      json_builder_add_string_value (b, g_ptr_array_index (ctx->co_reviewers, i));
    json_builder_end_array (b);
  }
}

void
case_to_json (JsonBuilder *b, const CaseRow *row, CaseJsonFlags flags, const CaseJsonContext *ctx)
{
  json_builder_begin_object (b);
  case_members (b, row, flags, ctx);
  json_builder_end_object (b);
}

void
watch_token_to_json (JsonBuilder *b, const WatchToken *t, const CaseRow *row)
{
  g_autofree gchar *url = g_strdup_printf ("/whep/%s", row->ref);
  json_builder_begin_object (b);
  json_out_int (b, "id", t->id);
  json_out_str (b, "ref", row->ref);
  json_out_str (b, "token", t->token);
  json_out_str (b, "whep_url", url);
  json_out_int (b, "expires_at", t->expires_at);
  json_builder_end_object (b);
}

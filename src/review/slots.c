/* slots.c — the booking rules: working days, no double booking, who may move what, and the
 * audit rows of every step (slot.offered, slot.booked, slot.moved, slot.cancelled). Rows go
 * through store_slots.c; never answers HTTP (web/api_slots.c) nor prints (app/main.c). */
#include "review/slots.h"
#include "review/audit.h"
#include "review/ics.h"
#include "review/workflow.h"
#include "core/errors.h"

static gchar *
iso_utc (gint64 ms)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (ms / 1000);
  return t ? g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("?");
}

static gchar *
local_hm (gint64 ms, GTimeZone *tz)
{
  g_autoptr (GDateTime) u = g_date_time_new_from_unix_utc (ms / 1000);
  g_autoptr (GDateTime) t = u ? g_date_time_to_timezone (u, tz) : NULL;
  return t ? g_date_time_format (t, "%Y-%m-%d %H:%M") : g_strdup ("?");
}

gboolean
slots_parse_time (const gchar *text, GTimeZone *tz, gint64 *ms, GError **error)
{
  g_autoptr (GTimeZone) local = tz ? g_time_zone_ref (tz) : g_time_zone_new_local ();
  g_autofree gchar *iso = g_strdup (text ? text : "");
  g_strstrip (iso);
  if (strlen (iso) > 10 && iso[10] == ' ')
    iso[10] = 'T';
  gsize len = strlen (iso);
  /* "…T14:30": GLib wants the seconds */
  g_autofree gchar *full = (len == 16 && iso[10] == 'T') ? g_strconcat (iso, ":00", NULL) : g_strdup (iso);
  g_autoptr (GDateTime) t = len >= 16 ? g_date_time_new_from_iso8601 (full, local) : NULL;
  if (!t) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD,
                 "'at' takes a date and time: 2026-12-10 14:30 (the bureau's time) or ISO 8601 with an offset");
    return FALSE;
  }
  *ms = g_date_time_to_unix (t) * 1000;
  return TRUE;
}

static gboolean
working_at (const WorkCalendar *cal, GTimeZone *tz, gint64 ms)
{
  g_autoptr (GDateTime) u = g_date_time_new_from_unix_utc (ms / 1000);
  g_autoptr (GDateTime) t = g_date_time_to_timezone (u, tz);
  GDate d;
  g_date_clear (&d, 1);
  g_date_set_dmy (&d, g_date_time_get_day_of_month (t), g_date_time_get_month (t), g_date_time_get_year (t));
  return calendar_is_working_day (cal, &d);
}

gboolean
slots_check (const WorkCalendar *cal, GTimeZone *tz, gint64 now_ms, gint64 start, gint64 end, GPtrArray *others,
             gint64 self_id, GError **error)
{
  g_autoptr (GTimeZone) local = tz ? g_time_zone_ref (tz) : g_time_zone_new_local ();
  if (end <= start) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "a slot ends after it begins");
    return FALSE;
  }
  if (start <= now_ms) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "the slot would begin in the past");
    return FALSE;
  }
  if (!working_at (cal, local, start) || !working_at (cal, local, end - 1)) {
    g_autofree gchar *when = local_hm (start, local);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_WORKING_DAY,
                 "%s is not on a working day of the bureau's calendar (weekend or holiday)", when);
    return FALSE;
  }
  for (guint i = 0; others && i < others->len; i++) {
    SlotRow *o = g_ptr_array_index (others, i);
    if (o->id == self_id || g_strcmp0 (o->state, "cancelled") == 0)
      continue;
    if (o->starts_at < end && start < o->ends_at) {   /* half-open: touching slots do not clash */
      g_autofree gchar *from = local_hm (o->starts_at, local), *to = local_hm (o->ends_at, local);
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_SLOT_CONFLICT,
                   "%s has another slot from %s to %s (case %s)", o->reviewer, from, to + 11, o->case_ref);
      return FALSE;
    }
  }
  return TRUE;
}

/* checks the time against the calendar and the reviewer's other slots */
static gboolean
check_time (sqlite3 *db, const KanyanConfig *cfg, const gchar *reviewer, gint64 start, gint64 end, gint64 self_id,
            GError **error)
{
  g_autoptr (WorkCalendar) cal = calendar_new ((const gchar *const *) cfg->holidays,
                                               (const gchar *const *) cfg->workdays, error);
  if (!cal)
    return FALSE;
  g_autoptr (GPtrArray) others = store_slots_of_reviewer (db, reviewer, start, end);
  return slots_check (cal, NULL, db_now_ms (), start, end, others, self_id, error);
}

static gboolean
check_minutes (gint minutes, GError **error)
{
  if (minutes < SLOT_MINUTES_MIN || minutes > SLOT_MINUTES_MAX) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "a slot lasts %d to %d minutes", SLOT_MINUTES_MIN,
                 SLOT_MINUTES_MAX);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_reason (const gchar *reason, GError **error)
{
  g_autofree gchar *trimmed = reason ? g_strstrip (g_strdup (reason)) : NULL;
  if (!trimmed || !*trimmed) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "'reason' is required to move or cancel a slot");
    return FALSE;
  }
  if (g_utf8_strlen (reason, -1) > SLOT_REASON_MAX) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'reason' is at most %d characters", SLOT_REASON_MAX);
    return FALSE;
  }
  return TRUE;
}

static void
note (sqlite3 *db, const gchar *actor, const gchar *action, const SlotRow *s, const gchar *k1, const gchar *v1,
      const gchar *k2, const gchar *v2)
{
  g_autofree gchar *id = g_strdup_printf ("%" G_GINT64_FORMAT, s->id);
  g_autofree gchar *start = iso_utc (s->starts_at), *end = iso_utc (s->ends_at);
  /* k1 and k2 (NULL: none) end the list early when absent */
  audit_note (db, actor, action, s->case_ref, "slot", id, "start", start, "end", end, "reviewer", s->reviewer,
              "state", s->state, k1, v1, k1 ? k2 : NULL, v2, NULL);
}

SlotRow *
slots_offer (sqlite3 *db, const KanyanConfig *cfg, const gchar *actor, const CaseRow *row, gint64 start, gint minutes,
             GError **error)
{
  if (!workflow_check_open (row, error) || !check_minutes (minutes, error))
    return NULL;
  const gchar *reviewer = row->owner && *row->owner ? row->owner : actor;
  if (!reviewer || g_strcmp0 (reviewer, "cli") == 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "case %s has no owner to hold the slot: assign one first",
                 row->ref);
    return NULL;
  }
  gint64 end = start + (gint64) minutes * 60 * 1000;
  if (!db_durable_begin (db, error))
    return NULL;
  gint64 id = check_time (db, cfg, reviewer, start, end, 0, error) ?
              store_slot_add (db, row->id, reviewer, start, end, actor, error) : 0;
  SlotRow *s = id ? store_slot_get (db, id) : NULL;
  if (s)
    note (db, actor, "slot.offered", s, NULL, NULL, NULL, NULL);
  if (!db_durable_end (db, s != NULL, s ? error : NULL)) {
    g_clear_pointer (&s, slot_row_free);
    if (error && !*error)
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the slot was not saved");
  }
  return s;
}

SlotRow *
slots_get (sqlite3 *db, const CaseRow *row, const gchar *id_text, GError **error)
{
  gchar *end = NULL;
  gint64 id = id_text ? g_ascii_strtoll (id_text, &end, 10) : 0;
  SlotRow *s = id > 0 && end && !*end ? store_slot_get (db, id) : NULL;
  if (!s || s->case_id != row->id) {
    g_clear_pointer (&s, slot_row_free);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "case %s has no slot %s", row->ref,
                 id_text ? id_text : "");
  }
  return s;
}

static SlotRow *
of_case (sqlite3 *db, const CaseRow *row, gint64 slot_id, GError **error)
{
  g_autofree gchar *text = g_strdup_printf ("%" G_GINT64_FORMAT, slot_id);
  return slots_get (db, row, text, error);
}

SlotRow *
slots_book (sqlite3 *db, const gchar *actor, const CaseRow *row, gint64 slot_id, const gchar *reason, GError **error)
{
  if (!workflow_check_open (row, error))
    return NULL;
  g_autoptr (SlotRow) s = of_case (db, row, slot_id, error);
  if (!s)
    return NULL;
  if (g_strcmp0 (s->state, "offered") != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_ILLEGAL_TRANSITION, "slot %" G_GINT64_FORMAT " is %s, not offered",
                 s->id, s->state);
    return NULL;
  }
  if (s->starts_at <= db_now_ms ()) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_ILLEGAL_TRANSITION, "slot %" G_GINT64_FORMAT " has begun", s->id);
    return NULL;
  }
  SlotRow *previous = NULL;
  g_autoptr (GPtrArray) all = store_slots_of_case (db, row->id);
  for (guint i = 0; i < all->len && !previous; i++)
    if (g_strcmp0 (((SlotRow *) g_ptr_array_index (all, i))->state, "booked") == 0)
      previous = g_ptr_array_index (all, i);
  if (previous && !check_reason (reason, error))
    return NULL;
  if (!db_durable_begin (db, error))
    return NULL;
  gboolean ok = (!previous || store_slot_set_state (db, previous->id, "offered", actor, reason)) &&
                store_slot_set_state (db, s->id, "booked", actor, previous ? reason : NULL);
  SlotRow *now = ok ? store_slot_get (db, s->id) : NULL;
  if (now && previous) {
    g_autofree gchar *from_id = g_strdup_printf ("%" G_GINT64_FORMAT, previous->id);
    g_autofree gchar *from = iso_utc (previous->starts_at);
    g_autofree gchar *detail = g_strdup_printf ("%s %s", from_id, from);
    note (db, actor, "slot.moved", now, "from_slot", detail, "reason", reason);
  } else if (now) {
    note (db, actor, "slot.booked", now, NULL, NULL, NULL, NULL);
  }
  if (!db_durable_end (db, now != NULL, NULL)) {
    g_clear_pointer (&now, slot_row_free);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the booking was not saved");
  }
  return now;
}

SlotRow *
slots_move (sqlite3 *db, const KanyanConfig *cfg, const gchar *actor, const CaseRow *row, gint64 slot_id,
            gint64 start, gint minutes, const gchar *reason, GError **error)
{
  if (!workflow_check_open (row, error) || !check_minutes (minutes, error) || !check_reason (reason, error))
    return NULL;
  g_autoptr (SlotRow) s = of_case (db, row, slot_id, error);
  if (!s)
    return NULL;
  if (g_strcmp0 (s->state, "cancelled") == 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_ILLEGAL_TRANSITION, "slot %" G_GINT64_FORMAT " is cancelled", s->id);
    return NULL;
  }
  gint64 end = start + (gint64) minutes * 60 * 1000;
  if (!db_durable_begin (db, error))
    return NULL;
  SlotRow *now = NULL;
  if (check_time (db, cfg, s->reviewer, start, end, s->id, error) && store_slot_set_time (db, s->id, start, end))
    now = store_slot_get (db, s->id);
  if (now) {
    g_autofree gchar *from = iso_utc (s->starts_at);
    note (db, actor, "slot.moved", now, "from", from, "reason", reason);
  }
  if (!db_durable_end (db, now != NULL, NULL)) {
    g_clear_pointer (&now, slot_row_free);
    if (error && !*error)
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the move was not saved");
  }
  return now;
}

SlotRow *
slots_cancel (sqlite3 *db, const gchar *actor, const CaseRow *row, gint64 slot_id, const gchar *reason,
              gboolean by_applicant, GError **error)
{
  if (!check_reason (reason, error))
    return NULL;
  g_autoptr (SlotRow) s = of_case (db, row, slot_id, error);
  if (!s)
    return NULL;
  if (by_applicant ? g_strcmp0 (s->state, "booked") != 0 : g_strcmp0 (s->state, "cancelled") == 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_ILLEGAL_TRANSITION, "slot %" G_GINT64_FORMAT " is %s", s->id,
                 s->state);
    return NULL;
  }
  if (!store_slot_set_state (db, s->id, by_applicant ? "offered" : "cancelled", actor, reason)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the cancellation was not saved");
    return NULL;
  }
  SlotRow *now = store_slot_get (db, s->id);
  note (db, actor, "slot.cancelled", now, "was", s->state, "reason", reason);
  return now;
}

/* member by member, as every serializer of serialize.c and webhooks.c is: alike in shape, each
 * the one place its row's JSON is named */
void
slot_to_json (JsonBuilder *b, const SlotRow *s, gboolean staff)
{
  g_autofree gchar *start = iso_utc (s->starts_at), *end = iso_utc (s->ends_at);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, s->id);
  json_builder_set_member_name (b, "case");
  json_builder_add_string_value (b, s->case_ref);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, s->state);
  json_builder_set_member_name (b, "starts_at");
  json_builder_add_int_value (b, s->starts_at);
  json_builder_set_member_name (b, "ends_at");
  json_builder_add_int_value (b, s->ends_at);
  json_builder_set_member_name (b, "start");
  json_builder_add_string_value (b, start);
  json_builder_set_member_name (b, "end");
  json_builder_add_string_value (b, end);
  json_builder_set_member_name (b, "minutes");
  json_builder_add_int_value (b, (s->ends_at - s->starts_at) / 60000);
  json_builder_set_member_name (b, "booked_by");
  if (s->booked_by)
    json_builder_add_string_value (b, s->booked_by);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "reason");
  if (s->reason)
    json_builder_add_string_value (b, s->reason);
  else
    json_builder_add_null_value (b);
  if (staff) {
    json_builder_set_member_name (b, "reviewer");
    json_builder_add_string_value (b, s->reviewer);
    json_builder_set_member_name (b, "offered_by");
    json_builder_add_string_value (b, s->offered_by);
  }
  json_builder_end_object (b);
}

gchar *
slots_ics (const CaseRow *row, const SlotRow *s)
{
  g_autofree gchar *uid = g_strdup_printf ("slot-%" G_GINT64_FORMAT "-case-%" G_GINT64_FORMAT "@kanyan", s->id,
                                           s->case_id);
  g_autofree gchar *summary = g_strdup_printf ("Remote inspection 远程勘验 %s", row->ref);
  g_autofree gchar *description = g_strdup_printf (
      "%s / %s\nOpen your invite link at this time; the reviewer will call you in.\n"
      "请在此时打开您的邀请链接，审查人员将接入。", row->type_title_en, row->type_title_zh);
  IcsEvent ev = { .uid = uid, .stamp_ms = db_now_ms (), .start_ms = s->starts_at, .end_ms = s->ends_at,
                  .summary = summary, .description = description, .location = row->site_address,
                  .sequence = s->revision, .cancelled = g_strcmp0 (s->state, "cancelled") == 0 };
  return ics_event (&ev);
}

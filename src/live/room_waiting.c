/* room_waiting.c — the waiting room of a live inspection (issue 18): a case with a booked
 * slot has one. Its applicant's page, joined with "wait": true before any reviewer is in the
 * room, is there (reviewers see it waiting, and since when) but sends no media until a
 * reviewer admits it; a page that comes while a reviewer is in is let in at once. The
 * admission lasts as long as the room, so the page's reconnects, a reloaded page and a
 * reviewer who leaves and comes back never send it back to waiting. Also what a `state`
 * message says about it, and the booked slot it waits for. Live state only (no table): the
 * audit log keeps `applicant.waiting` and `applicant.admitted`. Never touches media or
 * membership (room.c). Main loop. */
#include "live/room_private.h"
#include "review/audit.h"
#include "review/workflow.h"
#include "core/errors.h"
#include "store/store_slots.h"

static gchar *
session_text (Room *room)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT, room->session_id);
}

/* The applicant's page waits from now, or (a reloaded page, replacing the one that waited)
 * still since kept_since: audited when a wait begins. */
void
room_waiting_begin (Room *room, gint64 kept_since)
{
  if (kept_since) {
    room->waiting_since = kept_since;
    return;
  }
  room->waiting_since = g_get_real_time () / 1000;
  g_autofree gchar *session = session_text (room);
  gint64 slot = room_booked_slot_at (room);
  g_autofree gchar *slot_text = slot ? g_strdup_printf ("%" G_GINT64_FORMAT, slot) : NULL;
  audit_note (room->app->db, "applicant", "applicant.waiting", room->case_ref, "session", session,
              slot_text ? "slot_at" : NULL, slot_text, NULL);
  g_info ("case %s: the applicant waits to be admitted", room->case_ref);
}

void
room_waiting_end (Room *room)
{
  room->waiting_since = 0;
}

/* The start (ms) of the case's booked slot: the earliest that has not ended yet, else the
 * last one (past: the applicant came late); 0 when nothing is booked. */
gint64
room_booked_slot_at (Room *room)
{
  g_autoptr (GPtrArray) slots = store_slots_of_case (room->app->db, room->case_id);
  gint64 now = g_get_real_time () / 1000, last = 0;
  for (guint i = 0; slots && i < slots->len; i++) {
    SlotRow *s = g_ptr_array_index (slots, i);
    if (g_strcmp0 (s->state, "booked") != 0)
      continue;
    if (s->ends_at > now)
      return s->starts_at;
    last = s->starts_at;
  }
  return last;
}

static void
note_admitted (Room *room, const gchar *actor, const gchar *by, gint64 waited_ms, gboolean early, gboolean present)
{
  g_autofree gchar *session = session_text (room);
  g_autofree gchar *waited = g_strdup_printf ("%" G_GINT64_FORMAT, MAX (waited_ms, 0) / 1000);
  audit_note (room->app->db, actor, "applicant.admitted", room->case_ref, "session", session, "by", by,
              "waited_s", waited, "early", early ? "true" : "false", present ? "reviewer_present" : NULL,
              present ? "true" : NULL, NULL);
}

gint64
room_waiting_since (Room *room)
{
  return room->applicant ? room->waiting_since : 0;
}

gboolean
room_waiting_applies (Room *room)
{
  if (room->admitted)
    return FALSE;
  gint64 slot = room_booked_slot_at (room);
  /* no appointment: by default the reviewer sent the link for now, and the page goes in at once;
   * with [bureau] waiting_room = always it waits too ("the reviewer will join shortly") */
  if (!slot && !room->app->config->waiting_room_always)
    return FALSE;
  for (guint i = 0; i < room->participants->len; i++) {
    Participant *r = g_ptr_array_index (room->participants, i);
    if (r->role == ROLE_REVIEWER) {   /* a reviewer is in already: let in at once */
      room->admitted = TRUE;
      note_admitted (room, "server", r->name, 0, g_get_real_time () / 1000 < slot, TRUE);
      return FALSE;
    }
  }
  return TRUE;
}

/* "applicant": absent | waiting | connecting | live | reconnecting; while it waits, also
 * "waiting_since" (ms) and "slot_at" (ms of the booked slot's start, or null) */
void
room_add_state_fields (JsonBuilder *b, Room *room)
{
  json_builder_set_member_name (b, "applicant");
  json_builder_add_string_value (b, room_applicant_state (room));
  if (!room->applicant || !room->waiting_since)
    return;
  json_builder_set_member_name (b, "waiting_since");
  json_builder_add_int_value (b, room->waiting_since);
  gint64 slot = room_booked_slot_at (room);
  json_builder_set_member_name (b, "slot_at");
  if (slot)
    json_builder_add_int_value (b, slot);
  else
    json_builder_add_null_value (b);
}

gboolean
room_admit (Room *room, Participant *by, GError **error)
{
  if (by->role != ROLE_REVIEWER) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_WRONG_ROLE, "only a reviewer of the case admits its applicant");
    return FALSE;
  }
  if (room->admitted)   /* another reviewer was quicker, or a second click: nothing more to do */
    return TRUE;
  if (!room->applicant || !room->waiting_since) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOBODY_WAITING, "no applicant is waiting to be admitted");
    return FALSE;
  }
  gint64 now = g_get_real_time () / 1000;
  gint64 slot = room_booked_slot_at (room);
  gboolean early = slot && now < slot;   /* called in before the booked time */
  note_admitted (room, by->name, by->name, now - room->waiting_since, early, FALSE);
  room->admitted = TRUE;
  room->waiting_since = 0;
  g_autoptr (CaseRow) row = store_case_get (room->app->db, room->case_ref, NULL);
  if (row)   /* the live inspection starts now: the case is being inspected (again) */
    workflow_note (room->app->db, by->name, row, CASE_EVENT_LIVE);
  g_info ("case %s: %s admitted the applicant%s", room->case_ref, by->name, early ? " (called in early)" : "");
  g_autoptr (JsonBuilder) b = room_message_begin ("admitted");
  json_builder_set_member_name (b, "by");
  json_builder_add_string_value (b, by->name);
  json_builder_set_member_name (b, "early");
  json_builder_add_boolean_value (b, early);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *json = json_to_string (root, FALSE);
  room_broadcast (room, json, FALSE);
  room_broadcast_state (room);
  return TRUE;
}

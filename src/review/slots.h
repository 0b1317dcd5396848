/* slots.h — booking: inspection slots a case's owner offers (REST or `kanyan case slot add`),
 * the applicant picks one (or the reviewer books it for them), either side moves or cancels it
 * with a reason; every step audited. A slot lies on working days of the bureau's calendar (in
 * the server's time zone) and never overlaps another offered or booked slot of its reviewer. */
#pragma once
#include "app/app.h"
#include "store/db.h"
#include "store/store_slots.h"
#include "review/calendar.h"
#include <json-glib/json-glib.h>

#define SLOT_MINUTES_DEFAULT 30
#define SLOT_MINUTES_MIN     5
#define SLOT_MINUTES_MAX     480
#define SLOT_REASON_MAX      500   /* characters */

/* "2026-12-10 14:30" or "2026-12-10T14:30[:SS]" in tz (NULL: the server's), or with an offset
 * or Z: ms since the epoch; else BAD_FIELD */
gboolean slots_parse_time (const gchar *text, GTimeZone *tz, gint64 *ms, GError **error);
/* The rules, pure: [start, end) begins after now, on working days of cal (its first and last
 * day, in tz), and overlaps none of others (SlotRow*, the same reviewer's; the one with id
 * self_id is the slot being moved). BAD_FIELD, NOT_WORKING_DAY or SLOT_CONFLICT. */
gboolean slots_check (const WorkCalendar *cal, GTimeZone *tz, gint64 now_ms, gint64 start, gint64 end,
                      GPtrArray *others, gint64 self_id, GError **error);

/* The reviewer is the case's owner (or, without one, the actor). */
SlotRow *slots_offer (sqlite3 *db, const KanyanConfig *cfg, const gchar *actor, const CaseRow *row, gint64 start,
                      gint minutes, GError **error);
/* An offered slot becomes the case's booking; when another slot of the case was booked, this is
 * a move: reason required, the other slot is offered again. */
SlotRow *slots_book (sqlite3 *db, const gchar *actor, const CaseRow *row, gint64 slot_id, const gchar *reason,
                     GError **error);
/* staff: a new time for an offered or booked slot (checked like an offer) */
SlotRow *slots_move (sqlite3 *db, const KanyanConfig *cfg, const gchar *actor, const CaseRow *row, gint64 slot_id,
                     gint64 start, gint minutes, const gchar *reason, GError **error);
/* by_applicant: their booking is undone (the slot is offered again); staff: the slot is withdrawn */
SlotRow *slots_cancel (sqlite3 *db, const gchar *actor, const CaseRow *row, gint64 slot_id, const gchar *reason,
                       gboolean by_applicant, GError **error);
/* the slot of this case with that id as text, or NOT_FOUND */
SlotRow *slots_get (sqlite3 *db, const CaseRow *row, const gchar *id_text, GError **error);

/* {id, case, state, starts_at, ends_at (ms), start, end (UTC, ISO 8601), minutes, booked_by,
 * reason, and for staff: reviewer, offered_by} */
void     slot_to_json (JsonBuilder *b, const SlotRow *s, gboolean staff);
/* the booked slot as an iCalendar file (RFC 5545) */
gchar   *slots_ics (const CaseRow *row, const SlotRow *s);

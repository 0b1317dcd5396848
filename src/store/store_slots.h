/* store_slots.h — inspection slots (booking): a reviewer's time offered to one case, booked by
 * its applicant (or for them), moved or cancelled with a reason. Rows only; the rules (working
 * days, no double booking) are review/slots.c's. */
#pragma once
#include <glib.h>
#include <sqlite3.h>

typedef struct {
  gint64 id, case_id, starts_at, ends_at, created_at, booked_at, cancelled_at;   /* ms since epoch */
  gchar *case_ref, *reviewer, *state, *offered_by, *booked_by, *cancelled_by, *reason;
  gint   revision;   /* how many changes (bookings, moves, cancellations) it has seen */
} SlotRow;
void       slot_row_free (SlotRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SlotRow, slot_row_free)

gint64     store_slot_add (sqlite3 *db, gint64 case_id, const gchar *reviewer, gint64 starts_at, gint64 ends_at,
                           const gchar *offered_by, GError **error);
SlotRow   *store_slot_get (sqlite3 *db, gint64 slot_id);                  /* NULL: no such slot */
GPtrArray *store_slots_of_case (sqlite3 *db, gint64 case_id);             /* of SlotRow*, by start */
/* the reviewer's slots (offered or booked, any case) that overlap [from, to) */
GPtrArray *store_slots_of_reviewer (sqlite3 *db, const gchar *reviewer, gint64 from, gint64 to);
/* every offered or booked slot that has not ended by `from`, by start (the desk) */
GPtrArray *store_slots_upcoming (sqlite3 *db, gint64 from);
gboolean   store_slot_set_time (sqlite3 *db, gint64 slot_id, gint64 starts_at, gint64 ends_at);
/* state "booked" (by), "offered" (its booking undone), "cancelled" (by, reason) */
gboolean   store_slot_set_state (sqlite3 *db, gint64 slot_id, const gchar *state, const gchar *by,
                                 const gchar *reason);

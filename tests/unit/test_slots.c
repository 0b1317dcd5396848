/* test_slots.c — booking rules across the calendar (weekends, holidays, make-up days, a slot
 * running past midnight into a holiday), no double booking (overlap refused, touching allowed,
 * cancelled and the moved slot itself ignored), parsing times; the same rules through a real
 * SQLite file (two cases of one reviewer). The invite short codes: test_short_code.c. */
#include "review/slots.h"
#include "review/cases.h"
#include "review/users.h"
#include "review/audit.h"
#include "core/errors.h"
#include <glib/gstdio.h>
#include <sodium.h>

static GTimeZone *utc;

static gint64
at (const gchar *iso)   /* "2026-12-10T14:30:00Z" */
{
  g_autoptr (GDateTime) t = g_date_time_new_from_iso8601 (iso, utc);
  g_assert_nonnull (t);
  return g_date_time_to_unix (t) * 1000;
}

static SlotRow *
other (gint64 id, const gchar *from, const gchar *to, const gchar *state)
{
  SlotRow *s = g_new0 (SlotRow, 1);
  s->id = id;
  s->starts_at = at (from);
  s->ends_at = at (to);
  s->state = g_strdup (state);
  s->reviewer = g_strdup ("owner");
  s->case_ref = g_strdup ("OTHER-1");
  return s;
}

static gint
check (const WorkCalendar *cal, GPtrArray *others, const gchar *from, gint minutes, gint64 self)
{
  g_autoptr (GError) error = NULL;
  gint64 start = at (from);
  gboolean ok = slots_check (cal, utc, at ("2026-12-01T00:00:00Z"), start, start + minutes * 60000LL, others, self,
                             &error);
  g_assert_true (ok == (error == NULL));
  return ok ? -1 : error->code;
}

static void
test_calendar (void)
{
  const gchar *holidays[] = { "2026-12-11", NULL };   /* a Friday */
  const gchar *workdays[] = { "2026-12-13", NULL };   /* a Sunday made a working day (调休) */
  g_autoptr (WorkCalendar) cal = calendar_new (holidays, workdays, NULL);
  g_autoptr (GPtrArray) none = g_ptr_array_new ();
  g_assert_cmpint (check (cal, none, "2026-12-10T14:30:00Z", 30, 0), ==, -1);                        /* Thursday */
  g_assert_cmpint (check (cal, none, "2026-12-12T10:00:00Z", 30, 0), ==, KANYAN_ERROR_NOT_WORKING_DAY);   /* Saturday */
  g_assert_cmpint (check (cal, none, "2026-12-11T10:00:00Z", 30, 0), ==, KANYAN_ERROR_NOT_WORKING_DAY);   /* holiday */
  g_assert_cmpint (check (cal, none, "2026-12-13T10:00:00Z", 30, 0), ==, -1);                        /* make-up day */
  g_assert_cmpint (check (cal, none, "2026-12-14T09:00:00Z", 30, 0), ==, -1);                        /* Monday */
  /* begins on a working day, ends on the holiday */
  g_assert_cmpint (check (cal, none, "2026-12-10T23:50:00Z", 30, 0), ==, KANYAN_ERROR_NOT_WORKING_DAY);
  /* ends exactly at midnight: its last minute is still the working day */
  g_assert_cmpint (check (cal, none, "2026-12-10T23:30:00Z", 30, 0), ==, -1);
  /* in the past, or of no length */
  g_assert_cmpint (check (cal, none, "2026-11-30T10:00:00Z", 30, 0), ==, KANYAN_ERROR_BAD_FIELD);
  g_assert_cmpint (check (cal, none, "2026-12-10T10:00:00Z", 0, 0), ==, KANYAN_ERROR_BAD_FIELD);
  /* without a calendar: weekends only */
  g_assert_cmpint (check (NULL, none, "2026-12-11T10:00:00Z", 30, 0), ==, -1);
  g_assert_cmpint (check (NULL, none, "2026-12-13T10:00:00Z", 30, 0), ==, KANYAN_ERROR_NOT_WORKING_DAY);
  /* the working day is the bureau's (tz): 2026-12-11T23:30Z is Saturday in UTC+8 */
  g_autoptr (GTimeZone) cst = g_time_zone_new_identifier ("+08:00");
  g_autoptr (GError) error = NULL;
  gint64 start = at ("2026-12-11T17:30:00Z");
  g_assert_false (slots_check (NULL, cst, 0, start, start + 1800000, none, 0, &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_WORKING_DAY);
  g_clear_error (&error);
  g_assert_true (slots_check (NULL, utc, 0, start, start + 1800000, none, 0, &error));
}

static void
test_double_booking (void)
{
  g_autoptr (GPtrArray) others = g_ptr_array_new_with_free_func ((GDestroyNotify) slot_row_free);
  g_ptr_array_add (others, other (7, "2026-12-10T14:00:00Z", "2026-12-10T14:30:00Z", "booked"));
  g_ptr_array_add (others, other (8, "2026-12-10T16:00:00Z", "2026-12-10T17:00:00Z", "offered"));
  g_ptr_array_add (others, other (9, "2026-12-10T10:00:00Z", "2026-12-10T11:00:00Z", "cancelled"));
  /* overlaps: the same time, inside, across either edge */
  g_assert_cmpint (check (NULL, others, "2026-12-10T14:00:00Z", 30, 0), ==, KANYAN_ERROR_SLOT_CONFLICT);
  g_assert_cmpint (check (NULL, others, "2026-12-10T14:10:00Z", 10, 0), ==, KANYAN_ERROR_SLOT_CONFLICT);
  g_assert_cmpint (check (NULL, others, "2026-12-10T13:45:00Z", 30, 0), ==, KANYAN_ERROR_SLOT_CONFLICT);
  g_assert_cmpint (check (NULL, others, "2026-12-10T14:29:00Z", 30, 0), ==, KANYAN_ERROR_SLOT_CONFLICT);
  g_assert_cmpint (check (NULL, others, "2026-12-10T15:45:00Z", 120, 0), ==, KANYAN_ERROR_SLOT_CONFLICT);  /* an offered one */
  /* touching: one ends as the other begins */
  g_assert_cmpint (check (NULL, others, "2026-12-10T14:30:00Z", 30, 0), ==, -1);
  g_assert_cmpint (check (NULL, others, "2026-12-10T13:30:00Z", 30, 0), ==, -1);
  g_assert_cmpint (check (NULL, others, "2026-12-10T14:30:00Z", 90, 0), ==, -1);   /* between both */
  /* a cancelled slot holds no time; the slot being moved does not clash with itself */
  g_assert_cmpint (check (NULL, others, "2026-12-10T10:00:00Z", 60, 0), ==, -1);
  g_assert_cmpint (check (NULL, others, "2026-12-10T14:15:00Z", 30, 7), ==, -1);
  g_assert_cmpint (check (NULL, others, "2026-12-10T14:15:00Z", 30, 8), ==, KANYAN_ERROR_SLOT_CONFLICT);
}

static void
test_parse_time (void)
{
  gint64 ms = 0;
  g_assert_true (slots_parse_time ("2026-12-10 14:30", utc, &ms, NULL));
  g_assert_cmpint (ms, ==, at ("2026-12-10T14:30:00Z"));
  g_assert_true (slots_parse_time ("2026-12-10T14:30:15", utc, &ms, NULL));
  g_assert_cmpint (ms, ==, at ("2026-12-10T14:30:15Z"));
  g_assert_true (slots_parse_time ("2026-12-10T14:30:00+08:00", utc, &ms, NULL));   /* an offset wins over tz */
  g_assert_cmpint (ms, ==, at ("2026-12-10T06:30:00Z"));
  const gchar *bad[] = { "", "2026-12-10", "14:30", "2026-13-10 14:30", "2026-12-10 25:00", "tomorrow", NULL };
  for (guint i = 0; bad[i]; i++) {
    g_autoptr (GError) error = NULL;
    g_assert_false (slots_parse_time (bad[i], utc, &ms, &error));
    g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD);
  }
}

/* the rules through the database: one reviewer, two cases */
static void
test_offer_in_database (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("kanyan-slots-XXXXXX", NULL);
  g_autofree gchar *path = g_build_filename (dir, "kanyan.db", NULL);
  g_autoptr (GError) error = NULL;
  sqlite3 *db = db_open (path, &error);
  g_assert_no_error (error);
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_autoptr (User) owner = users_add (db, "owner", "pw-owner-123456", "reviewer", "commerce", &error);
  g_assert_no_error (error);
  CaseFacts a = { .ref = "SL-1", .type_key = "fuel-retail" }, b = { .ref = "SL-2", .type_key = "fuel-retail" };
  g_autoptr (CaseRow) one = cases_create (db, cfg, "test", &a, "owner", &error);
  g_autoptr (CaseRow) two = cases_create (db, cfg, "test", &b, "owner", &error);
  g_assert_no_error (error);
  /* the next Wednesday at 10:00, local time: a working day (no holidays configured) */
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  gint ahead = (3 - g_date_time_get_day_of_week (now) + 7) % 7 + 7;
  g_autoptr (GDateTime) day = g_date_time_add_days (now, ahead);
  g_autoptr (GDateTime) ten = g_date_time_new_local (g_date_time_get_year (day), g_date_time_get_month (day),
                                                     g_date_time_get_day_of_month (day), 10, 0, 0);
  gint64 start = g_date_time_to_unix (ten) * 1000;
  g_autoptr (SlotRow) s1 = slots_offer (db, cfg, "owner", one, start, 30, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s1->state, ==, "offered");
  g_assert_cmpstr (s1->reviewer, ==, "owner");
  /* the same reviewer, another case, overlapping: refused; touching: allowed */
  g_assert_null (slots_offer (db, cfg, "owner", two, start + 15 * 60000, 30, &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_SLOT_CONFLICT);
  g_clear_error (&error);
  g_autoptr (SlotRow) s2 = slots_offer (db, cfg, "owner", two, start + 30 * 60000, 30, &error);
  g_assert_no_error (error);
  /* a weekend (Saturday of that week) */
  g_assert_null (slots_offer (db, cfg, "owner", two, start + 3 * 86400000LL, 30, &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_WORKING_DAY);
  g_clear_error (&error);
  /* booking, then moving the booking to another offered slot needs a reason */
  g_autoptr (SlotRow) s3 = slots_offer (db, cfg, "owner", one, start + 120 * 60000, 30, &error);
  g_autoptr (SlotRow) booked = slots_book (db, "applicant", one, s1->id, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (booked->state, ==, "booked");
  g_assert_null (slots_book (db, "applicant", one, s3->id, NULL, &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD);
  g_clear_error (&error);
  g_autoptr (SlotRow) moved = slots_book (db, "applicant", one, s3->id, "a delivery comes at 10", &error);
  g_assert_no_error (error);
  g_autoptr (SlotRow) freed = store_slot_get (db, s1->id);
  g_assert_cmpstr (freed->state, ==, "offered");
  /* a staff move onto the other case's slot clashes; the audit holds every step */
  g_assert_null (slots_move (db, cfg, "owner", one, s3->id, start + 30 * 60000, 30, "earlier", &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_SLOT_CONFLICT);
  g_clear_error (&error);
  g_autoptr (GPtrArray) log = audit_entries (db, "SL-1");
  guint offered = 0, booked_n = 0, moved_n = 0;
  for (guint i = 0; i < log->len; i++) {
    AuditEntry *e = g_ptr_array_index (log, i);
    offered += g_strcmp0 (e->action, "slot.offered") == 0;
    booked_n += g_strcmp0 (e->action, "slot.booked") == 0;
    moved_n += g_strcmp0 (e->action, "slot.moved") == 0;
  }
  g_assert_cmpuint (offered, ==, 2);
  g_assert_cmpuint (booked_n, ==, 1);
  g_assert_cmpuint (moved_n, ==, 1);
  db_close (db);
  g_unlink (path);
  g_autofree gchar *wal = g_strconcat (path, "-wal", NULL), *shm = g_strconcat (path, "-shm", NULL);
  g_unlink (wal);
  g_unlink (shm);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_assert_cmpint (sodium_init (), >=, 0);
  utc = g_time_zone_new_utc ();
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/slots/calendar", test_calendar);
  g_test_add_func ("/slots/double-booking", test_double_booking);
  g_test_add_func ("/slots/parse-time", test_parse_time);
  g_test_add_func ("/slots/database", test_offer_in_database);
  return g_test_run ();
}

/* test_calendar.c — working days for case deadlines: weekends, holidays, make-up days. */
#include "review/calendar.h"

static void
date (const gchar *text, GDate *out)
{
  g_assert_true (calendar_parse_date (text, out));
}

static gchar *
plus (const WorkCalendar *cal, const gchar *from, gint days)
{
  GDate d, out;
  date (from, &d);
  calendar_add_working_days (cal, &d, days, &out);
  return calendar_format_date (&out);
}

static void
test_parse (void)
{
  GDate d;
  g_assert_true (calendar_parse_date ("2026-02-28", &d));
  g_assert_cmpint (g_date_get_day (&d), ==, 28);
  const gchar *bad[] = { "2026-02-29", "2026-13-01", "2026-1-01", " 2026-01-01", "2026/01/01", "20260101",
                         "2026-01-01x", "+026-01-01", "", "2026-00-10", "2026-01-32" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (calendar_parse_date (bad[i], &d));
  g_assert_false (calendar_parse_date (NULL, &d));
}

static void
test_weekends (void)
{
  /* 2026-11-25 is a Wednesday: 10 working days later is Wednesday 2026-12-09 */
  g_autofree gchar *a = plus (NULL, "2026-11-25", 10);
  g_assert_cmpstr (a, ==, "2026-12-09");
  /* accepted on a Saturday: the first working day is Monday */
  g_autofree gchar *b = plus (NULL, "2026-11-28", 1);
  g_assert_cmpstr (b, ==, "2026-11-30");
  g_autofree gchar *c = plus (NULL, "2026-11-27", 0);
  g_assert_cmpstr (c, ==, "2026-11-27");
}

static void
test_holidays_and_makeup_days (void)
{
  /* National Day week 2026: Oct 1–7 off (Thu 1 … Wed 7), Sat Oct 10 worked */
  const gchar *holidays[] = { "2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07", NULL };
  const gchar *workdays[] = { "2026-10-10", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (WorkCalendar) cal = calendar_new (holidays, workdays, &error);
  g_assert_no_error (error);
  /* from Wed Sep 30: Oct 8 (Thu), 9 (Fri), 10 (Sat, make-up), 12 (Mon) */
  g_autofree gchar *a = plus (cal, "2026-09-30", 4);
  g_assert_cmpstr (a, ==, "2026-10-12");
  GDate d;
  date ("2026-10-10", &d);
  g_assert_true (calendar_is_working_day (cal, &d));
  date ("2026-10-06", &d);
  g_assert_false (calendar_is_working_day (cal, &d));
  const gchar *broken[] = { "2026-10-01", "Oct 2", NULL };
  g_autoptr (GError) bad = NULL;
  g_assert_null (calendar_new (broken, NULL, &bad));
  g_assert_error (bad, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
}

static void
test_year_end (void)
{
  /* Wed 2026-12-30 + 3: Thu 31, Fri Jan 1 and Mon Jan 4 — or, with New Year's Day off, Tue Jan 5 */
  g_autofree gchar *plain = plus (NULL, "2026-12-30", 3);
  g_assert_cmpstr (plain, ==, "2027-01-04");
  const gchar *holidays[] = { "2027-01-01", NULL };
  g_autoptr (WorkCalendar) cal = calendar_new (holidays, NULL, NULL);
  g_autofree gchar *with_holiday = plus (cal, "2026-12-30", 3);
  g_assert_cmpstr (with_holiday, ==, "2027-01-05");
  GDate today, deadline;
  date ("2026-12-28", &today);
  date ("2027-01-05", &deadline);
  g_assert_cmpint (calendar_working_days_left (cal, &today, &deadline), ==, 5);   /* 29, 30, 31, Jan 4, 5 */
  /* a leap day */
  g_autofree gchar *leap = plus (NULL, "2028-02-28", 1);
  g_assert_cmpstr (leap, ==, "2028-02-29");
}

static void
test_days_left (void)
{
  GDate today, deadline;
  date ("2026-12-09", &deadline);
  date ("2026-11-25", &today);
  g_assert_cmpint (calendar_working_days_left (NULL, &today, &deadline), ==, 10);
  date ("2026-12-09", &today);
  g_assert_cmpint (calendar_working_days_left (NULL, &today, &deadline), ==, 0);
  date ("2026-12-12", &today);   /* Saturday after: 2 working days late (Thu, Fri) */
  g_assert_cmpint (calendar_working_days_left (NULL, &today, &deadline), ==, -2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/calendar/parse", test_parse);
  g_test_add_func ("/calendar/weekends", test_weekends);
  g_test_add_func ("/calendar/holidays-and-make-up-days", test_holidays_and_makeup_days);
  g_test_add_func ("/calendar/days-left", test_days_left);
  g_test_add_func ("/calendar/year-end", test_year_end);
  return g_test_run ();
}

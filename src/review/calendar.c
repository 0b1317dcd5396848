/* calendar.c — working-day arithmetic for case deadlines. Owns the holiday and make-up-day
 * sets; never reads the database or the configuration file itself. */
#include "review/calendar.h"
#include <stdlib.h>

gboolean
calendar_parse_date (const gchar *text, GDate *out)
{
  if (!text || strlen (text) != 10 || text[4] != '-' || text[7] != '-')
    return FALSE;
  for (guint i = 0; i < 10; i++)
    if (i != 4 && i != 7 && !g_ascii_isdigit (text[i]))
      return FALSE;
  guint y = atoi (text), m = atoi (text + 5), d = atoi (text + 8);
  if (!g_date_valid_dmy (d, m, y))
    return FALSE;
  g_date_clear (out, 1);
  g_date_set_dmy (out, d, m, y);
  return TRUE;
}

gchar *
calendar_format_date (const GDate *date)
{
  return g_strdup_printf ("%04u-%02u-%02u", g_date_get_year (date), g_date_get_month (date), g_date_get_day (date));
}

static GHashTable *
date_set (const gchar *const *dates, GError **error)
{
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (const gchar *const *p = dates; p && *p; p++) {
    GDate d;
    g_autofree gchar *text = g_strstrip (g_strdup (*p));
    if (!*text)
      continue;
    if (!calendar_parse_date (text, &d)) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "'%s' is not a date (YYYY-MM-DD)", text);
      g_hash_table_unref (set);
      return NULL;
    }
    g_hash_table_add (set, g_steal_pointer (&text));
  }
  return set;
}

WorkCalendar *
calendar_new (const gchar *const *holidays, const gchar *const *workdays, GError **error)
{
  g_autoptr (WorkCalendar) cal = g_new0 (WorkCalendar, 1);
  if (!(cal->holidays = date_set (holidays, error)) || !(cal->workdays = date_set (workdays, error)))
    return NULL;
  return g_steal_pointer (&cal);
}

void
calendar_free (WorkCalendar *cal)
{
  if (!cal)
    return;
  g_clear_pointer (&cal->holidays, g_hash_table_unref);
  g_clear_pointer (&cal->workdays, g_hash_table_unref);
  g_free (cal);
}

gboolean
calendar_is_working_day (const WorkCalendar *cal, const GDate *date)
{
  g_autofree gchar *key = calendar_format_date (date);
  GDateWeekday wd = g_date_get_weekday (date);
  if (wd == G_DATE_SATURDAY || wd == G_DATE_SUNDAY)
    return cal && g_hash_table_contains (cal->workdays, key);
  return !(cal && g_hash_table_contains (cal->holidays, key));
}

void
calendar_add_working_days (const WorkCalendar *cal, const GDate *from, gint days, GDate *out)
{
  *out = *from;
  while (days > 0) {
    g_date_add_days (out, 1);
    if (calendar_is_working_day (cal, out))
      days--;
  }
}

gint
calendar_working_days_left (const WorkCalendar *cal, const GDate *today, const GDate *deadline)
{
  gint cmp = g_date_compare (today, deadline);
  GDate d = *(cmp <= 0 ? today : deadline);
  const GDate *end = cmp <= 0 ? deadline : today;
  gint n = 0;
  while (g_date_compare (&d, end) < 0) {
    g_date_add_days (&d, 1);
    if (calendar_is_working_day (cal, &d))
      n++;
  }
  return cmp <= 0 ? n : -n;
}

void
calendar_today (GDate *out)
{
  g_date_clear (out, 1);
  g_date_set_time_t (out, time (NULL));
}

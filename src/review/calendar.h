/* calendar.h — working days for time-limited completion (限时办结): weekends and configured
 * holidays are skipped, configured make-up working days (调休) count. Pure: no clock of its own. */
#pragma once
#include <glib.h>

typedef struct {
  GHashTable *holidays;   /* "YYYY-MM-DD" set: weekdays that are not working days */
  GHashTable *workdays;   /* "YYYY-MM-DD" set: weekend days that are working days */
} WorkCalendar;

WorkCalendar *calendar_new (const gchar *const *holidays, const gchar *const *workdays, GError **error);
void          calendar_free (WorkCalendar *cal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WorkCalendar, calendar_free)

gboolean calendar_parse_date (const gchar *text, GDate *out);          /* strict YYYY-MM-DD */
gchar   *calendar_format_date (const GDate *date);
gboolean calendar_is_working_day (const WorkCalendar *cal, const GDate *date);
/* the date on which `days` working days after `from` have passed (from itself does not count) */
void     calendar_add_working_days (const WorkCalendar *cal, const GDate *from, gint days, GDate *out);
/* working days from `today` (exclusive) to `deadline` (inclusive); negative once overdue
 * (minus the working days past it), 0 on the deadline itself */
gint     calendar_working_days_left (const WorkCalendar *cal, const GDate *today, const GDate *deadline);
void     calendar_today (GDate *out);                                  /* local date */

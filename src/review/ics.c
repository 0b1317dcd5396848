/* ics.c — writes iCalendar text (RFC 5545) for a booked inspection slot. Owns escaping,
 * folding and the calendar's frame; never knows what a slot or a case is (review/slots.c
 * fills in an IcsEvent). */
#include "review/ics.h"

gchar *
ics_escape_text (const gchar *text)
{
  GString *out = g_string_new (NULL);
  for (const gchar *p = text ? text : ""; *p; p++) {
    switch (*p) {
      case '\\': g_string_append (out, "\\\\"); break;
      case ';':  g_string_append (out, "\\;"); break;
      case ',':  g_string_append (out, "\\,"); break;
      case '\r':   /* CRLF and a lone CR are one newline */
        if (p[1] == '\n')
          p++;
        g_string_append (out, "\\n");
        break;
      case '\n': g_string_append (out, "\\n"); break;
      default:
        if ((guchar) *p < 0x20 && *p != '\t')   /* other controls are not allowed in TEXT */
          break;
        g_string_append_c (out, *p);
    }
  }
  return g_string_free (out, FALSE);
}

/* A content line of at most 75 octets per physical line (without the CRLF); each
 * continuation begins with one space, which counts. UTF-8 characters stay whole. */
void
ics_append_line (GString *out, const gchar *line)
{
  gsize len = strlen (line), pos = 0, room = 75;
  while (len - pos > room) {
    gsize cut = pos + room;
    while (cut > pos && ((guchar) line[cut] & 0xC0) == 0x80)   /* back to a character's first byte */
      cut--;
    g_string_append_len (out, line + pos, cut - pos);
    g_string_append (out, "\r\n ");
    pos = cut;
    room = 74;
  }
  g_string_append (out, line + pos);
  g_string_append (out, "\r\n");
}

gchar *
ics_utc (gint64 ms)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (ms / 1000);
  return t ? g_date_time_format (t, "%Y%m%dT%H%M%SZ") : g_strdup ("19700101T000000Z");
}

static void
text_property (GString *out, const gchar *name, const gchar *value)
{
  if (!value || !*value)
    return;
  g_autofree gchar *escaped = ics_escape_text (value);
  g_autofree gchar *line = g_strconcat (name, ":", escaped, NULL);
  ics_append_line (out, line);
}

gchar *
ics_event (const IcsEvent *ev)
{
  GString *out = g_string_new (NULL);
  g_autofree gchar *stamp = ics_utc (ev->stamp_ms), *start = ics_utc (ev->start_ms), *end = ics_utc (ev->end_ms);
  g_autofree gchar *seq = g_strdup_printf ("SEQUENCE:%d", ev->sequence);
  ics_append_line (out, "BEGIN:VCALENDAR");
  ics_append_line (out, "VERSION:2.0");
  ics_append_line (out, "PRODID:-//Kanyan//Inspection booking//EN");
  ics_append_line (out, "CALSCALE:GREGORIAN");
  ics_append_line (out, "METHOD:PUBLISH");
  ics_append_line (out, "BEGIN:VEVENT");
  g_autofree gchar *uid = g_strconcat ("UID:", ev->uid, NULL);   /* UID is TEXT too, but ours hold no specials */
  ics_append_line (out, uid);
  g_autofree gchar *l_stamp = g_strconcat ("DTSTAMP:", stamp, NULL);
  g_autofree gchar *l_start = g_strconcat ("DTSTART:", start, NULL);
  g_autofree gchar *l_end = g_strconcat ("DTEND:", end, NULL);
  ics_append_line (out, l_stamp);
  ics_append_line (out, l_start);
  ics_append_line (out, l_end);
  ics_append_line (out, seq);
  ics_append_line (out, ev->cancelled ? "STATUS:CANCELLED" : "STATUS:CONFIRMED");
  text_property (out, "SUMMARY", ev->summary);
  text_property (out, "DESCRIPTION", ev->description);
  text_property (out, "LOCATION", ev->location);
  if (ev->url && *ev->url) {
    g_autofree gchar *l_url = g_strconcat ("URL:", ev->url, NULL);   /* a URI value: not TEXT-escaped */
    ics_append_line (out, l_url);
  }
  ics_append_line (out, "END:VEVENT");
  ics_append_line (out, "END:VCALENDAR");
  return g_string_free (out, FALSE);
}

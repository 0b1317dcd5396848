/* ics.h — a small iCalendar (RFC 5545) writer: one VEVENT in a VCALENDAR, enough for a phone's
 * calendar. Lines end in CRLF and fold at 75 octets (never inside a UTF-8 character); TEXT
 * values escape \ ; , and newlines; times are UTC ("…Z"). Pure: no clock, no I/O. */
#pragma once
#include <glib.h>

typedef struct {
  const gchar *uid;           /* globally unique, stable for the event (a move keeps it) */
  gint64 stamp_ms;            /* DTSTAMP: when this file was made */
  gint64 start_ms, end_ms;    /* DTSTART, DTEND */
  const gchar *summary, *description, *location, *url;   /* NULL or "" = left out */
  gint sequence;              /* SEQUENCE: bumped on every change (a move) */
  gboolean cancelled;         /* STATUS:CANCELLED (else CONFIRMED) */
} IcsEvent;

gchar *ics_escape_text (const gchar *text);                  /* TEXT value escaping (3.3.11) */
void   ics_append_line (GString *out, const gchar *line);    /* folded, CRLF-terminated (3.1) */
gchar *ics_utc (gint64 ms);                                  /* 20261210T063000Z */
gchar *ics_event (const IcsEvent *ev);                       /* the whole VCALENDAR */

/* test_ics.c — the iCalendar writer: CRLF everywhere, folding at 75 octets (never inside a
 * UTF-8 character, unfolding gives the line back), TEXT escaping of \ ; , and newlines, the
 * required properties (UID, DTSTAMP, DTSTART/DTEND in UTC), and a parse-back with a real
 * parser (python3-icalendar, a Debian package tools/install-deps.sh installs). */
#include "review/ics.h"
#include <glib/gstdio.h>

static gchar *
unfold (const gchar *text)
{
  GString *out = g_string_new (NULL);
  for (const gchar *p = text; *p; p++) {
    if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ') {
      p += 2;
      continue;
    }
    g_string_append_c (out, *p);
  }
  return g_string_free (out, FALSE);
}

static void
test_escape (void)
{
  g_autofree gchar *e = ics_escape_text ("a,b;c\\d\ne\r\nf\rg");
  g_assert_cmpstr (e, ==, "a\\,b\\;c\\\\d\\ne\\nf\\ng");
  g_autofree gchar *plain = ics_escape_text ("现场勘验 on site: 10:00");
  g_assert_cmpstr (plain, ==, "现场勘验 on site: 10:00");   /* ':' needs no escape in a value */
  g_autofree gchar *empty = ics_escape_text (NULL);
  g_assert_cmpstr (empty, ==, "");
}

static void
test_fold (void)
{
  /* ASCII: 75 octets per physical line, continuations begin with one space */
  GString *out = g_string_new (NULL);
  g_autofree gchar *longline = g_strnfill (200, 'x');
  g_autofree gchar *line = g_strconcat ("DESCRIPTION:", longline, NULL);
  ics_append_line (out, line);
  g_auto (GStrv) physical = g_strsplit (out->str, "\r\n", -1);
  guint n = g_strv_length (physical);
  g_assert_cmpstr (physical[n - 1], ==, "");   /* ends in CRLF */
  g_assert_cmpuint (n - 1, ==, 3);             /* 212 octets: 75 + 74 + 63 */
  for (guint i = 0; i + 1 < n; i++) {
    g_assert_cmpuint (strlen (physical[i]), <=, 75);
    if (i > 0)
      g_assert_true (physical[i][0] == ' ');
  }
  g_assert_cmpuint (strlen (physical[0]), ==, 75);
  g_autofree gchar *back = unfold (out->str);
  g_autofree gchar *expected = g_strconcat (line, "\r\n", NULL);
  g_assert_cmpstr (back, ==, expected);
  g_string_free (out, TRUE);

  /* UTF-8: three-octet characters are never split, no line is over 75 octets */
  out = g_string_new (NULL);
  GString *zh = g_string_new ("SUMMARY:");
  for (guint i = 0; i < 60; i++)
    g_string_append (zh, "勘");
  ics_append_line (out, zh->str);
  g_auto (GStrv) lines = g_strsplit (out->str, "\r\n", -1);
  for (guint i = 0; lines[i] && *lines[i]; i++) {
    g_assert_cmpuint (strlen (lines[i]), <=, 75);
    g_assert_true (g_utf8_validate (lines[i], -1, NULL));
  }
  g_autofree gchar *zh_back = unfold (out->str);
  g_autofree gchar *zh_expected = g_strconcat (zh->str, "\r\n", NULL);
  g_assert_cmpstr (zh_back, ==, zh_expected);
  g_string_free (zh, TRUE);
  g_string_free (out, TRUE);

  /* short lines stay as they are */
  out = g_string_new (NULL);
  ics_append_line (out, "BEGIN:VEVENT");
  g_assert_cmpstr (out->str, ==, "BEGIN:VEVENT\r\n");
  g_string_free (out, TRUE);
}

static const IcsEvent EVENT = {
  .uid = "slot-12-case-3@kanyan", .stamp_ms = 1796800000000, .start_ms = 1796884200000, .end_ms = 1796886000000,
  .summary = "Remote inspection 远程勘验 KY-2026-0042",
  .description = "Fuel retail, site check; bring: licence\\permit\nOpen your link 请打开您的邀请链接，审查人员将接入。"
                 " A long sentence that makes this line fold more than once, surely, past seventy-five octets.",
  .location = "No. 8 Harbour Road; Pudong, Shanghai",
};

static void
test_event (void)
{
  g_autofree gchar *ics = ics_event (&EVENT);
  /* every line ends in CRLF: no bare LF, no bare CR */
  for (const gchar *p = ics; *p; p++) {
    if (*p == '\n')
      g_assert_true (p > ics && p[-1] == '\r');
    if (*p == '\r')
      g_assert_true (p[1] == '\n');
  }
  g_assert_true (g_str_has_suffix (ics, "END:VCALENDAR\r\n"));
  g_auto (GStrv) physical = g_strsplit (ics, "\r\n", -1);
  for (guint i = 0; physical[i]; i++)
    g_assert_cmpuint (strlen (physical[i]), <=, 75);
  g_autofree gchar *text = unfold (ics);
  g_assert_true (g_str_has_prefix (text, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"));
  g_assert_nonnull (strstr (text, "\r\nBEGIN:VEVENT\r\nUID:slot-12-case-3@kanyan\r\n"));
  g_autofree gchar *stamp = ics_utc (EVENT.stamp_ms);
  g_assert_cmpstr (stamp, ==, "20261209T070640Z");
  g_assert_nonnull (strstr (text, "\r\nDTSTAMP:20261209T070640Z\r\n"));
  g_assert_nonnull (strstr (text, "\r\nDTSTART:20261210T063000Z\r\n"));
  g_assert_nonnull (strstr (text, "\r\nDTEND:20261210T070000Z\r\n"));
  g_assert_nonnull (strstr (text, "\r\nLOCATION:No. 8 Harbour Road\\; Pudong\\, Shanghai\r\n"));
  g_assert_nonnull (strstr (text, "licence\\\\permit\\nOpen your link"));
  g_assert_nonnull (strstr (text, "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"));
}

/* a real parser reads back what was written (python3-icalendar) */
static void
test_parse_back (void)
{
  g_autofree gchar *ics = ics_event (&EVENT);
  g_autofree gchar *dir = g_dir_make_tmp ("kanyan-ics-XXXXXX", NULL);
  g_autofree gchar *path = g_build_filename (dir, "event.ics", NULL);
  g_assert_true (g_file_set_contents (path, ics, -1, NULL));
  const gchar *script =
      "import sys, icalendar\n"
      "cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())\n"
      "ev = [c for c in cal.walk() if c.name == 'VEVENT'][0]\n"
      "print(ev['UID'])\n"
      "print(ev.decoded('DTSTART').isoformat())\n"
      "print(ev.decoded('DTEND').isoformat())\n"
      "print(ev.decoded('DTSTAMP').isoformat())\n"
      "print(str(ev['SUMMARY']))\n"
      "print(str(ev['LOCATION']))\n"
      "print(repr(str(ev['DESCRIPTION'])))\n";
  const gchar *argv[] = { "/usr/bin/python3", "-c", script, path, NULL };
  g_autofree gchar *out = NULL, *err = NULL;
  gint status = 0;
  g_assert_true (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, NULL));
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("python3-icalendar could not read the file (is it installed? tools/install-deps.sh): %s", err);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  g_assert_cmpstr (lines[0], ==, "slot-12-case-3@kanyan");
  g_assert_cmpstr (lines[1], ==, "2026-12-10T06:30:00+00:00");
  g_assert_cmpstr (lines[2], ==, "2026-12-10T07:00:00+00:00");
  g_assert_cmpstr (lines[3], ==, "2026-12-09T07:06:40+00:00");
  g_assert_cmpstr (lines[4], ==, EVENT.summary);
  g_assert_cmpstr (lines[5], ==, EVENT.location);
  g_autofree gchar *desc_escaped = NULL;
  {
    GString *s = g_string_new ("'");
    for (const gchar *p = EVENT.description; *p; p++) {
      if (*p == '\\')
        g_string_append (s, "\\\\");
      else if (*p == '\n')
        g_string_append (s, "\\n");
      else
        g_string_append_c (s, *p);
    }
    g_string_append_c (s, '\'');
    desc_escaped = g_string_free (s, FALSE);
  }
  g_assert_cmpstr (lines[6], ==, desc_escaped);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ics/escape", test_escape);
  g_test_add_func ("/ics/fold", test_fold);
  g_test_add_func ("/ics/event", test_event);
  g_test_add_func ("/ics/parse-back", test_parse_back);
  return g_test_run ();
}

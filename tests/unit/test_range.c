/* test_range.c — the Range header parser of /media/recordings/{id} (media_parse_range) and the
 * content types of archives. Pure: no server, no files. */
#include "web/media_http.h"

typedef struct {
  const gchar *header;
  guint64 size;
  MediaRange want;
  guint64 start, end;   /* checked for NONE, ONE, MULTI */
} Case;

static const Case cases[] = {
  /* no header: the whole file */
  { NULL, 1000, MEDIA_RANGE_NONE, 0, 999 },
  { NULL, 0, MEDIA_RANGE_NONE, 0, 0 },
  /* first-last */
  { "bytes=0-99", 1000, MEDIA_RANGE_ONE, 0, 99 },
  { "bytes=0-0", 1000, MEDIA_RANGE_ONE, 0, 0 },
  { "bytes=400-599", 1000, MEDIA_RANGE_ONE, 400, 599 },
  { "bytes=999-999", 1000, MEDIA_RANGE_ONE, 999, 999 },
  { "bytes=900-5000", 1000, MEDIA_RANGE_ONE, 900, 999 },            /* last past the end: clamped */
  { "bytes=0-18446744073709551615", 1000, MEDIA_RANGE_ONE, 0, 999 },
  { "bytes=0-99999999999999999999999", 1000, MEDIA_RANGE_ONE, 0, 999 },   /* saturates, no overflow */
  /* first- */
  { "bytes=0-", 1000, MEDIA_RANGE_ONE, 0, 999 },
  { "bytes=500-", 1000, MEDIA_RANGE_ONE, 500, 999 },
  { "bytes=999-", 1000, MEDIA_RANGE_ONE, 999, 999 },
  /* -suffix */
  { "bytes=-500", 1000, MEDIA_RANGE_ONE, 500, 999 },
  { "bytes=-1", 1000, MEDIA_RANGE_ONE, 999, 999 },
  { "bytes=-1000", 1000, MEDIA_RANGE_ONE, 0, 999 },
  { "bytes=-5000", 1000, MEDIA_RANGE_ONE, 0, 999 },                 /* longer than the file: all of it */
  /* spelling the RFC allows */
  { "Bytes=0-99", 1000, MEDIA_RANGE_ONE, 0, 99 },
  { "  bytes = 10-19  ", 1000, MEDIA_RANGE_ONE, 10, 19 },
  { "bytes=, 10-19 ,", 1000, MEDIA_RANGE_ONE, 10, 19 },             /* empty list elements */
  /* several ranges: the whole file (200) */
  { "bytes=0-99,200-299", 1000, MEDIA_RANGE_MULTI, 0, 999 },
  { "bytes=0-99, -10", 1000, MEDIA_RANGE_MULTI, 0, 999 },
  { "bytes=5000-6000,0-1", 1000, MEDIA_RANGE_MULTI, 0, 999 },       /* one of them satisfiable */
  /* unsatisfiable (416) */
  { "bytes=1000-", 1000, MEDIA_RANGE_UNSATISFIABLE, 0, 0 },
  { "bytes=1000-1001", 1000, MEDIA_RANGE_UNSATISFIABLE, 0, 0 },
  { "bytes=99999999999999999999999-", 1000, MEDIA_RANGE_UNSATISFIABLE, 0, 0 },
  { "bytes=-0", 1000, MEDIA_RANGE_UNSATISFIABLE, 0, 0 },
  { "bytes=0-", 0, MEDIA_RANGE_UNSATISFIABLE, 0, 0 },
  { "bytes=-5", 0, MEDIA_RANGE_UNSATISFIABLE, 0, 0 },
  { "bytes=2000-3000,5000-", 1000, MEDIA_RANGE_UNSATISFIABLE, 0, 0 },
  /* malformed (416) */
  { "", 1000, MEDIA_RANGE_MALFORMED, 0, 0 },
  { "bytes", 1000, MEDIA_RANGE_MALFORMED, 0, 0 },
  { "bytes=", 1000, MEDIA_RANGE_MALFORMED, 0, 0 },
  { "bytes=,", 1000, MEDIA_RANGE_MALFORMED, 0, 0 },
  { "bytes=-", 1000, MEDIA_RANGE_MALFORMED, 0, 0 },
  { "bytes=abc", 1000, MEDIA_RANGE_MALFORMED, 0, 0 },
  { "bytes=5", 1000, MEDIA_RANGE_MALFORMED, 0, 0 },
  { "bytes=99-10", 1000, MEDIA_RANGE_MALFORMED, 0, 0 },             /* last before first */
  { "bytes=1-2-3", 1000, MEDIA_RANGE_MALFORMED, 0, 0 },
  { "bytes=+1-2", 1000, MEDIA_RANGE_MALFORMED, 0, 0 },
  { "bytes=1 - 2", 1000, MEDIA_RANGE_MALFORMED, 0, 0 },
  { "bytes=0x10-20", 1000, MEDIA_RANGE_MALFORMED, 0, 0 },
  { "bytes=0-99;", 1000, MEDIA_RANGE_MALFORMED, 0, 0 },
  { "bytes=0-99,x", 1000, MEDIA_RANGE_MALFORMED, 0, 0 },
  { "items=0-99", 1000, MEDIA_RANGE_MALFORMED, 0, 0 },
  { "bytesx=0-99", 1000, MEDIA_RANGE_MALFORMED, 0, 0 },
  { "0-99", 1000, MEDIA_RANGE_MALFORMED, 0, 0 },
};

static void
test_table (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const Case *c = &cases[i];
    guint64 start = 12345, end = 67890;
    MediaRange got = media_parse_range (c->header, c->size, &start, &end);
    if (got != c->want)
      g_error ("Range %s (size %" G_GUINT64_FORMAT "): got %d, want %d", c->header ? c->header : "(none)",
               c->size, got, c->want);
    if (got == MEDIA_RANGE_NONE || got == MEDIA_RANGE_ONE || got == MEDIA_RANGE_MULTI) {
      if (start != c->start || end != c->end)
        g_error ("Range %s (size %" G_GUINT64_FORMAT "): [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                 "], want [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "]", c->header ? c->header : "(none)",
                 c->size, start, end, c->start, c->end);
    } else {
      g_assert_cmpuint (start, ==, 12345);   /* left alone */
      g_assert_cmpuint (end, ==, 67890);
    }
  }
}

/* every satisfiable single range lies inside the file, for every size and spec shape */
static void
test_bounds (void)
{
  const guint64 sizes[] = { 1, 2, 3, 100, 1001, G_MAXUINT32, (guint64) G_MAXINT64 };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    for (guint64 a = 0; a < 5; a++)
      for (guint64 b = 0; b < 5; b++) {
        guint64 size = sizes[i], start, end;
        const guint64 picks[] = { a, size - 1 - MIN (a, size - 1), size + a };
        for (guint k = 0; k < G_N_ELEMENTS (picks); k++) {
          gchar *specs[] = {
            g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, picks[k], picks[k] + b),
            g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-", picks[k]),
            g_strdup_printf ("bytes=-%" G_GUINT64_FORMAT, picks[k] + b),
          };
          for (guint s = 0; s < G_N_ELEMENTS (specs); s++) {
            MediaRange r = media_parse_range (specs[s], size, &start, &end);
            if (r == MEDIA_RANGE_ONE) {
              g_assert_cmpuint (start, <=, end);
              g_assert_cmpuint (end, <, size);
            } else {
              g_assert_cmpint (r, ==, MEDIA_RANGE_UNSATISFIABLE);
            }
            g_free (specs[s]);
          }
        }
      }
}

static void
test_content_type (void)
{
  g_assert_cmpstr (media_content_type ("/r/KAN-1/segment-001.mp4"), ==, "video/mp4");
  g_assert_cmpstr (media_content_type ("/r/KAN-1/segment-001.webm"), ==, "video/webm");
  g_assert_cmpstr (media_content_type ("/r/KAN-1/segment-001.mkv"), ==, "video/x-matroska");
  g_assert_cmpstr (media_content_type ("/r/KAN-1/notes.txt"), ==, "application/octet-stream");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/range/table", test_table);
  g_test_add_func ("/range/bounds", test_bounds);
  g_test_add_func ("/range/content-type", test_content_type);
  return g_test_run ();
}

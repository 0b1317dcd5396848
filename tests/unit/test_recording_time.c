/* test_recording_time.c — where a recording lies on the wall clock (store_sessions.c): the
 * archive's 0 from the reference buffer and the archive's shift; old rows and unknown shifts
 * fall back to started_at. On a real SQLite file. */
#include "store/db.h"
#include "core/errors.h"
#include <glib/gstdio.h>

typedef struct { gchar *dir, *path; sqlite3 *db; gint64 session; } Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  f->dir = g_dir_make_tmp ("kanyan-rectime-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "kanyan.db", NULL);
  f->db = db_open (f->path, &error);
  g_assert_no_error (error);
  CaseFacts facts = { .ref = "T-1", .type_key = "fuel-retail", .accepted_on = "2026-11-25", .deadline_on = "2026-12-09" };
  CaseRow *row = store_case_add (f->db, &facts, &error);
  g_assert_no_error (error);
  f->session = store_session_open (f->db, row->id, &error);
  g_assert_no_error (error);
  case_row_free (row);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  db_close (f->db);
  g_autoptr (GDir) d = g_dir_open (f->dir, 0, NULL);
  const gchar *name;
  while (d && (name = g_dir_read_name (d))) {
    g_autofree gchar *p = g_build_filename (f->dir, name, NULL);
    g_unlink (p);
  }
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static gint64
recording (Fixture *f, gint seq, gint64 started_at)
{
  gint64 id = store_recording_begin (f->db, f->session, seq, "/x/segment.mkv", "h264", "opus");
  g_assert_cmpint (id, >, 0);
  g_autofree gchar *sql = g_strdup_printf ("UPDATE recordings SET started_at = %" G_GINT64_FORMAT " WHERE id = %"
                                           G_GINT64_FORMAT, started_at, id);
  g_assert_cmpint (sqlite3_exec (f->db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  return id;
}

static gint64
media_started_at (Fixture *f, gint64 id)
{
  g_autofree gchar *ref = NULL;
  RecordingRow *r = store_recording_get (f->db, id, &ref);
  g_assert_nonnull (r);
  gint64 at = r->media_started_at;
  recording_row_free (r);
  return at;
}

/* the reference buffer reached the muxer at 1,000,000,900 ms with 13.250 s in the source; the
 * archive's 0 is the source's 13.000 s: it happened 250 ms before the reference */
static void
test_from_reference_and_shift (Fixture *f, gconstpointer data)
{
  gint64 id = recording (f, 1, 1000000000);
  store_recording_media_clock (f->db, id, 1000000900, 13250000);
  store_recording_media_start (f->db, id, 13000000, TRUE);
  g_assert_cmpint (media_started_at (f, id), ==, 1000000650);
  g_autoptr (GPtrArray) rows = store_recordings_of_case (f->db, 1);
  g_assert_cmpuint (rows->len, ==, 1);
  g_assert_cmpint (((RecordingRow *) g_ptr_array_index (rows, 0))->media_started_at, ==, 1000000650);
}

/* no reference (an old row, or a segment without media), or a shift unknown after a crash, or
 * a reference before the archive's 0 (the clocks disagree): started_at */
static void
test_falls_back_to_started_at (Fixture *f, gconstpointer data)
{
  gint64 old = recording (f, 1, 1000000000);
  g_assert_cmpint (media_started_at (f, old), ==, 1000000000);
  store_recording_media_start (f->db, old, 0, TRUE);
  g_assert_cmpint (media_started_at (f, old), ==, 1000000000);
  gint64 crash = recording (f, 2, 2000000000);
  store_recording_media_clock (f->db, crash, 2000000500, 700000);
  store_recording_media_start (f->db, crash, 0, FALSE);
  g_assert_cmpint (media_started_at (f, crash), ==, 2000000000);
  gint64 odd = recording (f, 3, 3000000000);
  store_recording_media_clock (f->db, odd, 3000000500, 700000);
  store_recording_media_start (f->db, odd, 900000, TRUE);
  g_assert_cmpint (media_started_at (f, odd), ==, 3000000000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/recording-time/from-reference-and-shift", Fixture, NULL, setup, test_from_reference_and_shift, teardown);
  g_test_add ("/recording-time/falls-back-to-started-at", Fixture, NULL, setup, test_falls_back_to_started_at, teardown);
  return g_test_run ();
}

/* test_store.c — the SQLite store on a real file: WAL, migrations, seed data, cases,
 * invites (hashed, scoped, expiring), sessions and recordings. */
#include "db.h"
#include "errors.h"
#include <glib/gstdio.h>

typedef struct { gchar *dir, *path; sqlite3 *db; } Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("kanyan-store-XXXXXX", NULL);
  f->path = g_build_filename (f->dir, "kanyan.db", NULL);
  g_autoptr (GError) error = NULL;
  f->db = db_open (f->path, &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  db_close (f->db);
  g_free (f->path);
  g_free (f->dir);
}

static gint64
count (sqlite3 *db, const gchar *sql)
{
  sqlite3_stmt *st = NULL;
  gint64 n = -1;
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  if (sqlite3_step (st) == SQLITE_ROW)
    n = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return n;
}

static void
test_schema_and_seed (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (db_schema_version (f->db), ==, db_latest_version ());
  sqlite3_stmt *st = NULL;
  sqlite3_prepare_v2 (f->db, "PRAGMA journal_mode", -1, &st, NULL);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  g_assert_cmpstr ((const gchar *) sqlite3_column_text (st, 0), ==, "wal");
  sqlite3_finalize (st);
  /* reopening migrates nothing and seeds nothing twice */
  db_close (f->db);
  f->db = db_open (f->path, NULL);
  g_assert_nonnull (f->db);
  g_assert_cmpint (count (f->db, "SELECT COUNT(*) FROM case_types"), ==, 2);
  g_assert_cmpint (count (f->db, "SELECT COUNT(*) FROM case_type_items i JOIN case_types t ON t.id = i.type_id "
                                 "WHERE t.key = 'fuel-retail'"), ==, 8);
  g_assert_cmpint (count (f->db, "SELECT COUNT(*) FROM case_type_items i JOIN case_types t ON t.id = i.type_id "
                                 "WHERE t.key = 'food-business'"), ==, 7);
}

static void
test_newer_schema_refused (Fixture *f, gconstpointer data)
{
  g_autofree gchar *sql = g_strdup_printf ("PRAGMA user_version = %d", db_latest_version () + 1);
  g_assert_true (db_exec (f->db, sql, NULL));
  db_close (f->db);
  g_autoptr (GError) error = NULL;
  f->db = db_open (f->path, &error);
  g_assert_null (f->db);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "newer"));
}

static void
test_cases (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CaseRow) row = store_case_add (f->db, "KY-2026-001", "food-business", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (row->type_key, ==, "food-business");
  g_assert_cmpstr (row->type_title_zh, ==, "食品经营许可");
  g_assert_cmpstr (row->status, ==, "accepted");
  g_assert_null (store_case_add (f->db, "KY-2026-001", "food-business", &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT);
  const gchar *bad_refs[] = { "", "../x", ".hidden", "a b", "x/y",
                              "0123456789012345678901234567890123456789012345678901234567890123X" };
  for (guint i = 0; i < G_N_ELEMENTS (bad_refs); i++) {
    g_clear_error (&error);
    g_assert_null (store_case_add (f->db, bad_refs[i], "fuel-retail", &error));
    g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD);
  }
  g_clear_error (&error);
  g_assert_null (store_case_add (f->db, "OK-1", "casino", &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD);
  g_clear_error (&error);
  g_assert_null (store_case_get (f->db, "NOPE", &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_UNKNOWN_CASE);
  g_autoptr (GPtrArray) items = store_case_items (f->db, row->id);
  g_assert_cmpuint (items->len, ==, 7);
  g_autoptr (GPtrArray) list = store_case_list (f->db);
  g_assert_cmpuint (list->len, ==, 1);
}

static void
test_invites (Fixture *f, gconstpointer data)
{
  g_autoptr (CaseRow) a = store_case_add (f->db, "A", "fuel-retail", NULL);
  g_autoptr (CaseRow) b = store_case_add (f->db, "B", "fuel-retail", NULL);
  g_autofree gchar *token = store_invite_issue (f->db, a->id, 7, NULL);
  g_assert_cmpuint (strlen (token), ==, 43);   /* 256 bits, base64url */
  g_assert_true (store_invite_check (f->db, a->id, token));
  g_assert_false (store_invite_check (f->db, b->id, token));   /* scoped to its case */
  g_assert_false (store_invite_check (f->db, a->id, "wrong"));
  g_assert_false (store_invite_check (f->db, a->id, NULL));
  g_assert_false (store_invite_check (f->db, a->id, ""));
  g_autofree gchar *like = g_strdup_printf ("SELECT COUNT(*) FROM invites WHERE token_hash LIKE '%%%s%%'", token);
  g_assert_cmpint (count (f->db, like), ==, 0);                /* never stored in clear */
  g_assert_true (db_exec (f->db, "UPDATE invites SET expires_at = 1", NULL));
  g_assert_false (store_invite_check (f->db, a->id, token));   /* expired */
}

static void
test_sessions_and_recordings (Fixture *f, gconstpointer data)
{
  g_autoptr (CaseRow) c = store_case_add (f->db, "S", "fuel-retail", NULL);
  gint64 session = store_session_open (f->db, c->id, NULL);
  g_assert_cmpint (session, >, 0);
  gint64 p = store_participant_join (f->db, session, "p1", "reviewer", "Li");
  g_assert_cmpint (p, >, 0);
  gint64 r1 = store_recording_begin (f->db, session, 1, "/r/1.mkv", "H264", "OPUS");
  gint64 r2 = store_recording_begin (f->db, session, 2, "/r/2.mkv", "H264", "OPUS");
  store_recording_end (f->db, r1, 1234, "complete");
  g_assert_cmpint (count (f->db, "SELECT bytes FROM recordings WHERE state = 'complete'"), ==, 1234);
  store_recordings_mark_interrupted (f->db);
  g_autofree gchar *q = g_strdup_printf ("SELECT COUNT(*) FROM recordings WHERE id = %" G_GINT64_FORMAT
                                         " AND state = 'interrupted'", r2);
  g_assert_cmpint (count (f->db, q), ==, 1);
  g_assert_cmpint (count (f->db, "SELECT COUNT(*) FROM participants WHERE left_at IS NULL"), ==, 0);
  g_autoptr (GPtrArray) todo = store_recordings_unarchived (f->db);
  g_assert_cmpuint (todo->len, ==, 2);
  store_recording_archived (f->db, r1, "/r/1.mp4", "ab12", 99, 5000, FALSE);
  g_autoptr (GPtrArray) left = store_recordings_unarchived (f->db);
  g_assert_cmpuint (left->len, ==, 1);
  g_autofree gchar *ref = store_recording_case_ref (f->db, r2);
  g_assert_cmpstr (ref, ==, "S");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/store/schema-and-seed", Fixture, NULL, setup, test_schema_and_seed, teardown);
  g_test_add ("/store/newer-schema-refused", Fixture, NULL, setup, test_newer_schema_refused, teardown);
  g_test_add ("/store/cases", Fixture, NULL, setup, test_cases, teardown);
  g_test_add ("/store/invites", Fixture, NULL, setup, test_invites, teardown);
  g_test_add ("/store/sessions-and-recordings", Fixture, NULL, setup, test_sessions_and_recordings, teardown);
  return g_test_run ();
}

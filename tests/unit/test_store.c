/* test_store.c — the SQLite store on a real file: WAL, migrations, seed data, cases, hashed expiring invites, sessions and recordings. */
#include "store/db.h"
#include "core/errors.h"
#include <glib/gstdio.h>

typedef struct { gchar *dir, *path; sqlite3 *db; } Fixture;

static CaseRow *
add_case (sqlite3 *db, const gchar *ref, const gchar *type_key, GError **error)
{
  CaseFacts facts = { .ref = ref, .type_key = type_key, .accepted_on = "2026-11-25", .deadline_on = "2026-12-09" };
  return store_case_add (db, &facts, error);
}

static void
remove_dir (const gchar *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *name;
  while (d && (name = g_dir_read_name (d))) {
    g_autofree gchar *p = g_build_filename (dir, name, NULL);
    g_unlink (p);
  }
  g_rmdir (dir);
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  f->dir = g_dir_make_tmp ("kanyan-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "kanyan.db", NULL);
  f->db = db_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->db);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  db_close (f->db);
  remove_dir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

/* The first column of the first row as an integer; -1 when there is no row. */
static gint64
query_int (sqlite3 *db, const gchar *sql)
{
  sqlite3_stmt *st = NULL;
  gint64 n = -1;
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  if (sqlite3_step (st) == SQLITE_ROW)
    n = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return n;
}

static gchar *
query_text (sqlite3 *db, const gchar *sql)
{
  sqlite3_stmt *st = NULL;
  gchar *text = NULL;
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_type (st, 0) != SQLITE_NULL)
    text = g_strdup ((const gchar *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  return text;
}

static void
exec (sqlite3 *db, const gchar *sql)
{
  char *msg = NULL;
  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
}

static gint64
items_of (sqlite3 *db, const gchar *type_key)
{
  g_autofree gchar *sql = g_strdup_printf ("SELECT COUNT(*) FROM case_type_items i JOIN case_types t "
                                           "ON t.id = i.type_id WHERE t.key = '%s'", type_key);
  return query_int (db, sql);
}

static void
test_schema_and_seed (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (db_latest_version (), >=, 3);
  g_assert_cmpint (db_schema_version (f->db), ==, db_latest_version ());
  g_assert_cmpint (query_int (f->db, "PRAGMA user_version"), ==, db_latest_version ());
  g_autofree gchar *mode = query_text (f->db, "PRAGMA journal_mode");
  g_assert_cmpstr (mode, ==, "wal");
  g_assert_cmpint (query_int (f->db, "PRAGMA foreign_keys"), ==, 1);
  g_assert_cmpint (query_int (f->db, "SELECT COUNT(*) FROM case_types"), ==, 2);
  g_assert_cmpint (items_of (f->db, "fuel-retail"), ==, 8);
  g_assert_cmpint (items_of (f->db, "food-business"), ==, 7);
  g_auto (GStrv) keys = store_case_type_keys (f->db);
  g_assert_cmpuint (g_strv_length (keys), ==, 2);
  g_assert_cmpstr (keys[0], ==, "food-business");
  g_assert_cmpstr (keys[1], ==, "fuel-retail");
  g_assert_true (store_case_type_exists (f->db, "fuel-retail"));
  g_assert_false (store_case_type_exists (f->db, "fuel"));

  /* reopening migrates nothing and seeds nothing twice, nor touches an edited type */
  exec (f->db, "UPDATE case_types SET title_en = 'Edited' WHERE key = 'fuel-retail'");
  for (gint i = 0; i < 2; i++) {
    db_close (f->db);
    g_autoptr (GError) error = NULL;
    f->db = db_open (f->path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (db_schema_version (f->db), ==, db_latest_version ());
    g_assert_cmpint (query_int (f->db, "SELECT COUNT(*) FROM case_types"), ==, 2);
    g_assert_cmpint (items_of (f->db, "fuel-retail"), ==, 8);
    g_assert_cmpint (items_of (f->db, "food-business"), ==, 7);
    g_autofree gchar *title = query_text (f->db, "SELECT title_en FROM case_types WHERE key = 'fuel-retail'");
    g_assert_cmpstr (title, ==, "Edited");
  }
}

static gchar *
fuel_departments (sqlite3 *db)
{
  return query_text (db, "SELECT group_concat (department, ',') FROM (SELECT i.department FROM case_type_items i "
                         "JOIN case_types t ON t.id = i.type_id WHERE t.key = 'fuel-retail' ORDER BY i.position)");
}

/* migration 9 (items of other departments): seeded on a new database, and brought to one
 * made before it, where the demo's fire items move to the fire department */
/* what migration 17 (photos) adds, taken away so that it applies again */
#define UNDO_17 "DROP TABLE photo_requests; ALTER TABLE stills DROP COLUMN source; ALTER TABLE stills DROP COLUMN request_id;" \
                "ALTER TABLE stills DROP COLUMN width; ALTER TABLE stills DROP COLUMN height;" \
                "ALTER TABLE stills DROP COLUMN geo_lat; ALTER TABLE stills DROP COLUMN geo_lon;" \
                "ALTER TABLE stills DROP COLUMN geo_accuracy_m;"

static void
test_item_departments (Fixture *f, gconstpointer data)
{
  g_autofree gchar *fresh = fuel_departments (f->db);
  g_assert_cmpstr (fresh, ==, ",,,fire,fire,,,");
  exec (f->db, "ALTER TABLE case_type_items DROP COLUMN department");
  /* and what the migrations after 9 added, so that they apply again */
  exec (f->db, "ALTER TABLE recordings DROP COLUMN media_ref_at; ALTER TABLE recordings DROP COLUMN media_ref_pts_us;"
               "ALTER TABLE recordings DROP COLUMN media_started_at; DROP TABLE recording_gaps;");
  exec (f->db, "ALTER TABLE participants DROP COLUMN ice_local; ALTER TABLE participants DROP COLUMN ice_remote;"
               "ALTER TABLE participants DROP COLUMN ice_at;");
  exec (f->db, "DROP TABLE webhook_outbox; DROP TABLE webhook_cursor;");   /* 13 */
  exec (f->db, "DROP TABLE watch_tokens;");   /* 14 */
  /* 15 rebuilds users from whatever it finds: nothing to undo */
  exec (f->db, "DROP TABLE slots; DROP TABLE invite_codes;");   /* 16 (booking) */
  exec (f->db, "DROP TABLE acknowledgements;");   /* 18 (the applicant's signature) */
  exec (f->db, UNDO_17);
  exec (f->db, "PRAGMA user_version = 8");
  db_close (f->db);
  g_autoptr (GError) error = NULL;
  f->db = db_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (db_schema_version (f->db), ==, db_latest_version ());
  g_autofree gchar *upgraded = fuel_departments (f->db);
  g_assert_cmpstr (upgraded, ==, ",,,fire,fire,,,");
}

/* migration 15 (the clerk role): the users table rebuilt under its name with its rows and ids,
 * on a database holding accounts, sessions and a case that refer to them */
static void
test_clerk_role (Fixture *f, gconstpointer data)
{
  /* back to schema 14's table (the CHECK without 'clerk'), with rows pointing at it */
  exec (f->db, "PRAGMA foreign_keys = OFF;"
               "CREATE TABLE users_old (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,"
               "  role TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'lead', 'auditor')),"
               "  department TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, disabled_at INTEGER,"
               "  failed_logins INTEGER NOT NULL DEFAULT 0, last_failed_at INTEGER);"
               "DROP TABLE users; ALTER TABLE users_old RENAME TO users; PRAGMA foreign_keys = ON;"
               "INSERT INTO users (id, username, password_hash, role, department, created_at) VALUES"
               "  (7, 'li', 'h1', 'reviewer', 'commerce', 1), (9, 'wang', 'h2', 'admin', '', 2);"
               "INSERT INTO sessions (user_id, token_hash, created_at, last_seen_at) VALUES (7, 't1', 1, 1);");
  g_autoptr (GError) error = NULL;
  g_autoptr (CaseRow) row = add_case (f->db, "C-15", "fuel-retail", &error);
  g_assert_no_error (error);
  exec (f->db, "UPDATE cases SET owner_id = 7 WHERE ref = 'C-15'; INSERT INTO case_reviewers VALUES ((SELECT id FROM cases), 9);");
  g_assert_false (db_exec (f->db, "INSERT INTO users (username, password_hash, role, created_at) VALUES ('x', 'h', 'clerk', 1)", NULL));
  exec (f->db, "DROP TABLE slots; DROP TABLE invite_codes;");   /* 16 (booking) made again */
  exec (f->db, "DROP TABLE acknowledgements;");   /* 18 made again */
  exec (f->db, UNDO_17);   /* 17 (photos) made again */
  exec (f->db, "PRAGMA user_version = 14");
  db_close (f->db);
  f->db = db_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (db_schema_version (f->db), ==, db_latest_version ());
  /* a clerk may be stored now; the rows kept their ids and everything still points at them */
  exec (f->db, "INSERT INTO users (username, password_hash, role, created_at) VALUES ('zhou', 'h3', 'clerk', 3)");
  g_assert_cmpint (query_int (f->db, "SELECT id FROM users WHERE username = 'li' AND role = 'reviewer'"), ==, 7);
  g_assert_cmpint (query_int (f->db, "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'li'"), ==, 1);
  g_assert_cmpint (query_int (f->db, "SELECT u.id FROM cases c JOIN users u ON u.id = c.owner_id WHERE c.ref = 'C-15'"), ==, 7);
  g_assert_cmpint (query_int (f->db, "SELECT count(*) FROM pragma_foreign_key_list('sessions') WHERE \"table\" = 'users'"), ==, 1);
  g_assert_cmpint (query_int (f->db, "SELECT count(*) FROM pragma_foreign_key_check"), ==, 0);
  g_assert_cmpint (query_int (f->db, "PRAGMA foreign_keys"), ==, 1);   /* on again after the migrations */
  /* and foreign keys are enforced again */
  g_assert_false (db_exec (f->db, "INSERT INTO sessions (user_id, token_hash, created_at, last_seen_at) VALUES (999, 't2', 1, 1)", NULL));
  g_assert_false (db_exec (f->db, "INSERT INTO users (username, password_hash, role, created_at) VALUES ('y', 'h', 'king', 1)", NULL));
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
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL);
  g_assert_nonnull (strstr (error->message, "newer"));
}

static void
test_not_a_database (Fixture *f, gconstpointer data)
{
  g_autofree gchar *junk = g_build_filename (f->dir, "junk.db", NULL);
  g_autofree gchar *text = g_strnfill (4096, 'J');
  g_assert_true (g_file_set_contents (junk, text, -1, NULL));
  g_autoptr (GError) error = NULL;
  g_assert_null (db_open (junk, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_autofree gchar *missing_dir = g_build_filename (f->dir, "no", "such", "kanyan.db", NULL);
  g_assert_null (db_open (missing_dir, &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL);
}

static void
test_cases (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 before = db_now_ms ();
  g_autoptr (CaseRow) row = add_case (f->db, "KY-2026_001.a", "food-business", &error);
  gint64 after = db_now_ms ();
  g_assert_no_error (error);
  g_assert_cmpint (row->id, >, 0);
  g_assert_cmpstr (row->ref, ==, "KY-2026_001.a");
  g_assert_cmpstr (row->type_key, ==, "food-business");
  g_assert_cmpstr (row->type_title_en, ==, "Food business licence");
  g_assert_cmpstr (row->type_title_zh, ==, "食品经营许可");
  g_assert_cmpstr (row->status, ==, "accepted");
  g_assert_cmpint (row->created_at, >=, before);
  g_assert_cmpint (row->created_at, <=, after);
  g_autoptr (CaseRow) again = store_case_get (f->db, "KY-2026_001.a", &error);
  g_assert_no_error (error);
  g_assert_cmpint (again->id, ==, row->id);
  g_autoptr (GPtrArray) items = store_case_items (f->db, row->id);
  g_assert_cmpuint (items->len, ==, 7);
  g_assert_cmpstr (((gchar **) items->pdata[0])[1], ==, "经营场所与布局");   /* in position order */

  g_autofree gchar *max_ref = g_strnfill (64, 'r');
  g_autoptr (CaseRow) longest = add_case (f->db, max_ref, "fuel-retail", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (longest->ref, ==, max_ref);

  g_assert_null (add_case (f->db, "KY-2026_001.a", "food-business", &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_null (add_case (f->db, "KY-2026_001.a", "fuel-retail", &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT);

  g_autofree gchar *too_long = g_strnfill (65, 'r');
  const gchar *bad_refs[] = { "", "../x", ".hidden", "..", ".", too_long, "a b", "x/y", "a\\b",
                              "C-1\n", "é", "a;DROP", "%2e%2e" };
  for (guint i = 0; i < G_N_ELEMENTS (bad_refs); i++) {
    g_clear_error (&error);
    g_assert_null (add_case (f->db, bad_refs[i], "fuel-retail", &error));
    g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD);
  }
  g_clear_error (&error);
  g_assert_null (add_case (f->db, "OK-1", "casino", &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD);
  g_assert_nonnull (strstr (error->message, "fuel-retail"));   /* names the known types */
  g_clear_error (&error);
  g_assert_null (store_case_get (f->db, "OK-1", &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_UNKNOWN_CASE);
  g_assert_cmpint (query_int (f->db, "SELECT COUNT(*) FROM cases"), ==, 2);   /* nothing else went in */
  g_autoptr (GPtrArray) list = store_case_list (f->db);
  g_assert_cmpuint (list->len, ==, 2);
}

static void
test_invites (Fixture *f, gconstpointer data)
{
  g_autoptr (CaseRow) a = add_case (f->db, "A", "fuel-retail", NULL);
  g_autoptr (CaseRow) b = add_case (f->db, "B", "fuel-retail", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token = store_invite_issue (f->db, a->id, 7, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (token), ==, 43);   /* 256 bits, base64url without padding */
  for (const gchar *p = token; *p; p++)
    g_assert_true (g_ascii_isalnum (*p) || *p == '-' || *p == '_');
  g_autofree gchar *token_b = store_invite_issue (f->db, b->id, 7, NULL);
  g_assert_cmpstr (token, !=, token_b);

  g_assert_true (store_invite_check (f->db, a->id, token));
  g_assert_true (store_invite_check (f->db, b->id, token_b));
  g_assert_false (store_invite_check (f->db, b->id, token));      /* scoped to its case */
  g_assert_false (store_invite_check (f->db, a->id, token_b));
  g_assert_false (store_invite_check (f->db, a->id, "wrong"));
  g_assert_false (store_invite_check (f->db, a->id, NULL));
  g_assert_false (store_invite_check (f->db, a->id, ""));
  g_autofree gchar *prefix = g_strndup (token, 42);
  g_assert_false (store_invite_check (f->db, a->id, prefix));
  g_autofree gchar *longer = g_strconcat (token, "x", NULL);
  g_assert_false (store_invite_check (f->db, a->id, longer));

  /* valid for the days asked */
  g_assert_cmpint (query_int (f->db, "SELECT expires_at - created_at FROM invites WHERE case_id = 1"),
                   ==, (gint64) 7 * 24 * 3600 * 1000);
  /* never stored in clear: no column of any invite row holds the token */
  sqlite3_stmt *st = NULL;
  g_assert_cmpint (sqlite3_prepare_v2 (f->db, "SELECT * FROM invites", -1, &st, NULL), ==, SQLITE_OK);
  gint rows = 0;
  while (sqlite3_step (st) == SQLITE_ROW) {
    rows++;
    for (gint c = 0; c < sqlite3_column_count (st); c++) {
      const gchar *v = (const gchar *) sqlite3_column_text (st, c);
      g_assert_true (!v || (!strstr (v, token) && !strstr (v, token_b)));
    }
  }
  sqlite3_finalize (st);
  g_assert_cmpint (rows, ==, 2);

  /* a second invite of the same case works alongside the first; expiring one leaves the other */
  g_autofree gchar *token2 = store_invite_issue (f->db, a->id, 1, NULL);
  g_assert_true (store_invite_check (f->db, a->id, token2));
  g_autofree gchar *expire = g_strdup_printf ("UPDATE invites SET expires_at = %" G_GINT64_FORMAT
                                              " WHERE id = 1", db_now_ms () - 1000);
  exec (f->db, expire);
  g_assert_false (store_invite_check (f->db, a->id, token));      /* expired */
  g_assert_true (store_invite_check (f->db, a->id, token2));
  exec (f->db, "UPDATE invites SET revoked_at = 1 WHERE id = 3");
  g_assert_false (store_invite_check (f->db, a->id, token2));     /* revoked */
  g_assert_true (store_invite_check (f->db, b->id, token_b));
}

static void
test_sessions_and_recordings (Fixture *f, gconstpointer data)
{
  g_autoptr (CaseRow) c = add_case (f->db, "S", "fuel-retail", NULL);
  g_autoptr (GError) error = NULL;
  gint64 session = store_session_open (f->db, c->id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (session, >, 0);
  g_autofree gchar *sq = g_strdup_printf ("SELECT case_id FROM live_sessions WHERE id = %" G_GINT64_FORMAT
                                          " AND ended_at IS NULL AND started_at > 0", session);
  g_assert_cmpint (query_int (f->db, sq), ==, c->id);
  gint64 p1 = store_participant_join (f->db, session, "p1", "reviewer", "Li");
  gint64 p2 = store_participant_join (f->db, session, "p2", "applicant", NULL);
  g_assert_cmpint (p1, >, 0);
  g_assert_cmpint (p2, >, p1);
  g_autofree gchar *name = query_text (f->db, "SELECT name || '|' || role || '|' || peer FROM participants WHERE id = 1");
  g_assert_cmpstr (name, ==, "Li|reviewer|p1");
  store_participant_leave (f->db, p1);
  g_assert_cmpint (query_int (f->db, "SELECT COUNT(*) FROM participants WHERE left_at IS NULL"), ==, 1);
  /* migration 12: the selected candidate pair, latest wins; NULL until connected */
  store_participant_set_ice (f->db, p2, "host/udp", "srflx/udp");
  store_participant_set_ice (f->db, p2, "host/tcp", "prflx/tcp");
  {
    g_autoptr (GPtrArray) peers = store_participants_of_session (f->db, session);
    g_assert_cmpuint (peers->len, ==, 2);
    ParticipantRow *a = g_ptr_array_index (peers, 0), *b = g_ptr_array_index (peers, 1);
    g_assert_cmpstr (a->peer, ==, "p1");
    g_assert_null (a->ice_local);
    g_assert_cmpint (a->left_at, >, 0);
    g_assert_cmpstr (b->role, ==, "applicant");
    g_assert_cmpstr (b->ice_local, ==, "host/tcp");
    g_assert_cmpstr (b->ice_remote, ==, "prflx/tcp");
    g_assert_cmpint (b->ice_at, >, 0);
  }

  gint64 r1 = store_recording_begin (f->db, session, 1, "/r/1.mkv", "H264", "OPUS");
  gint64 r2 = store_recording_begin (f->db, session, 2, "/r/2.mkv", "VP8", NULL);
  g_assert_cmpint (r1, >, 0);
  g_assert_cmpint (r2, >, r1);
  g_autofree gchar *r2q = g_strdup_printf ("SELECT seq || '|' || path || '|' || video_codec || '|' || state || '|' "
                                           "|| ifnull (audio_codec, '-') FROM recordings WHERE id = %"
                                           G_GINT64_FORMAT, r2);
  g_autofree gchar *r2row = query_text (f->db, r2q);
  g_assert_cmpstr (r2row, ==, "2|/r/2.mkv|VP8|recording|-");
  g_autoptr (GPtrArray) none = store_recordings_unarchived (f->db);
  g_assert_cmpuint (none->len, ==, 0);   /* still recording: not for the archiver */

  store_recording_end (f->db, r1, 1234, "complete");
  g_autofree gchar *r1q = g_strdup_printf ("SELECT state || '|' || bytes || '|' || (ended_at IS NOT NULL) "
                                           "FROM recordings WHERE id = %" G_GINT64_FORMAT, r1);
  g_autofree gchar *r1row = query_text (f->db, r1q);
  g_assert_cmpstr (r1row, ==, "complete|1234|1");

  /* a crash left r2 recording, the session open and p2 inside */
  store_recordings_mark_interrupted (f->db);
  g_autofree gchar *r2state = g_strdup_printf ("SELECT state FROM recordings WHERE id = %" G_GINT64_FORMAT, r2);
  g_autofree gchar *state2 = query_text (f->db, r2state);
  g_assert_cmpstr (state2, ==, "interrupted");
  g_autofree gchar *r1state = g_strdup_printf ("SELECT state FROM recordings WHERE id = %" G_GINT64_FORMAT, r1);
  g_autofree gchar *state1 = query_text (f->db, r1state);
  g_assert_cmpstr (state1, ==, "complete");
  g_assert_cmpint (query_int (f->db, "SELECT COUNT(*) FROM recordings WHERE state = 'recording'"), ==, 0);
  g_assert_cmpint (query_int (f->db, "SELECT COUNT(*) FROM participants WHERE left_at IS NULL"), ==, 0);
  g_assert_cmpint (query_int (f->db, "SELECT COUNT(*) FROM live_sessions WHERE ended_at IS NULL"), ==, 0);

  g_autoptr (GPtrArray) todo = store_recordings_unarchived (f->db);
  g_assert_cmpuint (todo->len, ==, 2);
  g_autofree gchar *r1id = g_strdup_printf ("%" G_GINT64_FORMAT, r1);
  g_assert_cmpstr (((gchar **) todo->pdata[0])[0], ==, r1id);
  g_assert_cmpstr (((gchar **) todo->pdata[0])[1], ==, "/r/1.mkv");
  store_recording_archived (f->db, r1, "/r/1.mp4", "ab12", 99, 5000, FALSE);
  store_recording_archive_failed (f->db, r2, "moov missing");
  g_autoptr (GPtrArray) left = store_recordings_unarchived (f->db);
  g_assert_cmpuint (left->len, ==, 0);
  g_autofree gchar *arch = query_text (f->db, "SELECT archive_state || '|' || archive_sha256 || '|' || duration_ms "
                                              "FROM recordings WHERE id = 1");
  g_assert_cmpstr (arch, ==, "archived|ab12|5000");
  g_autofree gchar *ref = store_recording_case_ref (f->db, r2);
  g_assert_cmpstr (ref, ==, "S");
  g_autofree gchar *no_ref = store_recording_case_ref (f->db, 9999);
  g_assert_cmpstr (no_ref, ==, "");

  store_session_close (f->db, session);   /* already ended by the crash recovery: kept as it was */
  g_assert_cmpint (query_int (f->db, "SELECT ended_at = started_at FROM live_sessions WHERE id = 1"), ==, 1);
  gint64 s2 = store_session_open (f->db, c->id, NULL);
  store_session_close (f->db, s2);
  g_autofree gchar *s2q = g_strdup_printf ("SELECT ended_at >= started_at FROM live_sessions WHERE id = %"
                                           G_GINT64_FORMAT " AND ended_at IS NOT NULL", s2);
  g_assert_cmpint (query_int (f->db, s2q), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/store/schema-and-seed", Fixture, NULL, setup, test_schema_and_seed, teardown);
  g_test_add ("/store/item-departments", Fixture, NULL, setup, test_item_departments, teardown);
  g_test_add ("/store/clerk-role", Fixture, NULL, setup, test_clerk_role, teardown);
  g_test_add ("/store/newer-schema-refused", Fixture, NULL, setup, test_newer_schema_refused, teardown);
  g_test_add ("/store/not-a-database", Fixture, NULL, setup, test_not_a_database, teardown);
  g_test_add ("/store/cases", Fixture, NULL, setup, test_cases, teardown);
  g_test_add ("/store/invites", Fixture, NULL, setup, test_invites, teardown);
  g_test_add ("/store/sessions-and-recordings", Fixture, NULL, setup, test_sessions_and_recordings, teardown);
  return g_test_run ();
}

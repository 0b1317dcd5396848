/* db.c — opens the SQLite file in WAL mode and brings its schema up to date.
 * The schema is a list of numbered migrations applied in order and recorded in
 * PRAGMA user_version; a migration is never edited once released, only appended. */
#include "store/db.h"
#include "core/errors.h"
#include "core/metrics.h"
#include "store/seed.h"

static const gchar *const migrations[] = {
  /* 1: the live inspection core */
  "CREATE TABLE case_types ("
  "  id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, title_en TEXT NOT NULL,"
  "  title_zh TEXT NOT NULL, time_limit_days INTEGER NOT NULL);"
  "CREATE TABLE case_type_items ("
  "  id INTEGER PRIMARY KEY, type_id INTEGER NOT NULL REFERENCES case_types(id),"
  "  position INTEGER NOT NULL, title_en TEXT NOT NULL, title_zh TEXT NOT NULL,"
  "  guidance TEXT NOT NULL DEFAULT '', UNIQUE (type_id, position));"
  "CREATE TABLE cases ("
  "  id INTEGER PRIMARY KEY, ref TEXT NOT NULL UNIQUE, type_id INTEGER NOT NULL REFERENCES case_types(id),"
  "  status TEXT NOT NULL DEFAULT 'accepted', created_at INTEGER NOT NULL);"
  "CREATE TABLE invites ("
  "  id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES cases(id),"
  "  token_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
  "  revoked_at INTEGER);"
  "CREATE TABLE live_sessions ("
  "  id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES cases(id),"
  "  started_at INTEGER NOT NULL, ended_at INTEGER);"
  "CREATE TABLE participants ("
  "  id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES live_sessions(id),"
  "  peer TEXT NOT NULL, role TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',"
  "  joined_at INTEGER NOT NULL, left_at INTEGER);"
  "CREATE TABLE recordings ("
  "  id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES live_sessions(id),"
  "  seq INTEGER NOT NULL, path TEXT NOT NULL, video_codec TEXT, audio_codec TEXT,"
  "  started_at INTEGER NOT NULL, ended_at INTEGER, bytes INTEGER,"
  "  state TEXT NOT NULL DEFAULT 'recording');",
  /* 2: finalized archives */
  "ALTER TABLE recordings ADD COLUMN archive_path TEXT;"
  "ALTER TABLE recordings ADD COLUMN archive_sha256 TEXT;"
  "ALTER TABLE recordings ADD COLUMN archive_bytes INTEGER;"
  "ALTER TABLE recordings ADD COLUMN duration_ms INTEGER;"
  "ALTER TABLE recordings ADD COLUMN archive_state TEXT;"   /* archived | salvaged | empty | failed */
  "ALTER TABLE recordings ADD COLUMN archive_error TEXT;",
  /* 3: the append-only, hash-chained audit log (audit.c) */
  "CREATE TABLE audit_log ("
  "  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,"
  "  case_ref TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
  "CREATE INDEX audit_log_case ON audit_log (case_ref, id);"
  "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
  "  BEGIN SELECT RAISE (ABORT, 'the audit log is append-only'); END;"
  "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
  "  BEGIN SELECT RAISE (ABORT, 'the audit log is append-only'); END;",
  /* 4: accounts (users.c) */
  "CREATE TABLE users ("
  "  id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,"
  "  role TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'lead', 'auditor')),"
  "  department TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, disabled_at INTEGER,"
  "  failed_logins INTEGER NOT NULL DEFAULT 0, last_failed_at INTEGER);"
  "CREATE TABLE sessions ("
  "  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), token_hash TEXT NOT NULL UNIQUE,"
  "  created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, ended_at INTEGER);",
  /* 5: who a case belongs to (first-contact owner, co-reviewers) and its facts and deadline */
  "ALTER TABLE cases ADD COLUMN owner_id INTEGER REFERENCES users(id);"
  "ALTER TABLE cases ADD COLUMN department TEXT NOT NULL DEFAULT '';"
  "ALTER TABLE cases ADD COLUMN applicant_name TEXT NOT NULL DEFAULT '';"
  "ALTER TABLE cases ADD COLUMN applicant_phone TEXT NOT NULL DEFAULT '';"
  "ALTER TABLE cases ADD COLUMN site_address TEXT NOT NULL DEFAULT '';"
  "ALTER TABLE cases ADD COLUMN site_lat REAL;"
  "ALTER TABLE cases ADD COLUMN site_lon REAL;"
  "ALTER TABLE cases ADD COLUMN accepted_on TEXT;"      /* YYYY-MM-DD */
  "ALTER TABLE cases ADD COLUMN deadline_on TEXT;"      /* YYYY-MM-DD, in working days from accepted_on */
  "CREATE TABLE case_reviewers ("
  "  case_id INTEGER NOT NULL REFERENCES cases(id), user_id INTEGER NOT NULL REFERENCES users(id),"
  "  PRIMARY KEY (case_id, user_id));",
  /* 6: the review workflow: marks, decisions, the on-site challenge and the phone's location */
  "CREATE TABLE marks ("
  "  id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES cases(id),"
  "  session_id INTEGER NOT NULL REFERENCES live_sessions(id), item INTEGER NOT NULL,"
  "  result TEXT NOT NULL CHECK (result IN ('pass', 'fail', 'not_shown')), note TEXT NOT NULL DEFAULT '',"
  "  by_user TEXT NOT NULL, at INTEGER NOT NULL, media_ms INTEGER);"
  "CREATE INDEX marks_session ON marks (session_id, item, id);"
  "CREATE TABLE decisions ("
  "  id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES cases(id), session_id INTEGER,"
  "  kind TEXT NOT NULL CHECK (kind IN ('approve', 'rectify', 'reject')), reason TEXT NOT NULL,"
  "  by_user TEXT NOT NULL, at INTEGER NOT NULL,"
  "  state TEXT NOT NULL CHECK (state IN ('final', 'awaiting_countersign', 'returned')),"
  "  countersigned_by TEXT, countersigned_at INTEGER, countersign_note TEXT,"
  "  notice TEXT);"   /* the one-time notice (JSON), frozen when a rectify decision is made */
  "ALTER TABLE live_sessions ADD COLUMN challenge TEXT;"
  "ALTER TABLE live_sessions ADD COLUMN challenge_seen_by TEXT;"
  "ALTER TABLE live_sessions ADD COLUMN challenge_seen_at INTEGER;"
  "ALTER TABLE live_sessions ADD COLUMN geo_lat REAL;"
  "ALTER TABLE live_sessions ADD COLUMN geo_lon REAL;"
  "ALTER TABLE live_sessions ADD COLUMN geo_accuracy_m REAL;"
  "ALTER TABLE live_sessions ADD COLUMN geo_at INTEGER;",
  /* 7: evidence stills; a drawing on one is a separate layer, the image stays untouched */
  "CREATE TABLE stills ("
  "  id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES cases(id),"
  "  session_id INTEGER NOT NULL REFERENCES live_sessions(id), item INTEGER NOT NULL,"
  "  path TEXT NOT NULL, sha256 TEXT NOT NULL, bytes INTEGER NOT NULL, media_ms INTEGER,"
  "  at INTEGER NOT NULL, by_user TEXT NOT NULL,"
  "  annotation TEXT, annotated_by TEXT, annotated_at INTEGER);",
  /* 8: retention: media deleted past its period keeps its row and hash (the chain still verifies) */
  "ALTER TABLE recordings ADD COLUMN purged_at INTEGER;"
  "ALTER TABLE stills ADD COLUMN purged_at INTEGER;",
  /* 9: parallel approval — a required item may belong to another department, whose
   * co-reviewer marks it ('' = the owner's department). The demo fire items move there. */
  "ALTER TABLE case_type_items ADD COLUMN department TEXT NOT NULL DEFAULT '';"
  "UPDATE case_type_items SET department = 'fire' WHERE type_id = (SELECT id FROM case_types WHERE key = 'fuel-retail')"
  "  AND title_en IN ('Fire equipment: extinguishers, fire blankets, sand',"
  "                   'Safety signs: no smoking, no open flame, engine off');",
  /* 10: one wall-clock axis for replay — a reference video buffer (the one that reached the
   * muxer with the least delay): its arrival (wall clock, ms) and its time in the segment's
   * file (µs); from both, once archived, the wall-clock time of the archive's 0 (NULL:
   * unknown, readers fall back to started_at) */
  "ALTER TABLE recordings ADD COLUMN media_ref_at INTEGER;"
  "ALTER TABLE recordings ADD COLUMN media_ref_pts_us INTEGER;"
  "ALTER TABLE recordings ADD COLUMN media_started_at INTEGER;",
  /* 11: stretches of a recording segment without video: a loss the jitterbuffer could not
   * repair, frozen until the next keyframe (at: wall-clock ms when it began) */
  "CREATE TABLE IF NOT EXISTS recording_gaps ("
  "  id INTEGER PRIMARY KEY, recording_id INTEGER NOT NULL REFERENCES recordings(id),"
  "  at INTEGER NOT NULL, duration_ms INTEGER NOT NULL, reason TEXT NOT NULL);"
  "CREATE INDEX IF NOT EXISTS recording_gaps_recording ON recording_gaps (recording_id);",
  /* 12: reachability — the ICE candidate pair each peer's connection selected, as
   * "type/protocol" of the server's side (ice_local) and the peer's (ice_remote), e.g.
   * "host/tcp" and "prflx/tcp"; NULL until connected */
  "ALTER TABLE participants ADD COLUMN ice_local TEXT;"
  "ALTER TABLE participants ADD COLUMN ice_remote TEXT;"
  "ALTER TABLE participants ADD COLUMN ice_at INTEGER;",
  /* 13: webhooks — an outbox of deliveries, one row per (endpoint, audit row); a cursor per
   * endpoint says up to which audit row deliveries were made (one transaction does both) */
  "CREATE TABLE IF NOT EXISTS webhook_cursor (endpoint TEXT PRIMARY KEY, audit_id INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS webhook_outbox ("
  "  id INTEGER PRIMARY KEY, endpoint TEXT NOT NULL, audit_id INTEGER NOT NULL, case_ref TEXT NOT NULL,"
  "  state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,"
  "  last_status INTEGER, last_error TEXT, created_at INTEGER NOT NULL, delivered_at INTEGER,"
  "  UNIQUE (endpoint, audit_id));"
  "CREATE INDEX IF NOT EXISTS webhook_outbox_state ON webhook_outbox (state, endpoint, case_ref, audit_id);",
  /* 14: WHEP viewing tokens — short-lived, one case, issued by a reviewer or lead, stored
   * hashed like invites, revocable; the first use (when, from where) is kept for the audit */
  "CREATE TABLE watch_tokens ("
  "  id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES cases(id),"
  "  token_hash TEXT NOT NULL UNIQUE, issued_by TEXT NOT NULL, created_at INTEGER NOT NULL,"
  "  expires_at INTEGER NOT NULL, revoked_at INTEGER, used_at INTEGER, used_from TEXT);",
  /* 15: the intake clerk, a role of its own (auth.c). SQLite changes a CHECK only by building
   * the table anew: the new one takes the old one's name, rows and ids (db_migrate runs with
   * foreign keys off and checks them before it commits, SQLite's recipe for a table rebuild) */
  "CREATE TABLE users_v15 ("
  "  id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,"
  "  role TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'lead', 'auditor', 'clerk')),"
  "  department TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, disabled_at INTEGER,"
  "  failed_logins INTEGER NOT NULL DEFAULT 0, last_failed_at INTEGER);"
  "INSERT INTO users_v15 (id, username, password_hash, role, department, created_at, disabled_at, failed_logins,"
  "  last_failed_at) SELECT id, username, password_hash, role, department, created_at, disabled_at, failed_logins,"
  "  last_failed_at FROM users;"
  "DROP TABLE users;"
  "ALTER TABLE users_v15 RENAME TO users;",
  /* 16 (booking): inspection slots a reviewer offers a case, booked, moved or cancelled with a
   * reason (review/slots.c); the short codes of invites (/i/CODE): the code's hash, and the
   * invite's token sealed under a key only the code gives (review/short_code.c) */
  "CREATE TABLE slots ("
  "  id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES cases(id), reviewer TEXT NOT NULL,"
  "  starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL,"
  "  state TEXT NOT NULL DEFAULT 'offered' CHECK (state IN ('offered', 'booked', 'cancelled')),"
  "  offered_by TEXT NOT NULL, created_at INTEGER NOT NULL, booked_by TEXT, booked_at INTEGER,"
  "  cancelled_by TEXT, cancelled_at INTEGER, reason TEXT,"
  "  revision INTEGER NOT NULL DEFAULT 0);"   /* + 1 on every change: the .ics SEQUENCE */
  "CREATE INDEX slots_reviewer ON slots (reviewer, starts_at);"
  "CREATE INDEX slots_case ON slots (case_id, starts_at);"
  "CREATE TABLE invite_codes ("
  "  id INTEGER PRIMARY KEY, invite_id INTEGER NOT NULL REFERENCES invites(id),"
  "  code_hash TEXT NOT NULL UNIQUE, sealed TEXT NOT NULL, created_at INTEGER NOT NULL);",
  /* 17 (photos): a reviewer asks the phone for a photograph of an item (review/photos.c); the
   * request is one use, keyed by a random key (its hash here), and expires. A photo is a still
   * with source 'photo', its request, its size in pixels and where the phone said it was
   * (request_id has no REFERENCES so the column can be dropped; photos.c keeps it right) */
  "CREATE TABLE photo_requests ("
  "  id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES cases(id),"
  "  session_id INTEGER NOT NULL REFERENCES live_sessions(id), item INTEGER NOT NULL,"
  "  requested_by TEXT NOT NULL, requested_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
  "  key_hash TEXT NOT NULL, fulfilled_at INTEGER, still_id INTEGER REFERENCES stills(id));"
  "CREATE INDEX photo_requests_case ON photo_requests (case_id);"
  "ALTER TABLE stills ADD COLUMN source TEXT NOT NULL DEFAULT 'video';"
  "ALTER TABLE stills ADD COLUMN request_id INTEGER;"
  "ALTER TABLE stills ADD COLUMN width INTEGER;"
  "ALTER TABLE stills ADD COLUMN height INTEGER;"
  "ALTER TABLE stills ADD COLUMN geo_lat REAL;"
  "ALTER TABLE stills ADD COLUMN geo_lon REAL;"
  "ALTER TABLE stills ADD COLUMN geo_accuracy_m REAL;",
  /* 18 (issue 18, the applicant's signature): one acknowledgement per notice (a rectify or a
   * countersigned reject decision): the name typed, the drawing as the strokes the server
   * validated and the SVG it built from them, that SVG's SHA-256 (also in the audit entry), and
   * the invite whose capability sent it (review/acknowledge.c) */
  "CREATE TABLE acknowledgements ("
  "  id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES cases(id),"
  "  decision_id INTEGER NOT NULL UNIQUE REFERENCES decisions(id), name TEXT NOT NULL,"
  "  strokes TEXT NOT NULL, svg TEXT NOT NULL, sha256 TEXT NOT NULL, acknowledged_at INTEGER NOT NULL,"
  "  invite_id INTEGER REFERENCES invites(id));"
  "CREATE INDEX acknowledgements_case ON acknowledgements (case_id);",
};

gint
db_latest_version (void)
{
  return G_N_ELEMENTS (migrations);
}

gint64
db_now_ms (void)
{
  return g_get_real_time () / 1000;
}

gboolean
db_exec (sqlite3 *db, const gchar *sql, GError **error)
{
  char *msg = NULL;
  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "database: %s", msg ? msg : "?");
    sqlite3_free (msg);
    return FALSE;
  }
  return TRUE;
}

gint
db_schema_version (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  gint version = -1;
  if (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step (st) == SQLITE_ROW)
    version = sqlite3_column_int (st, 0);
  sqlite3_finalize (st);
  return version;
}

/* sqlite3_exec callback: one more row */
static int
count_row (void *data, int n, char **values, char **names)
{
  (*(gint *) data)++;
  return 0;
}

/* Migrations run with foreign keys off (a table rebuild drops the table others refer to, which
 * SQLite refuses with them on; the pragma cannot change inside a transaction), and each is
 * committed only if PRAGMA foreign_key_check then finds nothing. */
static gboolean
db_migrate (sqlite3 *db, GError **error)
{
  gint version = db_schema_version (db);
  if (version > db_latest_version ()) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL,
                 "database schema %d is newer than this kanyan (%d)", version, db_latest_version ());
    return FALSE;
  }
  if (version < db_latest_version () && !db_exec (db, "PRAGMA foreign_keys = OFF", error))
    return FALSE;
  for (gint v = version; v < db_latest_version (); v++) {
    g_autofree gchar *sql = g_strdup_printf ("BEGIN IMMEDIATE; %s PRAGMA user_version = %d;", migrations[v], v + 1);
    gint violations = 0;
    gboolean ok = db_exec (db, sql, error);
    if (ok && sqlite3_exec (db, "PRAGMA foreign_key_check", count_row, &violations, NULL) == SQLITE_OK && violations) {
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "database: %d foreign key violation(s)", violations);
      ok = FALSE;
    }
    if (!ok || !db_exec (db, "COMMIT", error)) {
      db_exec (db, "ROLLBACK", NULL);
      db_exec (db, "PRAGMA foreign_keys = ON", NULL);
      g_prefix_error (error, "migration %d: ", v + 1);
      return FALSE;
    }
    g_info ("database migrated to schema %d", v + 1);
  }
  return db_exec (db, "PRAGMA foreign_keys = ON", error);
}

/* the connection's thread, after each statement: how long one that writes took, for the
 * metrics (SQLite measures it; one atomic histogram update). COMMIT, where the WAL is written
 * (and synced under synchronous=FULL), counts as a write although SQLite calls it read-only. */
static int
on_statement_done (unsigned type, void *data, void *stmt, void *ns)
{
  if (type != SQLITE_TRACE_PROFILE)
    return 0;
  const char *sql = sqlite3_sql (stmt);
  if (!sqlite3_stmt_readonly (stmt) || (sql && g_ascii_strncasecmp (sql, "COMMIT", 6) == 0))
    metrics_db_write (*(sqlite3_int64 *) ns / 1e9);
  return 0;
}

sqlite3 *
db_open (const gchar *path, GError **error)
{
  sqlite3 *db = NULL;
  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot open %s: %s", path,
                 db ? sqlite3_errmsg (db) : "out of memory");
    sqlite3_close (db);
    return NULL;
  }
  sqlite3_busy_timeout (db, 5000);
  sqlite3_trace_v2 (db, SQLITE_TRACE_PROFILE, on_statement_done, NULL);
  if (!db_exec (db, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;", error) ||
      !db_migrate (db, error) || !seed_case_types (db, error)) {
    sqlite3_close (db);
    return NULL;
  }
  return db;
}

void
db_close (sqlite3 *db)
{
  if (db)
    sqlite3_close (db);
}

/* A decision is on disk before anyone is told it is saved: one transaction committed with
 * synchronous=FULL (the WAL is synced, not just written), then the usual NORMAL again. */
gboolean
db_durable_begin (sqlite3 *db, GError **error)
{
  return db_exec (db, "PRAGMA synchronous = FULL; BEGIN IMMEDIATE", error);
}

gboolean
db_durable_end (sqlite3 *db, gboolean ok, GError **error)
{
  gboolean done = ok ? db_exec (db, "COMMIT", error) : db_exec (db, "ROLLBACK", NULL);
  db_exec (db, "PRAGMA synchronous = NORMAL", NULL);
  return ok && done;
}

/* a second, read-only connection (a worker thread's: the integrity check) */
sqlite3 *
db_open_readonly (const gchar *path, GError **error)
{
  sqlite3 *db = NULL;
  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot open %s", path);
    sqlite3_close (db);
    return NULL;
  }
  sqlite3_busy_timeout (db, 5000);
  return db;
}

gchar *
db_column_dup (sqlite3_stmt *st, gint col, const gchar *if_null)
{
  const unsigned char *text = sqlite3_column_text (st, col);
  return g_strdup (text ? (const gchar *) text : if_null);
}

gint64
db_step_insert (sqlite3 *db, sqlite3_stmt *st)
{
  gint64 id = sqlite3_step (st) == SQLITE_DONE ? sqlite3_last_insert_rowid (db) : 0;
  if (!id)
    g_warning ("database insert failed: %s", sqlite3_errmsg (db));
  sqlite3_finalize (st);
  return id;
}

/* db.h — the SQLite database: opening (WAL), numbered migrations, and the statements
 * of each table (store_*.c). Only these files contain SQL. */
#pragma once
#include <glib.h>
#include <sqlite3.h>

sqlite3 *db_open (const gchar *path, GError **error);     /* creates, migrates, seeds */
void     db_close (sqlite3 *db);
gint     db_schema_version (sqlite3 *db);
gint     db_latest_version (void);
gboolean db_exec (sqlite3 *db, const gchar *sql, GError **error);
gint64   db_now_ms (void);                                 /* wall clock, ms since epoch */
/* a durable transaction (synchronous=FULL while it lasts): end commits when ok, else rolls
 * back; TRUE when ok and committed */
gboolean db_durable_begin (sqlite3 *db, GError **error);
gboolean db_durable_end (sqlite3 *db, gboolean ok, GError **error);
sqlite3 *db_open_readonly (const gchar *path, GError **error);   /* busy timeout 5 s */
/* a text column as a new string; if_null (copied; may be NULL) when the column is NULL */
gchar   *db_column_dup (sqlite3_stmt *st, gint col, const gchar *if_null);
/* Steps a prepared INSERT and finalizes it: the new row's id, or 0 (logged) when it failed. */
gint64   db_step_insert (sqlite3 *db, sqlite3_stmt *st);

/* store_cases.c — case types, their required items, cases, invites */
typedef struct {
  gint64  id;
  gchar  *ref;
  gchar  *type_key;
  gchar  *type_title_en;
  gchar  *type_title_zh;
  gchar  *status;
  gint64  created_at;
  gint64  owner_id;         /* 0: no owner yet */
  gchar  *owner;            /* the owner's username, "" when none */
  gchar  *department;       /* the owner's department when assigned: whose lead oversees it */
  gchar  *applicant_name, *applicant_phone, *site_address;
  gboolean has_site;        /* site_lat/site_lon are set */
  gdouble site_lat, site_lon;
  gchar  *accepted_on, *deadline_on;   /* YYYY-MM-DD */
  gint    time_limit_days;  /* of its type, in working days */
} CaseRow;

/* what creating a case takes; cases.c fills in the dates */
typedef struct {
  const gchar *ref, *type_key;
  gint64 owner_id;
  const gchar *department;
  const gchar *applicant_name, *applicant_phone, *site_address;
  gboolean has_site;
  gdouble site_lat, site_lon;
  const gchar *accepted_on, *deadline_on;
} CaseFacts;
void     case_row_free (CaseRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CaseRow, case_row_free)

/* a case type as written by an admin: titles, time limit, required items */
typedef struct { const gchar *title_en, *title_zh, *guidance, *department; } CaseTypeItemDef;
typedef struct {
  const gchar *key, *title_en, *title_zh;
  gint time_limit_days;
  GArray *items;          /* of CaseTypeItemDef; NULL: keep the items (when editing) */
} CaseTypeDef;
gboolean store_case_type_exists (sqlite3 *db, const gchar *key);
/* creates, or (replace) edits; items of a type that cases already use cannot change (CONFLICT) */
gboolean store_case_type_save (sqlite3 *db, const CaseTypeDef *def, gboolean replace, GError **error);
/* every type as JSON-ready rows: of gchar*[5]: key, title_en, title_zh, days, cases using it */
GPtrArray *store_case_types (sqlite3 *db);
GPtrArray *store_case_type_items (sqlite3 *db, const gchar *key);   /* of gchar*[4]: en, zh, guidance, department */
gchar  **store_case_type_keys (sqlite3 *db);
CaseRow *store_case_add (sqlite3 *db, const CaseFacts *facts, GError **error);
gint     store_case_type_time_limit (sqlite3 *db, const gchar *type_key);   /* working days; -1: unknown type */
gboolean store_case_set_owner (sqlite3 *db, gint64 case_id, gint64 owner_id, const gchar *department);
gboolean store_case_add_reviewer (sqlite3 *db, gint64 case_id, gint64 user_id);
gboolean store_case_has_reviewer (sqlite3 *db, gint64 case_id, gint64 user_id);
/* whether one of the case's co-reviewers (an enabled account) belongs to that department */
gboolean store_case_has_reviewer_of (sqlite3 *db, gint64 case_id, const gchar *department);
GPtrArray *store_case_reviewers (sqlite3 *db, gint64 case_id);   /* of gchar*: usernames of co-reviewers */
gboolean store_case_set_status (sqlite3 *db, gint64 case_id, const gchar *status);
CaseRow *store_case_get (sqlite3 *db, const gchar *ref, GError **error);
GPtrArray *store_case_list (sqlite3 *db);                          /* of CaseRow* */
GPtrArray *store_case_items (sqlite3 *db, gint64 case_id);         /* of gchar*[4]: en, zh, guidance, department */
gchar   *store_invite_issue (sqlite3 *db, gint64 case_id, gint valid_days, GError **error);
gboolean store_invite_check (sqlite3 *db, gint64 case_id, const gchar *token);
gint     store_invites_revoke (sqlite3 *db, gint64 case_id);   /* returns how many were live */
/* the token was issued for this case, whatever became of it since (revoked, expired) */
gboolean store_invite_known (sqlite3 *db, gint64 case_id, const gchar *token);
gboolean store_invite_any_live (sqlite3 *db, gint64 case_id);   /* an invite neither revoked nor expired */

/* store_sessions.c — live inspections, participants, recording segments */
gint64   store_session_open (sqlite3 *db, gint64 case_id, GError **error);
void     store_session_close (sqlite3 *db, gint64 session_id);
gint64   store_participant_join (sqlite3 *db, gint64 session_id, const gchar *peer,
                                 const gchar *role, const gchar *name);
void     store_participant_leave (sqlite3 *db, gint64 participant_id);
/* the candidate pair the participant's connection selected ("host/udp" …), latest wins */
void     store_participant_set_ice (sqlite3 *db, gint64 participant_id, const gchar *local, const gchar *remote);
typedef struct {
  gint64 id, session_id, joined_at, left_at, ice_at;
  gchar *peer, *role, *name, *ice_local, *ice_remote;
} ParticipantRow;
void       participant_row_free (ParticipantRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ParticipantRow, participant_row_free)
GPtrArray *store_participants_of_session (sqlite3 *db, gint64 session_id);   /* of ParticipantRow*, by join */
gint64   store_recording_begin (sqlite3 *db, gint64 session_id, gint seq, const gchar *path,
                                const gchar *video_codec, const gchar *audio_codec);
void     store_recording_end (sqlite3 *db, gint64 recording_id, gint64 bytes, const gchar *state);
/* ended_at: when the segment stopped taking media (its file is closed a moment later) */
void     store_recording_stopped (sqlite3 *db, gint64 recording_id, gint64 at_ms);
/* a reference buffer: when it reached the muxer (wall clock, ms), and its time in the file (µs) */
void     store_recording_media_clock (sqlite3 *db, gint64 recording_id, gint64 at_ms, gint64 pts_us);
void     store_recordings_mark_interrupted (sqlite3 *db);   /* at start-up: left open by a crash */
void     store_recording_archived (sqlite3 *db, gint64 recording_id, const gchar *path, const gchar *sha256,
                                   gint64 bytes, gint64 duration_ms, gboolean salvaged);
/* the wall-clock time (ms) of the archive's 0, from the first media and the archive's shift */
void     store_recording_media_start (sqlite3 *db, gint64 recording_id, gint64 shift_us, gboolean shift_known);
void     store_recording_empty (sqlite3 *db, gint64 recording_id);   /* closed before any media: nothing archived */
void     store_recording_archive_failed (sqlite3 *db, gint64 recording_id, const gchar *message);
GPtrArray *store_recordings_unarchived (sqlite3 *db);
gchar     *store_recording_case_ref (sqlite3 *db, gint64 recording_id);
typedef struct {
  gint64 id, session_id, started_at, ended_at, duration_ms, archive_bytes, purged_at;
  gint64 media_started_at;   /* wall clock of the archive's 0; started_at when unknown */
  gint   seq;
  gchar *video_codec, *audio_codec, *state, *archive_state, *archive_path, *archive_sha256;
} RecordingRow;
void       recording_row_free (RecordingRow *row);
GPtrArray *store_recordings_of_case (sqlite3 *db, gint64 case_id);   /* of RecordingRow*, in time order */   /* of gchar*[2]: id as text, source path */
/* one recording and its case's reference (*case_ref, to free); NULL for an unknown id */
RecordingRow *store_recording_get (sqlite3 *db, gint64 recording_id, gchar **case_ref);
/* a segment's stretches without video (migration 11) */
typedef struct { gint64 at, duration_ms; } GapRow;
void       store_recording_gap_add (sqlite3 *db, gint64 recording_id, gint64 at, gint64 duration_ms,
                                    const gchar *reason);
GArray    *store_recording_gaps (sqlite3 *db, gint64 recording_id);   /* of GapRow, in time order */
/* a live inspection's segments whose archiving failed (a full disk), claimed for another try
 * (their archive state goes back to none): of gchar*[2], id as text, path */
GPtrArray *store_recordings_archive_failed (sqlite3 *db, gint64 session_id);

/* store_review.c — marks, decisions, and each live inspection's challenge and location */
typedef struct {
  gint64 id, session_id, at, media_ms;   /* media_ms < 0: before any media */
  gint   item;                           /* 1-based position in the case type's items */
  gchar *result, *note, *by_user;
} MarkRow;
void       mark_row_free (MarkRow *row);
typedef struct {
  gint64 id, session_id, at, countersigned_at;
  gchar *kind, *reason, *by_user, *state, *countersigned_by, *countersign_note, *notice;
  gchar *case_ref;
} DecisionRow;
void       decision_row_free (DecisionRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DecisionRow, decision_row_free)
typedef struct {
  gint64  id, started_at, ended_at, challenge_seen_at, geo_at;
  gchar  *challenge, *challenge_seen_by;
  gboolean has_geo;
  gdouble geo_lat, geo_lon, geo_accuracy_m;
} SessionRow;
void       session_row_free (SessionRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SessionRow, session_row_free)

gint64     store_mark_add (sqlite3 *db, gint64 case_id, gint64 session_id, gint item, const gchar *result,
                           const gchar *note, const gchar *by_user, gint64 media_ms);
GPtrArray *store_marks (sqlite3 *db, gint64 session_id);              /* of MarkRow*, oldest first */
gint64     store_decision_add (sqlite3 *db, gint64 case_id, gint64 session_id, const gchar *kind,
                               const gchar *reason, const gchar *by_user, const gchar *state, const gchar *notice);
GPtrArray *store_decisions (sqlite3 *db, gint64 case_id);             /* of DecisionRow*, oldest first */
GPtrArray *store_decisions_awaiting (sqlite3 *db);                    /* every awaiting_countersign */
DecisionRow *store_decision_get (sqlite3 *db, gint64 decision_id);
gboolean   store_decision_countersign (sqlite3 *db, gint64 decision_id, const gchar *by_user, const gchar *note,
                                       const gchar *state);
DecisionRow *store_decision_latest_notice (sqlite3 *db, gint64 case_id);   /* the last rectify, or NULL */
GPtrArray *store_sessions_of_case (sqlite3 *db, gint64 case_id);      /* of SessionRow*, oldest first */
gint64     store_session_latest (sqlite3 *db, gint64 case_id);        /* 0: none yet */
void       store_session_set_challenge (sqlite3 *db, gint64 session_id, const gchar *code);
gboolean   store_session_challenge_seen (sqlite3 *db, gint64 session_id, const gchar *by_user);
gboolean   store_session_set_geo (sqlite3 *db, gint64 session_id, gdouble lat, gdouble lon, gdouble accuracy_m);

/* store_review.c — evidence stills */
typedef struct {
  gint64 id, case_id, session_id, bytes, media_ms, at, annotated_at, purged_at;
  gint   item;
  gchar *path, *sha256, *by_user, *annotation, *annotated_by, *case_ref;
  /* photos (migration 17): source "video" (a frame of the live video) or "photo" (taken by the
   * phone on a reviewer's request: request_id, its pixels, where the phone said it was) */
  gchar   *source;
  gint64   request_id;        /* 0: none */
  gint     width, height;     /* 0: not recorded */
  gboolean has_geo;
  gdouble  geo_lat, geo_lon, geo_accuracy_m;
} StillRow;
void       still_row_free (StillRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StillRow, still_row_free)
gint64     store_still_add (sqlite3 *db, gint64 case_id, gint64 session_id, gint item, const gchar *path,
                            const gchar *sha256, gint64 bytes, gint64 media_ms, const gchar *by_user);
GPtrArray *store_stills_of_case (sqlite3 *db, gint64 case_id);        /* of StillRow*, oldest first */
StillRow  *store_still_get (sqlite3 *db, gint64 still_id);
/* whether a rectify decision's one-time notice of the case lists this still */
gboolean   store_still_in_notice (sqlite3 *db, gint64 case_id, gint64 still_id);
gboolean   store_still_annotate (sqlite3 *db, gint64 still_id, const gchar *annotation, const gchar *by_user);

/* store_review.c — retention: media of cases decided before a time */
typedef struct {
  gchar  *kind;        /* "recording" | "still" */
  gint64  id;
  gchar  *case_ref, *path, *sha256;
} PurgeRow;
void       purge_row_free (PurgeRow *row);
/* every unpurged recording (source and archive) and still of a case whose last final decision
 * (approve, or a countersigned reject) is older than before_ms */
GPtrArray *store_media_decided_before (sqlite3 *db, gint64 before_ms);   /* of PurgeRow* */
void       store_media_mark_purged (sqlite3 *db, const gchar *kind, gint64 id);

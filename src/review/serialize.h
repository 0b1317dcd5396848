/* serialize.h — the one JSON shape of each row type, for every REST route, live message and
 * export that sends that row (json-glib builders). A field a page or test reads is here once;
 * adding one here adds it everywhere the row goes. Pure: reads rows, writes the builder. */
#pragma once
#include "store/db.h"
#include "review/users.h"
#include "review/calendar.h"
#include "review/watch.h"
#include "review/acknowledge.h"
#include <json-glib/json-glib.h>

/* {id, session, item, result, note, by, at, media_ms (null before any media)} */
void mark_to_json (JsonBuilder *b, const MarkRow *m);
/* the members of a required item: position (1-based), title_en, title_zh, guidance, department;
 * item is a gchar*[4] of the store (en, zh, guidance, department). item_to_json wraps them in an
 * object; callers that add members of their own (may_mark, mark) open the object themselves. */
void item_members (JsonBuilder *b, guint position, gchar **item);
void item_to_json (JsonBuilder *b, guint position, gchar **item);
/* {id, case, session, kind, reason, by, at, state, countersigned_by (null when none), countersign_note} */
void decision_to_json (JsonBuilder *b, const DecisionRow *d);
/* {id, item, session, sha256, bytes, media_ms, at, by, url, annotation (the drawing, or null)} */
void still_to_json (JsonBuilder *b, const StillRow *s);
/* the members of an account: username, role, department */
void user_members (JsonBuilder *b, const User *u);
/* a live inspection of the case `row`: {id, started_at, ended_at, challenge, challenge_seen_by,
 * location: {lat, lon, accuracy_m, distance_m (from the case's site; null without one)} or null},
 * and with peers (of ParticipantRow; NULL: left out) "peers": [{peer, role, name, joined_at,
 * ice: {server, peer, at} — the candidate pair its connection selected (issue 13) — or null}] */
void session_to_json (JsonBuilder *b, const SessionRow *s, const CaseRow *row, GPtrArray *peers);
/* a recording segment: {id, session, seq, started_at, ended_at, media_started_at, duration_ms,
 * video_codec, archive_state (purged, or the archive's state), sha256, url (null when no file
 * is there)}, and with gaps (of GapRow; NULL: left out) its stretches without video */
void recording_to_json (JsonBuilder *b, const RecordingRow *r, GArray *gaps);
/* an acknowledgement of a notice: {id, decision, name, at, sha256}, and with_svg "svg": the
 * drawing as the server built it (SVG text, numbers only) */
void ack_to_json (JsonBuilder *b, const AckRow *a, gboolean with_svg);
/* great-circle distance between two points, metres */
gdouble serialize_distance_m (gdouble lat1, gdouble lon1, gdouble lat2, gdouble lon2);

/* A case row: "ref" always, then the members `flags` asks for, in this order. Each route sends
 * the shape it always sent (the CASE_JSON_* shapes below); what is not a column of the row
 * (the live room, the calendar, the co-reviewers) comes from `ctx`, which may be NULL when
 * none of those flags is set. */
typedef enum {
  CASE_JSON_TYPE         = 1 << 0,    /* "type": the case type's key */
  CASE_JSON_TYPE_TITLE   = 1 << 1,    /* "type_title": {en, zh} */
  CASE_JSON_STATUS       = 1 << 2,    /* "status" */
  CASE_JSON_LIVE         = 1 << 3,    /* "live", "participants" (ctx) */
  CASE_JSON_CREATED      = 1 << 4,    /* "created_at" */
  CASE_JSON_OWNER        = 1 << 5,    /* "owner" ("" when none) */
  CASE_JSON_DEPARTMENT   = 1 << 6,    /* "department" */
  CASE_JSON_APPLICANT    = 1 << 7,    /* "applicant_name" */
  CASE_JSON_CONTACT      = 1 << 8,    /* "applicant_phone", "site_address" */
  CASE_JSON_SITE         = 1 << 9,    /* "site": {lat, lon} or null */
  CASE_JSON_DATES        = 1 << 10,   /* "accepted_on", "deadline_on" (YYYY-MM-DD) */
  CASE_JSON_DAYS_LEFT    = 1 << 11,   /* "working_days_left": to the deadline (ctx), null without one */
  CASE_JSON_OVERDUE      = 1 << 12,   /* "overdue": open and past its deadline in working days (ctx) */
  CASE_JSON_CO_REVIEWERS = 1 << 13,   /* "co_reviewers": [username] (ctx) */
  CASE_JSON_NOTICE_ACK   = 1 << 14,   /* "notice_ack": the latest notice's acknowledgement (ack_to_json) or
                                       * null; "notice_unacknowledged": flagged, unacknowledged for
                                       * [bureau] notice_ack_days working days (ctx->ack) */
} CaseJsonFlags;

/* what the applicant's page may read with its invite (GET /api/invite) */
#define CASE_JSON_INVITE  (CASE_JSON_TYPE_TITLE | CASE_JSON_STATUS)
/* a row of GET /api/cases */
#define CASE_JSON_SUMMARY (CASE_JSON_TYPE | CASE_JSON_TYPE_TITLE | CASE_JSON_STATUS | CASE_JSON_LIVE | \
                           CASE_JSON_CREATED | CASE_JSON_OWNER | CASE_JSON_DEPARTMENT | CASE_JSON_DATES | \
                           CASE_JSON_DAYS_LEFT | CASE_JSON_OVERDUE | CASE_JSON_NOTICE_ACK)
/* one case (GET/POST /api/cases…, assign) */
#define CASE_JSON_FULL    (CASE_JSON_SUMMARY | CASE_JSON_APPLICANT | CASE_JSON_CONTACT | CASE_JSON_SITE | \
                           CASE_JSON_CO_REVIEWERS)
/* a row of the auditor's search (GET /api/audit/cases) */
#define CASE_JSON_AUDIT   (CASE_JSON_TYPE | CASE_JSON_APPLICANT | CASE_JSON_OWNER | CASE_JSON_STATUS | \
                           CASE_JSON_DATES | CASE_JSON_OVERDUE)
/* the case in the CaseReport's JSON (case_report.c) */
#define CASE_JSON_REPORT  (CASE_JSON_TYPE | CASE_JSON_TYPE_TITLE | CASE_JSON_STATUS | CASE_JSON_OWNER | \
                           CASE_JSON_DEPARTMENT | CASE_JSON_APPLICANT | CASE_JSON_CONTACT | CASE_JSON_DATES | \
                           CASE_JSON_CO_REVIEWERS)

typedef struct {
  gboolean            live;           /* CASE_JSON_LIVE: the case's room has media */
  guint               participants;   /* CASE_JSON_LIVE: in its room */
  const WorkCalendar *calendar;       /* CASE_JSON_DAYS_LEFT, CASE_JSON_OVERDUE */
  const GDate        *today;          /* the same */
  GPtrArray          *co_reviewers;   /* CASE_JSON_CO_REVIEWERS: of gchar* */
  const AckState     *ack;            /* CASE_JSON_NOTICE_ACK (NULL: none) */
  gint64              waiting_since;  /* CASE_JSON_LIVE: ms since its applicant waits to be admitted; 0: nobody */
} CaseJsonContext;

/* the members alone, for callers that add their own to the object; case_to_json wraps them */
void case_members (JsonBuilder *b, const CaseRow *row, CaseJsonFlags flags, const CaseJsonContext *ctx);
void case_to_json (JsonBuilder *b, const CaseRow *row, CaseJsonFlags flags, const CaseJsonContext *ctx);
/* a viewing token just issued (the only time its secret is shown): {id, ref, token, whep_url, expires_at} */
void watch_token_to_json (JsonBuilder *b, const WatchToken *t, const CaseRow *row);

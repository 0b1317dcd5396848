/* acknowledge.h — the applicant's acknowledgement of a notice (issue 18): a name and a drawn
 * signature, sent with the invite capability after a rectify (or a countersigned reject)
 * decision. The drawing arrives as strokes; the server validates them, builds the SVG itself
 * (never a client's SVG text), hashes it, stores and audits it. One per notice. */
#pragma once
#include "app/app.h"
#include "store/db.h"
#include "store/store_acks.h"
#include "review/calendar.h"
#include <json-glib/json-glib.h>

/* the drawing's box: every point is [x, y] with 0 ≤ x, y ≤ 1 of a box ACK_BOX_W × ACK_BOX_H */
#define ACK_BOX_W          500
#define ACK_BOX_H          200
#define ACK_MAX_STROKES     60
#define ACK_MAX_POINTS    1000   /* in one stroke */
#define ACK_MAX_TOTAL     3000   /* in all strokes */
#define ACK_NAME_MAX       100   /* characters */

typedef struct { gdouble x, y; } AckPoint;

/* pure: the strokes validated (an array of 1..ACK_MAX_STROKES arrays of 1..ACK_MAX_POINTS
 * [x, y] number pairs in 0..1, at most ACK_MAX_TOTAL points): a GPtrArray of GArray of AckPoint,
 * or NULL with BAD_FIELD naming what is wrong */
GPtrArray *ack_strokes_parse (JsonNode *strokes, GError **error);
/* pure: the strokes again as compact JSON (what is stored: points to 4 decimals) */
gchar     *ack_strokes_to_json (GPtrArray *strokes);
/* pure: the SVG of the strokes in the ACK_BOX_W × ACK_BOX_H box (black on white); with no
 * strokes (a typed signature: the keyboard's way) the name itself, escaped, as its text */
gchar     *ack_svg (GPtrArray *strokes, const gchar *typed_name);
/* pure: the name trimmed, or NULL with BAD_FIELD (1..ACK_NAME_MAX characters, no control ones) */
gchar     *ack_name_valid (const gchar *name, GError **error);

/* the notice an acknowledgement answers: the case's latest rectify decision, or its latest
 * countersigned (final) reject; NULL when none */
DecisionRow *ack_notice_of (sqlite3 *db, const CaseRow *row);

/* TRUE when `token` is this case's invite that ended BECAUSE the case closed with a countersigned
 * rejection: the case is 'rejected', its notice is that final reject, and the invite was live
 * until the countersignature revoked it (revoked at or after it was countersigned). Such a token
 * may still read its notice and acknowledge it (and nothing else: no join, no WHIP); one revoked by
 * hand before, an expired one, an approved case's, another case's or a wrong one is not. */
gboolean ack_invite_closed_by_rejection (sqlite3 *db, const CaseRow *row, const gchar *token);

/* stores the applicant's acknowledgement of the case's notice (the invite token names the
 * invite in the row); `typed`: no drawing (strokes must be absent or []), the typed name is the
 * signature (the keyboard-only way, stored as strokes "[]"); audited ("notice.acknowledged" with the SVG's sha256) in one durable
 * transaction, and tells the case's reviewers; NO_NOTICE, ALREADY_ACKNOWLEDGED, BAD_FIELD */
AckRow  *ack_submit (KanyanApp *app, const CaseRow *row, const gchar *invite_token, const gchar *name,
                     JsonNode *strokes, gboolean typed, GError **error);

/* where a case's notice stands, for the desk: the notice (or NULL), its acknowledgement (or
 * NULL), and whether it is flagged — still unacknowledged `days` working days or more after it
 * was issued, while the case waits for the rectification */
typedef struct {
  DecisionRow *notice;
  AckRow      *ack;
  gboolean     flagged;
} AckState;
void ack_state_load (sqlite3 *db, const CaseRow *row, const WorkCalendar *cal, const GDate *today, gint days,
                     AckState *out);
void ack_state_clear (AckState *state);

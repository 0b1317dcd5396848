/* store_acks.h — the applicant's acknowledgements of notices (schema 18, issue 18): rows in,
 * rows out. Never validates a drawing nor builds its SVG (review/acknowledge.c does). */
#pragma once
#include <glib.h>
#include <sqlite3.h>

typedef struct {
  gint64 id, case_id, decision_id, acknowledged_at, invite_id;   /* invite_id 0: not known */
  gchar *name, *strokes, *svg, *sha256;   /* strokes: the validated JSON the SVG was built from */
} AckRow;
void       ack_row_free (AckRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AckRow, ack_row_free)

/* 0 with CONFLICT when the decision has its acknowledgement already (one per notice) */
gint64     store_ack_add (sqlite3 *db, gint64 case_id, gint64 decision_id, const gchar *name, const gchar *strokes,
                          const gchar *svg, const gchar *sha256, gint64 at, gint64 invite_id, GError **error);
AckRow    *store_ack_of_decision (sqlite3 *db, gint64 decision_id);   /* NULL: not acknowledged */
GPtrArray *store_acks_of_case (sqlite3 *db, gint64 case_id);          /* of AckRow*, oldest first */
/* the id of the case's invite with this token (revoked or expired too), 0 when none */
gint64     store_invite_id (sqlite3 *db, gint64 case_id, const gchar *token);
/* when the case's invite with this token was revoked (ms), 0 when it was not (or is not the case's) */
gint64     store_invite_revoked_at (sqlite3 *db, gint64 case_id, const gchar *token);

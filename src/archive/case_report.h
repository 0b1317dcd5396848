/* case_report.h — the inspection report of one case as one model, read from the store once:
 * the case's facts, its required items with the mark that counts for each (the latest of the
 * last live inspection), decisions, stills, live inspections, recordings and co-reviewers.
 * Rendered by export.c (report.html, case.json) and report_pdf.c; nothing else rebuilds it. */
#pragma once
#include "store/db.h"
#include "store/store_acks.h"
#include <json-glib/json-glib.h>

typedef struct {
  const CaseRow *row;           /* borrowed: the caller keeps it alive */
  GPtrArray *items;             /* of gchar*[4]: en, zh, guidance, department */
  gint64     session;           /* the last live inspection, 0: none yet */
  GPtrArray *marks;             /* of MarkRow*: every mark of that inspection, oldest first */
  MarkRow  **latest;            /* per item (index position-1): the mark that counts, or NULL */
  GPtrArray *decisions;         /* of DecisionRow*, oldest first */
  GPtrArray *stills;            /* of StillRow*, oldest first */
  GPtrArray *sessions;          /* of SessionRow*, oldest first */
  GPtrArray *session_peers;     /* per session, of ParticipantRow*: who connected, over which pair */
  GPtrArray *recordings;        /* of RecordingRow*, in time order */
  GPtrArray *co_reviewers;      /* of gchar*: usernames */
  GPtrArray *acks;              /* of AckRow*: the applicant's acknowledgements of notices, oldest first */
} CaseReport;

CaseReport *case_report_new (sqlite3 *db, const CaseRow *row);
void        case_report_free (CaseReport *report);
/* the report as one JSON object (GET /api/cases/{ref}/report, the report page): the case's
 * facts, type_title {en, zh}, co_reviewers, session (the last, or null), items with the mark
 * that counts (or null), decisions, stills, sessions, recordings and acknowledgements (with their
 * SVG), each in its row's one shape (serialize.c) */
void        case_report_to_json (JsonBuilder *b, const CaseReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CaseReport, case_report_free)
/* the report's hash: the SHA-256 of case_report_to_json's compact text (hex). The page, the PDF
 * and the bundle carry it (with the case reference, in a QR code): the same facts, the same hash */
gchar      *case_report_sha256 (const CaseReport *report);
/* what the report's QR code says: "kanyan-report:REF:sha256:HEX" */
gchar      *case_report_qr_text (const CaseReport *report);

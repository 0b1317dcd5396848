/* workflow.h — the review workflow of a case: its lifecycle (a table of legal transitions),
 * marks on required items, decisions with the one-time notice, and countersignatures. */
#pragma once
#include "app/app.h"
#include "store/db.h"
#include <json-glib/json-glib.h>

typedef enum {
  CASE_ACCEPTED,                /* 受理 */
  CASE_AWAITING_INSPECTION,     /* 待踏勘: the applicant has an invite */
  CASE_INSPECTING,              /* 踏勘中: a live inspection happened; no decision in force */
  CASE_APPROVED,                /* 准予 */
  CASE_RECTIFICATION_REQUIRED,  /* 补正: the one-time notice is out; a new inspection follows */
  CASE_REJECTION_PENDING,       /* 不予, waiting for a lead's countersignature */
  CASE_REJECTED,                /* 不予, countersigned */
  N_CASE_STATUSES
} CaseStatus;

typedef enum {
  CASE_EVENT_INVITE, CASE_EVENT_LIVE, CASE_EVENT_APPROVE, CASE_EVENT_RECTIFY, CASE_EVENT_REJECT,
  CASE_EVENT_COUNTERSIGN, CASE_EVENT_RETURN, CASE_EVENT_REOPEN, N_CASE_EVENTS
} CaseEvent;

const gchar *workflow_status_name (CaseStatus status);
gboolean     workflow_status_parse (const gchar *name, CaseStatus *out);
const gchar *workflow_event_name (CaseEvent event);
gboolean     workflow_status_is_open (const gchar *status);   /* the deadline still runs */
/* finally decided (approved, or a countersigned rejection): nothing joins, publishes, marks or
 * captures until a lead reopens it */
gboolean     workflow_status_is_closed (const gchar *status);
/* CASE_CLOSED, with a sentence naming the decision, when the case is closed */
gboolean     workflow_check_open (const CaseRow *row, GError **error);
/* pure: the status after `event`, or FALSE when the lifecycle does not allow it */
gboolean     workflow_next (CaseStatus from, CaseEvent event, CaseStatus *to);
/* moves the case (audited); ILLEGAL_TRANSITION names the status when refused */
gboolean     workflow_apply (sqlite3 *db, const gchar *actor, const CaseRow *row, CaseEvent event, GError **error);
/* the same, for events that may or may not move the case (an invite, a live start) */
void         workflow_note (sqlite3 *db, const gchar *actor, const CaseRow *row, CaseEvent event);

/* a mark on item `item` (1-based) in the running live inspection; told to its reviewers at once.
 * result and note come validated (bodies_parse_mark) */
gboolean workflow_mark (KanyanApp *app, const gchar *actor, const CaseRow *row, gint item, const gchar *result,
                        const gchar *note, GError **error);
gboolean workflow_challenge_seen (KanyanApp *app, const gchar *actor, const CaseRow *row, GError **error);
/* approve | rectify | reject; returns the decision's id (0 on error) */
gint64   workflow_decide (KanyanApp *app, const gchar *actor, const CaseRow *row, const gchar *kind,
                          const gchar *reason, GError **error);
gboolean workflow_countersign (KanyanApp *app, const gchar *actor, const CaseRow *row, gint64 decision_id,
                               gboolean sign, const gchar *note, GError **error);

/* a lead's (or an admin's) audited reopening of a closed case: back to accepted, where a new
 * invite and a new live inspection may follow; reason is required */
gboolean workflow_reopen (KanyanApp *app, const gchar *actor, const CaseRow *row, const gchar *reason,
                          GError **error);

/* the items of a case with the effective (latest) mark of each in one live inspection; with
 * may_mark, each item also says whether the asking user may mark it ("may_mark") */
typedef gboolean (*WorkflowItemFilter) (const gchar *item_department, gpointer data);
void     workflow_add_items_with_marks (JsonBuilder *b, sqlite3 *db, const CaseRow *row, gint64 session_id,
                                        WorkflowItemFilter may_mark, gpointer data);
/* the latest mark of each item (index item-1; NULL: not marked), borrowed from `marks` (of
 * MarkRow*, oldest first, as store_marks gives them): the one rule of "which mark counts" */
MarkRow **workflow_latest_marks (GPtrArray *marks, guint n_items);

/* case_report.c — builds the CaseReport of a case from the store (case_report.h): every query
 * a report needs, once, and "which mark counts" through the workflow's one rule. Reads only;
 * the renderers (export.c, report_pdf.c) never query the store for the report themselves. */
#include "archive/case_report.h"
#include "review/workflow.h"

CaseReport *
case_report_new (sqlite3 *db, const CaseRow *row)
{
  CaseReport *r = g_new0 (CaseReport, 1);
  r->row = row;
  r->items = store_case_items (db, row->id);
  r->session = store_session_latest (db, row->id);
  r->marks = r->session ? store_marks (db, r->session) : g_ptr_array_new ();
  r->latest = workflow_latest_marks (r->marks, r->items->len);
  r->decisions = store_decisions (db, row->id);
  r->stills = store_stills_of_case (db, row->id);
  r->sessions = store_sessions_of_case (db, row->id);
  r->recordings = store_recordings_of_case (db, row->id);
  r->co_reviewers = store_case_reviewers (db, row->id);
  return r;
}

void
case_report_free (CaseReport *r)
{
  if (!r)
    return;
  g_free (r->latest);   /* borrowed from marks */
  g_ptr_array_unref (r->marks);
  g_ptr_array_unref (r->items);
  g_ptr_array_unref (r->decisions);
  g_ptr_array_unref (r->stills);
  g_ptr_array_unref (r->sessions);
  g_ptr_array_unref (r->recordings);
  g_ptr_array_unref (r->co_reviewers);
  g_free (r);
}

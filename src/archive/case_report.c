/* case_report.c — builds the CaseReport of a case from the store (case_report.h): every query
 * a report needs, once, and "which mark counts" through the workflow's one rule. Reads only;
 * the renderers (export.c, report_pdf.c, the report page through case_report_to_json) never
 * query the store for the report themselves. */
#include "archive/case_report.h"
#include "review/workflow.h"
#include "review/serialize.h"
#include "core/json_out.h"

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
  r->session_peers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  for (guint i = 0; i < r->sessions->len; i++)
    g_ptr_array_add (r->session_peers, store_participants_of_session (db, ((SessionRow *) g_ptr_array_index (r->sessions, i))->id));
  r->recordings = store_recordings_of_case (db, row->id);
  r->co_reviewers = store_case_reviewers (db, row->id);
  r->acks = store_acks_of_case (db, row->id);
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
  g_ptr_array_unref (r->session_peers);
  g_ptr_array_unref (r->recordings);
  g_ptr_array_unref (r->co_reviewers);
  g_ptr_array_unref (r->acks);
  g_free (r);
}

void
case_report_to_json (JsonBuilder *b, const CaseReport *r)
{
  const CaseRow *row = r->row;
  json_builder_begin_object (b);
  CaseJsonContext ctx = { .co_reviewers = r->co_reviewers };
  case_members (b, row, CASE_JSON_REPORT, &ctx);
  json_out_int_or_null (b, "session", r->session, r->session != 0);
  json_builder_set_member_name (b, "items");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->items->len; i++) {
    json_builder_begin_object (b);
    item_members (b, i + 1, g_ptr_array_index (r->items, i));
    json_builder_set_member_name (b, "mark");
    if (r->latest[i])
      mark_to_json (b, r->latest[i]);
    else
      json_builder_add_null_value (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "decisions");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->decisions->len; i++)
    decision_to_json (b, g_ptr_array_index (r->decisions, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "stills");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->stills->len; i++)
    still_to_json (b, g_ptr_array_index (r->stills, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "sessions");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->sessions->len; i++)
    session_to_json (b, g_ptr_array_index (r->sessions, i), row, g_ptr_array_index (r->session_peers, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "recordings");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->recordings->len; i++)
    recording_to_json (b, g_ptr_array_index (r->recordings, i), NULL);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "acknowledgements");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->acks->len; i++)
    ack_to_json (b, g_ptr_array_index (r->acks, i), TRUE);
  json_builder_end_array (b);
  json_builder_end_object (b);
}

gchar *
case_report_sha256 (const CaseReport *report)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  case_report_to_json (b, report);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *text = json_to_string (root, FALSE);
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
}

gchar *
case_report_qr_text (const CaseReport *report)
{
  g_autofree gchar *sha = case_report_sha256 (report);
  return g_strdup_printf ("kanyan-report:%s:sha256:%s", report->row->ref, sha);
}

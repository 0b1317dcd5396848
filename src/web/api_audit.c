/* api_audit.c — REST routes of the auditors' side: search, a case's whole timeline (every
 * audit entry and recording segment, each segment placed on the wall clock by
 * media_started_at, the moment of its archive's 0), and the integrity check (the hash chain and
 * every archive's and still's SHA-256 recomputed, on a worker thread: integrity.c) with its
 * progress, and the public signing key. Reads only; the check itself is audited. */
#include "web/api_private.h"
#include "web/qr.h"
#include "archive/archive.h"
#include "review/audit.h"
#include "review/calendar.h"
#include "core/errors.h"
#include "review/workflow.h"
#include "archive/report_pdf.h"
#include "review/serialize.h"
#include "archive/integrity.h"
#include "archive/signing.h"
#include "core/json_out.h"
#include <glib/gstdio.h>
#include <fcntl.h>
#include <unistd.h>

static gboolean
contains_casefold (const gchar *haystack, const gchar *needle)
{
  if (!needle || !*needle)
    return TRUE;
  g_autofree gchar *h = g_utf8_casefold (haystack ? haystack : "", -1);
  g_autofree gchar *n = g_utf8_casefold (needle, -1);
  return strstr (h, n) != NULL;
}

static gboolean
case_has_reviewer (KanyanApp *app, const CaseRow *row, const gchar *name)
{
  if (!name || !*name || g_strcmp0 (row->owner, name) == 0)
    return TRUE;
  g_autoptr (GPtrArray) co = store_case_reviewers (app->db, row->id);
  for (guint i = 0; i < co->len; i++)
    if (g_strcmp0 (g_ptr_array_index (co, i), name) == 0)
      return TRUE;
  return FALSE;
}

/* GET /api/search?ref=&applicant=&reviewer=&from=YYYY-MM-DD&to=YYYY-MM-DD&status=&overdue=1 */
void
api_audit_search (KanyanApp *app, HttpExchange *ex, const Identity *id)
{
  if (!api_allowed (app, ex, id, ABILITY_LIST_CASES, NULL))
    return;
  const gchar *ref = http_exchange_query (ex, "ref"), *applicant = http_exchange_query (ex, "applicant");
  const gchar *reviewer = http_exchange_query (ex, "reviewer"), *status = http_exchange_query (ex, "status");
  const gchar *from = http_exchange_query (ex, "from"), *to = http_exchange_query (ex, "to");
  gboolean overdue_only = g_strcmp0 (http_exchange_query (ex, "overdue"), "1") == 0;
  GDate d;
  if ((from && *from && !calendar_parse_date (from, &d)) || (to && *to && !calendar_parse_date (to, &d))) {
    http_exchange_respond_code (ex, KANYAN_ERROR_BAD_FIELD, "'from' and 'to' are dates, YYYY-MM-DD");
    return;
  }
  g_autoptr (WorkCalendar) cal = calendar_new ((const gchar *const *) app->config->holidays,
                                               (const gchar *const *) app->config->workdays, NULL);
  GDate today;
  calendar_today (&today);
  g_autoptr (GPtrArray) rows = store_case_list (app->db);
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_builder_set_member_name (b, "cases");
  json_builder_begin_array (b);
  for (guint i = 0; i < rows->len; i++) {
    CaseRow *row = g_ptr_array_index (rows, i);
    GDate deadline;   /* the same test as the row's "overdue" (serialize.c) */
    gboolean overdue = calendar_parse_date (row->deadline_on, &deadline) && workflow_status_is_open (row->status) &&
                       calendar_working_days_left (cal, &today, &deadline) < 0;
    if (!auth_allows (app, id, ABILITY_READ_CASE, row) || !contains_casefold (row->ref, ref) ||
        !contains_casefold (row->applicant_name, applicant) || !case_has_reviewer (app, row, reviewer) ||
        (status && *status && g_strcmp0 (row->status, status) != 0) ||
        (from && *from && g_strcmp0 (row->accepted_on, from) < 0) || (to && *to && g_strcmp0 (row->accepted_on, to) > 0) ||
        (overdue_only && !overdue))
      continue;
    CaseJsonContext ctx = { .calendar = cal, .today = &today };
    case_to_json (b, row, CASE_JSON_AUDIT, &ctx);
  }
  json_builder_end_array (b);
  api_respond_builder (ex, 200, b);
}

static void
add_recordings (JsonBuilder *b, KanyanApp *app, const CaseRow *row)
{
  g_autoptr (GPtrArray) recs = store_recordings_of_case (app->db, row->id);
  json_builder_set_member_name (b, "recordings");
  json_builder_begin_array (b);
  for (guint i = 0; i < recs->len; i++) {
    RecordingRow *r = g_ptr_array_index (recs, i);
    g_autoptr (GArray) gaps = store_recording_gaps (app->db, r->id);
    recording_to_json (b, r, gaps);
  }
  json_builder_end_array (b);
}

/* GET /api/cases/{ref}/timeline: every audit entry of the case and its recording segments */
void
api_audit_timeline (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body)
{
  g_autoptr (GPtrArray) entries = audit_entries (app->db, row->ref);
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_out_str (b, "ref", row->ref);
  json_out_str (b, "timezone", config_timezone (app->config));   /* [bureau]: the zone the page shows times in */
  json_builder_set_member_name (b, "entries");
  json_builder_begin_array (b);
  for (guint i = 0; i < entries->len; i++) {
    AuditEntry *e = g_ptr_array_index (entries, i);
    json_builder_begin_object (b);
    json_out_int (b, "id", e->id);
    json_out_int (b, "at", e->at);
    json_out_str (b, "actor", e->actor);
    json_out_str (b, "action", e->action);
    json_builder_set_member_name (b, "detail");
    g_autoptr (JsonParser) parser = json_parser_new ();
    if (e->detail && json_parser_load_from_data (parser, e->detail, -1, NULL))
      json_builder_add_value (b, json_node_copy (json_parser_get_root (parser)));
    else
      json_builder_add_null_value (b);
    json_out_str (b, "hash", e->hash);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  add_recordings (b, app, row);
  api_respond_builder (ex, 200, b);
}

/* GET /api/cases/{ref}/integrity[?job=N]: the audit chain, and each archive and still against
 * its hash. Without job: starts the check on a worker thread (integrity.c; or joins the one
 * running for the case) and answers 202 with its progress. With job: 202 and the progress
 * while it runs, 200 and the result once it is done. */
void
api_audit_integrity (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body)
{
  const gchar *job_text = http_exchange_query (ex, "job");
  guint64 job = 0;
  if (job_text && (!g_ascii_string_to_unsigned (job_text, 10, 1, G_MAXUINT, &job, NULL))) {
    http_exchange_respond_code (ex, KANYAN_ERROR_BAD_FIELD, "'job' is the number a started check answered with");
    return;
  }
  if (!job_text)
    job = integrity_start (app, row, auth_actor (id));
  g_autoptr (JsonNode) node = integrity_status ((guint) job, row->ref);
  if (!node) {
    http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such integrity check of this case (kept 10 minutes)");
    return;
  }
  gboolean running = json_object_get_boolean_member (json_node_get_object (node), "running");
  http_exchange_respond_json (ex, running ? 202 : 200, node);
}

/* GET /api/signing-key: the public key exported bundles are signed with (public, like a certificate) */
void
api_audit_signing_key (KanyanApp *app, HttpExchange *ex)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *key = signing_public_hex (app->config->data_dir, &error);
  if (!key) {
    http_exchange_respond_error (ex, error);
    return;
  }
  g_autoptr (JsonBuilder) b = api_object_begin ();
  json_out_str (b, "algorithm", "ed25519");
  json_out_str (b, "public_key", key);
  api_respond_builder (ex, 200, b);
}

/* GET /api/cases/{ref}/report: the inspection report as JSON (case_report.c), what the report
 * page renders */
void
api_audit_report (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body)
{
  g_autoptr (CaseReport) report = case_report_new (app->db, row);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  case_report_to_json (b, report);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  /* the report's hash and its QR code (the case and that hash), as the PDF prints them */
  g_autofree gchar *sha = case_report_sha256 (report);
  g_autofree gchar *qr_text = case_report_qr_text (report);
  g_autofree gchar *qr = qr_svg (qr_text);
  json_object_set_string_member (json_node_get_object (root), "report_sha256", sha);
  json_object_set_string_member (json_node_get_object (root), "qr_text", qr_text);
  json_object_set_string_member (json_node_get_object (root), "qr_svg", qr ? qr : "");
  http_exchange_respond_json (ex, 200, root);
}

/* GET /api/cases/{ref}/report.pdf[?lang=zh-CN|en]: the inspection report as a PDF download, in
 * that language ([bureau] language when not asked) */
void
api_audit_report_pdf (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body)
{
  const gchar *lang = http_exchange_query (ex, "lang");
  if (lang && *lang && !report_pdf_language_known (lang)) {
    http_exchange_respond_code (ex, KANYAN_ERROR_BAD_FIELD, "'lang' is zh-CN or en");
    return;
  }
  g_autoptr (GError) error = NULL;
  g_autofree gchar *tmp = NULL;
  gint fd = g_file_open_tmp ("kanyan-report-XXXXXX.pdf", &tmp, &error);
  if (fd < 0) {
    http_exchange_respond_error (ex, error);
    return;
  }
  close (fd);
  if (!report_pdf_write (app, row, lang && *lang ? lang : NULL, tmp, &error)) {
    g_unlink (tmp);
    http_exchange_respond_error (ex, error);
    return;
  }
  fd = g_open (tmp, O_RDONLY | O_CLOEXEC, 0);
  GStatBuf st;
  gboolean ok = fd >= 0 && fstat (fd, &st) == 0;
  g_unlink (tmp);   /* the open descriptor keeps it until it is sent */
  if (!ok) {
    if (fd >= 0)
      close (fd);
    http_exchange_respond_code (ex, KANYAN_ERROR_INTERNAL, "the report could not be read back");
    return;
  }
  audit_note (app->db, auth_actor (id), "report.downloaded", row->ref, "format", "pdf", "lang",
              lang && *lang ? lang : app->config->language, NULL);
  g_autofree gchar *disposition = g_strdup_printf ("attachment; filename=\"report-%s.pdf\"", row->ref);
  http_exchange_add_header (ex, "content-disposition", disposition);
  http_exchange_respond_file (ex, 200, "application/pdf", fd, 0, st.st_size);
}

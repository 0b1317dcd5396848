/* export.c — the case bundle (libzip). Contents:
 *   manifest.json  format, case, exporter, time, the audit chain's head, the server's public
 *                  key, the case's first and last audit entries and their count, and every
 *                  other file of the bundle with its SHA-256 and size
 *   manifest.sig   the Ed25519 signature (hex) of manifest.json's exact bytes (signing.c)
 *   audit.json     every audit entry of the case, with its prev_hash and hash
 *   audit-links.json  the other cases' entries in between, as (id, prev_hash, hash) only
 *   case.json      the facts, items with their latest marks, decisions and stills
 *   report.html    the inspection report, readable without Kanyan; report.pdf the same as PDF
 *                  (the three render one CaseReport, case_report.c), both in the bureau's
 *                  language ([bureau] language)
 *   recordings/…   the archives as finalized (MP4/WebM), stills/… the evidence JPEGs,
 *                  signatures/… the applicant's acknowledgements of notices (the SVG the server
 *                  built; its SHA-256 is in the "notice.acknowledged" audit entry too)
 * Verification (no database): the signature (against --pubkey, or the key the manifest names),
 * every ZIP member listed and matching its SHA-256 (nothing unlisted), the audit entries as an
 * unbroken chain from the signed first entry to the signed last one, and the media against the
 * hashes the audit entries recorded when they were made.
 * Reads the database and media; writes only the bundle. */
#include "archive/export.h"
#include "archive/archive.h"
#include "review/audit.h"
#include "core/errors.h"
#include "archive/report_pdf.h"
#include "archive/signing.h"
#include <json-glib/json-glib.h>
#include <zip.h>
#include <glib/gstdio.h>

#define BUNDLE_FORMAT "kanyan-bundle/2"

static gchar *
node_text (JsonBuilder *b)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

static void
member_str (JsonBuilder *b, const gchar *name, const gchar *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value ? value : "");
}

static void
member_int (JsonBuilder *b, const gchar *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static gchar *
audit_json (GPtrArray *entries)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < entries->len; i++) {
    AuditEntry *e = g_ptr_array_index (entries, i);
    json_builder_begin_object (b);
    member_int (b, "id", e->id);
    member_int (b, "at", e->at);
    member_str (b, "actor", e->actor);
    member_str (b, "action", e->action);
    member_str (b, "case_ref", e->case_ref);
    member_str (b, "detail", e->detail);   /* as stored: the hash covers this exact text */
    member_str (b, "prev_hash", e->prev_hash);
    member_str (b, "hash", e->hash);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  return node_text (b);
}

/* case.json renders the CaseReport in the bundle's own flat shape (format kanyan-bundle/2:
 * each item with its counting mark's result, note and author; "" for what is missing), not
 * the API's rows (serialize.c): bundles already handed out are read by that shape */
static gchar *
case_json (const CaseReport *report)
{
  const CaseRow *row = report->row;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  member_str (b, "ref", row->ref);
  member_str (b, "type", row->type_key);
  member_str (b, "type_title_en", row->type_title_en);
  member_str (b, "type_title_zh", row->type_title_zh);
  member_str (b, "status", row->status);
  member_str (b, "owner", row->owner);
  member_str (b, "department", row->department);
  member_str (b, "applicant_name", row->applicant_name);
  member_str (b, "site_address", row->site_address);
  member_str (b, "accepted_on", row->accepted_on);
  member_str (b, "deadline_on", row->deadline_on);
  json_builder_set_member_name (b, "items");
  json_builder_begin_array (b);
  for (guint i = 0; i < report->items->len; i++) {
    gchar **item = g_ptr_array_index (report->items, i);
    const MarkRow *latest = report->latest[i];
    json_builder_begin_object (b);
    member_int (b, "position", i + 1);
    member_str (b, "title_en", item[0]);
    member_str (b, "title_zh", item[1]);
    member_str (b, "department", item[3]);
    member_str (b, "result", latest ? latest->result : "");
    member_str (b, "note", latest ? latest->note : "");
    member_str (b, "by", latest ? latest->by_user : "");
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "decisions");
  json_builder_begin_array (b);
  for (guint i = 0; i < report->decisions->len; i++) {
    DecisionRow *d = g_ptr_array_index (report->decisions, i);
    json_builder_begin_object (b);
    member_str (b, "kind", d->kind);
    member_str (b, "reason", d->reason);
    member_str (b, "by", d->by_user);
    member_int (b, "at", d->at);
    member_str (b, "state", d->state);
    member_str (b, "countersigned_by", d->countersigned_by);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "acknowledgements");   /* added in issue 18: readers of /2 ignore it */
  json_builder_begin_array (b);
  for (guint i = 0; i < report->acks->len; i++) {
    AckRow *a = g_ptr_array_index (report->acks, i);
    json_builder_begin_object (b);
    member_int (b, "decision", a->decision_id);
    member_str (b, "name", a->name);
    member_int (b, "at", a->acknowledged_at);
    member_str (b, "sha256", a->sha256);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return node_text (b);
}

static void
html_row (GString *out, const gchar *label, const gchar *value)
{
  g_autofree gchar *v = g_markup_escape_text (value ? value : "", -1);
  g_string_append_printf (out, "<tr><th>%s</th><td>%s</td></tr>\n", label, v);
}

/* the report, self-contained and readable in any browser; every text escaped. Written in the
 * bureau's language ([bureau] language), as the bundle's report.pdf: the words and the words for
 * every stored code are report_pdf.c's table */
static gchar *
report_html (const CaseReport *report, const gchar *lang, const gchar *public_key)
{
  const CaseRow *row = report->row;
  const gboolean zh = g_strcmp0 (lang, "en") != 0;
#define W(key) report_word (zh, key)
  g_autofree gchar *head = g_markup_printf_escaped ("<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
                                                    "<title>%s · %s</title>", zh ? "zh-CN" : "en", W ("title"), row->ref);
  GString *out = g_string_new (head);
  g_string_append (out, "<style>body{font-family:sans-serif;max-width:50rem;margin:2rem auto}th{text-align:left;"
                        "padding-right:1rem}code{word-break:break-all}</style></head><body>\n");
  g_autofree gchar *title = g_markup_printf_escaped ("<h1>%s — %s · %s</h1>\n<table>\n",
                                                     zh ? row->type_title_zh : row->type_title_en, W ("title"), row->ref);
  g_string_append (out, title);
  html_row (out, W ("applicant"), row->applicant_name);
  html_row (out, W ("site"), row->site_address);
  html_row (out, W ("owner"), row->owner);
  html_row (out, W ("status"), report_value (zh, "status", row->status));
  html_row (out, W ("accepted"), row->accepted_on);
  html_row (out, W ("deadline"), row->deadline_on);
  g_autofree gchar *items = g_markup_printf_escaped ("</table>\n<h2>%s</h2>\n<ol>\n", W ("items"));
  g_string_append (out, items);
  for (guint i = 0; i < report->items->len; i++) {
    gchar **item = g_ptr_array_index (report->items, i);
    const MarkRow *latest = report->latest[i];
    g_autofree gchar *li = g_markup_printf_escaped ("<li><b>%s</b> — %s %s <i>%s</i></li>\n", zh ? item[1] : item[0],
                                                    latest ? report_value (zh, "result", latest->result) : W ("unmarked"),
                                                    latest ? latest->by_user : "", latest ? latest->note : "");
    g_string_append (out, li);
  }
  g_autofree gchar *decisions = g_markup_printf_escaped ("</ol>\n<h2>%s</h2>\n<ul>\n", W ("decisions"));
  g_string_append (out, decisions);
  for (guint i = 0; i < report->decisions->len; i++) {
    DecisionRow *d = g_ptr_array_index (report->decisions, i);
    g_autofree gchar *line = g_strdup_printf (W ("html.decision"), report_value (zh, "decision", d->kind), d->reason,
                                              d->by_user, report_value (zh, "dstate", d->state));
    g_autofree gchar *li = g_markup_printf_escaped ("<li>%s%s%s%s%s</li>\n", line, d->countersigned_by ? " · " : "",
                                                    d->countersigned_by ? W ("countersigned") : "",
                                                    d->countersigned_by ? W ("sep") : "",
                                                    d->countersigned_by ? d->countersigned_by : "");
    g_string_append (out, li);
  }
  g_autofree gchar *media = g_markup_printf_escaped ("</ul>\n<h2>%s</h2>\n<ul>\n", W ("html.media"));
  g_string_append (out, media);
  for (guint i = 0; i < report->recordings->len; i++) {
    RecordingRow *r = g_ptr_array_index (report->recordings, i);
    g_autofree gchar *base = r->archive_path ? g_path_get_basename (r->archive_path) : g_strdup ("-");
    g_autofree gchar *session = g_strdup_printf ("%" G_GINT64_FORMAT, r->session_id);
    g_autofree gchar *seq = g_strdup_printf ("%d", r->seq);
    g_autofree gchar *which = g_strdup_printf (W ("segment"), session, seq);
    g_autofree gchar *seconds = g_strdup_printf ("%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT, r->duration_ms / 1000,
                                                 (r->duration_ms % 1000) / 100);   /* no locale's decimal comma */
    g_autofree gchar *li = g_markup_printf_escaped ("<li>%s: %s, %s %s, SHA-256 <code>%s</code></li>\n", which, base,
                                                    seconds, W ("sec"), r->archive_sha256 ? r->archive_sha256 : "");
    g_string_append (out, li);
  }
  for (guint i = 0; i < report->stills->len; i++) {
    StillRow *s = g_ptr_array_index (report->stills, i);
    g_autofree gchar *base = g_path_get_basename (s->path);
    g_autofree gchar *item = g_strdup_printf ("%d", s->item);
    g_autofree gchar *which = g_strdup_printf (W ("html.still"), item, s->by_user);
    g_autofree gchar *li = g_markup_printf_escaped ("<li>%s: <a href=\"stills/%s\">%s</a>, SHA-256 <code>%s</code></li>\n",
                                                    which, base, base, s->sha256);
    g_string_append (out, li);
  }
  g_autofree gchar *acks = g_markup_printf_escaped ("</ul>\n<h2>%s</h2>\n<ul>\n", W ("acks"));
  g_string_append (out, acks);
  for (guint i = 0; i < report->acks->len; i++) {
    AckRow *a = g_ptr_array_index (report->acks, i);
    g_autoptr (GDateTime) at = g_date_time_new_from_unix_utc (a->acknowledged_at / 1000);
    g_autofree gchar *when = g_date_time_format_iso8601 (at);
    const gchar *kind = "–";
    for (guint k = 0; k < report->decisions->len; k++)
      if (((DecisionRow *) g_ptr_array_index (report->decisions, k))->id == a->decision_id)
        kind = report_value (zh, "decision", ((DecisionRow *) g_ptr_array_index (report->decisions, k))->kind);
    g_autofree gchar *line = g_strdup_printf (W ("ack"), a->name, when, kind, a->sha256);
    g_autofree gchar *li = g_markup_printf_escaped ("<li>%s — <a href=\"signatures/%" G_GINT64_FORMAT "-notice-%" G_GINT64_FORMAT
                                                    ".svg\">%s</a></li>\n", line, a->id, a->decision_id, W ("html.signature"));
    g_string_append (out, li);
  }
  g_autofree gchar *report_sha = case_report_sha256 (report);
  g_autofree gchar *verify_report = g_strdup_printf (W ("verify"), row->ref, report_sha);
  g_autofree gchar *hash_line = g_markup_printf_escaped ("</ul>\n<p>%s</p>\n", verify_report);
  g_string_append (out, hash_line);
  g_autofree gchar *key = g_markup_printf_escaped ("<code>%s</code>", public_key);
  const gchar *command = "<code>kanyan audit verify --bundle FILE --pubkey KEY</code>";
  g_autofree gchar *verify = g_strdup_printf (W ("html.verify"), key, command);   /* the words hold no markup */
  g_string_append_printf (out, "<p>%s</p>\n</body></html>\n", verify);
#undef W
  return g_string_free (out, FALSE);
}

static void
list_file (JsonBuilder *files, const gchar *name, const gchar *kind, gint64 id, const gchar *sha, gint64 bytes)
{
  json_builder_begin_object (files);
  member_str (files, "path", name);
  member_str (files, "kind", kind);
  if (id > 0)
    member_int (files, "id", id);
  member_str (files, "sha256", sha);
  member_int (files, "bytes", bytes);
  json_builder_end_object (files);
}

/* a text member, listed in the manifest with its SHA-256 */
static gboolean
add_buffer (zip_t *zip, JsonBuilder *files, const gchar *name, const gchar *kind, gchar *text /* taken */,
            GError **error)
{
  if (files) {
    g_autofree gchar *sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
    list_file (files, name, kind, 0, sha, strlen (text));
  }
  zip_source_t *src = zip_source_buffer (zip, text, strlen (text), 1);
  if (!src || zip_file_add (zip, name, src, ZIP_FL_ENC_UTF_8) < 0) {
    if (src)
      zip_source_free (src);
    else
      g_free (text);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "bundle: %s: %s", name, zip_strerror (zip));
    return FALSE;
  }
  return TRUE;
}

/* a file member, streamed at zip_close (never whole in memory), listed with its SHA-256 */
static gboolean
add_file (zip_t *zip, JsonBuilder *files, const gchar *name, const gchar *kind, gint64 id, const gchar *path,
          gboolean store, GError **error)
{
  gint64 bytes = 0;
  g_autofree gchar *sha = archive_sha256_file (path, &bytes, error);
  if (!sha)
    return FALSE;
  zip_source_t *src = zip_source_file (zip, path, 0, -1);
  if (!src || zip_file_add (zip, name, src, ZIP_FL_ENC_UTF_8) < 0) {
    if (src)
      zip_source_free (src);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "bundle: %s: %s", name, zip_strerror (zip));
    return FALSE;
  }
  if (store)   /* media is compressed already */
    zip_set_file_compression (zip, zip_name_locate (zip, name, 0), ZIP_CM_STORE, 0);
  list_file (files, name, kind, id, sha, bytes);
  return TRUE;
}

static gboolean
add_media (zip_t *zip, JsonBuilder *files, const gchar *dir, const gchar *kind, gint64 id, const gchar *path,
           GError **error)
{
  if (!path || !g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return TRUE;   /* purged or never finalized: the manifest lists what is there */
  g_autofree gchar *base = g_path_get_basename (path);
  g_autofree gchar *name = g_strdup_printf ("%s/%" G_GINT64_FORMAT "-%s", dir, id, base);
  return add_file (zip, files, name, kind, id, path, TRUE, error);
}

/* The other cases' entries between this case's first and last, as links only (id, prev_hash,
 * hash; their content is not this case's to disclose): with them the case's entries form one
 * unbroken run of the chain, so a removed entry shows as a hole and an edited one as a link
 * that no longer matches. */
static gchar *
audit_links_json (GPtrArray *all, GPtrArray *entries, const gchar *case_ref)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  gint64 first = entries->len ? ((AuditEntry *) g_ptr_array_index (entries, 0))->id : 0;
  gint64 last = entries->len ? ((AuditEntry *) g_ptr_array_index (entries, entries->len - 1))->id : 0;
  for (guint i = 0; i < all->len; i++) {
    AuditEntry *e = g_ptr_array_index (all, i);
    if (e->id <= first || e->id >= last || g_strcmp0 (e->case_ref, case_ref) == 0)
      continue;
    json_builder_begin_object (b);
    member_int (b, "id", e->id);
    member_str (b, "prev_hash", e->prev_hash);
    member_str (b, "hash", e->hash);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  return node_text (b);
}

static void
anchor (JsonBuilder *m, const gchar *name, AuditEntry *e)
{
  json_builder_set_member_name (m, name);
  json_builder_begin_object (m);
  member_int (m, "id", e ? e->id : 0);
  member_str (m, "hash", e ? e->hash : "");
  json_builder_end_object (m);
}

gboolean
export_case_bundle (KanyanApp *app, const CaseRow *row, const gchar *actor, const gchar *out_path, GError **error)
{
  g_autofree gchar *public_key = signing_public_hex (app->config->data_dir, error);
  if (!public_key)
    return FALSE;
  g_autofree gchar *tmp = g_strdup_printf ("%s.part", out_path);
  g_unlink (tmp);
  int zerr = 0;
  zip_t *zip = zip_open (tmp, ZIP_CREATE | ZIP_EXCL, &zerr);
  if (!zip) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot create %s (libzip error %d)", tmp, zerr);
    return FALSE;
  }
  g_autoptr (GPtrArray) entries = audit_entries (app->db, row->ref);
  g_autoptr (GPtrArray) all = audit_entries (app->db, NULL);
  g_autoptr (CaseReport) report = case_report_new (app->db, row);   /* one model: html, pdf and case.json */
  GPtrArray *recs = report->recordings, *stills = report->stills;
  g_autoptr (JsonBuilder) files = json_builder_new ();
  json_builder_begin_array (files);
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < recs->len; i++) {
    RecordingRow *r = g_ptr_array_index (recs, i);
    ok = r->purged_at || add_media (zip, files, "recordings", "recording", r->id, r->archive_path, error);
  }
  for (guint i = 0; ok && i < stills->len; i++) {
    StillRow *s = g_ptr_array_index (stills, i);
    ok = add_media (zip, files, "stills", "still", s->id, s->path, error);
  }
  for (guint i = 0; ok && i < report->acks->len; i++) {
    AckRow *a = g_ptr_array_index (report->acks, i);
    g_autofree gchar *name = g_strdup_printf ("signatures/%" G_GINT64_FORMAT "-notice-%" G_GINT64_FORMAT ".svg", a->id,
                                              a->decision_id);
    ok = add_buffer (zip, files, name, "signature", g_strdup (a->svg), error);
  }
  g_autofree gchar *pdf = g_strdup_printf ("%s.report.pdf", tmp);
  ok = ok && report_pdf_render (app, report, NULL, pdf, error) && add_file (zip, files, "report.pdf", "report", 0, pdf, FALSE, error);
  ok = ok && add_buffer (zip, files, "audit.json", "audit", audit_json (entries), error) &&
       add_buffer (zip, files, "audit-links.json", "audit-links", audit_links_json (all, entries, row->ref), error) &&
       add_buffer (zip, files, "case.json", "case", case_json (report), error) &&
       add_buffer (zip, files, "report.html", "report", report_html (report, app->config->language, public_key), error);
  json_builder_end_array (files);
  g_autoptr (JsonBuilder) m = json_builder_new ();
  json_builder_begin_object (m);
  member_str (m, "format", BUNDLE_FORMAT);
  member_str (m, "case", row->ref);
  member_str (m, "exported_by", actor);
  member_int (m, "exported_at", db_now_ms ());
  /* the chain's head when exported: compare it with the server's log to anchor the bundle */
  member_str (m, "chain_head", all->len ? ((AuditEntry *) g_ptr_array_index (all, all->len - 1))->hash : "");
  member_str (m, "public_key", public_key);
  json_builder_set_member_name (m, "audit");
  json_builder_begin_object (m);
  member_int (m, "entries", entries->len);
  anchor (m, "first", entries->len ? g_ptr_array_index (entries, 0) : NULL);
  anchor (m, "last", entries->len ? g_ptr_array_index (entries, entries->len - 1) : NULL);
  json_builder_end_object (m);
  json_builder_set_member_name (m, "files");
  g_autoptr (JsonNode) file_list = json_builder_get_root (files);
  json_builder_add_value (m, g_steal_pointer (&file_list));
  json_builder_end_object (m);
  g_autofree gchar *manifest = node_text (m);
  g_autofree gchar *signature = ok ? signing_sign_hex (app->config->data_dir, (const guint8 *) manifest,
                                                       strlen (manifest), error) : NULL;
  ok = signature && add_buffer (zip, NULL, "manifest.sig", NULL, g_strdup_printf ("%s\n", signature), error) &&
       add_buffer (zip, NULL, "manifest.json", NULL, g_steal_pointer (&manifest), error);
  if (!ok) {
    zip_discard (zip);
    g_unlink (tmp);
    g_unlink (pdf);
    return FALSE;
  }
  gboolean closed = zip_close (zip) == 0;   /* the PDF and the media are read here */
  g_unlink (pdf);
  if (!closed) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "writing %s: %s", tmp, zip_strerror (zip));
    zip_discard (zip);
    g_unlink (tmp);
    return FALSE;
  }
  if (g_rename (tmp, out_path) != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot rename %s to %s", tmp, out_path);
    return FALSE;
  }
  audit_note (app->db, actor, "case.exported", row->ref, "bundle", out_path, NULL);
  return TRUE;
}

/* ---- verification (no database) ------------------------------------------------------ */

static gchar *
read_member (zip_t *zip, const gchar *name, GError **error)
{
  zip_stat_t st;
  zip_file_t *f = NULL;
  if (zip_stat (zip, name, 0, &st) < 0 || st.size > 64 * 1024 * 1024 || !(f = zip_fopen (zip, name, 0))) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "the bundle has no readable %s", name);
    return NULL;
  }
  gchar *text = g_malloc (st.size + 1);
  zip_int64_t n = zip_fread (f, text, st.size);
  zip_fclose (f);
  if (n != (zip_int64_t) st.size) {
    g_free (text);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "%s is truncated", name);
    return NULL;
  }
  text[st.size] = '\0';
  return text;
}

static gchar *
member_sha256 (zip_t *zip, const gchar *name, GError **error)
{
  zip_file_t *f = zip_fopen (zip, name, 0);
  if (!f) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "%s is listed but missing", name);
    return NULL;
  }
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 buf[65536];
  zip_int64_t n;
  while ((n = zip_fread (f, buf, sizeof buf)) > 0)
    g_checksum_update (sum, buf, n);
  zip_fclose (f);
  if (n < 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "%s cannot be read", name);
    return NULL;
  }
  return g_strdup (g_checksum_get_string (sum));
}

static JsonNode *
parse_json (const gchar *text, const gchar *name, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, -1, NULL)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_JSON, "%s is not JSON", name);
    return NULL;
  }
  return json_node_copy (json_parser_get_root (parser));
}

static const gchar *
obj_str (JsonObject *o, const gchar *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING ? json_node_get_string (n) : NULL;
}

static gint64
obj_int (JsonObject *o, const gchar *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64 ? json_node_get_int (n) : -1;
}

static gboolean
fail (GError **error, const gchar *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
fail (GError **error, const gchar *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree gchar *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, message);
  return FALSE;
}

/* 1. the signature over manifest.json's bytes */
static gboolean
verify_signature (zip_t *zip, const gchar *manifest_text, JsonObject *m, const gchar *pubkey, FILE *out, GError **error)
{
  g_autofree gchar *sig = read_member (zip, "manifest.sig", error);
  if (!sig)
    return FALSE;
  g_strstrip (sig);
  const gchar *named = obj_str (m, "public_key");
  g_autofree gchar *expected = g_ascii_strdown (pubkey ? pubkey : named ? named : "", -1);
  if (!signing_public_key_valid (expected))
    return fail (error, pubkey ? "--pubkey is not an Ed25519 public key (64 hex digits)"
                               : "manifest.json names no signing key (use --pubkey)");
  if (!signing_verify_hex (expected, (const guint8 *) manifest_text, strlen (manifest_text), sig)) {
    if (pubkey && named && g_ascii_strcasecmp (named, expected) != 0)
      return fail (error, "the manifest is signed by another key (%s), not by %s", named, expected);
    return fail (error, "the signature of manifest.json does not verify with key %s: the manifest was changed "
                 "or signed by another key", expected);
  }
  if (named && g_ascii_strcasecmp (named, expected) != 0)
    return fail (error, "manifest.json names the key %s but was signed by %s", named, expected);
  if (out)
    fprintf (out, "signature: manifest.json signed by %s%s\n", expected,
             pubkey ? " (the key given)" : " (the key the bundle names: compare it with `kanyan audit pubkey` "
                                           "on the issuing server, or pass --pubkey)");
  return TRUE;
}

/* 2. every member of the ZIP listed in the manifest and matching its SHA-256, and nothing else */
static gboolean
verify_files (zip_t *zip, JsonArray *files, FILE *out, GError **error)
{
  g_autoptr (GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);   /* path -> sha256 */
  for (guint i = 0; i < json_array_get_length (files); i++) {
    JsonNode *fn = json_array_get_element (files, i);
    JsonObject *f = JSON_NODE_HOLDS_OBJECT (fn) ? json_node_get_object (fn) : NULL;
    const gchar *name = obj_str (f, "path"), *sha = obj_str (f, "sha256");
    if (!name || !sha || g_hash_table_contains (listed, name))
      return fail (error, "manifest.json lists file %u without a path and SHA-256, or twice", i + 1);
    g_hash_table_insert (listed, (gpointer) name, (gpointer) sha);
  }
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  zip_int64_t n = zip_get_num_entries (zip, 0);
  for (zip_int64_t i = 0; i < n; i++) {
    const gchar *name = zip_get_name (zip, i, ZIP_FL_ENC_GUESS);
    if (!name)
      return fail (error, "ZIP member %" G_GINT64_FORMAT " has no readable name", (gint64) i);
    if (g_hash_table_contains (seen, name))
      return fail (error, "%s appears twice in the bundle", name);
    g_hash_table_add (seen, g_strdup (name));
    if (g_strcmp0 (name, "manifest.json") == 0 || g_strcmp0 (name, "manifest.sig") == 0)
      continue;
    const gchar *expected = g_hash_table_lookup (listed, name);
    if (!expected)
      return fail (error, "%s is not in the signed manifest: the bundle was added to", name);
    g_autofree gchar *actual = member_sha256 (zip, name, error);
    if (!actual)
      return FALSE;
    if (g_ascii_strcasecmp (actual, expected) != 0)
      return fail (error, "%s does not match its SHA-256 in the signed manifest: it was changed", name);
    if (out)
      fprintf (out, "ok  %s  %s\n", actual, name);
  }
  GHashTableIter iter;
  gpointer name;
  g_hash_table_iter_init (&iter, listed);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    if (!g_hash_table_contains (seen, name))
      return fail (error, "%s is listed in the manifest but missing from the bundle", (const gchar *) name);
  return TRUE;
}

typedef struct { gint64 id; const gchar *prev_hash, *hash; gboolean ours; } ChainLink;

static gint
by_id (gconstpointer a, gconstpointer b)
{
  gint64 x = ((const ChainLink *) a)->id, y = ((const ChainLink *) b)->id;
  return x < y ? -1 : x > y;
}

/* 3. the case's entries, each hash recomputed, as one unbroken run of the chain (with the other
 * cases' links in between) from the manifest's first entry to its last */
static gboolean
verify_chain (zip_t *zip, JsonObject *m, GHashTable *recorded, FILE *out, GError **error)
{
  g_autofree gchar *audit_text = read_member (zip, "audit.json", error);
  g_autofree gchar *links_text = audit_text ? read_member (zip, "audit-links.json", error) : NULL;
  g_autoptr (JsonNode) audit = links_text ? parse_json (audit_text, "audit.json", error) : NULL;
  g_autoptr (JsonNode) links = audit ? parse_json (links_text, "audit-links.json", error) : NULL;
  JsonNode *anchors_node = json_object_get_member (m, "audit");
  JsonObject *anchors = anchors_node && JSON_NODE_HOLDS_OBJECT (anchors_node) ? json_node_get_object (anchors_node) : NULL;
  JsonNode *first_node = anchors ? json_object_get_member (anchors, "first") : NULL;
  JsonNode *last_node = anchors ? json_object_get_member (anchors, "last") : NULL;
  if (!links)
    return FALSE;
  if (!JSON_NODE_HOLDS_ARRAY (audit) || !JSON_NODE_HOLDS_ARRAY (links) || !first_node || !last_node ||
      !JSON_NODE_HOLDS_OBJECT (first_node) || !JSON_NODE_HOLDS_OBJECT (last_node))
    return fail (error, "audit.json, audit-links.json or the manifest's audit anchors are malformed");
  JsonObject *first = json_node_get_object (first_node), *last = json_node_get_object (last_node);
  g_autoptr (GArray) chain = g_array_new (FALSE, TRUE, sizeof (ChainLink));
  JsonArray *entries = json_node_get_array (audit);
  guint n_ours = json_array_get_length (entries);
  for (guint i = 0; i < n_ours; i++) {
    JsonNode *en = json_array_get_element (entries, i);
    JsonObject *e = JSON_NODE_HOLDS_OBJECT (en) ? json_node_get_object (en) : NULL;
    gint64 id = obj_int (e, "id");
    g_autofree gchar *hash = audit_row_hash (id, obj_int (e, "at"), obj_str (e, "actor"), obj_str (e, "action"),
                                             obj_str (e, "case_ref"), obj_str (e, "detail"), obj_str (e, "prev_hash"));
    if (!e || g_strcmp0 (hash, obj_str (e, "hash")) != 0)
      return fail (error, "audit entry %" G_GINT64_FORMAT " was altered: its hash does not match its content", id);
    if (g_strcmp0 (obj_str (e, "case_ref"), obj_str (m, "case")) != 0)
      return fail (error, "audit entry %" G_GINT64_FORMAT " belongs to case '%s', not to this one", id, obj_str (e, "case_ref"));
    ChainLink l = { id, obj_str (e, "prev_hash"), obj_str (e, "hash"), TRUE };
    g_array_append_val (chain, l);
    g_autoptr (JsonNode) detail = parse_json (obj_str (e, "detail") ? obj_str (e, "detail") : "{}", "detail", NULL);
    const gchar *sha = detail && JSON_NODE_HOLDS_OBJECT (detail) ? obj_str (json_node_get_object (detail), "sha256") : NULL;
    if (sha)
      g_hash_table_add (recorded, g_strdup (sha));
  }
  JsonArray *others = json_node_get_array (links);
  for (guint i = 0; i < json_array_get_length (others); i++) {
    JsonNode *ln = json_array_get_element (others, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (ln) ? json_node_get_object (ln) : NULL;
    ChainLink l = { obj_int (o, "id"), obj_str (o, "prev_hash"), obj_str (o, "hash"), FALSE };
    g_array_append_val (chain, l);
  }
  g_array_sort (chain, by_id);
  if (!n_ours || !chain->len)
    return n_ours == (guint) obj_int (anchors, "entries") ? TRUE : fail (error, "audit.json holds no entries of the case");
  ChainLink *head = &g_array_index (chain, ChainLink, 0), *tail = &g_array_index (chain, ChainLink, chain->len - 1);
  if (head->id != obj_int (first, "id") || g_strcmp0 (head->hash, obj_str (first, "hash")) != 0 || !head->ours)
    return fail (error, "the first audit entry (%" G_GINT64_FORMAT ") is not the one the signed manifest anchors (%"
                 G_GINT64_FORMAT ")", head->id, obj_int (first, "id"));
  if (tail->id > obj_int (last, "id"))
    return fail (error, "audit entry %" G_GINT64_FORMAT " comes after the last entry the signed manifest anchors (%"
                 G_GINT64_FORMAT "): it was added", tail->id, obj_int (last, "id"));
  if (tail->id != obj_int (last, "id") || g_strcmp0 (tail->hash, obj_str (last, "hash")) != 0 || !tail->ours)
    return fail (error, "the last audit entry (%" G_GINT64_FORMAT ") is not the one the signed manifest anchors (%"
                 G_GINT64_FORMAT "): it was altered or removed", tail->id, obj_int (last, "id"));
  for (guint i = 1; i < chain->len; i++) {
    ChainLink *a = &g_array_index (chain, ChainLink, i - 1), *b = &g_array_index (chain, ChainLink, i);
    if (b->id == a->id)
      return fail (error, "audit entry %" G_GINT64_FORMAT " appears twice", b->id);
    if (b->id != a->id + 1) {
      g_autofree gchar *which = b->id - a->id > 2 ? g_strdup_printf ("entries %" G_GINT64_FORMAT "–%" G_GINT64_FORMAT " are",
                                                                     a->id + 1, b->id - 1)
                                                  : g_strdup_printf ("entry %" G_GINT64_FORMAT " is", a->id + 1);
      return fail (error, "audit %s missing from the chain (between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT
                   "): removed", which, a->id, b->id);
    }
    if (g_strcmp0 (b->prev_hash, a->hash) != 0)
      return fail (error, "audit entry %" G_GINT64_FORMAT " was altered: entry %" G_GINT64_FORMAT
                   " links to a different hash", a->id, b->id);
  }
  if (n_ours != (guint) obj_int (anchors, "entries"))   /* an entry passed off as another case's link */
    return fail (error, "audit.json holds %u entries of the case, the signed manifest says %" G_GINT64_FORMAT
                 ": entries were %s", n_ours, obj_int (anchors, "entries"),
                 n_ours < (guint) obj_int (anchors, "entries") ? "removed" : "added");
  if (out)
    fprintf (out, "audit: %u entries, each hash recomputed, linked from entry %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
             " as the signed manifest anchors\n", n_ours, head->id, tail->id);
  return TRUE;
}

gboolean
export_verify_bundle (const gchar *path, const gchar *pubkey, FILE *out, GError **error)
{
  int zerr = 0;
  zip_t *zip = zip_open (path, ZIP_RDONLY, &zerr);
  if (!zip) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "%s is not a readable ZIP bundle (libzip error %d)", path, zerr);
    return FALSE;
  }
  gboolean ok = FALSE;
  g_autoptr (GHashTable) recorded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);   /* logged sha256s */
  g_autofree gchar *manifest_text = read_member (zip, "manifest.json", error);
  g_autoptr (JsonNode) manifest = manifest_text ? parse_json (manifest_text, "manifest.json", error) : NULL;
  JsonObject *m = manifest && JSON_NODE_HOLDS_OBJECT (manifest) ? json_node_get_object (manifest) : NULL;
  JsonNode *files_node = m ? json_object_get_member (m, "files") : NULL;
  if (!m || g_strcmp0 (obj_str (m, "format"), BUNDLE_FORMAT) != 0 || !files_node || !JSON_NODE_HOLDS_ARRAY (files_node)) {
    if (error && !*error)
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "not a %s bundle", BUNDLE_FORMAT);
    goto done;
  }
  if (!verify_signature (zip, manifest_text, m, pubkey, out, error) || !verify_chain (zip, m, recorded, out, error) ||
      !verify_files (zip, json_node_get_array (files_node), out, error))
    goto done;
  /* 4. the media are the ones the audit log recorded when they were made */
  JsonArray *files = json_node_get_array (files_node);
  for (guint i = 0; i < json_array_get_length (files); i++) {
    JsonObject *f = json_node_get_object (json_array_get_element (files, i));
    const gchar *kind = obj_str (f, "kind");
    if ((g_strcmp0 (kind, "recording") == 0 || g_strcmp0 (kind, "still") == 0 || g_strcmp0 (kind, "signature") == 0) &&
        !g_hash_table_contains (recorded, obj_str (f, "sha256"))) {
      fail (error, "%s does not match the hash the audit log recorded for it", obj_str (f, "path"));
      goto done;
    }
  }
  ok = TRUE;
done:
  zip_discard (zip);
  return ok;
}

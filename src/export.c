/* export.c — the case bundle (libzip). Contents:
 *   manifest.json  format, case, exporter, time, the audit chain's head, and every file with
 *                  its SHA-256 and size
 *   audit.json     every audit entry of the case, with its prev_hash and hash
 *   case.json      the facts, items with their latest marks, decisions and stills
 *   report.html    the inspection report, readable without Kanyan; report.pdf the same as PDF
 *   recordings/…   the archives as finalized (MP4/WebM), stills/… the evidence JPEGs
 * Verification recomputes each entry's hash from its fields, each file's SHA-256 from the ZIP,
 * and checks the files against the hashes the audit entries recorded when they were made.
 * Reads the database and media; writes only the bundle. */
#include "export.h"
#include "archive.h"
#include "audit.h"
#include "errors.h"
#include "report_pdf.h"
#include <json-glib/json-glib.h>
#include <zip.h>
#include <glib/gstdio.h>

#define BUNDLE_FORMAT "kanyan-bundle/1"

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

static gchar *
case_json (KanyanApp *app, const CaseRow *row, GPtrArray *stills)
{
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
  g_autoptr (GPtrArray) items = store_case_items (app->db, row->id);
  gint64 session = store_session_latest (app->db, row->id);
  g_autoptr (GPtrArray) marks = session ? store_marks (app->db, session) : g_ptr_array_new ();
  for (guint i = 0; i < items->len; i++) {
    gchar **item = g_ptr_array_index (items, i);
    MarkRow *latest = NULL;
    for (guint k = 0; k < marks->len; k++)
      if (((MarkRow *) g_ptr_array_index (marks, k))->item == (gint) i + 1)
        latest = g_ptr_array_index (marks, k);
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
  g_autoptr (GPtrArray) decisions = store_decisions (app->db, row->id);
  for (guint i = 0; i < decisions->len; i++) {
    DecisionRow *d = g_ptr_array_index (decisions, i);
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
  json_builder_end_object (b);
  return node_text (b);
}

static void
html_row (GString *out, const gchar *label, const gchar *value)
{
  g_autofree gchar *v = g_markup_escape_text (value ? value : "", -1);
  g_string_append_printf (out, "<tr><th>%s</th><td>%s</td></tr>\n", label, v);
}

/* the report, self-contained and readable in any browser; every text escaped */
static gchar *
report_html (KanyanApp *app, const CaseRow *row, GPtrArray *recs, GPtrArray *stills)
{
  GString *out = g_string_new ("<!doctype html><html><head><meta charset=\"utf-8\"><title>Inspection report</title>"
                               "<style>body{font-family:sans-serif;max-width:50rem;margin:2rem auto}th{text-align:left;"
                               "padding-right:1rem}code{word-break:break-all}</style></head><body>\n");
  g_autofree gchar *title = g_markup_printf_escaped ("<h1>%s / %s — %s</h1>\n<table>\n", row->type_title_en,
                                                     row->type_title_zh, row->ref);
  g_string_append (out, title);
  html_row (out, "Applicant", row->applicant_name);
  html_row (out, "Site", row->site_address);
  html_row (out, "Owner", row->owner);
  html_row (out, "Status", row->status);
  html_row (out, "Accepted", row->accepted_on);
  html_row (out, "Deadline", row->deadline_on);
  g_string_append (out, "</table>\n<h2>Required items</h2>\n<ol>\n");
  g_autoptr (GPtrArray) items = store_case_items (app->db, row->id);
  gint64 session = store_session_latest (app->db, row->id);
  g_autoptr (GPtrArray) marks = session ? store_marks (app->db, session) : g_ptr_array_new ();
  for (guint i = 0; i < items->len; i++) {
    gchar **item = g_ptr_array_index (items, i);
    MarkRow *latest = NULL;
    for (guint k = 0; k < marks->len; k++)
      if (((MarkRow *) g_ptr_array_index (marks, k))->item == (gint) i + 1)
        latest = g_ptr_array_index (marks, k);
    g_autofree gchar *li = g_markup_printf_escaped ("<li><b>%s / %s</b> — %s %s <i>%s</i></li>\n", item[0], item[1],
                                                    latest ? latest->result : "not marked",
                                                    latest ? latest->by_user : "", latest ? latest->note : "");
    g_string_append (out, li);
  }
  g_string_append (out, "</ol>\n<h2>Decisions</h2>\n<ul>\n");
  g_autoptr (GPtrArray) decisions = store_decisions (app->db, row->id);
  for (guint i = 0; i < decisions->len; i++) {
    DecisionRow *d = g_ptr_array_index (decisions, i);
    g_autofree gchar *li = g_markup_printf_escaped ("<li>%s — %s — by %s, %s%s%s</li>\n", d->kind, d->reason,
                                                    d->by_user, d->state, d->countersigned_by ? ", countersigned by " : "",
                                                    d->countersigned_by ? d->countersigned_by : "");
    g_string_append (out, li);
  }
  g_string_append (out, "</ul>\n<h2>Recordings and stills</h2>\n<ul>\n");
  for (guint i = 0; i < recs->len; i++) {
    RecordingRow *r = g_ptr_array_index (recs, i);
    g_autofree gchar *base = r->archive_path ? g_path_get_basename (r->archive_path) : g_strdup ("-");
    g_autofree gchar *li = g_markup_printf_escaped ("<li>session %" G_GINT64_FORMAT " segment %d: %s, %" G_GINT64_FORMAT
                                                    " ms, SHA-256 <code>%s</code></li>\n", r->session_id, r->seq, base,
                                                    r->duration_ms, r->archive_sha256 ? r->archive_sha256 : "");
    g_string_append (out, li);
  }
  for (guint i = 0; i < stills->len; i++) {
    StillRow *s = g_ptr_array_index (stills, i);
    g_autofree gchar *base = g_path_get_basename (s->path);
    g_autofree gchar *li = g_markup_printf_escaped ("<li>still of item %d by %s: <a href=\"stills/%s\">%s</a>, SHA-256 "
                                                    "<code>%s</code></li>\n", s->item, s->by_user, base, base, s->sha256);
    g_string_append (out, li);
  }
  g_string_append (out, "</ul>\n</body></html>\n");
  return g_string_free (out, FALSE);
}

static gboolean
add_buffer (zip_t *zip, const gchar *name, gchar *text /* taken */, GError **error)
{
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

static gboolean
add_media (zip_t *zip, JsonBuilder *files, const gchar *dir, const gchar *kind, gint64 id, const gchar *path,
           GError **error)
{
  if (!path || !g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return TRUE;   /* purged or never finalized: the manifest lists what is there */
  gint64 bytes = 0;
  g_autofree gchar *sha = archive_sha256_file (path, &bytes, error);
  if (!sha)
    return FALSE;
  g_autofree gchar *base = g_path_get_basename (path);
  g_autofree gchar *name = g_strdup_printf ("%s/%" G_GINT64_FORMAT "-%s", dir, id, base);
  zip_source_t *src = zip_source_file (zip, path, 0, -1);   /* streamed at zip_close, never whole in memory */
  if (!src || zip_file_add (zip, name, src, ZIP_FL_ENC_UTF_8) < 0) {
    if (src)
      zip_source_free (src);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "bundle: %s: %s", name, zip_strerror (zip));
    return FALSE;
  }
  zip_set_file_compression (zip, zip_name_locate (zip, name, 0), ZIP_CM_STORE, 0);   /* media is compressed already */
  json_builder_begin_object (files);
  member_str (files, "path", name);
  member_str (files, "kind", kind);
  member_int (files, "id", id);
  member_str (files, "sha256", sha);
  member_int (files, "bytes", bytes);
  json_builder_end_object (files);
  return TRUE;
}

gboolean
export_case_bundle (KanyanApp *app, const CaseRow *row, const gchar *actor, const gchar *out_path, GError **error)
{
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
  g_autoptr (GPtrArray) recs = store_recordings_of_case (app->db, row->id);
  g_autoptr (GPtrArray) stills = store_stills_of_case (app->db, row->id);
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
  json_builder_end_array (files);
  g_autoptr (JsonBuilder) m = json_builder_new ();
  json_builder_begin_object (m);
  member_str (m, "format", BUNDLE_FORMAT);
  member_str (m, "case", row->ref);
  member_str (m, "exported_by", actor);
  member_int (m, "exported_at", db_now_ms ());
  /* the chain's head when exported: compare it with the server's log to anchor the bundle */
  member_str (m, "chain_head", all->len ? ((AuditEntry *) g_ptr_array_index (all, all->len - 1))->hash : "");
  json_builder_set_member_name (m, "files");
  g_autoptr (JsonNode) file_list = json_builder_get_root (files);
  json_builder_add_value (m, g_steal_pointer (&file_list));
  json_builder_end_object (m);
  g_autofree gchar *pdf = g_strdup_printf ("%s.report.pdf", tmp);
  ok = ok && report_pdf_write (app, row, pdf, error);
  zip_source_t *pdf_src = ok ? zip_source_file (zip, pdf, 0, -1) : NULL;
  if (ok && (!pdf_src || zip_file_add (zip, "report.pdf", pdf_src, ZIP_FL_ENC_UTF_8) < 0)) {
    if (pdf_src)
      zip_source_free (pdf_src);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "bundle: report.pdf: %s", zip_strerror (zip));
    ok = FALSE;
  }
  ok = ok && add_buffer (zip, "manifest.json", node_text (m), error) &&
       add_buffer (zip, "audit.json", audit_json (entries), error) &&
       add_buffer (zip, "case.json", case_json (app, row, stills), error) &&
       add_buffer (zip, "report.html", report_html (app, row, recs, stills), error);
  if (!ok) {
    zip_discard (zip);
    g_unlink (tmp);
    g_unlink (pdf);
    return FALSE;
  }
  gboolean closed = zip_close (zip) == 0;   /* the PDF is read here */
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

gboolean
export_verify_bundle (const gchar *path, FILE *out, GError **error)
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
  g_autofree gchar *audit_text = manifest_text ? read_member (zip, "audit.json", error) : NULL;
  g_autoptr (JsonNode) manifest = audit_text ? parse_json (manifest_text, "manifest.json", error) : NULL;
  g_autoptr (JsonNode) audit = manifest ? parse_json (audit_text, "audit.json", error) : NULL;
  JsonObject *m = audit && JSON_NODE_HOLDS_OBJECT (manifest) ? json_node_get_object (manifest) : NULL;
  JsonNode *files_node = m ? json_object_get_member (m, "files") : NULL;
  if (!m || g_strcmp0 (obj_str (m, "format"), BUNDLE_FORMAT) != 0 || !JSON_NODE_HOLDS_ARRAY (audit) ||
      !files_node || !JSON_NODE_HOLDS_ARRAY (files_node)) {
    if (error && !*error)
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "not a %s bundle", BUNDLE_FORMAT);
    goto done;
  }
  /* 1. every audit entry's hash from its own fields */
  JsonArray *entries = json_node_get_array (audit);
  gint64 last_id = 0;
  for (guint i = 0; i < json_array_get_length (entries); i++) {
    JsonObject *e = json_node_get_object (json_array_get_element (entries, i));
    gint64 id = obj_int (e, "id");
    g_autofree gchar *hash = audit_row_hash (id, obj_int (e, "at"), obj_str (e, "actor"), obj_str (e, "action"),
                                             obj_str (e, "case_ref"), obj_str (e, "detail"), obj_str (e, "prev_hash"));
    if (id <= last_id || g_strcmp0 (hash, obj_str (e, "hash")) != 0 ||
        g_strcmp0 (obj_str (e, "case_ref"), obj_str (m, "case")) != 0) {
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "audit entry %" G_GINT64_FORMAT " was altered", id);
      goto done;
    }
    last_id = id;
    g_autoptr (JsonNode) detail = parse_json (obj_str (e, "detail") ? obj_str (e, "detail") : "{}", "detail", NULL);
    const gchar *sha = detail && JSON_NODE_HOLDS_OBJECT (detail) ? obj_str (json_node_get_object (detail), "sha256") : NULL;
    if (sha)
      g_hash_table_add (recorded, g_strdup (sha));
  }
  if (out)
    fprintf (out, "audit: %u entries, each hash recomputed\n", json_array_get_length (entries));
  /* 2. every file against the manifest, and the manifest against what the log recorded */
  JsonArray *files = json_node_get_array (files_node);
  for (guint i = 0; i < json_array_get_length (files); i++) {
    JsonObject *f = json_node_get_object (json_array_get_element (files, i));
    const gchar *name = obj_str (f, "path"), *listed = obj_str (f, "sha256");
    g_autofree gchar *actual = name ? member_sha256 (zip, name, error) : NULL;
    if (!actual)
      goto done;
    if (g_strcmp0 (actual, listed) != 0 || !g_hash_table_contains (recorded, actual)) {
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "%s does not match the hash %s", name,
                   g_strcmp0 (actual, listed) != 0 ? "in the manifest" : "the audit log recorded for it");
      goto done;
    }
    if (out)
      fprintf (out, "ok  %s  %s\n", actual, name);
  }
  ok = TRUE;
done:
  zip_discard (zip);
  return ok;
}

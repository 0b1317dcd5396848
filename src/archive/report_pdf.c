/* report_pdf.c — the printable inspection report as a PDF, A4, laid out with pango (Chinese
 * and English text alike) on a cairo PDF surface. Renders a CaseReport (case_report.c), the
 * one model of the report; writes one file; never touches media or sockets. The same facts
 * as web/report/, for the file and for whoever cannot print from a browser. */
#include "archive/report_pdf.h"
#include "archive/signing.h"
#include "core/errors.h"
#include <cairo-pdf.h>
#include <pango/pangocairo.h>

#define PAGE_W  595.0   /* A4 in points */
#define PAGE_H  842.0
#define MARGIN   50.0

typedef struct {
  cairo_t *cr;
  gdouble  y;
  gint     page;
} Pen;

static void
pen_new_page (Pen *pen)
{
  if (pen->page > 0)
    cairo_show_page (pen->cr);
  pen->page++;
  pen->y = MARGIN;
}

/* one paragraph of pango markup; a new page when it does not fit */
static void
pen_write (Pen *pen, const gchar *markup, const gchar *font, gdouble space_after)
{
  PangoLayout *layout = pango_cairo_create_layout (pen->cr);
  PangoFontDescription *desc = pango_font_description_from_string (font);
  pango_layout_set_font_description (layout, desc);
  pango_layout_set_width (layout, (gint) ((PAGE_W - 2 * MARGIN) * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_markup (layout, markup, -1);
  gint w, h;
  pango_layout_get_size (layout, &w, &h);
  gdouble height = (gdouble) h / PANGO_SCALE;
  if (pen->y + height > PAGE_H - MARGIN && pen->y > MARGIN)
    pen_new_page (pen);
  cairo_move_to (pen->cr, MARGIN, pen->y);
  pango_cairo_show_layout (pen->cr, layout);
  pen->y += height + space_after;
  pango_font_description_free (desc);
  g_object_unref (layout);
}

static void
pen_printf (Pen *pen, const gchar *font, gdouble space_after, const gchar *format, ...) G_GNUC_PRINTF (4, 5);

/* the format is markup; every argument is escaped */
static void
pen_printf (Pen *pen, const gchar *font, gdouble space_after, const gchar *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree gchar *markup = g_markup_vprintf_escaped (format, args);
  va_end (args);
  pen_write (pen, markup, font, space_after);
}

static gchar *
when (gint64 ms)
{
  if (ms <= 0)
    return g_strdup ("–");
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_local (ms / 1000);
  return g_date_time_format (t, "%Y-%m-%d %H:%M:%S");
}

gboolean
report_pdf_write (KanyanApp *app, const CaseRow *row, const gchar *path, GError **error)
{
  g_autoptr (CaseReport) report = case_report_new (app->db, row);
  return report_pdf_render (app, report, path, error);
}

gboolean
report_pdf_render (KanyanApp *app, const CaseReport *report, const gchar *path, GError **error)
{
  const CaseRow *row = report->row;
  cairo_surface_t *surface = cairo_pdf_surface_create (path, PAGE_W, PAGE_H);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot write %s: %s", path,
                 cairo_status_to_string (cairo_surface_status (surface)));
    cairo_surface_destroy (surface);
    return FALSE;
  }
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, row->ref);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "Kanyan " KANYAN_VERSION);
  Pen pen = { cairo_create (surface), 0, 0 };
  pen_new_page (&pen);
  const gchar *body = "Sans 10", *small = "Sans 8", *head = "Sans Bold 12";

  pen_printf (&pen, "Sans Bold 16", 4, "%s — %s", row->type_title_zh, row->type_title_en);
  pen_printf (&pen, head, 10, "踏勘报告 Inspection report · %s", row->ref);
  g_autoptr (GString) co = g_string_new (NULL);
  for (guint i = 0; i < report->co_reviewers->len; i++)
    g_string_append_printf (co, "%s%s", i ? ", " : "", (const gchar *) g_ptr_array_index (report->co_reviewers, i));
  const gchar *co_text = co->str;
  pen_printf (&pen, body, 10,
              "<b>申请人 Applicant</b>: %s %s\n<b>场所 Site</b>: %s\n<b>首问负责人 Owner</b>: %s (%s)\n"
              "<b>并联审批 Co-reviewers</b>: %s\n<b>状态 Status</b>: %s\n<b>受理 Accepted</b>: %s   "
              "<b>办结期限 Deadline</b>: %s",
              row->applicant_name, row->applicant_phone, row->site_address, row->owner, row->department,
              *co_text ? co_text : "–", row->status, row->accepted_on, row->deadline_on);

  pen_printf (&pen, head, 6, "要件 Required items");
  GPtrArray *stills = report->stills;
  for (guint i = 0; i < report->items->len; i++) {
    gchar **item = g_ptr_array_index (report->items, i);
    const MarkRow *m = report->latest[i];
    g_autofree gchar *at = m ? when (m->at) : g_strdup ("");
    pen_printf (&pen, body, 2, "<b>%u. %s</b> / %s%s%s\n%s%s%s%s%s", i + 1, item[1], item[0],
                *item[3] ? " · 部门 department: " : "", item[3],
                m ? m->result : "not marked", m ? " · " : "", m ? m->by_user : "", m ? " · " : "", at);
    if (m && *m->note)
      pen_printf (&pen, body, 2, "<i>%s</i>", m->note);
    for (guint k = 0; k < stills->len; k++) {
      StillRow *s = g_ptr_array_index (stills, k);
      if (s->item == (gint) i + 1)
        pen_printf (&pen, small, 2, "still %" G_GINT64_FORMAT " by %s, SHA-256 %s", s->id, s->by_user, s->sha256);
    }
    pen.y += 4;
  }

  pen_printf (&pen, head, 6, "评审结论 Decisions");
  GPtrArray *decisions = report->decisions;
  if (!decisions->len)
    pen_printf (&pen, body, 4, "%s", "–");
  for (guint i = 0; i < decisions->len; i++) {
    DecisionRow *d = g_ptr_array_index (decisions, i);
    g_autofree gchar *at = when (d->at);
    g_autofree gchar *signed_at = when (d->countersigned_at);
    pen_printf (&pen, body, 4, "<b>%s</b> (%s) · %s · %s\n%s%s%s%s%s", d->kind, d->state, d->by_user, at, d->reason,
                d->countersigned_by ? "\n会签 Countersigned by " : "", d->countersigned_by ? d->countersigned_by : "",
                d->countersigned_by ? " · " : "", d->countersigned_by ? signed_at : "");
  }

  pen_printf (&pen, head, 6, "远程踏勘 Live inspections");
  GPtrArray *sessions = report->sessions;
  for (guint i = 0; i < sessions->len; i++) {
    SessionRow *s = g_ptr_array_index (sessions, i);
    g_autofree gchar *started = when (s->started_at);
    g_autofree gchar *location = s->has_geo ? g_strdup_printf ("%.5f, %.5f ±%.0f m", s->geo_lat, s->geo_lon,
                                                                s->geo_accuracy_m) : g_strdup ("–");
    pen_printf (&pen, body, 3, "#%" G_GINT64_FORMAT " · %s · challenge seen by %s · location %s", s->id, started,
                s->challenge_seen_by ? s->challenge_seen_by : "–", location);
  }

  pen_printf (&pen, head, 6, "录像 Recordings");
  GPtrArray *recs = report->recordings;
  for (guint i = 0; i < recs->len; i++) {
    RecordingRow *r = g_ptr_array_index (recs, i);
    /* on the wall clock from its archive's 0, for its true media duration */
    g_autofree gchar *started = when (r->media_started_at ? r->media_started_at : r->started_at);
    pen_printf (&pen, small, 3, "session %" G_GINT64_FORMAT " segment %d · %s · %.1f s · %s · SHA-256 %s", r->session_id,
                r->seq, started, r->duration_ms / 1000.0, r->purged_at ? "purged" : (r->archive_state ? r->archive_state : r->state),
                r->archive_sha256 ? r->archive_sha256 : "–");
  }
  g_autofree gchar *public_key = signing_public_hex (app->config->data_dir, NULL);
  if (public_key)   /* the key exported bundles of this server are signed with (kanyan audit pubkey) */
    pen_printf (&pen, small, 3, "签名公钥 Signing key (Ed25519): %s", public_key);
  g_autofree gchar *now = when (db_now_ms ());
  pen_printf (&pen, small, 0, "Kanyan %s · generated %s", KANYAN_VERSION, now);

  cairo_destroy (pen.cr);
  cairo_surface_finish (surface);
  cairo_status_t status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "writing %s: %s", path, cairo_status_to_string (status));
    return FALSE;
  }
  return TRUE;
}

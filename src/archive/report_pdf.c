/* report_pdf.c — the printable inspection report as a PDF, A4, laid out with pango (Chinese
 * and English text alike) on a cairo PDF surface. Renders a CaseReport (case_report.c), the
 * one model of the report; writes one file; never touches media or sockets. The same facts
 * as web/report/, for the file and for whoever cannot print from a browser. Written in one
 * language (zh-CN or en): its words, and the words for every stored code (results, statuses,
 * decisions, departments, states), are the table below, the same wording as web/i18n/.
 * Each item carries its stills as thumbnails with their drawing, the applicant's acknowledgement
 * its drawn signature, and the last page a QR code of the case and the report's hash
 * (report_draw.c draws the pictures). */
#include "archive/report_pdf.h"
#include "archive/signing.h"
#include "archive/report_draw.h"
#include "review/serialize.h"
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

#define THUMB_W      160.0   /* a still's thumbnail, at most */
#define THUMB_H      120.0
#define SIGNATURE_W  200.0   /* the signature's box (acknowledge.h's, 5:2) */
#define SIGNATURE_H   80.0
#define QR_SIZE       96.0

/* a new page unless `height` more fits on this one */
static void
pen_room (Pen *pen, gdouble height)
{
  if (pen->y + height > PAGE_H - MARGIN && pen->y > MARGIN)
    pen_new_page (pen);
}

/* an evidence still as a thumbnail with its drawing; nothing when its file is gone (purged) */
static void
pen_thumbnail (Pen *pen, const StillRow *s)
{
  if (s->purged_at || !s->path || !g_file_test (s->path, G_FILE_TEST_IS_REGULAR))
    return;
  pen_room (pen, THUMB_H + 2);
  gdouble w, h;
  if (report_draw_still (pen->cr, s->path, s->annotation, MARGIN, pen->y, THUMB_W, THUMB_H, &w, &h))
    pen->y += h + 2;
}

/* the report's words: key, English, Chinese. A code without its words is printed as it is. */
static const struct { const gchar *key, *en, *zh; } words[] = {
  { "title",            "Inspection report",        "踏勘报告" },
  { "applicant",        "Applicant",                "申请人" },
  { "site",             "Site",                     "场所" },
  { "owner",            "Owner",                    "首问负责人" },
  { "co",               "Co-reviewers",             "并联审批人" },
  { "status",           "Status",                   "状态" },
  { "accepted",         "Accepted",                 "受理" },
  { "deadline",         "Deadline",                 "办结期限" },
  { "items",            "Required items",           "要件" },
  { "department",       "department: ",             "部门：" },
  { "unmarked",         "not marked",               "未核查" },
  { "still",            "Still %s by %s, SHA-256 %s", "取证截图 %s，%s 截取，SHA-256 %s" },
  { "decisions",        "Decisions",                "评审结论" },
  { "countersigned",    "Countersigned by",         "会签人" },
  { "sessions",         "Live inspections",         "远程踏勘" },
  { "challenge",        "challenge seen by",        "验证码确认人" },
  { "location",         "location",                 "位置" },
  { "recordings",       "Recordings",               "录像" },
  { "segment",          "session %s, segment %s",   "第 %s 次踏勘，第 %s 段" },
  { "key",              "Signing key (Ed25519)",    "签名公钥 (Ed25519)" },
  { "distance",         "from the site",            "距申报场所" },
  { "acks",             "Acknowledgement of the notice", "告知书签收" },
  { "ack",              "Signed by %s at %s (notice of %s), SHA-256 %s", "%s 于 %s 签收（%s 告知），SHA-256 %s" },
  { "noack",            "not acknowledged yet",     "尚未签收" },
  { "verify",           "Case %s · report SHA-256 %s", "办件 %s · 报告 SHA-256 %s" },
  { "generated",        "Report generated",         "报告生成于" },
  { "sep",              ": ",                       "：" },
  { "sec",              "s",                        "秒" },
  { "result.pass",      "pass",                     "符合" },
  { "result.fail",      "fail",                     "不符合" },
  { "result.not_shown", "not shown",                "未展示" },
  { "status.accepted",  "accepted",                 "已受理" },
  { "status.awaiting_inspection", "awaiting inspection", "待踏勘" },
  { "status.inspecting", "inspecting",              "踏勘中" },
  { "status.approved",  "approved",                 "准予" },
  { "status.rectification_required", "rectification required", "需补正" },
  { "status.rejection_pending", "rejection awaiting countersignature", "不予（待会签）" },
  { "status.rejected",  "rejected",                 "不予" },
  { "decision.approve", "approve",                  "准予" },
  { "decision.rectify", "rectify",                  "补正" },
  { "decision.reject",  "reject",                   "不予" },
  { "dstate.final",     "final",                    "最终" },
  { "dstate.awaiting_countersign", "awaiting countersignature", "待会签" },
  { "dstate.returned",  "returned to its owner",    "已退回" },
  { "dept.commerce",    "commerce",                 "商务" },
  { "dept.fire",        "fire",                     "消防" },
  { "dept.audit",       "audit",                    "审计" },
  { "dept.planning",    "planning",                 "规划" },
  { "dept.environment", "environment",              "环保" },
  { "dept.health",      "health",                   "卫生" },
  { "dept.construction", "construction",            "住建" },
  { "dept.market",      "market regulation",        "市场监管" },
  { "rec.archived",     "archived",                 "已归档" },
  { "rec.salvaged",     "salvaged",                 "已抢救" },
  { "rec.empty",        "empty",                    "空" },
  { "rec.failed",       "archiving failed",         "归档失败" },
  { "rec.purged",       "purged",                   "已清除" },
  { "rec.recording",    "recording",                "录制中" },
  { "rec.complete",     "complete",                 "完整" },
  { "rec.unfinished",   "unfinished",               "未完成" },
  /* the bundle's report.html (export.c) */
  { "html.media",       "Recordings and stills",    "录像与取证截图" },
  { "html.decision",    "%s — %s — by %s, %s",      "%s — %s — %s 作出，%s" },
  { "html.signature",   "signature",                "签名" },
  { "html.still",       "still of item %s by %s",   "第 %s 项的取证截图，%s 截取" },
  { "html.verify",      "This bundle's manifest is signed with the server's Ed25519 key %s; check it with %s.",
                        "本证据包的清单由服务器的 Ed25519 密钥 %s 签名；可用 %s 校验。" },
};

gboolean
report_pdf_language_known (const gchar *lang)
{
  return g_strcmp0 (lang, "zh-CN") == 0 || g_strcmp0 (lang, "en") == 0;
}

/* the words for key in the language; NULL when the table has none */
static const gchar *
word_or_null (gboolean zh, const gchar *key)
{
  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    if (g_strcmp0 (words[i].key, key) == 0)
      return zh ? words[i].zh : words[i].en;
  return NULL;
}

static const gchar *
word (gboolean zh, const gchar *key)
{
  const gchar *w = word_or_null (zh, key);
  return w ? w : key;
}

/* a stored code in words ("result", "not_shown" → "未展示"); the code itself when unknown */
static const gchar *
value (gboolean zh, const gchar *kind, const gchar *code)
{
  if (!code || !*code)
    return "–";
  g_autofree gchar *key = g_strconcat (kind, ".", code, NULL);
  const gchar *w = word_or_null (zh, key);
  return w ? w : code;
}

const gchar *
report_word (gboolean zh, const gchar *key)
{
  return word (zh, key);
}

const gchar *
report_value (gboolean zh, const gchar *kind, const gchar *code)
{
  return value (zh, kind, code);
}

static gchar *
when (GTimeZone *tz, gint64 ms)
{
  if (ms <= 0)
    return g_strdup ("–");
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (ms / 1000);
  g_autoptr (GDateTime) t = g_date_time_to_timezone (utc, tz);
  return g_date_time_format (t, "%Y-%m-%d %H:%M:%S");
}

gboolean
report_pdf_write (KanyanApp *app, const CaseRow *row, const gchar *lang, const gchar *path, GError **error)
{
  g_autoptr (CaseReport) report = case_report_new (app->db, row);
  return report_pdf_render (app, report, lang, path, error);
}

gboolean
report_pdf_render (KanyanApp *app, const CaseReport *report, const gchar *lang, const gchar *path, GError **error)
{
  const CaseRow *row = report->row;
  const gboolean zh = g_strcmp0 (lang ? lang : app->config->language, "en") != 0;
  g_autoptr (GTimeZone) tz = g_time_zone_new_identifier (config_timezone (app->config));
  if (!tz)
    tz = g_time_zone_new_local ();
  const gchar *sep = word (zh, "sep");
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

  pen_printf (&pen, "Sans Bold 16", 4, "%s", zh ? row->type_title_zh : row->type_title_en);
  pen_printf (&pen, head, 10, "%s · %s", word (zh, "title"), row->ref);
  g_autoptr (GString) co = g_string_new (NULL);
  for (guint i = 0; i < report->co_reviewers->len; i++)
    g_string_append_printf (co, "%s%s", i ? ", " : "", (const gchar *) g_ptr_array_index (report->co_reviewers, i));
  const gchar *co_text = co->str;
  pen_printf (&pen, body, 10,
              "<b>%s</b>%s%s %s\n<b>%s</b>%s%s\n<b>%s</b>%s%s (%s)\n<b>%s</b>%s%s\n<b>%s</b>%s%s\n<b>%s</b>%s%s   "
              "<b>%s</b>%s%s",
              word (zh, "applicant"), sep, row->applicant_name, row->applicant_phone, word (zh, "site"), sep,
              row->site_address, word (zh, "owner"), sep, row->owner, value (zh, "dept", row->department),
              word (zh, "co"), sep, *co_text ? co_text : "–", word (zh, "status"), sep, value (zh, "status", row->status),
              word (zh, "accepted"), sep, row->accepted_on, word (zh, "deadline"), sep, row->deadline_on);

  pen_printf (&pen, head, 6, "%s", word (zh, "items"));
  GPtrArray *stills = report->stills;
  for (guint i = 0; i < report->items->len; i++) {
    gchar **item = g_ptr_array_index (report->items, i);
    const MarkRow *m = report->latest[i];
    g_autofree gchar *at = m ? when (tz, m->at) : g_strdup ("");
    pen_printf (&pen, body, 2, "<b>%u. %s</b>%s%s%s\n%s%s%s%s%s", i + 1, zh ? item[1] : item[0],
                *item[3] ? " · " : "", *item[3] ? word (zh, "department") : "", *item[3] ? value (zh, "dept", item[3]) : "",
                m ? value (zh, "result", m->result) : word (zh, "unmarked"), m ? " · " : "", m ? m->by_user : "",
                m ? " · " : "", at);
    if (m && *m->note)
      pen_printf (&pen, body, 2, "<i>%s</i>", m->note);
    for (guint k = 0; k < stills->len; k++) {
      StillRow *s = g_ptr_array_index (stills, k);
      if (s->item == (gint) i + 1) {
        g_autofree gchar *id = g_strdup_printf ("%" G_GINT64_FORMAT, s->id);
        g_autofree gchar *line = g_strdup_printf (word (zh, "still"), id, s->by_user, s->sha256);
        pen_thumbnail (&pen, s);
        pen_printf (&pen, small, 2, "%s", line);
      }
    }
    pen.y += 4;
  }

  pen_printf (&pen, head, 6, "%s", word (zh, "decisions"));
  GPtrArray *decisions = report->decisions;
  if (!decisions->len)
    pen_printf (&pen, body, 4, "%s", "–");
  for (guint i = 0; i < decisions->len; i++) {
    DecisionRow *d = g_ptr_array_index (decisions, i);
    g_autofree gchar *at = when (tz, d->at);
    g_autofree gchar *signed_at = when (tz, d->countersigned_at);
    pen_printf (&pen, body, 4, "<b>%s</b> (%s) · %s · %s\n%s%s%s%s%s%s", value (zh, "decision", d->kind),
                value (zh, "dstate", d->state), d->by_user, at, d->reason,
                d->countersigned_by ? "\n" : "", d->countersigned_by ? word (zh, "countersigned") : "",
                d->countersigned_by ? sep : "", d->countersigned_by ? d->countersigned_by : "",
                d->countersigned_by ? " · " : "");
    if (d->countersigned_by)
      pen_printf (&pen, small, 4, "%s", signed_at);
  }

  pen_printf (&pen, head, 6, "%s", word (zh, "sessions"));
  GPtrArray *sessions = report->sessions;
  for (guint i = 0; i < sessions->len; i++) {
    SessionRow *s = g_ptr_array_index (sessions, i);
    g_autofree gchar *started = when (tz, s->started_at);
    g_autofree gchar *location = s->has_geo ? g_strdup_printf ("%.5f, %.5f ±%.0f m", s->geo_lat, s->geo_lon,
                                                                s->geo_accuracy_m) : g_strdup ("–");
    g_autofree gchar *distance = s->has_geo && row->has_site ?
      g_strdup_printf (" · %.0f m %s", serialize_distance_m (s->geo_lat, s->geo_lon, row->site_lat, row->site_lon),
                       word (zh, "distance")) : g_strdup ("");
    pen_printf (&pen, body, 3, "#%" G_GINT64_FORMAT " · %s · %s%s%s · %s%s%s%s", s->id, started, word (zh, "challenge"),
                sep, s->challenge_seen_by ? s->challenge_seen_by : "–", word (zh, "location"), sep, location, distance);
  }

  pen_printf (&pen, head, 6, "%s", word (zh, "acks"));
  if (!report->acks->len)
    pen_printf (&pen, body, 4, "%s", word (zh, "noack"));
  for (guint i = 0; i < report->acks->len; i++) {
    AckRow *a = g_ptr_array_index (report->acks, i);
    g_autofree gchar *at = when (tz, a->acknowledged_at);
    const gchar *kind = "–";
    for (guint k = 0; k < decisions->len; k++)
      if (((DecisionRow *) g_ptr_array_index (decisions, k))->id == a->decision_id)
        kind = value (zh, "decision", ((DecisionRow *) g_ptr_array_index (decisions, k))->kind);
    g_autofree gchar *line = g_strdup_printf (word (zh, "ack"), a->name, at, kind, a->sha256);
    pen_printf (&pen, small, 3, "%s", line);
    pen_room (&pen, SIGNATURE_H + 6);
    report_draw_strokes (pen.cr, a->strokes, MARGIN, pen.y, SIGNATURE_W, SIGNATURE_H);
    if (g_strcmp0 (a->strokes, "[]") == 0) {   /* a typed signature: the name is the signature */
      gdouble box_top = pen.y;
      pen.y += SIGNATURE_H / 2 - 10;
      pen_printf (&pen, "Serif Italic 16", 0, "  %s", a->name);
      pen.y = box_top;
    }
    pen.y += SIGNATURE_H + 6;
  }

  pen_printf (&pen, head, 6, "%s", word (zh, "recordings"));
  GPtrArray *recs = report->recordings;
  for (guint i = 0; i < recs->len; i++) {
    RecordingRow *r = g_ptr_array_index (recs, i);
    /* on the wall clock from its archive's 0, for its true media duration */
    g_autofree gchar *started = when (tz, r->media_started_at ? r->media_started_at : r->started_at);
    g_autofree gchar *session = g_strdup_printf ("%" G_GINT64_FORMAT, r->session_id);
    g_autofree gchar *seq = g_strdup_printf ("%d", r->seq);
    g_autofree gchar *which = g_strdup_printf (word (zh, "segment"), session, seq);
    pen_printf (&pen, small, 3, "%s · %s · %.1f %s · %s · SHA-256 %s", which, started, r->duration_ms / 1000.0, word (zh, "sec"),
                value (zh, "rec", r->purged_at ? "purged" : (r->archive_state ? r->archive_state : r->state)),
                r->archive_sha256 ? r->archive_sha256 : "–");
  }
  g_autofree gchar *public_key = signing_public_hex (app->config->data_dir, NULL);
  if (public_key)   /* the key exported bundles of this server are signed with (kanyan audit pubkey) */
    pen_printf (&pen, small, 3, "%s%s%s", word (zh, "key"), sep, public_key);
  /* the QR code: the case and the report's hash, for whoever holds the paper */
  g_autofree gchar *qr = case_report_qr_text (report);
  g_autofree gchar *report_sha = case_report_sha256 (report);
  pen_room (&pen, QR_SIZE + 4);
  if (report_draw_qr (pen.cr, qr, MARGIN, pen.y, QR_SIZE))
    pen.y += QR_SIZE + 4;
  g_autofree gchar *verify = g_strdup_printf (word (zh, "verify"), row->ref, report_sha);
  pen_printf (&pen, small, 3, "%s", verify);
  g_autofree gchar *now = when (tz, db_now_ms ());
  pen_printf (&pen, small, 0, "Kanyan %s · %s %s (%s)", KANYAN_VERSION, word (zh, "generated"), now,
              config_timezone (app->config));

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

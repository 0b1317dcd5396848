/* acknowledge.c — the applicant's acknowledgement of a notice (acknowledge.h): the strokes
 * validated, the SVG built from them here (the client's text never is), its SHA-256, the row and
 * its audit entry in one durable transaction, the reviewers told. Which notice, and whether an
 * unacknowledged one is flagged on the desk (working days, calendar.c). Never touches media. */
#include "review/acknowledge.h"
#include "review/audit.h"
#include "review/live_port.h"
#include "core/errors.h"
#include "core/json_out.h"
#include <math.h>
#include <string.h>

static void
strokes_free (gpointer p)
{
  g_array_unref (p);
}

static gboolean
number (JsonNode *n, gdouble *out)
{
  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  GType t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64)
    *out = (gdouble) json_node_get_int (n);
  else if (t == G_TYPE_DOUBLE)
    *out = json_node_get_double (n);
  else
    return FALSE;
  return *out >= 0.0 && *out <= 1.0;   /* NaN fails both */
}

GPtrArray *
ack_strokes_parse (JsonNode *node, GError **error)
{
  JsonArray *list = node && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  guint n = list ? json_array_get_length (list) : 0;
  if (!list || n < 1 || n > ACK_MAX_STROKES) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'strokes' must be an array of 1 to %d strokes "
                 "(the signature cannot be empty)", ACK_MAX_STROKES);
    return NULL;
  }
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (strokes_free);
  guint total = 0;
  for (guint i = 0; i < n; i++) {
    JsonNode *sn = json_array_get_element (list, i);
    JsonArray *points = JSON_NODE_HOLDS_ARRAY (sn) ? json_node_get_array (sn) : NULL;
    guint m = points ? json_array_get_length (points) : 0;
    total += m;
    if (!points || m < 1 || m > ACK_MAX_POINTS || total > ACK_MAX_TOTAL) {
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "stroke %u must be an array of 1 to %d points, at "
                   "most %d points in all", i + 1, ACK_MAX_POINTS, ACK_MAX_TOTAL);
      return NULL;
    }
    GArray *stroke = g_array_sized_new (FALSE, FALSE, sizeof (AckPoint), m);
    g_ptr_array_add (out, stroke);
    for (guint k = 0; k < m; k++) {
      JsonNode *pn = json_array_get_element (points, k);
      JsonArray *xy = JSON_NODE_HOLDS_ARRAY (pn) ? json_node_get_array (pn) : NULL;
      AckPoint p;
      if (!xy || json_array_get_length (xy) != 2 || !number (json_array_get_element (xy, 0), &p.x) ||
          !number (json_array_get_element (xy, 1), &p.y)) {
        g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "point %u of stroke %u must be [x, y] with numbers "
                     "from 0 to 1 of the signature box", k + 1, i + 1);
        return NULL;
      }
      g_array_append_val (stroke, p);
    }
  }
  return g_steal_pointer (&out);
}

gchar *
ack_strokes_to_json (GPtrArray *strokes)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < strokes->len; i++) {
    GArray *s = g_ptr_array_index (strokes, i);
    json_builder_begin_array (b);
    for (guint k = 0; k < s->len; k++) {
      AckPoint *p = &g_array_index (s, AckPoint, k);
      json_builder_begin_array (b);
      json_builder_add_double_value (b, round (p->x * 1e4) / 1e4);
      json_builder_add_double_value (b, round (p->y * 1e4) / 1e4);
      json_builder_end_array (b);
    }
    json_builder_end_array (b);
  }
  json_builder_end_array (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

/* one coordinate of the box, locale-independent, one decimal */
static void
append_coord (GString *out, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.1f", v));
}

gchar *
ack_svg (GPtrArray *strokes, const gchar *typed_name)
{
  GString *svg = g_string_new (NULL);
  g_string_append_printf (svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
                          "height=\"%d\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><g fill=\"none\" stroke=\"#000\" "
                          "stroke-width=\"3\" stroke-linecap=\"round\" stroke-linejoin=\"round\">", ACK_BOX_W, ACK_BOX_H,
                          ACK_BOX_W, ACK_BOX_H, ACK_BOX_W, ACK_BOX_H);
  for (guint i = 0; i < strokes->len; i++) {
    GArray *s = g_ptr_array_index (strokes, i);
    g_string_append (svg, "<path d=\"");
    for (guint k = 0; k < s->len; k++) {
      AckPoint *p = &g_array_index (s, AckPoint, k);
      g_string_append_c (svg, k == 0 ? 'M' : 'L');
      append_coord (svg, p->x * ACK_BOX_W);
      g_string_append_c (svg, ' ');
      append_coord (svg, p->y * ACK_BOX_H);
    }
    if (s->len == 1)   /* a dot: a zero-length segment, drawn by its round cap */
      g_string_append (svg, "l0.1 0");
    g_string_append (svg, "\"/>");
  }
  g_string_append (svg, "</g>");
  if (!strokes->len && typed_name) {
    g_autofree gchar *text = g_markup_escape_text (typed_name, -1);
    g_string_append_printf (svg, "<text x=\"20\" y=\"%d\" font-family=\"serif\" font-style=\"italic\" "
                            "font-size=\"40\" fill=\"#000\">%s</text>", ACK_BOX_H / 2 + 14, text);
  }
  g_string_append (svg, "</svg>\n");
  return g_string_free (svg, FALSE);
}

gchar *
ack_name_valid (const gchar *name, GError **error)
{
  g_autofree gchar *trimmed = name ? g_strstrip (g_strdup (name)) : NULL;
  glong len = trimmed && g_utf8_validate (trimmed, -1, NULL) ? g_utf8_strlen (trimmed, -1) : 0;
  gboolean ok = len >= 1 && len <= ACK_NAME_MAX;
  for (const gchar *p = trimmed; ok && *p; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      ok = FALSE;
  if (!ok) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'name' must be 1 to %d characters, without control "
                 "characters", ACK_NAME_MAX);
    return NULL;
  }
  return g_steal_pointer (&trimmed);
}

DecisionRow *
ack_notice_of (sqlite3 *db, const CaseRow *row)
{
  g_autoptr (GPtrArray) decisions = store_decisions (db, row->id);
  for (guint i = decisions->len; i-- > 0;) {
    DecisionRow *d = g_ptr_array_index (decisions, i);
    if (g_strcmp0 (d->kind, "rectify") == 0 || (g_strcmp0 (d->kind, "reject") == 0 && g_strcmp0 (d->state, "final") == 0))
      return g_ptr_array_steal_index (decisions, i);
  }
  return NULL;
}

gboolean
ack_invite_closed_by_rejection (sqlite3 *db, const CaseRow *row, const gchar *token)
{
  if (g_strcmp0 (row->status, "rejected") != 0)
    return FALSE;
  g_autoptr (DecisionRow) notice = ack_notice_of (db, row);
  if (!notice || g_strcmp0 (notice->kind, "reject") != 0 || g_strcmp0 (notice->state, "final") != 0 ||
      notice->countersigned_at <= 0)
    return FALSE;
  /* the countersignature stamps the decision, then revokes the invites still live, in one
   * transaction (workflow.c): a token revoked before it was revoked by someone else */
  gint64 revoked_at = store_invite_revoked_at (db, row->id, token);
  return revoked_at > 0 && revoked_at >= notice->countersigned_at;
}

AckRow *
ack_submit (KanyanApp *app, const CaseRow *row, const gchar *invite_token, const gchar *name_in, JsonNode *strokes_in,
            gboolean typed, GError **error)
{
  g_autofree gchar *name = ack_name_valid (name_in, error);
  if (!name)
    return NULL;
  g_autoptr (GPtrArray) strokes = NULL;
  if (typed) {
    JsonArray *none = strokes_in && JSON_NODE_HOLDS_ARRAY (strokes_in) ? json_node_get_array (strokes_in) : NULL;
    if (strokes_in && !JSON_NODE_HOLDS_NULL (strokes_in) && !(none && json_array_get_length (none) == 0)) {
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "a typed signature has no 'strokes'");
      return NULL;
    }
    strokes = g_ptr_array_new ();
  } else if (!(strokes = ack_strokes_parse (strokes_in, error))) {
    return NULL;
  }
  g_autoptr (DecisionRow) notice = ack_notice_of (app->db, row);
  if (!notice) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NO_NOTICE, "case %s has no notice to acknowledge yet", row->ref);
    return NULL;
  }
  g_autoptr (AckRow) before = store_ack_of_decision (app->db, notice->id);
  if (before) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_ALREADY_ACKNOWLEDGED, "this notice was acknowledged already");
    return NULL;
  }
  g_autofree gchar *points = ack_strokes_to_json (strokes);
  g_autofree gchar *svg = ack_svg (strokes, name);
  g_autofree gchar *sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, svg, -1);
  gint64 invite_id = store_invite_id (app->db, row->id, invite_token), at = db_now_ms ();
  /* the row and its audit entry: one durable transaction (answered means kept) */
  if (!db_durable_begin (app->db, error))
    return NULL;
  gint64 id = store_ack_add (app->db, row->id, notice->id, name, points, svg, sha, at, invite_id, error);
  if (id) {
    g_autofree gchar *decision = g_strdup_printf ("%" G_GINT64_FORMAT, notice->id);
    audit_note (app->db, "applicant", "notice.acknowledged", row->ref, "decision", decision, "kind", notice->kind,
                "name", name, "signature", typed ? "typed" : "drawn", "sha256", sha, NULL);
  }
  if (!db_durable_end (app->db, id != 0, id ? error : NULL) || !id)
    return NULL;
  AckRow *ack = store_ack_of_decision (app->db, notice->id);
  if (ack) {   /* the desk shows it at once */
    g_autoptr (JsonBuilder) b = json_builder_new ();
    json_builder_begin_object (b);
    json_out_str (b, "type", "acknowledged");
    json_out_int (b, "decision", ack->decision_id);
    json_out_str (b, "name", ack->name);
    json_out_int (b, "at", ack->acknowledged_at);
    json_builder_end_object (b);
    g_autoptr (JsonNode) root = json_builder_get_root (b);
    g_autofree gchar *text = json_to_string (root, FALSE);
    live_notify (app, row->ref, text, TRUE);
  }
  return ack;
}

void
ack_state_load (sqlite3 *db, const CaseRow *row, const WorkCalendar *cal, const GDate *today, gint days,
                AckState *out)
{
  memset (out, 0, sizeof *out);
  out->notice = ack_notice_of (db, row);
  if (!out->notice)
    return;
  out->ack = store_ack_of_decision (db, out->notice->id);
  if (out->ack || g_strcmp0 (row->status, "rectification_required") != 0 || !cal || !today)
    return;
  GDate issued;   /* the local day it was issued on; the working days after it that have passed */
  g_date_clear (&issued, 1);
  g_date_set_time_t (&issued, (time_t) (out->notice->at / 1000));
  out->flagged = calendar_working_days_left (cal, &issued, today) >= MAX (days, 0);
}

void
ack_state_clear (AckState *state)
{
  g_clear_pointer (&state->notice, decision_row_free);
  g_clear_pointer (&state->ack, ack_row_free);
}

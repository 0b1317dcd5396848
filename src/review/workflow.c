/* workflow.c — what a case may go through and in which order. Owns the lifecycle table and
 * the rules of marks, decisions, the one-time notice (一次性告知) and countersignatures
 * (窗口无否决权). Never decides who may act (auth.c does) and never touches media. */
#include "review/workflow.h"
#include "review/audit.h"
#include "review/serialize.h"
#include "core/errors.h"
#include "review/live_port.h"

static const gchar *const status_names[N_CASE_STATUSES] = {
  "accepted", "awaiting_inspection", "inspecting", "approved", "rectification_required", "rejection_pending",
  "rejected",
};
static const gchar *const event_names[N_CASE_EVENTS] = {
  "invite", "live", "approve", "rectify", "reject", "countersign", "return", "reopen",
};

/* the lifecycle of ../shared/domain.md; anything not listed is refused */
static const struct { CaseStatus from; CaseEvent event; CaseStatus to; } transitions[] = {
  { CASE_ACCEPTED,               CASE_EVENT_INVITE,      CASE_AWAITING_INSPECTION },
  { CASE_ACCEPTED,               CASE_EVENT_LIVE,        CASE_INSPECTING },
  { CASE_AWAITING_INSPECTION,    CASE_EVENT_LIVE,        CASE_INSPECTING },
  { CASE_RECTIFICATION_REQUIRED, CASE_EVENT_LIVE,        CASE_INSPECTING },   /* re-inspection */
  { CASE_INSPECTING,             CASE_EVENT_APPROVE,     CASE_APPROVED },
  { CASE_INSPECTING,             CASE_EVENT_RECTIFY,     CASE_RECTIFICATION_REQUIRED },
  { CASE_INSPECTING,             CASE_EVENT_REJECT,      CASE_REJECTION_PENDING },
  { CASE_REJECTION_PENDING,      CASE_EVENT_COUNTERSIGN, CASE_REJECTED },
  { CASE_REJECTION_PENDING,      CASE_EVENT_RETURN,      CASE_INSPECTING },   /* back to the owner */
  /* the applicant is still on the line after the notice, or says it cannot be done: no need
   * to wait for a reconnection to reject */
  { CASE_RECTIFICATION_REQUIRED, CASE_EVENT_REJECT,      CASE_REJECTION_PENDING },
  { CASE_APPROVED,               CASE_EVENT_REOPEN,      CASE_ACCEPTED },     /* a lead's audited reopening */
  { CASE_REJECTED,               CASE_EVENT_REOPEN,      CASE_ACCEPTED },
};

const gchar *
workflow_status_name (CaseStatus status)
{
  return status < N_CASE_STATUSES ? status_names[status] : "?";
}

const gchar *
workflow_event_name (CaseEvent event)
{
  return event < N_CASE_EVENTS ? event_names[event] : "?";
}

gboolean
workflow_status_parse (const gchar *name, CaseStatus *out)
{
  for (guint i = 0; i < N_CASE_STATUSES; i++)
    if (g_strcmp0 (name, status_names[i]) == 0) {
      *out = i;
      return TRUE;
    }
  return FALSE;
}

gboolean
workflow_status_is_open (const gchar *status)
{
  CaseStatus s;
  return workflow_status_parse (status, &s) && s != CASE_APPROVED && s != CASE_REJECTED &&
         s != CASE_RECTIFICATION_REQUIRED;   /* the clock waits for the applicant's rectification */
}

gboolean
workflow_status_is_closed (const gchar *status)
{
  CaseStatus s;
  return workflow_status_parse (status, &s) && (s == CASE_APPROVED || s == CASE_REJECTED);
}

gboolean
workflow_check_open (const CaseRow *row, GError **error)
{
  if (!workflow_status_is_closed (row->status))
    return TRUE;
  g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CASE_CLOSED,
               "case %s is closed: it was %s and the decision is final (a lead may reopen it)", row->ref,
               g_strcmp0 (row->status, "approved") == 0 ? "approved" : "rejected");
  return FALSE;
}

gboolean
workflow_next (CaseStatus from, CaseEvent event, CaseStatus *to)
{
  for (guint i = 0; i < G_N_ELEMENTS (transitions); i++)
    if (transitions[i].from == from && transitions[i].event == event) {
      *to = transitions[i].to;
      return TRUE;
    }
  return FALSE;
}

gboolean
workflow_apply (sqlite3 *db, const gchar *actor, const CaseRow *row, CaseEvent event, GError **error)
{
  CaseStatus from, to;
  if (!workflow_status_parse (row->status, &from) || !workflow_next (from, event, &to)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_ILLEGAL_TRANSITION, "case %s is '%s': it cannot %s now",
                 row->ref, row->status, workflow_event_name (event));
    return FALSE;
  }
  store_case_set_status (db, row->id, workflow_status_name (to));
  audit_note (db, actor, "case.status", row->ref, "from", row->status, "to", workflow_status_name (to), "event",
              workflow_event_name (event), NULL);
  return TRUE;
}

void
workflow_note (sqlite3 *db, const gchar *actor, const CaseRow *row, CaseEvent event)
{
  CaseStatus from, to;
  if (workflow_status_parse (row->status, &from) && workflow_next (from, event, &to))
    workflow_apply (db, actor, row, event, NULL);
}

/* ---- marks ------------------------------------------------------------------------- */

MarkRow **
workflow_latest_marks (GPtrArray *marks, guint n_items)
{
  MarkRow **latest = g_new0 (MarkRow *, n_items + 1);
  for (guint i = 0; i < marks->len; i++) {
    MarkRow *m = g_ptr_array_index (marks, i);
    if (m->item >= 1 && (guint) m->item <= n_items)
      latest[m->item - 1] = m;
  }
  return latest;
}

void
workflow_add_items_with_marks (JsonBuilder *b, sqlite3 *db, const CaseRow *row, gint64 session_id,
                               WorkflowItemFilter may_mark, gpointer data)
{
  g_autoptr (GPtrArray) items = store_case_items (db, row->id);
  g_autoptr (GPtrArray) marks = session_id ? store_marks (db, session_id) : g_ptr_array_new ();
  g_autofree MarkRow **latest = workflow_latest_marks (marks, items->len);
  json_builder_set_member_name (b, "items");
  json_builder_begin_array (b);
  for (guint i = 0; i < items->len; i++) {
    gchar **item = g_ptr_array_index (items, i);
    json_builder_begin_object (b);
    item_members (b, i + 1, item);
    if (may_mark) {
      json_builder_set_member_name (b, "may_mark");
      json_builder_add_boolean_value (b, may_mark (item[3], data));
    }
    json_builder_set_member_name (b, "mark");
    if (latest[i])
      mark_to_json (b, latest[i]);
    else
      json_builder_add_null_value (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}

static gchar *
builder_text (JsonBuilder *b)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

/* a one-time notice quotes this live inspection: its marks are frozen */
static gboolean
session_has_notice (sqlite3 *db, const CaseRow *row, gint64 session_id)
{
  g_autoptr (GPtrArray) decisions = store_decisions (db, row->id);
  for (guint i = 0; i < decisions->len; i++) {
    DecisionRow *d = g_ptr_array_index (decisions, i);
    if (d->session_id == session_id && g_strcmp0 (d->kind, "rectify") == 0)
      return TRUE;
  }
  return FALSE;
}

gboolean
workflow_mark (KanyanApp *app, const gchar *actor, const CaseRow *row, gint item, const gchar *result,
               const gchar *note, GError **error)
{
  if (!workflow_check_open (row, error))
    return FALSE;
  LiveInspection live;
  if (!live_find (app, row->ref, &live)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "marks are made during a live inspection; case %s has none now",
                 row->ref);
    return FALSE;
  }
  g_autoptr (GPtrArray) items = store_case_items (app->db, row->id);
  if (item < 1 || (guint) item > items->len) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'item' must be 1 to %u", items->len);
    return FALSE;
  }
  gint64 session = live.session_id, media_ms = live.media_ms;
  if (session_has_notice (app->db, row, session)) {   /* not reached while rooms move on (room_next_session) */
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "the one-time notice quotes this live inspection's marks: "
                 "they are final; a new live inspection marks again");
    return FALSE;
  }
  /* the mark and its audit entry are one durable transaction: an answered mark survives a
   * crash or a power cut, and one in flight is wholly there or wholly absent */
  if (!db_durable_begin (app->db, error))
    return FALSE;
  gint64 id = store_mark_add (app->db, row->id, session, item, result, note, actor, media_ms);
  g_autofree gchar *item_text = g_strdup_printf ("%d", item);
  g_autofree gchar *session_text = g_strdup_printf ("%" G_GINT64_FORMAT, session);
  g_autofree gchar *media_text = g_strdup_printf ("%" G_GINT64_FORMAT, media_ms);
  if (id)
    audit_note (app->db, actor, "mark", row->ref, "session", session_text, "item", item_text, "result", result,
                "note", note ? note : "", "media_ms", media_text, NULL);
  if (!db_durable_end (app->db, id != 0, error) || !id) {
    if (error && !*error)
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the mark could not be stored");
    return FALSE;
  }
  /* every reviewer in the session sees it at once */
  MarkRow m = { id, session, db_now_ms (), media_ms, item, (gchar *) result, (gchar *) (note ? note : ""),
                (gchar *) actor };
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "mark");
  json_builder_set_member_name (b, "mark");
  mark_to_json (b, &m);
  json_builder_end_object (b);
  g_autofree gchar *text = builder_text (b);
  live_notify (app, row->ref, text, TRUE);
  return TRUE;
}

gboolean
workflow_challenge_seen (KanyanApp *app, const gchar *actor, const CaseRow *row, GError **error)
{
  if (!workflow_check_open (row, error))
    return FALSE;
  LiveInspection live;
  if (!live_find (app, row->ref, &live)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "case %s has no live inspection now", row->ref);
    return FALSE;
  }
  if (!store_session_challenge_seen (app->db, live.session_id, actor)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "the challenge of this inspection was marked seen already");
    return FALSE;
  }
  audit_note (app->db, actor, "challenge.seen", row->ref, "challenge", live.challenge, NULL);
  g_autoptr (JsonBuilder) b = json_builder_new ();   /* never printf: a name may hold any character */
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "challenge_seen");
  json_builder_set_member_name (b, "by");
  json_builder_add_string_value (b, actor);
  json_builder_end_object (b);
  g_autofree gchar *text = builder_text (b);
  live_notify (app, row->ref, text, FALSE);
  return TRUE;
}

/* ---- decisions --------------------------------------------------------------------- */

/* A decision is on disk before anyone is told it is saved: the decision, the case's new status
 * and their audit entries are one durable transaction (db_durable_begin: synchronous=FULL). */

/* The one-time notice: every item of the last inspection not marked "pass" (failed, not
 * shown, or never marked), with its note — all at once; their positions go to `positions`.
 * Its items are a document of their own (stored with the decision, shown to the applicant as
 * issued), not the item rows of serialize.c: their shape stays what was issued. */
static gchar *
build_notice (sqlite3 *db, const CaseRow *row, gint64 session_id, const gchar *actor, const gchar *reason,
              guint *n_open, GString *positions)
{
  g_autoptr (GPtrArray) items = store_case_items (db, row->id);
  g_autoptr (GPtrArray) marks = session_id ? store_marks (db, session_id) : g_ptr_array_new ();
  g_autofree MarkRow **latest = workflow_latest_marks (marks, items->len);
  g_autoptr (GPtrArray) stills = store_stills_of_case (db, row->id);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "case");
  json_builder_add_string_value (b, row->ref);
  json_builder_set_member_name (b, "session");
  json_builder_add_int_value (b, session_id);
  json_builder_set_member_name (b, "issued_by");
  json_builder_add_string_value (b, actor);
  json_builder_set_member_name (b, "issued_at");
  json_builder_add_int_value (b, db_now_ms ());
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, reason);
  json_builder_set_member_name (b, "items");
  json_builder_begin_array (b);
  *n_open = 0;
  for (guint i = 0; i < items->len; i++) {
    if (latest[i] && g_strcmp0 (latest[i]->result, "pass") == 0)
      continue;
    gchar **item = g_ptr_array_index (items, i);
    (*n_open)++;
    g_string_append_printf (positions, "%s%u", positions->len ? "," : "", i + 1);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "position");
    json_builder_add_int_value (b, i + 1);
    json_builder_set_member_name (b, "title_en");
    json_builder_add_string_value (b, item[0]);
    json_builder_set_member_name (b, "title_zh");
    json_builder_add_string_value (b, item[1]);
    json_builder_set_member_name (b, "result");
    json_builder_add_string_value (b, latest[i] ? latest[i]->result : "not_shown");
    json_builder_set_member_name (b, "note");
    json_builder_add_string_value (b, latest[i] ? latest[i]->note : "");
    json_builder_set_member_name (b, "stills");   /* the evidence of this inspection, by id and hash */
    json_builder_begin_array (b);
    for (guint k = 0; k < stills->len; k++) {
      StillRow *s = g_ptr_array_index (stills, k);
      if (s->session_id != session_id || (guint) s->item != i + 1)
        continue;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, s->id);
      json_builder_set_member_name (b, "sha256");
      json_builder_add_string_value (b, s->sha256);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return builder_text (b);
}

/* The notice's own audit entry (a webhook event): the decision, the inspection it quotes and
 * the positions of the items it lists, in the decision's transaction. */
static void
note_notice_issued (sqlite3 *db, const gchar *actor, const CaseRow *row, const gchar *decision, gint64 session,
                    const gchar *positions)
{
  g_autofree gchar *session_text = g_strdup_printf ("%" G_GINT64_FORMAT, session);
  audit_note (db, actor, "notice.issued", row->ref, "decision", decision, "session", session_text, "items",
              positions, NULL);
}

/* a final decision ends every invite of the case (in the decision's transaction) */
static void
revoke_invites (sqlite3 *db, const gchar *actor, const CaseRow *row)
{
  g_autofree gchar *count = g_strdup_printf ("%d", store_invites_revoke (db, row->id));
  audit_note (db, actor, "invite.revoked", row->ref, "count", count, "because", "case_closed", NULL);
}

static void
tell_room (KanyanApp *app, const CaseRow *row, const gchar *kind, const gchar *status)
{
  if (!live_find (app, row->ref, NULL))
    return;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "decision");
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, kind);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, status);
  json_builder_end_object (b);
  g_autofree gchar *text = builder_text (b);
  live_notify (app, row->ref, text, FALSE);
}

gint64
workflow_decide (KanyanApp *app, const gchar *actor, const CaseRow *row, const gchar *kind, const gchar *reason,
                 GError **error)
{
  CaseEvent event;
  if (g_strcmp0 (kind, "approve") == 0)
    event = CASE_EVENT_APPROVE;
  else if (g_strcmp0 (kind, "rectify") == 0)
    event = CASE_EVENT_RECTIFY;
  else if (g_strcmp0 (kind, "reject") == 0)
    event = CASE_EVENT_REJECT;
  else {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'kind' must be approve, rectify or reject");
    return 0;
  }
  CaseStatus from, to;
  if (!workflow_status_parse (row->status, &from) || !workflow_next (from, event, &to)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_ILLEGAL_TRANSITION, "case %s is '%s': it cannot %s now",
                 row->ref, row->status, kind);
    return 0;
  }
  gint64 session = store_session_latest (app->db, row->id);
  guint n_open = 0;
  g_autoptr (GString) positions = g_string_new (NULL);   /* "2,5": the items the notice lists */
  g_autofree gchar *notice = build_notice (app->db, row, session, actor, reason, &n_open, positions);
  if (event == CASE_EVENT_APPROVE && n_open > 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT,
                 "%u item(s) of the last inspection are not marked pass: rectify or reject instead", n_open);
    return 0;
  }
  if (event == CASE_EVENT_RECTIFY && n_open == 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "every item passed: there is nothing to rectify");
    return 0;
  }
  const gchar *state = event == CASE_EVENT_REJECT ? "awaiting_countersign" : "final";
  if (!db_durable_begin (app->db, error))
    return 0;
  gint64 id = store_decision_add (app->db, row->id, session, kind, reason, actor, state,
                                  event == CASE_EVENT_RECTIFY ? notice : NULL);
  gboolean ok = id && workflow_apply (app->db, actor, row, event, error);
  if (ok) {
    g_autofree gchar *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
    audit_note (app->db, actor, "decision", row->ref, "decision", id_text, "kind", kind, "reason", reason, "state",
                state, NULL);
    if (event == CASE_EVENT_RECTIFY)   /* the one-time notice goes out with it: its own event */
      note_notice_issued (app->db, actor, row, id_text, session, positions->str);
    if (to == CASE_APPROVED)
      revoke_invites (app->db, actor, row);
  } else if (!id) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the decision could not be stored");
  }
  if (!db_durable_end (app->db, ok, ok ? error : NULL))
    return 0;
  tell_room (app, row, kind, workflow_status_name (to));
  if (to == CASE_APPROVED)
    live_end (app, row->ref, "case_closed");
  else if (event == CASE_EVENT_RECTIFY && live_find (app, row->ref, NULL) && !live_next_session (app, row->ref, NULL))
    g_warning ("case %s: no new live inspection after the notice: marks stay frozen", row->ref);
  return id;
}

gboolean
workflow_countersign (KanyanApp *app, const gchar *actor, const CaseRow *row, gint64 decision_id, gboolean sign,
                      const gchar *note, GError **error)
{
  g_autoptr (DecisionRow) d = store_decision_get (app->db, decision_id);
  if (!d || g_strcmp0 (d->case_ref, row->ref) != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "case %s has no decision %" G_GINT64_FORMAT, row->ref,
                 decision_id);
    return FALSE;
  }
  if (g_strcmp0 (d->state, "awaiting_countersign") != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_ILLEGAL_TRANSITION, "decision %" G_GINT64_FORMAT " is '%s', not "
                 "awaiting a countersignature", decision_id, d->state);
    return FALSE;
  }
  if (g_strcmp0 (d->by_user, actor) == 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_FORBIDDEN, "a rejection needs a second person: %s made it", actor);
    return FALSE;
  }
  CaseEvent event = sign ? CASE_EVENT_COUNTERSIGN : CASE_EVENT_RETURN;
  if (!db_durable_begin (app->db, error))
    return FALSE;
  gboolean ok = workflow_apply (app->db, actor, row, event, error) &&
                store_decision_countersign (app->db, decision_id, actor, note, sign ? "final" : "returned");
  if (ok) {
    g_autofree gchar *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, decision_id);
    audit_note (app->db, actor, sign ? "decision.countersigned" : "decision.returned", row->ref, "decision", id_text,
                "note", note ? note : "", NULL);
    if (sign)
      revoke_invites (app->db, actor, row);
  } else if (error && !*error) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the countersignature could not be stored");
  }
  if (!db_durable_end (app->db, ok, ok ? error : NULL))
    return FALSE;
  tell_room (app, row, sign ? "reject" : "returned", sign ? "rejected" : "inspecting");
  if (sign)   /* the rejection is final: the live inspection ends here */
    live_end (app, row->ref, "case_closed");
  return TRUE;
}

gboolean
workflow_reopen (KanyanApp *app, const gchar *actor, const CaseRow *row, const gchar *reason, GError **error)
{
  if (!workflow_status_is_closed (row->status)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_ILLEGAL_TRANSITION, "case %s is '%s', not closed: there is nothing "
                 "to reopen", row->ref, row->status);
    return FALSE;
  }
  if (!db_durable_begin (app->db, error))
    return FALSE;
  gboolean ok = workflow_apply (app->db, actor, row, CASE_EVENT_REOPEN, error);
  if (ok)
    audit_note (app->db, actor, "case.reopened", row->ref, "from", row->status, "reason", reason, NULL);
  return db_durable_end (app->db, ok, ok ? error : NULL);
}

/* api_private.h — helpers shared by the REST route files (api.c, api_review.c). */
#pragma once
#include "app/app.h"
#include "review/auth.h"
#include "web/http.h"
#include <json-glib/json-glib.h>

JsonBuilder *api_object_begin (void);                       /* an open object */
void         api_respond_builder (HttpExchange *ex, guint status, JsonBuilder *b);   /* closes it */
/* responds (401/403) and returns FALSE when the caller may not */
gboolean     api_allowed (KanyanApp *app, HttpExchange *ex, const Identity *id, Ability what, const CaseRow *row);

/* api_review.c: the review workflow's routes and the parts of a case they add */
typedef void (*CaseHandler) (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row,
                             JsonObject *body);
/* which items the asking user may mark (parallel approval): a WorkflowItemFilter over this */
typedef struct { KanyanApp *app; const Identity *id; const CaseRow *row; } ApiMarkerScope;
gboolean api_review_may_mark (const gchar *item_department, gpointer scope);
void api_review_mark (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body);
void api_review_marks (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body);
void api_review_challenge_seen (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row,
                                JsonObject *body);
void api_review_decide (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body);
void api_review_countersign (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row,
                             JsonObject *body);
void api_review_reopen (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body);
void api_review_queue (KanyanApp *app, HttpExchange *ex, const Identity *id);
void api_review_still (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body);
void api_review_annotate (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body);
void api_review_add_stills (JsonBuilder *b, KanyanApp *app, const CaseRow *row);   /* "stills" */
void api_review_geo (KanyanApp *app, HttpExchange *ex, const Identity *id, JsonObject *body);
/* api_audit.c */
void api_audit_search (KanyanApp *app, HttpExchange *ex, const Identity *id);
void api_audit_timeline (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body);
void api_audit_report_pdf (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body);
void api_audit_report (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body);
void api_audit_integrity (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body);
/* api_admin.c */
void api_admin_case_types (KanyanApp *app, HttpExchange *ex, const Identity *id);
void api_admin_case_type_save (KanyanApp *app, HttpExchange *ex, const Identity *id, const gchar *key,
                               JsonObject *body);   /* key NULL: create */
void api_admin_user_add (KanyanApp *app, HttpExchange *ex, const Identity *id, JsonObject *body);
void api_admin_user_disable (KanyanApp *app, HttpExchange *ex, const Identity *id, const gchar *username);
void api_admin_staff (KanyanApp *app, HttpExchange *ex, const Identity *id);
void api_admin_user_reset_password (KanyanApp *app, HttpExchange *ex, const Identity *id, const gchar *username);
void api_admin_alerts (KanyanApp *app, HttpExchange *ex, const Identity *id);
/* api_webhooks.c */
void api_webhooks_deliveries (KanyanApp *app, HttpExchange *ex, const Identity *id);
void api_webhooks_retry (KanyanApp *app, HttpExchange *ex, const Identity *id, const gchar *id_text);
/* into an open object: "sessions" (challenge, location, distance from the site), "decisions" */
void api_review_add_sessions (JsonBuilder *b, KanyanApp *app, const CaseRow *row);
void api_review_add_decisions (JsonBuilder *b, KanyanApp *app, const CaseRow *row);
/* into an open object: "notice", the latest one-time notice, or null */
void api_review_add_notice (JsonBuilder *b, KanyanApp *app, const CaseRow *row);
void api_audit_signing_key (KanyanApp *app, HttpExchange *ex);
/* api_watch.c: WHEP viewing tokens */
void api_watch_issue (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body);
void api_watch_revoke (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, const gchar *token_id);
/* api_slots.c: booking — TRUE when the path was one of its routes (answered) */
gboolean api_slots_route (KanyanApp *app, HttpExchange *ex, const Identity *id, gchar **parts, guint n,
                          JsonObject *body);
/* api_photos.c: photo-grade evidence — the reviewer's request and the phone's upload (a raw
 * image body, so api_handle hands it over before any JSON parsing) */
void     api_photos_request (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body);
gboolean api_photos_is_upload (HttpExchange *ex);
void     api_photos_upload (KanyanApp *app, HttpExchange *ex);
/* api_ack.c: the applicant's acknowledgement of a notice — TRUE when the path was its route */
gboolean api_ack_route (KanyanApp *app, HttpExchange *ex, const Identity *id, gchar **parts, guint n, JsonObject *body);
/* into the invite view's open object: "ack_notice" (the decision id the notice is, or null) and
 * "acknowledgement" (ack_to_json, or null) */
void     api_ack_add_invite (JsonBuilder *b, KanyanApp *app, const CaseRow *row);

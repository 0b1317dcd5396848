/* api_photos.c — REST of photo-grade evidence (issue 18, docs/api.md "Photos"): a reviewer asks
 * the applicant's phone for a photograph of an item (POST /api/cases/{ref}/photo-requests; the
 * phone hears `photo_request` on its WebSocket), and the phone sends it (POST
 * /api/invite/photos, the raw image bytes, the invite as Bearer plus the request's id and key).
 * REST rather than signaling for both: the reviewer's answer is the request's id or a stable
 * error, as for stills, and a photo of several MB is an HTTP body, not a WebSocket message
 * (whose size the signaling caps). Turns HTTP into review/photos.c calls and nothing more. */
#include "web/api_private.h"
#include "web/api.h"
#include "web/bodies.h"
#include "web/http_auth.h"
#include "review/photos.h"
#include "review/serialize.h"
#include "review/workflow.h"
#include "live/room.h"
#include "core/errors.h"
#include <math.h>

#define PHOTOS_PATH "/api/invite/photos"

gsize
api_body_limit (KanyanApp *app, const gchar *path)
{
  /* a little over the photo limit, so that photos_receive (not the HTTP layer) refuses it by name */
  return g_strcmp0 (path, PHOTOS_PATH) == 0 ? (gsize) app->config->photo_max_bytes + 1 : 0;
}

gboolean
api_photos_is_upload (HttpExchange *ex)
{
  return g_strcmp0 (http_exchange_path (ex), PHOTOS_PATH) == 0;
}

/* main loop: the request's message to the applicant's page (photos.c asks, inside its transaction) */
static gboolean
deliver (gpointer data, const gchar *json)
{
  Room *room = data;
  return room && room_send_applicant (room, json);
}

/* POST /api/cases/{ref}/photo-requests {item}: who may take a still of the item may ask for a photo of it */
void
api_photos_request (KanyanApp *app, HttpExchange *ex, const Identity *id, const CaseRow *row, JsonObject *body)
{
  g_autoptr (GError) error = NULL;
  StillBody b;
  if (!bodies_parse_still (body, &b, &error) || !workflow_check_open (row, &error)) {
    http_exchange_respond_error (ex, error);
    return;
  }
  g_autoptr (GPtrArray) items = store_case_items (app->db, row->id);
  if (b.item <= (gint) items->len) {   /* parallel approval: their own items only, as marks and stills */
    const gchar *department = ((gchar **) g_ptr_array_index (items, b.item - 1))[3];
    if (!auth_may_mark_item (app, id, row, department)) {
      http_exchange_respond_code (ex, KANYAN_ERROR_NOT_YOUR_ITEM, "that item is another department's: its reviewer "
                                  "on this case asks for its photos");
      return;
    }
  }
  gint64 request = photos_request (app, auth_actor (id), row, b.item, deliver, rooms_get (app, row->ref), &error);
  if (!request) {
    http_exchange_respond_error (ex, error);
    return;
  }
  g_autoptr (JsonBuilder) out = api_object_begin ();
  json_builder_set_member_name (out, "request");
  json_builder_add_int_value (out, request);
  json_builder_set_member_name (out, "item");
  json_builder_add_int_value (out, b.item);
  api_respond_builder (ex, 201, out);
}

/* a query number: absent (TRUE, *has FALSE), or a finite number within [lo, hi] */
static gboolean
query_number (HttpExchange *ex, const gchar *name, gdouble lo, gdouble hi, gdouble *out, gboolean *has)
{
  const gchar *text = http_exchange_query (ex, name);
  *has = FALSE;
  if (!text)
    return TRUE;
  gchar *end = NULL;
  gdouble v = g_ascii_strtod (text, &end);
  if (!*text || *end || !isfinite (v) || v < lo || v > hi)
    return FALSE;
  *out = v;
  *has = TRUE;
  return TRUE;
}

/* POST /api/invite/photos?case=REF&request=ID&key=KEY[&lat=&lon=&accuracy=], Authorization:
 * Bearer <invite>, Content-Type image/jpeg or image/png (a type another site's page cannot send
 * without a preflight), the image bytes as the body */
void
api_photos_upload (KanyanApp *app, HttpExchange *ex)
{
  g_autoptr (Identity) id = auth_identify (app, ex);
  const gchar *ref = http_exchange_query (ex, "case");
  g_autoptr (CaseRow) row = ref ? store_case_get (app->db, ref, NULL) : NULL;
  Identity applicant = { NULL, id->invite_token };   /* the token alone: a staff cookie does not count here */
  if (!row || !auth_allows (app, &applicant, ABILITY_PUBLISH, row)) {
    http_exchange_add_header (ex, "www-authenticate", "Bearer");
    http_exchange_respond_code (ex, KANYAN_ERROR_BAD_TOKEN, "the invite link is wrong, expired or revoked");
    return;
  }
  const gchar *type = http_exchange_header (ex, "content-type");
  if (!type || !(g_ascii_strncasecmp (type, "image/", 6) == 0 ||
                 g_ascii_strncasecmp (type, "application/octet-stream", 24) == 0)) {
    http_exchange_respond_code (ex, KANYAN_ERROR_UNSUPPORTED_MEDIA_TYPE, "send the photo's bytes as image/jpeg or image/png");
    return;
  }
  guint64 request = 0;
  const gchar *request_text = http_exchange_query (ex, "request");
  if (request_text)
    g_ascii_string_to_unsigned (request_text, 10, 1, G_MAXINT64, &request, NULL);
  PhotoGeo geo = { FALSE, 0, 0, 0 };
  gboolean has_lat = FALSE, has_lon = FALSE, has_acc = FALSE;
  if (!query_number (ex, "lat", -90, 90, &geo.lat, &has_lat) || !query_number (ex, "lon", -180, 180, &geo.lon, &has_lon) ||
      !query_number (ex, "accuracy", 0, 1e7, &geo.accuracy_m, &has_acc) || has_lat != has_lon) {
    http_exchange_respond_code (ex, KANYAN_ERROR_BAD_FIELD, "'lat' and 'lon' go together, in degrees; 'accuracy' in metres");
    return;
  }
  geo.has = has_lat && has_lon;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = http_exchange_body (ex);
  g_autoptr (StillRow) still = photos_receive (app, row, (gint64) request, http_exchange_query (ex, "key"), body,
                                               http_exchange_body_too_large (ex), &geo, &error);
  if (!still) {
    http_exchange_respond_error (ex, error);
    return;
  }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  still_to_json (b, still);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  http_exchange_respond_json (ex, 201, root);
}

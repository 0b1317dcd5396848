/* whip.c — the WHIP entry point: POST an offer with the invite token as bearer, get the
 * complete answer (the server gathers its candidates first) and a Location; DELETE it to
 * stop. Turns HTTP into room calls and nothing more. */
#include "web/whip.h"
#include "live/room.h"
#include "review/auth.h"
#include "web/http_auth.h"
#include "store/db.h"
#include "core/errors.h"
#include "review/workflow.h"
#include "media/sdp_offer.h"
#include "media/ice_servers.h"
#include <sodium.h>

typedef struct {
  KanyanApp    *app;
  gchar        *id;
  gchar        *case_ref;
  gint64        case_id;
  Participant  *participant;
  HttpExchange *pending;      /* the POST waiting for its answer */
} WhipResource;

void
whip_resource_free (gpointer data)
{
  WhipResource *res = data;
  if (res->pending)
    http_exchange_unref (res->pending);
  g_free (res->id);
  g_free (res->case_ref);
  g_free (res);
}

/* the room's protocol messages (participants, state, bye…) mean nothing to a WHIP encoder */
static void
transport_send (gpointer data, const gchar *json)
{
}

/* main loop: the complete answer (candidates gathered) for the pending POST */
static void
transport_answer (gpointer data, const gchar *sdp)
{
  WhipResource *res = data;
  if (!res->pending)
    return;
  g_autoptr (HttpExchange) ex = g_steal_pointer (&res->pending);
  whip_respond_created (ex, res->app->config, "whip", res->case_ref, res->id, sdp);
}

void
whip_respond_created (HttpExchange *ex, const KanyanConfig *cfg, const gchar *protocol,
                      const gchar *case_ref, const gchar *id, const gchar *sdp)
{
  g_autofree gchar *location = g_strdup_printf ("/%s/%s/%s", protocol, case_ref, id);
  http_exchange_add_header (ex, "location", location);
  g_autofree gchar *ice_label = g_strdup_printf ("%s.%s-%s", case_ref, protocol, id);
  g_strdelimit (ice_label, ":", '-');
  g_auto (GStrv) links = ice_servers_link_headers (cfg, ice_label, g_get_real_time () / G_USEC_PER_SEC);
  for (gchar **link = links; *link; link++)
    http_exchange_add_header (ex, "link", *link);
  g_autoptr (GBytes) body = g_bytes_new (sdp, strlen (sdp));
  http_exchange_respond (ex, 201, "application/sdp", body);
}

/* main loop: the room's error (replaced, timeout, bad_sdp…) answers the pending POST with
 * that code's HTTP status */
static void
transport_error (gpointer data, gint code, const gchar *message)
{
  WhipResource *res = data;
  if (!res->pending)
    return;
  g_autoptr (HttpExchange) ex = g_steal_pointer (&res->pending);
  http_exchange_respond_code (ex, code, message);
}

/* the room let go of the publisher (replaced, connection failed) */
static void
transport_close (gpointer data)
{
  WhipResource *res = data;
  res->participant = NULL;
  g_hash_table_remove (res->app->whip_resources, res->id);
}

static const ParticipantTransport whip_transport = { transport_send, transport_close, transport_answer, transport_error };

static void
whip_publish (KanyanApp *app, HttpExchange *ex, const CaseRow *row)
{
  const gchar *type = http_exchange_header (ex, "content-type");
  if (!type || g_ascii_strncasecmp (type, "application/sdp", 15) != 0) {
    http_exchange_respond_code (ex, KANYAN_ERROR_UNSUPPORTED_MEDIA_TYPE, "the offer must be sent as application/sdp");
    return;
  }
  g_autoptr (GBytes) body = http_exchange_body (ex);
  gsize len = 0;
  const gchar *sdp = g_bytes_get_data (body, &len);
  g_autoptr (GError) error = NULL;
  /* an offer that cannot be relayed changes nothing: no live session is opened, the case's
   * state and the publisher already connected stay as they are */
  g_autoptr (OfferAnalysis) check = sdp_offer_analyze (sdp, len, &error);
  if (!check) {
    http_exchange_respond_error (ex, error);
    return;
  }
  /* one offer per case is answered at a time: a burst of parallel offers would otherwise
   * make a webrtcbin each, most of them replaced before they could answer */
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, app->whip_resources);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    WhipResource *other = value;
    if (other->case_id == row->id && other->pending) {
      http_exchange_add_header (ex, "retry-after", "1");
      http_exchange_respond_code (ex, KANYAN_ERROR_RATE_LIMITED,
                                  "another offer for this case is being answered; try again in a moment");
      return;
    }
  }
  Room *room = rooms_ensure (app, row->ref, &error);
  if (!room) {
    http_exchange_respond_error (ex, error);
    return;
  }
  guint8 raw[12];
  randombytes_buf (raw, sizeof raw);
  WhipResource *res = g_new0 (WhipResource, 1);
  res->app = app;
  res->id = g_malloc (sizeof raw * 2 + 1);
  sodium_bin2hex (res->id, sizeof raw * 2 + 1, raw, sizeof raw);
  res->case_ref = g_strdup (row->ref);
  res->case_id = row->id;
  res->pending = http_exchange_ref (ex);
  g_hash_table_insert (app->whip_resources, res->id, res);
  res->participant = room_join (room, ROLE_APPLICANT, "WHIP", TRUE, &whip_transport, res);
  if (!room_applicant_offer (room, res->participant, sdp, len, &error)) {
    Participant *p = g_steal_pointer (&res->participant);
    g_hash_table_remove (app->whip_resources, res->id);   /* frees res */
    room_leave (room, p);
    http_exchange_respond_error (ex, error);
  }
}

static void
whip_delete (KanyanApp *app, HttpExchange *ex, const CaseRow *row, const gchar *id)
{
  WhipResource *res = g_hash_table_lookup (app->whip_resources, id);
  if (!res || res->case_id != row->id) {
    http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such WHIP session");
    return;
  }
  Participant *p = g_steal_pointer (&res->participant);
  g_hash_table_remove (app->whip_resources, id);
  Room *room = rooms_get (app, row->ref);
  if (room && p)
    room_leave (room, p);
  http_exchange_respond (ex, 200, "text/plain", NULL);
}

void
whip_handle (KanyanApp *app, HttpExchange *ex)
{
  const gchar *method = http_exchange_method (ex);
  g_auto (GStrv) parts = g_strsplit (http_exchange_path (ex) + 1, "/", 0);   /* whip, ref[, id] */
  guint n = g_strv_length (parts);
  if (n < 2 || n > 3 || !*parts[1]) {
    http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "use /whip/{case-ref}");
    return;
  }
  if (g_strcmp0 (method, "OPTIONS") == 0) {
    http_exchange_add_header (ex, "accept-post", "application/sdp");
    http_exchange_respond (ex, 204, "text/plain", NULL);
    return;
  }
  if ((n == 2 && g_strcmp0 (method, "POST") != 0) || (n == 3 && g_strcmp0 (method, "DELETE") != 0)) {
    http_exchange_respond_code (ex, KANYAN_ERROR_METHOD_NOT_ALLOWED,
                                n == 2 ? "POST an SDP offer here" : "only DELETE ends a WHIP session (no trickle ICE)");
    return;
  }
  /* WHIP's contract (issue 2, docs/protocol.md): an unknown case is 404, a wrong token 401 */
  g_autoptr (GError) error = NULL;
  g_autoptr (CaseRow) row = store_case_get (app->db, parts[1], &error);
  if (!row) {
    http_exchange_respond_error (ex, error);
    return;
  }
  Identity applicant = { NULL, (gchar *) http_exchange_bearer (ex) };
  /* a finally decided case takes no publisher; its own applicant's encoder hears why */
  if (workflow_status_is_closed (row->status) && store_invite_known (app->db, row->id, applicant.invite_token)) {
    if (n == 3 && !g_hash_table_contains (app->whip_resources, parts[2]))   /* the decision ended it already */
      http_exchange_respond (ex, 200, "text/plain", NULL);
    else if (n == 3)
      whip_delete (app, ex, row, parts[2]);
    else if (!workflow_check_open (row, &error))
      http_exchange_respond_error (ex, error);
    return;
  }
  if (!auth_allows (app, &applicant, ABILITY_PUBLISH, row)) {
    http_exchange_add_header (ex, "www-authenticate", "Bearer");
    http_exchange_respond_code (ex, KANYAN_ERROR_BAD_TOKEN, "a valid invite token is required as the Bearer token");
    return;
  }
  if (n == 2)
    whip_publish (app, ex, row);
  else
    whip_delete (app, ex, row, parts[2]);
}

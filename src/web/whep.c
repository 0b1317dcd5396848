/* whep.c — the WHEP entry point: POST a recvonly offer with a viewing token (watch-tokens,
 * review/watch.c) as bearer, get the complete answer (sendonly video and audio, candidates
 * gathered) and a Location; DELETE it to stop. The viewer joins the room as a `watcher`:
 * listed among the participants, receive-only, never in the talk-back mix. Turns HTTP into
 * room calls and nothing more. Main loop. */
#include "web/whep.h"
#include "live/room.h"
#include "web/http_auth.h"
#include "review/audit.h"
#include "store/store_watch.h"
#include "core/errors.h"
#include "review/workflow.h"
#include "web/whip.h"
#include <sodium.h>

typedef struct {
  KanyanApp    *app;
  gchar        *id;
  gchar        *case_ref;
  gint64        case_id;
  gint64        token_id;     /* the viewing token that let it in */
  Participant  *participant;
  HttpExchange *pending;      /* the POST waiting for its answer */
} WhepResource;

void
whep_resource_free (gpointer data)
{
  WhepResource *res = data;
  if (res->pending)
    http_exchange_unref (res->pending);
  g_free (res->id);
  g_free (res->case_ref);
  g_free (res);
}

/* a player speaks no Kanyan protocol: the room's messages are not for it */
static void
transport_send (gpointer data, const gchar *json)
{
}

/* main loop: the complete answer for the pending POST */
static void
transport_answer (gpointer data, const gchar *sdp)
{
  WhepResource *res = data;
  if (!res->pending)
    return;
  g_autoptr (HttpExchange) ex = g_steal_pointer (&res->pending);
  whip_respond_created (ex, res->app->config, "whep", res->case_ref, res->id, sdp);   /* as WHIP */
}

static void
transport_error (gpointer data, gint code, const gchar *message)
{
  WhepResource *res = data;
  if (!res->pending)
    return;
  g_autoptr (HttpExchange) ex = g_steal_pointer (&res->pending);
  http_exchange_respond_code (ex, code, message);
}

/* the room let go of the watcher (connection failed, case decided) */
static void
transport_close (gpointer data)
{
  WhepResource *res = data;
  res->participant = NULL;
  g_hash_table_remove (res->app->whep_resources, res->id);
}

static const ParticipantTransport whep_transport = { transport_send, transport_close, transport_answer, transport_error };

/* the token's verdict as a response; TRUE when it lets this viewer in */
static gboolean
token_admits (KanyanApp *app, HttpExchange *ex, const CaseRow *row, gint64 *token_id, gchar **issued_by)
{
  switch (store_watch_token_check (app->db, row->id, http_exchange_bearer (ex), token_id, issued_by)) {
    case WATCH_TOKEN_OK:
      return TRUE;
    case WATCH_TOKEN_EXPIRED:
      http_exchange_add_header (ex, "www-authenticate", "Bearer error=\"invalid_token\"");
      http_exchange_respond_code (ex, KANYAN_ERROR_WATCH_TOKEN_EXPIRED, "the viewing token has expired");
      return FALSE;
    case WATCH_TOKEN_REVOKED:
      http_exchange_add_header (ex, "www-authenticate", "Bearer error=\"invalid_token\"");
      http_exchange_respond_code (ex, KANYAN_ERROR_WATCH_TOKEN_REVOKED, "the viewing token was revoked");
      return FALSE;
    case WATCH_TOKEN_WRONG_CASE:
      http_exchange_respond_code (ex, KANYAN_ERROR_WATCH_TOKEN_WRONG_CASE, "the viewing token is for another case");
      return FALSE;
    case WATCH_TOKEN_UNKNOWN:
    default:
      http_exchange_add_header (ex, "www-authenticate", "Bearer");
      http_exchange_respond_code (ex, KANYAN_ERROR_BAD_TOKEN, "a valid viewing token is required as the Bearer token");
      return FALSE;
  }
}

static void
whep_watch (KanyanApp *app, HttpExchange *ex, const CaseRow *row)
{
  const gchar *type = http_exchange_header (ex, "content-type");
  if (!type || g_ascii_strncasecmp (type, "application/sdp", 15) != 0) {
    http_exchange_respond_code (ex, KANYAN_ERROR_UNSUPPORTED_MEDIA_TYPE, "the offer must be sent as application/sdp");
    return;
  }
  gint64 token_id = 0;
  g_autofree gchar *issued_by = NULL;
  if (!token_admits (app, ex, row, &token_id, &issued_by))
    return;
  g_autoptr (GError) error = NULL;
  if (!workflow_check_open (row, &error)) {
    http_exchange_respond_error (ex, error);
    return;
  }
  Room *room = rooms_get (app, row->ref);
  if (!room || !room_is_live (room)) {
    http_exchange_add_header (ex, "retry-after", "5");
    http_exchange_respond_code (ex, KANYAN_ERROR_NOT_LIVE, "no applicant media flows in this case yet");
    return;
  }
  g_autoptr (GBytes) body = http_exchange_body (ex);
  gsize len = 0;
  const gchar *sdp = g_bytes_get_data (body, &len);
  guint8 raw[12];
  randombytes_buf (raw, sizeof raw);
  WhepResource *res = g_new0 (WhepResource, 1);
  res->app = app;
  res->id = g_malloc (sizeof raw * 2 + 1);
  sodium_bin2hex (res->id, sizeof raw * 2 + 1, raw, sizeof raw);
  res->case_ref = g_strdup (row->ref);
  res->case_id = row->id;
  res->token_id = token_id;
  res->pending = http_exchange_ref (ex);
  g_hash_table_insert (app->whep_resources, res->id, res);
  g_autofree gchar *name = g_strdup_printf ("WHEP (token %" G_GINT64_FORMAT " of %s)", token_id, issued_by);
  res->participant = room_join (room, ROLE_WATCHER, name, TRUE, &whep_transport, res);
  /* who let this viewer in, and from where: the token's first use is kept with it too */
  const gchar *address = http_exchange_peer (ex);
  store_watch_token_used (app->db, token_id, address);
  g_autofree gchar *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, token_id);
  g_autofree gchar *actor = g_strdup_printf ("watcher:%s", participant_id (res->participant));
  audit_note (app->db, actor, "watch_token.used", row->ref, "token_id", id_text, "issued_by", issued_by,
              "address", address ? address : "", NULL);
  if (!room_watcher_offer (room, res->participant, sdp, len, &error)) {
    Participant *p = g_steal_pointer (&res->participant);
    res->pending = NULL;
    g_hash_table_remove (app->whep_resources, res->id);   /* frees res */
    room_leave (room, p);
    http_exchange_respond_error (ex, error);
    http_exchange_unref (ex);   /* the reference res->pending held */
  }
}

static void
whep_delete (KanyanApp *app, HttpExchange *ex, const CaseRow *row, const gchar *id)
{
  WhepResource *res = g_hash_table_lookup (app->whep_resources, id);
  if (!res || res->case_id != row->id) {
    http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such WHEP session");
    return;
  }
  Participant *p = g_steal_pointer (&res->participant);
  g_hash_table_remove (app->whep_resources, id);
  Room *room = rooms_get (app, row->ref);
  if (room && p)
    room_leave (room, p);
  http_exchange_respond (ex, 200, "text/plain", NULL);
}

guint
whep_end_token (KanyanApp *app, const gchar *case_ref, gint64 case_id, gint64 token_id)
{
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, app->whep_resources);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    WhepResource *res = value;
    if (res->case_id == case_id && res->token_id == token_id && !res->pending)
      g_ptr_array_add (ids, g_strdup (res->id));
  }
  Room *room = rooms_get (app, case_ref);
  for (guint i = 0; i < ids->len; i++) {
    WhepResource *res = g_hash_table_lookup (app->whep_resources, g_ptr_array_index (ids, i));
    Participant *p = res ? g_steal_pointer (&res->participant) : NULL;
    if (res)
      g_hash_table_remove (app->whep_resources, res->id);
    if (room && p)
      room_leave (room, p);
  }
  return ids->len;
}

void
whep_handle (KanyanApp *app, HttpExchange *ex)
{
  const gchar *method = http_exchange_method (ex);
  g_auto (GStrv) parts = g_strsplit (http_exchange_path (ex) + 1, "/", 0);   /* whep, ref[, id] */
  guint n = g_strv_length (parts);
  if (n < 2 || n > 3 || !*parts[1]) {
    http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "use /whep/{case-ref}");
    return;
  }
  if (g_strcmp0 (method, "OPTIONS") == 0) {
    http_exchange_add_header (ex, "accept-post", "application/sdp");
    http_exchange_respond (ex, 204, "text/plain", NULL);
    return;
  }
  if ((n == 2 && g_strcmp0 (method, "POST") != 0) || (n == 3 && g_strcmp0 (method, "DELETE") != 0)) {
    http_exchange_respond_code (ex, KANYAN_ERROR_METHOD_NOT_ALLOWED,
                                n == 2 ? "POST an SDP offer here" : "only DELETE ends a WHEP session (no trickle ICE)");
    return;
  }
  g_autoptr (GError) error = NULL;
  g_autoptr (CaseRow) row = store_case_get (app->db, parts[1], &error);
  if (!row) {
    http_exchange_respond_error (ex, error);
    return;
  }
  if (n == 2)
    whep_watch (app, ex, row);
  else   /* the resource id (96 random bits, only in the Location) is the DELETE's credential */
    whep_delete (app, ex, row, parts[2]);
}

/* signaling.c — the WebSocket entry point: parses each message (protocol.c), checks who may
 * send it, and calls the room. Never touches GStreamer or SQL beyond the case lookup the
 * room needs. Every rejected message gets an error reply; the connection stays up. */
#include "signaling.h"
#include "protocol.h"
#include "room.h"
#include "db.h"
#include "errors.h"
#include "auth.h"
#include "audit.h"

struct _Signaling {
  KanyanApp   *app;
  WsConn      *conn;
  gchar       *session_token; /* from the upgrade's cookie; looked up at join (it may expire) */
  gchar       *case_ref;      /* set once joined */
  Participant *participant;   /* NULL when not (or no longer) in a room */
};

static void
transport_send (gpointer data, const gchar *json)
{
  Signaling *sig = data;
  ws_conn_send (sig->conn, json);
}

/* the room let go of us (timeout, replaced): close the socket once the error is out */
static void
transport_close (gpointer data)
{
  Signaling *sig = data;
  sig->participant = NULL;
  ws_conn_close (sig->conn);
}

static const ParticipantTransport ws_transport = { transport_send, transport_close };

Signaling *
signaling_new (KanyanApp *app, WsConn *conn, const gchar *cookie)
{
  Signaling *sig = g_new0 (Signaling, 1);
  sig->app = app;
  sig->conn = conn;
  sig->session_token = auth_session_token (cookie);
  return sig;
}

static void
reply_error (Signaling *sig, gint code, const gchar *message, const gchar *id)
{
  g_autofree gchar *json = protocol_error_json (code, message, id);
  ws_conn_send (sig->conn, json);
}

static void
reply_gerror (Signaling *sig, const GError *error, const gchar *id)
{
  reply_error (sig, error->domain == KANYAN_ERROR ? error->code : KANYAN_ERROR_INTERNAL, error->message, id);
}

static Room *
signaling_room (Signaling *sig)
{
  return sig->case_ref ? app_get_room (sig->app, sig->case_ref) : NULL;
}

static gboolean
signaling_join (Signaling *sig, ProtocolMessage *msg, GError **error)
{
  if (sig->participant) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_ALREADY_JOINED, "this connection has joined already");
    return FALSE;
  }
  ParticipantRole role = g_strcmp0 (msg->role, "applicant") == 0 ? ROLE_APPLICANT : ROLE_REVIEWER;
  /* an applicant is its invite token alone; a reviewer its session (cookie) alone. Nobody
   * without either learns whether a case exists. */
  g_autoptr (Identity) id = g_new0 (Identity, 1);
  if (role == ROLE_APPLICANT)
    id->invite_token = g_strdup (msg->token);
  else if (sig->session_token)
    id->user = sessions_lookup (sig->app->db, sig->session_token);
  g_autoptr (CaseRow) row = store_case_get (sig->app->db, msg->case_ref, NULL);
  if (!row && (id->user || role == ROLE_APPLICANT)) {   /* as WHIP answers 404 for an unknown case */
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_UNKNOWN_CASE, "no case with reference '%s'", msg->case_ref);
    return FALSE;
  }
  if (!row || !auth_check (sig->app, id, role == ROLE_APPLICANT ? ABILITY_PUBLISH : ABILITY_JOIN_LIVE, row, error)) {
    if (!row)   /* the same error as a wrong token or no session */
      auth_check (sig->app, id, role == ROLE_APPLICANT ? ABILITY_PUBLISH : ABILITY_JOIN_LIVE, NULL, error);
    return FALSE;
  }
  const gchar *username = id->user ? id->user->username : NULL;
  Room *existing = app_get_room (sig->app, row->ref);
  if (role == ROLE_REVIEWER && existing &&
      room_participant_count (existing) >= (guint) MAX (sig->app->config->max_participants_per_case, 1)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_TOO_MANY_CONNECTIONS,
                 "this live inspection has %d participants already", sig->app->config->max_participants_per_case);
    return FALSE;
  }
  if (username && !ws_conn_hold_account (sig->conn, username, error))
    return FALSE;
  Room *room = app_ensure_room (sig->app, row->ref, error);
  if (!room)
    return FALSE;
  g_free (sig->case_ref);
  sig->case_ref = g_strdup (row->ref);
  /* a reviewer is shown under its account name, whatever it asked to be called */
  sig->participant = room_join (room, role, username ? username : msg->name, FALSE, &ws_transport, sig);
  return TRUE;
}

static gboolean
signaling_dispatch (Signaling *sig, ProtocolMessage *msg, GError **error)
{
  if (msg->type == MSG_PING) {
    ws_conn_send (sig->conn, "{\"type\":\"pong\"}");
    return TRUE;
  }
  if (msg->type == MSG_JOIN)
    return signaling_join (sig, msg, error);
  Room *room = signaling_room (sig);
  if (!sig->participant || !room) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_JOINED, "send 'join' first");
    return FALSE;
  }
  switch (msg->type) {
    case MSG_OFFER:
      return room_applicant_offer (room, sig->participant, msg->sdp, strlen (msg->sdp), error);
    case MSG_ANSWER:
      return room_reviewer_answer (room, sig->participant, msg->pc, msg->sdp, error);
    case MSG_ICE:
      if (!*msg->candidate)
        return TRUE;   /* end of candidates */
      return room_add_ice (room, sig->participant, msg->pc, msg->mline, msg->candidate, error);
    case MSG_LEAVE: {
      Participant *p = g_steal_pointer (&sig->participant);
      ws_conn_send (sig->conn, "{\"type\":\"bye\",\"reason\":\"left\"}");
      ws_conn_close (sig->conn);
      room_leave (room, p);
      return TRUE;
    }
    default:
      return TRUE;
  }
}

void
signaling_receive (Signaling *sig, const gchar *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *id = NULL;
  g_autoptr (ProtocolMessage) msg = protocol_parse (data, len, &id, &error);
  if (!msg || !signaling_dispatch (sig, msg, &error))
    reply_gerror (sig, error, id);
}

void
signaling_reject_too_large (Signaling *sig)
{
  reply_error (sig, KANYAN_ERROR_TOO_LARGE, "messages are limited to 65536 bytes", NULL);
}

void
signaling_reject_rate_limited (Signaling *sig)
{
  reply_error (sig, KANYAN_ERROR_RATE_LIMITED, "too many messages: at most 50 a second; messages were dropped", NULL);
}

void
signaling_reject_binary (Signaling *sig)
{
  reply_error (sig, KANYAN_ERROR_BAD_JSON, "binary frames are not part of the protocol", NULL);
}

gboolean
signaling_joined (Signaling *sig)
{
  return sig->participant != NULL;
}

void
signaling_free (Signaling *sig)
{
  if (sig->participant) {
    Room *room = signaling_room (sig);
    if (room)
      room_leave (room, sig->participant);
  }
  g_free (sig->case_ref);
  g_free (sig->session_token);
  g_free (sig);
}

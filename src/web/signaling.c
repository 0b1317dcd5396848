/* signaling.c — the WebSocket entry point: parses each message (protocol.c), checks who may
 * send it, and calls the room. Never touches GStreamer or SQL beyond the case lookup the
 * room needs. Every rejected message gets an error reply; the connection stays up.
 * Revocation reaches open connections: a disabled account, an ended session, a revoked invite
 * or a closed case ends the joined connections resting on it with a typed `bye` — at once
 * when this process made the change (users.c's hook, room_end), and within SWEEP_S seconds
 * when another did it (the command line) or time did it (expiry). The sweep looks a reviewer's
 * session up as a request would, so a joined socket counts as activity (as the desk's own
 * polling does): the idle limit ends a session whose sockets are gone, the absolute one any. */
#include "web/signaling.h"
#include "web/protocol.h"
#include "live/room.h"
#include "store/db.h"
#include "core/errors.h"
#include "review/auth.h"
#include "review/audit.h"
#include "review/users.h"
#include "review/workflow.h"

#define SWEEP_S 5   /* how often joined connections are checked against the database */

typedef struct _Signaling Signaling;
struct _Signaling {
  KanyanApp   *app;
  WsConn      *conn;
  gchar       *session_token; /* from the upgrade's cookie; looked up at join (it may expire) */
  gchar       *case_ref;      /* set once joined */
  Participant *participant;   /* NULL when not (or no longer) in a room */
  ParticipantRole role;       /* once joined */
  gchar       *username;      /* a joined reviewer's account */
  gchar       *invite_token;  /* a joined applicant's invite */
};

/* every open connection, for revocation (main loop only) */
static GList     *open_conns;
static KanyanApp *sweep_app;
static guint      sweep_source;

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

static Room *signaling_room (Signaling *sig);

/* the connection's right to be in the room is gone: say why, leave, close */
static void
signaling_end (Signaling *sig, const gchar *reason)
{
  Participant *p = g_steal_pointer (&sig->participant);
  if (!p)
    return;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "bye");
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, reason);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *text = json_to_string (root, FALSE);
  ws_conn_send (sig->conn, text);
  ws_conn_close (sig->conn);
  Room *room = signaling_room (sig);
  g_info ("case %s: %s %s ends (%s)", sig->case_ref, sig->role == ROLE_APPLICANT ? "the applicant" : "reviewer",
          sig->username ? sig->username : "", reason);
  if (room)
    room_leave (room, p);
}

/* main loop (users.c): an account was disabled or a session ended in this process */
static void
on_revoked (const gchar *username, const gchar *session_token, const gchar *reason)
{
  for (GList *l = open_conns; l; l = l->next) {
    Signaling *sig = l->data;
    if (!sig->participant || sig->role != ROLE_REVIEWER)
      continue;
    if ((username && g_strcmp0 (sig->username, username) == 0) ||
        (session_token && g_strcmp0 (sig->session_token, session_token) == 0))
      signaling_end (sig, reason);
  }
}

/* main loop, every SWEEP_S: what another process or the clock revoked */
static gboolean
sweep (gpointer data)
{
  sqlite3 *db = sweep_app->db;
  for (GList *l = open_conns; l; l = l->next) {
    Signaling *sig = l->data;
    if (!sig->participant)
      continue;
    if (sig->role == ROLE_REVIEWER) {
      g_autoptr (User) user = sessions_lookup (db, sig->session_token);
      if (!user) {
        g_autoptr (User) account = sig->username ? users_find (db, sig->username) : NULL;
        signaling_end (sig, account && !account->disabled ? "session_ended" : "account_disabled");
      }
    } else {
      g_autoptr (CaseRow) row = store_case_get (db, sig->case_ref, NULL);
      if (row && workflow_status_is_closed (row->status))
        signaling_end (sig, "case_closed");
      else if (row && !store_invite_check (db, row->id, sig->invite_token))
        signaling_end (sig, "invite_revoked");
    }
  }
  if (open_conns)
    return G_SOURCE_CONTINUE;
  sweep_source = 0;
  return G_SOURCE_REMOVE;
}

static gpointer
signaling_new (KanyanApp *app, WsConn *conn, const gchar *cookie)
{
  Signaling *sig = g_new0 (Signaling, 1);
  sig->app = app;
  sig->conn = conn;
  sig->session_token = auth_session_token (cookie);
  open_conns = g_list_prepend (open_conns, sig);
  sweep_app = app;
  users_set_revoked_hook (on_revoked);
  if (!sweep_source)
    sweep_source = g_timeout_add_seconds (SWEEP_S, sweep, NULL);
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
  return sig->case_ref ? rooms_get (sig->app, sig->case_ref) : NULL;
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
    else if (role == ROLE_APPLICANT && workflow_status_is_closed (row->status) &&
             store_invite_known (sig->app->db, row->id, msg->token)) {
      g_clear_error (error);   /* its own applicant hears why: the invite ended with the case */
      workflow_check_open (row, error);
    }
    return FALSE;
  }
  if (!workflow_check_open (row, error))   /* no new live inspection of a finally decided case */
    return FALSE;
  const gchar *username = id->user ? id->user->username : NULL;
  Room *existing = rooms_get (sig->app, row->ref);
  if (role == ROLE_REVIEWER && existing &&
      room_participant_count (existing) >= (guint) MAX (sig->app->config->max_participants_per_case, 1)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_TOO_MANY_CONNECTIONS,
                 "this live inspection has %d participants already", sig->app->config->max_participants_per_case);
    return FALSE;
  }
  if (username && !ws_conn_hold_account (sig->conn, username, error))
    return FALSE;
  Room *room = rooms_ensure (sig->app, row->ref, error);
  if (!room)
    return FALSE;
  g_free (sig->case_ref);
  sig->case_ref = g_strdup (row->ref);
  /* a reviewer is shown under its account name, whatever it asked to be called */
  sig->role = role;
  g_free (sig->username);
  sig->username = g_strdup (username);
  g_free (sig->invite_token);
  sig->invite_token = g_strdup (role == ROLE_APPLICANT ? msg->token : NULL);
  sig->participant = role == ROLE_APPLICANT && msg->wait
                       ? room_join_waiting (room, msg->name, &ws_transport, sig)
                       : room_join (room, role, username ? username : msg->name, FALSE, &ws_transport, sig);
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
    case MSG_LINK_MODE:
      return room_applicant_link_mode (room, sig->participant, msg->mode, error);
    case MSG_CAMERA:
      return room_camera_command (room, sig->participant, json_node_get_object (msg->body), error);
    case MSG_CAMERA_RESULT:
      return room_camera_result (room, sig->participant, json_node_get_object (msg->body), error);
    case MSG_CAMERA_CAPS:
      return room_camera_caps (room, sig->participant, json_node_get_object (msg->body), error);
    case MSG_ADMIT:   /* the waiting room: a reviewer of this case, naming the case it admits to */
      if (sig->role != ROLE_REVIEWER) {
        g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_WRONG_ROLE, "only a reviewer of the case admits its applicant");
        return FALSE;
      }
      if (g_strcmp0 (msg->case_ref, sig->case_ref) != 0) {
        g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_FORBIDDEN, "this connection is joined to another case");
        return FALSE;
      }
      return room_admit (room, sig->participant, error);
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

static void
signaling_receive (gpointer session, const gchar *data, gsize len)
{
  Signaling *sig = session;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *id = NULL;
  g_autoptr (ProtocolMessage) msg = protocol_parse (data, len, &id, &error);
  if (!msg || !signaling_dispatch (sig, msg, &error))
    reply_gerror (sig, error, id);
}

/* http.c refuses a frame (too large, binary, over the rate) or the socket (no join in time,
 * too many from one address) */
static void
signaling_refuse (gpointer session, gint code, const gchar *message)
{
  reply_error (session, code, message, NULL);
}

static gboolean
signaling_joined (gpointer session)
{
  Signaling *sig = session;
  return sig->participant != NULL;
}

static void
signaling_free (gpointer session)
{
  Signaling *sig = session;
  if (sig->participant) {
    Room *room = signaling_room (sig);
    if (room)
      room_leave (room, sig->participant);
  }
  open_conns = g_list_remove (open_conns, sig);
  g_free (sig->case_ref);
  g_free (sig->session_token);
  g_free (sig->username);
  g_free (sig->invite_token);
  g_free (sig);
}

const HttpWebSocket signaling_websocket = {
  "/ws", WS_MAX_MESSAGE, signaling_new, signaling_receive, signaling_refuse, signaling_joined, signaling_free,
};

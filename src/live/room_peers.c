/* room_peers.c — what a live inspection says to its participants and hears from their peers:
 * the protocol messages (state, participants, errors, SDP, candidates), reachability (the
 * selected pair, media that never came: reach.c), the applicant's link quality, the peers'
 * events of webrtcbin, and the reviewers' viewer connections. Never starts or ends a
 * recording segment (room_recording.c) nor changes membership except through room_remove. */
#include "live/room_private.h"
#include "review/audit.h"
#include "core/errors.h"

/* ---- messages ---------------------------------------------------------------------- */

void
room_send_builder (Participant *p, JsonBuilder *b)
{
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *text = json_to_string (root, FALSE);
  if (p->transport)
    p->transport->send (p->transport_data, text);
}

JsonBuilder *
room_message_begin (const gchar *type)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  return b;
}

void
room_send_error (Participant *p, gint code, const gchar *message)
{
  if (p->transport && p->transport->error) {
    p->transport->error (p->transport_data, code, message);
    return;
  }
  g_autoptr (JsonBuilder) b = room_message_begin ("error");
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, kanyan_error_code (code));
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  room_send_builder (p, b);
}

static void
send_sdp (Participant *p, const gchar *type, const gchar *sdp)
{
  if (p->transport && p->transport->answer && g_strcmp0 (type, "answer") == 0) {
    p->transport->answer (p->transport_data, sdp);
    return;
  }
  g_autoptr (JsonBuilder) b = room_message_begin (type);
  if (p->pc) {
    json_builder_set_member_name (b, "pc");
    json_builder_add_string_value (b, p->pc);
  }
  json_builder_set_member_name (b, "sdp");
  json_builder_add_string_value (b, sdp);
  room_send_builder (p, b);
}

const gchar *
room_applicant_state (Room *room)
{
  if (!room->applicant)
    return "absent";
  if (room->waiting_since)
    return "waiting";
  return room->media_flowing ? "live" : room->media_lost ? "reconnecting" : "connecting";
}

void
room_broadcast_state (Room *room)
{
  for (guint i = 0; i < room->participants->len; i++) {
    Participant *p = g_ptr_array_index (room->participants, i);
    if (p->role != ROLE_REVIEWER)
      continue;
    g_autoptr (JsonBuilder) b = room_message_begin ("state");
    room_add_state_fields (b, room);
    room_send_builder (p, b);
  }
}

/* ---- reachability (reach.c): the pair selected, media that never came ------------------ */

static void
send_text (Participant *to, const gchar *text)
{
  if (to->transport)
    to->transport->send (to->transport_data, text);
}

void
room_send_ice_pair (Participant *to, Participant *about)
{
  g_autofree gchar *text = room_reach_pair_message (about->id, room_role_names[about->role], about->ice_local,
                                                    about->ice_remote);
  send_text (to, text);
}

void
room_send_reach (Participant *to, Room *room)
{
  g_autofree gchar *text = room_reach_message (room->reach, room->applicant ? room->applicant->id : "");
  send_text (to, text);
}

/* main loop: the applicant has been connected on signaling, yet no media came: everyone (the
 * applicant's page too, unless it is between two reconnects) is told, with the kinds of
 * candidates each side offered */
void
room_on_reach_stalled (gpointer owner)
{
  Room *room = owner;
  if (room->media_flowing) {
    room_reach_stop (room->reach);
    return;
  }
  g_autofree gchar *theirs = room_reach_applicant_text (room->reach);
  g_autofree gchar *ours = room_reach_server_text (room->reach);
  g_warning ("case %s: the applicant is connected on signaling but no media came in %d s (applicant offered %s;"
             " server %s)", room->case_ref, REACH_MEDIA_WAIT_S, theirs, ours);
  g_autofree gchar *session_text = g_strdup_printf ("%" G_GINT64_FORMAT, room->session_id);
  audit_note (room->app->db, "server", "reach.no_media", room->case_ref, "session", session_text,
              "applicant_candidates", theirs, "server_candidates", ours, NULL);
  for (guint i = 0; i < room->participants->len; i++)
    room_send_reach (g_ptr_array_index (room->participants, i), room);
}

/* the same list goes to everyone: built once, so a join costs O(n), not O(n²). A reviewer is
 * named by its account; the applicant by the case's applicant name (what its connection said,
 * "" or "WHIP", only when the case has none) — the audit log keeps what the connection said */
void
room_broadcast_participants (Room *room)
{
  g_autoptr (JsonBuilder) b = room_message_begin ("participants");
  json_builder_set_member_name (b, "participants");
  json_builder_begin_array (b);
  for (guint j = 0; j < room->participants->len; j++) {
    Participant *p = g_ptr_array_index (room->participants, j);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "peer");
    json_builder_add_string_value (b, p->id);
    json_builder_set_member_name (b, "role");
    json_builder_add_string_value (b, room_role_names[p->role]);
    json_builder_set_member_name (b, "name");
    gboolean case_name = p->role == ROLE_APPLICANT && room->applicant_name && *room->applicant_name;
    json_builder_add_string_value (b, case_name ? room->applicant_name : p->name);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *text = json_to_string (root, FALSE);
  for (guint i = 0; i < room->participants->len; i++) {
    Participant *to = g_ptr_array_index (room->participants, i);
    if (to->transport)
      to->transport->send (to->transport_data, text);
  }
}

/* ---- the applicant's link quality ------------------------------------------------------ */

/* main loop: reviewers see the applicant's link, as the server receives it:
 * {"type":"link","who":"applicant","kbps":N,"loss_pct":N,"rtt_ms":N|null,"quality":"good"|"poor"|"bad"} */
void
room_on_applicant_link (gpointer owner, const LinkQuality *q)
{
  Room *room = owner;
  if (!room->applicant)
    return;
  g_autoptr (JsonBuilder) b = room_message_begin ("link");
  json_builder_set_member_name (b, "who");
  json_builder_add_string_value (b, "applicant");
  json_builder_set_member_name (b, "kbps");
  json_builder_add_int_value (b, (gint64) (q->kbps + 0.5));
  json_builder_set_member_name (b, "loss_pct");
  json_builder_add_double_value (b, (gint64) (q->loss_pct * 10 + 0.5) / 10.0);
  json_builder_set_member_name (b, "rtt_ms");
  if (q->rtt_ms >= 0)
    json_builder_add_int_value (b, q->rtt_ms);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "quality");
  json_builder_add_string_value (b, q->quality);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *json = json_to_string (root, FALSE);
  room_broadcast (room, json, TRUE);
}

/* main loop, every second */
gboolean
room_on_link_timer (gpointer data)
{
  Room *room = data;
  if (room->applicant && room->applicant->peer)
    link_stats_sample (room->applicant_link, room->applicant->peer->webrtcbin);
  return G_SOURCE_CONTINUE;
}

/* ---- peers' events (main loop) ------------------------------------------------------- */

static void
on_local_description (gpointer owner, WebrtcPeer *peer, const gchar *sdp)
{
  Participant *p = owner;
  g_debug ("case %s: %s for %s:\n%s", p->room->case_ref, p->role == ROLE_APPLICANT ? "answer" : "offer", p->id, sdp);
  if (p->role == ROLE_WATCHER) {   /* its answer is set: the tees may feed it (answer sent when gathered) */
    if (p->viewer)
      relay_watcher_answered (p->room->relay, p->viewer, sdp);
  } else if (p->role == ROLE_APPLICANT) {
    if (!p->whip)
      send_sdp (p, "answer", sdp);
  } else {
    send_sdp (p, "offer", sdp);
  }
}

static void
on_ice_candidate (gpointer owner, WebrtcPeer *peer, guint mline, const gchar *candidate)
{
  Participant *p = owner;
  if (p->role == ROLE_APPLICANT && p == p->room->applicant)
    room_reach_server_candidate (p->room->reach, candidate);
  if (p->whip)
    return;
  g_autoptr (JsonBuilder) b = room_message_begin ("ice");
  if (p->pc) {
    json_builder_set_member_name (b, "pc");
    json_builder_add_string_value (b, p->pc);
  }
  json_builder_set_member_name (b, "candidate");
  json_builder_add_string_value (b, candidate);
  json_builder_set_member_name (b, "sdpMLineIndex");
  json_builder_add_int_value (b, mline);
  room_send_builder (p, b);
}

static void
on_gathering_done (gpointer owner, WebrtcPeer *peer)
{
  Participant *p = owner;
  if (!p->whip)
    return;
  g_autofree gchar *sdp = webrtc_peer_local_sdp (peer);
  if (sdp)
    send_sdp (p, "answer", sdp);
}

static void
on_connection_state (gpointer owner, WebrtcPeer *peer, GstWebRTCPeerConnectionState state)
{
  Participant *p = owner;
  Room *room = p->room;
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED && p->viewer)
    relay_viewer_connected (room->relay, p->viewer);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED && p->whip && p->answer_timeout) {
    g_source_remove (p->answer_timeout);
    p->answer_timeout = 0;
  }
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED && p->whip)
    room_remove (room, p, KANYAN_ERROR_TIMEOUT, p->role == ROLE_WATCHER ? "the WHEP viewer's connection failed"
                                                                         : "the WHIP publisher's connection failed");
}

static void
on_peer_failed (gpointer owner, WebrtcPeer *peer, const gchar *message)
{
  Participant *p = owner;
  g_warning ("case %s: %s: negotiation failed: %s", p->room->case_ref, p->id, message);
  room_send_error (p, KANYAN_ERROR_BAD_SDP, message);
  if (p->whip)   /* nobody can retry on this WHIP resource: let its webrtcbin go */
    room_remove (p->room, p, KANYAN_ERROR_BAD_SDP, message);
}

/* the candidate pair this participant's connection selected: recorded with the session and
 * audited; reviewers see the applicant's and their own */
static void
on_selected_pair (gpointer owner, WebrtcPeer *peer, const WebrtcPeerPair *pair)
{
  Participant *p = owner;
  Room *room = p->room;
  g_free (p->ice_local);
  g_free (p->ice_remote);
  p->ice_local = webrtc_peer_candidate_label (&pair->local);
  p->ice_remote = webrtc_peer_candidate_label (&pair->remote);
  g_info ("case %s: %s connected over %s (%s) <-> %s (%s)", room->case_ref, p->id, p->ice_local,
          pair->local.address ? pair->local.address : "?", p->ice_remote, pair->remote.address ? pair->remote.address : "?");
  store_participant_set_ice (room->app->db, p->db_id, p->ice_local, p->ice_remote);
  g_autofree gchar *actor = g_strdup_printf ("%s:%s", room_role_names[p->role], p->id);
  g_autofree gchar *session_text = g_strdup_printf ("%" G_GINT64_FORMAT, room->session_id);
  audit_note (room->app->db, actor, "participant.connected", room->case_ref, "session", session_text,
              "server", p->ice_local, "peer", p->ice_remote, NULL);
  for (guint i = 0; i < room->participants->len; i++) {
    Participant *r = g_ptr_array_index (room->participants, i);
    if (r->role == ROLE_REVIEWER && (p->role == ROLE_APPLICANT || r == p))
      room_send_ice_pair (r, p);
  }
}

const WebrtcPeerEvents room_peer_events = {
  on_local_description, on_ice_candidate, on_gathering_done, on_connection_state, on_peer_failed, on_selected_pair,
};

/* ---- viewers ------------------------------------------------------------------------- */

gboolean
room_on_answer_timeout (gpointer data)
{
  Participant *p = data;
  p->answer_timeout = 0;
  room_remove (p->room, p, KANYAN_ERROR_TIMEOUT, p->role == ROLE_WATCHER ? "the WHEP viewer did not connect in time"
                                                 : p->whip ? "the WHIP publisher did not connect in time"
                                                           : "no answer to the offer in time");
  return G_SOURCE_REMOVE;
}

void
room_viewer_drop (Participant *p)
{
  if (p->answer_timeout) {
    g_source_remove (p->answer_timeout);
    p->answer_timeout = 0;
  }
  if (p->viewer) {
    relay_viewer_remove (p->room->relay, p->viewer);
    p->viewer = NULL;
  }
}

/* Offer the applicant's media to a reviewer on a new peer connection. */
void
room_viewer_offer (Room *room, Participant *p)
{
  room_viewer_drop (p);
  g_free (p->pc);
  p->pc = g_strdup_printf ("%s.%u", p->id, ++p->pc_serial);
  g_autoptr (GError) error = NULL;
  p->viewer = relay_viewer_add (room->relay, p->id, &room_peer_events, p, &error);
  if (!p->viewer) {
    room_send_error (p, KANYAN_ERROR_INTERNAL, error->message);
    return;
  }
  p->answer_timeout = g_timeout_add_seconds (room->app->config->viewer_answer_timeout_s, room_on_answer_timeout, p);
}

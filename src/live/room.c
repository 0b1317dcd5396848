/* room.c — a live inspection's membership: opening and closing rooms, joins and leaves, the
 * applicant's offers, reviewers' answers and candidates handed to the relay, the challenge
 * code, evidence stills, the end of an inspection and the session that follows a notice.
 * Owns the Relay; its peers' events and messages live in room_peers.c, its recording
 * segments in room_recording.c (room_private.h). Knows transports only through
 * ParticipantTransport. */
#include "live/room_private.h"
#include "media/ice_servers.h"
#include "media/still.h"
#include "review/audit.h"
#include "core/errors.h"
#include "review/workflow.h"
#include <sodium.h>

struct _RoomStill {
  Room          *room;
  StillCapture  *capture;
  RoomStillDone  done;
  gpointer       data;
};

const gchar *room_role_names[] = { "applicant", "reviewer", "watcher" };

/* ---- membership ---------------------------------------------------------------------- */

/* The audit entries a live inspection (a session) opens and ends with: webhooks send them as
 * inspection.started / inspection.ended. why: NULL, or what ended it. */
static void
room_note_inspection (Room *room, const gchar *action, gint64 session_id, const gchar *why)
{
  g_autofree gchar *session = g_strdup_printf ("%" G_GINT64_FORMAT, session_id);
  audit_note (room->app->db, "server", action, room->case_ref, "session", session, why ? "reason" : NULL, why, NULL);
}

#define ROOM_REVOCATION_CHECK_S 5
static gboolean on_revocation_check (gpointer data);

Room *
room_new (KanyanApp *app, const CaseRow *row, GError **error)
{
  g_autofree gchar *name = g_strdup_printf ("case-%s", row->ref);
  Relay *relay = relay_new (app->config, name, error);
  if (!relay)
    return NULL;
  gint64 session_id = store_session_open (app->db, row->id, error);
  if (!session_id) {
    relay_free (relay);
    return NULL;
  }
  Room *room = g_new0 (Room, 1);
  room->app = app;
  room->case_ref = g_strdup (row->ref);
  room->case_id = row->id;
  room->session_id = session_id;
  room_note_inspection (room, "inspection.started", session_id, NULL);
  room->relay = relay;
  room->participants = g_ptr_array_new ();
  room->stills = g_ptr_array_new ();
  room->reach = room_reach_new (room_on_reach_stalled, room);
  room->finishing = g_ptr_array_new ();
  g_snprintf (room->challenge, sizeof room->challenge, "%04u", randombytes_uniform (10000));
  store_session_set_challenge (app->db, session_id, room->challenge);
  relay_set_media_notify (relay, room_on_media_flowing, room);
  relay_set_branch_notify (relay, room_on_branch_event);
  room->revocation_check = g_timeout_add_seconds (ROOM_REVOCATION_CHECK_S, on_revocation_check, room);
  room->applicant_link = link_stats_new (room_on_applicant_link, room);
  room->link_timer = g_timeout_add (1000, room_on_link_timer, room);
  g_info ("case %s: live inspection %" G_GINT64_FORMAT " opened", row->ref, session_id);
  return room;
}

static void
participant_free (Participant *p)
{
  g_free (p->id);
  g_free (p->name);
  g_free (p->pc);
  g_free (p->ice_local);
  g_free (p->ice_remote);
  g_free (p);
}

/* Take a participant out: its media, its row, and (if the room let go) its transport. */
static void
room_detach (Room *room, Participant *p, gboolean close_transport)
{
  g_ptr_array_remove (room->participants, p);
  room_viewer_drop (p);
  if (room->applicant == p) {
    room_reach_applicant_left (room->reach);
    room_waiting_end (room);
    room->applicant = NULL;
    relay_publisher_stop (room->relay);
    p->peer = NULL;
  }
  store_participant_leave (room->app->db, p->db_id);
  g_autofree gchar *actor = g_strdup_printf ("%s:%s", room_role_names[p->role], p->id);
  audit_note (room->app->db, actor, "participant.left", room->case_ref, "name", p->name, NULL);
  if (close_transport && p->transport)
    p->transport->close (p->transport_data);
  p->transport = NULL;
  participant_free (p);
}

/* main loop: nobody came back in time */
static gboolean
on_linger_over (gpointer data)
{
  Room *room = data;
  room->linger = 0;
  room->closing = TRUE;
  room_stop_recording (room);
  if (room->pending_recorders == 0)
    rooms_drop (room->app, room);
  return G_SOURCE_REMOVE;
}

/* An empty room stays open a while, so a dropped applicant rejoins the same session. */
static void
room_maybe_close (Room *room)
{
  if (room->participants->len > 0 || room->closing || room->linger)
    return;
  room->linger = g_timeout_add_seconds (MAX (room->app->config->room_linger_s, 0), on_linger_over, room);
}

void
room_remove (Room *room, Participant *p, gint error_code, const gchar *message)
{
  room_send_error (p, error_code, message);
  room_detach (room, p, TRUE);
  room_broadcast_participants (room);
  room_broadcast_state (room);
  room_maybe_close (room);
}

void
room_free (Room *room)
{
  if (room->linger)
    g_source_remove (room->linger);
  if (room->revocation_check)
    g_source_remove (room->revocation_check);
  if (room->recording_retry)
    g_source_remove (room->recording_retry);
  if (room->recording_confirm)
    g_source_remove (room->recording_confirm);
  room_reach_stop (room->reach);
  if (room->space_check)
    g_source_remove (room->space_check);
  if (room->link_timer)
    g_source_remove (room->link_timer);
  link_stats_free (room->applicant_link);
  room_camera_free (room);
  while (room->participants->len)
    room_detach (room, g_ptr_array_index (room->participants, 0), TRUE);
  if (room->recorder)
    room_stop_recording (room);   /* best effort at shutdown: the file stays readable */
  while (room->stills->len) {   /* their requesters are told the inspection ended */
    RoomStill *s = g_ptr_array_steal_index (room->stills, 0);
    still_capture_cancel (s->capture);
    s->done (s->data, NULL, -1, "the live inspection ended");
    g_free (s);
  }
  g_ptr_array_unref (room->stills);
  room_forget_finishing (room);   /* their files still close; nobody to tell */
  relay_free (room->relay);
  room_reach_free (room->reach);
  room_note_inspection (room, "inspection.ended", room->session_id, NULL);
  store_session_close (room->app->db, room->session_id);
  g_ptr_array_unref (room->participants);
  g_free (room->case_ref);
  g_free (room->applicant_name);
  g_free (room);
}

/* ---- evidence stills ------------------------------------------------------------------ */

/* main loop */
static void
on_still (gpointer data, GBytes *jpeg, const gchar *message)
{
  RoomStill *s = data;
  g_ptr_array_remove (s->room->stills, s);
  s->done (s->data, jpeg, room_media_ms (s->room), message);
  g_free (s);
}

gboolean
room_capture_still (Room *room, RoomStillDone done, gpointer data, GError **error)
{
  if (!room->media_flowing) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "no video is coming from the applicant now");
    return FALSE;
  }
  RoomStill *s = g_new0 (RoomStill, 1);
  s->room = room;
  s->done = done;
  s->data = data;
  s->capture = still_capture_start (room->relay, room->app->config, on_still, s, error);
  if (!s->capture) {
    g_free (s);
    return FALSE;
  }
  g_ptr_array_add (room->stills, s);
  return TRUE;
}

const gchar *room_case_ref (Room *room) { return room->case_ref; }
const gchar *room_challenge (Room *room) { return room->challenge; }

const gchar *
room_recording_stopped (Room *room, gint64 *since_ms)
{
  if (since_ms)
    *since_ms = room->recording_stopped_at;
  return room->recording_stopped;
}

gint64
room_media_ms (Room *room)
{
  return room->first_media_ms ? db_now_ms () - room->first_media_ms : -1;
}

void
room_broadcast (Room *room, const gchar *json, gboolean reviewers_only)
{
  for (guint i = 0; i < room->participants->len; i++) {
    Participant *p = g_ptr_array_index (room->participants, i);
    if (!reviewers_only || p->role == ROLE_REVIEWER)
      p->transport->send (p->transport_data, json);
  }
}
gboolean
room_send_applicant (Room *room, const gchar *json)
{
  if (!room->applicant || room->applicant->whip)
    return FALSE;
  room->applicant->transport->send (room->applicant->transport_data, json);
  return TRUE;
}

gint64 room_session_id (Room *room) { return room->session_id; }
gboolean room_is_live (Room *room) { return room->media_flowing; }
guint room_participant_count (Room *room) { return room->participants->len; }
const gchar *participant_id (Participant *p) { return p->id; }
ParticipantRole participant_role (Participant *p) { return p->role; }

/* wait: an applicant's page that asked to wait (room_waiting.c) */
static Participant *
room_join_full (Room *room, ParticipantRole role, const gchar *name, gboolean whip, gboolean wait,
                const ParticipantTransport *transport, gpointer transport_data)
{
  if (room->linger) {
    g_source_remove (room->linger);
    room->linger = 0;
  }
  room->closing = FALSE;
  Participant *p = g_new0 (Participant, 1);
  p->room = room;
  p->id = g_strdup_printf ("p%u", ++room->app->next_peer_id);
  p->role = role;
  p->name = g_strdup (name ? name : "");
  p->whip = whip;
  p->transport = transport;
  p->transport_data = transport_data;
  Participant *replaced = role == ROLE_APPLICANT ? room->applicant : NULL;
  gint64 waited_since = room->waiting_since;   /* a reloaded waiting page keeps its place */
  g_ptr_array_add (room->participants, p);   /* first, so the room never looks empty */
  if (replaced)   /* a reloaded page or a new WHIP publish takes over */
    room_remove (room, replaced, KANYAN_ERROR_REPLACED, "a newer applicant connection took over");
  gboolean waits = role == ROLE_APPLICANT && wait && room_waiting_applies (room);
  if (role == ROLE_APPLICANT) {
    room->applicant = p;
    g_autoptr (CaseRow) row = store_case_get (room->app->db, room->case_ref, NULL);
    if (waits)   /* the case becomes "inspecting" when a reviewer admits it */
      room_waiting_begin (room, waited_since);
    else if (row)   /* the case is being inspected (again) */
      workflow_note (room->app->db, "server", row, CASE_EVENT_LIVE);
    g_free (room->applicant_name);   /* who the reviewers see in `participants` (room_peers.c) */
    room->applicant_name = g_strdup (row && row->applicant_name ? row->applicant_name : "");
  }
  p->db_id = store_participant_join (room->app->db, room->session_id, p->id, room_role_names[role], p->name);
  g_autofree gchar *actor = g_strdup_printf ("%s:%s", room_role_names[role], p->id);
  g_autofree gchar *session_text = g_strdup_printf ("%" G_GINT64_FORMAT, room->session_id);
  audit_note (room->app->db, actor, "participant.joined", room->case_ref, "name", p->name,
              "session", session_text, "via", role == ROLE_WATCHER ? "whep" : whip ? "whip" : "websocket", NULL);
  g_autoptr (JsonBuilder) b = room_message_begin ("joined");
  json_builder_set_member_name (b, "case");
  json_builder_add_string_value (b, room->case_ref);
  json_builder_set_member_name (b, "session");
  json_builder_add_int_value (b, room->session_id);
  json_builder_set_member_name (b, "peer");
  json_builder_add_string_value (b, p->id);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, room_role_names[role]);
  json_builder_set_member_name (b, "challenge");
  json_builder_add_string_value (b, room->challenge);
  /* [ice]: this peer's STUN/TURN servers; a TURN credential lives turn_ttl_s, a rejoin gets
   * a new one (docs/protocol.md, docs/deploy.md) */
  g_autofree gchar *ice_label = g_strdup_printf ("%s.%s", room->case_ref, p->id);
  g_strdelimit (ice_label, ":", '-');   /* the TURN username's own separator */
  json_builder_set_member_name (b, "iceServers");
  json_builder_add_value (b, ice_servers_for (room->app->config, ice_label, g_get_real_time () / G_USEC_PER_SEC));
  if (role == ROLE_APPLICANT) {   /* under this estimate of its uplink, the page sends sound first */
    json_builder_set_member_name (b, "audio_first_kbps");
    json_builder_add_int_value (b, room->app->config->audio_first_kbps);
    /* the waiting room: the page sends its offer only once `admitted` comes */
    json_builder_set_member_name (b, "waiting");
    json_builder_add_boolean_value (b, waits);
    if (waits) {
      gint64 slot = room_booked_slot_at (room);
      json_builder_set_member_name (b, "slot_at");
      if (slot)
        json_builder_add_int_value (b, slot);
      else
        json_builder_add_null_value (b);
    }
  }
  room_send_builder (p, b);
  room_broadcast_participants (room);
  if (waits)   /* reviewers there see it waiting */
    room_broadcast_state (room);
  if (role == ROLE_REVIEWER) {
    g_autoptr (JsonBuilder) s = room_message_begin ("state");
    room_add_state_fields (s, room);
    room_send_builder (p, s);
    if (room->recording_stopped)
      room_send_recording_state (p, room);
    if (room->audio_first)
      room_send_link_mode (p, room);
    room_camera_greet (room, p);
    if (room->applicant && room->applicant->ice_local)
      room_send_ice_pair (p, room->applicant);
    if (room_reach_stalled (room->reach))
      room_send_reach (p, room);
    if (room->applicant && relay_has_publisher_codecs (room->relay))
      room_viewer_offer (room, p);
  }
  return p;
}

Participant *
room_join (Room *room, ParticipantRole role, const gchar *name, gboolean whip,
           const ParticipantTransport *transport, gpointer transport_data)
{
  return room_join_full (room, role, name, whip, FALSE, transport, transport_data);
}

Participant *
room_join_waiting (Room *room, const gchar *name, const ParticipantTransport *transport, gpointer transport_data)
{
  return room_join_full (room, ROLE_APPLICANT, name, FALSE, TRUE, transport, transport_data);
}

void
room_leave (Room *room, Participant *p)
{
  room_detach (room, p, FALSE);
  room_broadcast_participants (room);
  room_broadcast_state (room);
  room_maybe_close (room);
}

gboolean
room_applicant_link_mode (Room *room, Participant *p, const gchar *mode, GError **error)
{
  if (p->role != ROLE_APPLICANT) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_WRONG_ROLE, "only the applicant's page reports its link");
    return FALSE;
  }
  gboolean audio_first = g_strcmp0 (mode, "audio_first") == 0;
  if (audio_first == room->audio_first)
    return TRUE;
  room->audio_first = audio_first;
  g_autofree gchar *session_text = g_strdup_printf ("%" G_GINT64_FORMAT, room->session_id);
  audit_note (room->app->db, "applicant", audio_first ? "link.audio_first" : "link.full", room->case_ref,
              "session", session_text, NULL);
  for (guint i = 0; i < room->participants->len; i++) {
    Participant *r = g_ptr_array_index (room->participants, i);
    if (r->role == ROLE_REVIEWER)
      room_send_link_mode (r, room);
  }
  return TRUE;
}

void
room_send_link_mode (Participant *p, Room *room)
{
  g_autoptr (JsonBuilder) b = room_message_begin ("link_mode");
  json_builder_set_member_name (b, "mode");
  json_builder_add_string_value (b, room->audio_first ? "audio_first" : "full");
  room_send_builder (p, b);
}

gboolean
room_applicant_offer (Room *room, Participant *p, const gchar *sdp, gsize len, GError **error)
{
  if (p->role != ROLE_APPLICANT) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_WRONG_ROLE, "only the applicant sends offers");
    return FALSE;
  }
  if (p == room->applicant && room->waiting_since) {   /* the waiting room: no media before admission */
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_ADMITTED, "a reviewer has not admitted the applicant yet");
    return FALSE;
  }
  g_autoptr (OfferAnalysis) offer = sdp_offer_analyze (sdp, len, error);
  if (!offer)
    return FALSE;
  gboolean codecs_changed = FALSE;
  p->peer = relay_publisher_start (room->relay, offer, &room_peer_events, p, &codecs_changed, error);
  if (!p->peer)
    return FALSE;
  /* a new connection: the kinds of candidates each side offers, and REACH_MEDIA_WAIT_S for media */
  if (room_reach_offer (room->reach, sdp, len, room->media_flowing))
    room_send_reach (p, room);   /* its reconnect after the `reach` message: the page keeps the advice */
  if (p->whip && !p->answer_timeout)   /* an abandoned WHIP offer holds a webrtcbin: not forever */
    p->answer_timeout = g_timeout_add_seconds (MAX (room->app->config->publisher_connect_timeout_s, 1),
                                               room_on_answer_timeout, p);
  /* reviewers without a connection, or whose codecs changed, get a fresh offer */
  for (guint i = 0; i < room->participants->len; i++) {
    Participant *r = g_ptr_array_index (room->participants, i);
    if (r->role == ROLE_REVIEWER && (!r->viewer || codecs_changed))
      room_viewer_offer (room, r);
  }
  room_broadcast_state (room);
  return TRUE;
}

gboolean
room_watcher_offer (Room *room, Participant *p, const gchar *sdp, gsize len, GError **error)
{
  if (p->role != ROLE_WATCHER) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_WRONG_ROLE, "only a WHEP watcher offers to receive");
    return FALSE;
  }
  GstSDPMessage *msg = NULL;
  gst_sdp_message_new (&msg);
  if (!sdp || len == 0 || len > SDP_MAX_BYTES ||
      gst_sdp_message_parse_buffer ((const guint8 *) sdp, len, msg) != GST_SDP_OK ||
      gst_sdp_message_medias_len (msg) == 0) {
    gst_sdp_message_free (msg);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_SDP, "the offer cannot be read as SDP with media");
    return FALSE;
  }
  gboolean video = FALSE;
  for (guint i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (msg, i);
    if (g_strcmp0 (gst_sdp_media_get_media (m), "video") == 0 && !gst_sdp_media_get_attribute_val (m, "sendonly") &&
        !gst_sdp_media_get_attribute_val (m, "inactive"))
      video = TRUE;
  }
  if (!video) {
    gst_sdp_message_free (msg);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_SDP, "the offer must receive video (a recvonly video m-line)");
    return FALSE;
  }
  p->viewer = relay_watcher_add (room->relay, p->id, msg, &room_peer_events, p, error);   /* takes msg */
  if (!p->viewer)
    return FALSE;
  p->answer_timeout = g_timeout_add_seconds (MAX (room->app->config->publisher_connect_timeout_s, 1),
                                             room_on_answer_timeout, p);
  return TRUE;
}

gboolean
room_reviewer_answer (Room *room, Participant *p, const gchar *pc, const gchar *sdp, GError **error)
{
  if (p->role != ROLE_REVIEWER) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_WRONG_ROLE, "only reviewers answer the server's offers");
    return FALSE;
  }
  if (!p->viewer || g_strcmp0 (pc, p->pc) != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'%s' is not the current peer connection", pc);
    return FALSE;
  }
  GstSDPMessage *msg = NULL;
  gst_sdp_message_new (&msg);
  if (!sdp || strlen (sdp) > SDP_MAX_BYTES ||
      gst_sdp_message_parse_buffer ((const guint8 *) sdp, strlen (sdp), msg) != GST_SDP_OK ||
      gst_sdp_message_medias_len (msg) == 0) {
    gst_sdp_message_free (msg);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_SDP, "the answer cannot be read");
    return FALSE;
  }
  if (p->answer_timeout) {
    g_source_remove (p->answer_timeout);
    p->answer_timeout = 0;
  }
  webrtc_peer_set_remote (relay_viewer_peer (p->viewer), GST_WEBRTC_SDP_TYPE_ANSWER, msg);
  relay_viewer_answered (room->relay, p->viewer);
  return TRUE;
}

gboolean
room_add_ice (Room *room, Participant *p, const gchar *pc, guint mline, const gchar *candidate, GError **error)
{
  WebrtcPeer *peer = NULL;
  if (p->role == ROLE_APPLICANT)
    peer = p->peer;
  else if (p->viewer && g_strcmp0 (pc, p->pc) == 0)
    peer = relay_viewer_peer (p->viewer);
  if (!peer) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "no peer connection for this candidate");
    return FALSE;
  }
  if (mline > 16 || strlen (candidate) > 1024) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "the candidate is out of range");
    return FALSE;
  }
  if (p->role == ROLE_APPLICANT)
    room_reach_applicant_candidate (room->reach, candidate);
  webrtc_peer_add_ice (peer, mline, candidate);
  return TRUE;
}

void
room_shutdown (Room *room)
{
  room_stop_recording (room);
}

gboolean
room_busy (Room *room)
{
  return room->pending_recorders > 0;
}

/* ---- the end of a live inspection, and what follows a notice ----------------------------- */

static void
send_bye (Participant *p, const gchar *reason)
{
  g_autoptr (JsonBuilder) b = room_message_begin ("bye");
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, reason);
  room_send_builder (p, b);
}

void
room_end (Room *room, const gchar *reason)
{
  g_info ("case %s: the live inspection ends (%s)", room->case_ref, reason);
  while (room->participants->len) {
    Participant *p = g_ptr_array_index (room->participants, 0);
    send_bye (p, reason);
    room_detach (room, p, TRUE);
  }
  if (room->linger) {
    g_source_remove (room->linger);
    room->linger = 0;
  }
  room->closing = TRUE;   /* no lingering: nobody may come back */
  room_stop_recording (room);
  if (room->pending_recorders == 0)
    rooms_drop (room->app, room);
}

void
room_end_applicant (Room *room, const gchar *reason)
{
  Participant *p = room->applicant;
  if (!p)
    return;
  g_info ("case %s: the applicant %s is let go (%s)", room->case_ref, p->id, reason);
  send_bye (p, reason);
  room_detach (room, p, TRUE);
  room_broadcast_participants (room);
  room_broadcast_state (room);
  room_maybe_close (room);
}

gboolean
room_next_session (Room *room, GError **error)
{
  gint64 id = store_session_open (room->app->db, room->case_id, error);
  if (!id)
    return FALSE;
  gint64 old = room->session_id;
  room_note_inspection (room, "inspection.ended", old, "notice");   /* its marks are the notice's */
  store_session_close (room->app->db, old);
  room->session_id = id;
  room_note_inspection (room, "inspection.started", id, NULL);
  room->segment_seq = 0;
  room->first_media_ms = 0;
  store_session_set_challenge (room->app->db, id, room->challenge);   /* the same paper stays valid */
  for (guint i = 0; i < room->participants->len; i++) {   /* everyone present is now in the new one */
    Participant *p = g_ptr_array_index (room->participants, i);
    store_participant_leave (room->app->db, p->db_id);
    p->db_id = store_participant_join (room->app->db, id, p->id, room_role_names[p->role], p->name);
  }
  if (room->recorder)   /* the old session's segment ends with it; the new session records its own */
    room_start_recording (room);
  g_autofree gchar *old_text = g_strdup_printf ("%" G_GINT64_FORMAT, old);
  g_autofree gchar *new_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  audit_note (room->app->db, "server", "session.continued", room->case_ref, "after", old_text, "session", new_text,
              NULL);
  for (guint i = 0; i < room->participants->len; i++) {
    Participant *p = g_ptr_array_index (room->participants, i);
    g_autoptr (JsonBuilder) b = room_message_begin ("session");
    json_builder_set_member_name (b, "session");
    json_builder_add_int_value (b, id);
    json_builder_set_member_name (b, "challenge");
    json_builder_add_string_value (b, room->challenge);
    room_send_builder (p, b);
  }
  g_info ("case %s: live inspection %" G_GINT64_FORMAT " follows %" G_GINT64_FORMAT " (a notice froze its marks)",
          room->case_ref, id, old);
  return TRUE;
}

/* main loop, every ROOM_REVOCATION_CHECK_S: a case closed, or its invites revoked or expired,
 * by another process (`kanyan case revoke`) or by the clock, ends the applicant here too —
 * a WHIP publisher as well as a WebSocket (signaling.c checks each socket's own token) */
static gboolean
on_revocation_check (gpointer data)
{
  Room *room = data;
  g_autoptr (CaseRow) row = store_case_get (room->app->db, room->case_ref, NULL);
  if (row && workflow_status_is_closed (row->status)) {
    room->revocation_check = 0;   /* room_end may free the room */
    room_end (room, "case_closed");
    return G_SOURCE_REMOVE;
  }
  if (row && room->applicant && !store_invite_any_live (room->app->db, row->id))
    room_end_applicant (room, "invite_revoked");
  return G_SOURCE_CONTINUE;
}


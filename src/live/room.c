/* room.c — a live inspection's membership and signaling: turns joins, offers, answers and
 * candidates into relay calls, and relay events into protocol messages; starts a recording
 * segment whenever the applicant's media starts flowing and ends it when the applicant goes.
 * Owns the Relay and the Recorder; knows transports only through ParticipantTransport. */
#include "live/room.h"
#include "media/ice_servers.h"
#include "live/reach.h"
#include "media/relay.h"
#include "media/recorder.h"
#include "media/still.h"
#include "media/link_stats.h"
#include "archive/recordings.h"
#include "review/audit.h"
#include "core/errors.h"
#include "review/workflow.h"
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <sys/statvfs.h>

struct _Participant {
  Room           *room;
  gchar          *id;
  ParticipantRole role;
  gchar          *name;
  gboolean        whip;
  const ParticipantTransport *transport;
  gpointer        transport_data;
  gint64          db_id;
  WebrtcPeer     *peer;          /* applicant: the publisher peer (owned by the relay) */
  RelayViewer    *viewer;        /* reviewer: its viewer (owned by the relay) */
  gchar          *pc;            /* reviewer: id of the current peer connection */
  guint           pc_serial;
  guint           answer_timeout; /* reviewer: its answer; WHIP applicant: its ICE connection */
  gchar          *ice_local;     /* the selected candidate pair ("host/udp"…), once connected */
  gchar          *ice_remote;
};

struct _Room {
  KanyanApp  *app;
  gchar      *case_ref;
  gint64      case_id;
  gint64      session_id;
  Relay      *relay;
  GPtrArray  *participants;      /* of Participant* */
  Participant *applicant;
  gboolean    media_flowing;
  gboolean    media_lost;        /* the applicant's media stopped while it was there: "reconnecting" */
  Recorder   *recorder;
  gint64      recording_id;
  gint        segment_seq;
  guint       pending_recorders; /* segments still finishing */
  GPtrArray  *finishing;         /* of SegmentDone*: those segments (room_free lets go of them) */
  guint       linger;            /* empty: waiting for someone to come back */
  gboolean    closing;
  GPtrArray  *stills;            /* of RoomStill*: captures in progress */
  gchar       challenge[5];      /* 4 random digits the applicant shows on paper (on-site proof) */
  gint64      first_media_ms;    /* wall clock when the session's first segment began; 0 before */
  guint       revocation_check;  /* what another process or the clock revoked (room_end, below) */
  gint64      segment_started_us;/* monotonic: when the current segment began */
  const gchar *recording_stopped;/* why recording stopped on a write failure ("disk_full"…); NULL: fine */
  gint64      recording_stopped_at;  /* ms, when it did */
  guint       recording_retry;   /* timer: start a segment again (after a write failure or a fast restart) */
  guint       space_check;       /* timer: the recordings volume's free space against the floor */
  guint       recording_confirm; /* timer: a resumed segment has run long enough to call it resumed */
  guint       retry_delay_s;     /* the back-off, doubled on each failure */
  RoomReach  *reach;             /* candidate kinds offered, no media REACH_MEDIA_WAIT_S after an offer */
  LinkStats  *applicant_link;    /* the applicant's link quality, sampled every second */
  guint       link_timer;
};

struct _RoomStill {
  Room          *room;
  StillCapture  *capture;
  RoomStillDone  done;
  gpointer       data;
};

static const gchar *role_names[] = { "applicant", "reviewer" };

/* ---- messages ---------------------------------------------------------------------- */

static void
send_builder (Participant *p, JsonBuilder *b)
{
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *text = json_to_string (root, FALSE);
  if (p->transport)
    p->transport->send (p->transport_data, text);
}

static JsonBuilder *
message_begin (const gchar *type)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  return b;
}

static void
send_error (Participant *p, gint code, const gchar *message)
{
  if (p->transport && p->transport->error) {
    p->transport->error (p->transport_data, code, message);
    return;
  }
  g_autoptr (JsonBuilder) b = message_begin ("error");
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, kanyan_error_code (code));
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  send_builder (p, b);
}

static void
send_sdp (Participant *p, const gchar *type, const gchar *sdp)
{
  if (p->transport && p->transport->answer && g_strcmp0 (type, "answer") == 0) {
    p->transport->answer (p->transport_data, sdp);
    return;
  }
  g_autoptr (JsonBuilder) b = message_begin (type);
  if (p->pc) {
    json_builder_set_member_name (b, "pc");
    json_builder_add_string_value (b, p->pc);
  }
  json_builder_set_member_name (b, "sdp");
  json_builder_add_string_value (b, sdp);
  send_builder (p, b);
}

static const gchar *
room_applicant_state (Room *room)
{
  if (!room->applicant)
    return "absent";
  return room->media_flowing ? "live" : room->media_lost ? "reconnecting" : "connecting";
}

static void
broadcast_state (Room *room)
{
  for (guint i = 0; i < room->participants->len; i++) {
    Participant *p = g_ptr_array_index (room->participants, i);
    if (p->role != ROLE_REVIEWER)
      continue;
    g_autoptr (JsonBuilder) b = message_begin ("state");
    json_builder_set_member_name (b, "applicant");
    json_builder_add_string_value (b, room_applicant_state (room));
    send_builder (p, b);
  }
}

/* ---- reachability (reach.c): the pair selected, media that never came ------------------ */

static void
send_text (Participant *to, const gchar *text)
{
  if (to->transport)
    to->transport->send (to->transport_data, text);
}

static void
send_ice_pair (Participant *to, Participant *about)
{
  g_autofree gchar *text = room_reach_pair_message (about->id, role_names[about->role], about->ice_local,
                                                    about->ice_remote);
  send_text (to, text);
}

static void
send_reach (Participant *to, Room *room)
{
  g_autofree gchar *text = room_reach_message (room->reach, room->applicant ? room->applicant->id : "");
  send_text (to, text);
}

/* main loop: the applicant is connected on signaling, yet no media came: everyone (the
 * applicant's page too) is told, with the kinds of candidates each side offered */
static void
on_reach_stalled (gpointer owner)
{
  Room *room = owner;
  if (room->media_flowing || !room->applicant) {
    room_reach_stop (room->reach);
    return;
  }
  g_autofree gchar *theirs = room_reach_applicant_text (room->reach);
  g_autofree gchar *ours = room_reach_server_text (room->reach);
  g_warning ("case %s: the applicant %s is connected on signaling but no media came in %d s (applicant offered %s;"
             " server %s)", room->case_ref, room->applicant->id, REACH_MEDIA_WAIT_S, theirs, ours);
  g_autofree gchar *session_text = g_strdup_printf ("%" G_GINT64_FORMAT, room->session_id);
  audit_note (room->app->db, "server", "reach.no_media", room->case_ref, "session", session_text,
              "applicant_candidates", theirs, "server_candidates", ours, NULL);
  for (guint i = 0; i < room->participants->len; i++)
    send_reach (g_ptr_array_index (room->participants, i), room);
}

/* the same list goes to everyone: built once, so a join costs O(n), not O(n²) */
static void
broadcast_participants (Room *room)
{
  g_autoptr (JsonBuilder) b = message_begin ("participants");
  json_builder_set_member_name (b, "participants");
  json_builder_begin_array (b);
  for (guint j = 0; j < room->participants->len; j++) {
    Participant *p = g_ptr_array_index (room->participants, j);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "peer");
    json_builder_add_string_value (b, p->id);
    json_builder_set_member_name (b, "role");
    json_builder_add_string_value (b, role_names[p->role]);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, p->name);
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

/* ---- recording ----------------------------------------------------------------------- */

#define RECORDING_RETRY_MIN_S    2
#define RECORDING_RETRY_MAX_S    60
#define RECORDING_CONFIRM_S      5          /* a resumed segment that runs this long is a resumption */
#define RECORDING_MIN_LIFE_US    (10 * G_USEC_PER_SEC)   /* a restart sooner than this waits */
#define RECORDING_SPACE_CHECK_S  5          /* how often a recording looks at the volume's free space */

/* main loop: segments of this session whose archiving failed (no room for the archive) get
 * another try, now that recording writes again */
static void
room_refinalize_failed (Room *room)
{
  g_autoptr (GPtrArray) failed = store_recordings_archive_failed (room->app->db, room->session_id);
  for (guint i = 0; i < failed->len; i++) {
    gchar **row = g_ptr_array_index (failed, i);
    recordings_finalize (room->app, g_ascii_strtoll (row[0], NULL, 10), row[1]);
  }
}

typedef struct {
  KanyanApp *app;
  Room      *room;                           /* NULL once the room is gone (room_free) */
  gchar     *case_ref;
  gint64     recording_id;
  gchar     *path;
  guint      gaps;
  gint64     gap_ms;
  gint64     first_media_us, first_pts_us;   /* when the first media reached the muxer; 0: none */
  gint64     stopped_ms;                     /* wall clock: the segment stopped taking media */
} SegmentDone;

/* main loop: a segment's file is closed. Its one audit entry also sums up its gaps. */
static void
on_segment_done (gpointer data, gint64 bytes, gboolean clean)
{
  SegmentDone *sd = data;
  store_recording_end (sd->app->db, sd->recording_id, bytes, clean ? "complete" : "unfinished");
  store_recording_stopped (sd->app->db, sd->recording_id, sd->stopped_ms);
  if (sd->first_media_us)
    store_recording_media_clock (sd->app->db, sd->recording_id, sd->first_media_us / 1000, sd->first_pts_us);
  g_autofree gchar *bytes_text = g_strdup_printf ("%" G_GINT64_FORMAT, bytes);
  g_autofree gchar *gaps_text = g_strdup_printf ("%u", sd->gaps);
  g_autofree gchar *gap_ms_text = g_strdup_printf ("%" G_GINT64_FORMAT, sd->gap_ms);
  audit_note (sd->app->db, "server", "recording.ended", sd->case_ref, "path", sd->path, "bytes", bytes_text,
              "state", clean ? "complete" : "unfinished", "gaps", gaps_text, "gap_ms", gap_ms_text, NULL);
  recordings_finalize (sd->app, sd->recording_id, sd->path);
  Room *room = sd->room;
  if (room)
    g_ptr_array_remove (room->finishing, sd);
  if (room && !room->recording_stopped)
    room_refinalize_failed (room);   /* a segment a full disk cut, whose archive failed then */
  if (room && room->pending_recorders > 0 && --room->pending_recorders == 0 && room->closing)
    app_drop_room (sd->app, room);
  g_free (sd->case_ref);
  g_free (sd->path);
  g_free (sd);
}

static void
room_stop_recording (Room *room)
{
  if (!room->recorder)
    return;
  SegmentDone *sd = g_new0 (SegmentDone, 1);
  sd->app = room->app;
  sd->room = room;
  g_ptr_array_add (room->finishing, sd);
  sd->case_ref = g_strdup (room->case_ref);
  sd->recording_id = room->recording_id;
  sd->path = g_strdup (recorder_path (room->recorder));
  sd->stopped_ms = db_now_ms ();   /* the segment's true end, not when its file is flushed */
  /* the stretches frozen after a loss: one row each, one line in the segment's audit entry */
  g_autoptr (GArray) gaps = recorder_take_gaps (room->recorder);
  for (guint i = 0; i < gaps->len; i++) {
    const RecorderGap *gap = &g_array_index (gaps, RecorderGap, i);
    store_recording_gap_add (room->app->db, room->recording_id, gap->at_ms, gap->duration_ms, gap->reason);
    sd->gap_ms += gap->duration_ms;
  }
  sd->gaps = gaps->len;
  GstClockTime first_running = 0;
  if (recorder_first_media (room->recorder, &sd->first_media_us, &first_running))
    sd->first_pts_us = (gint64) (first_running / GST_USECOND);
  room->pending_recorders++;
  Recorder *rec = g_steal_pointer (&room->recorder);
  recorder_stop (rec, on_segment_done, sd);
}

/* Reviewers see whether the inspection is being recorded: {"type":"recording","state":
 * "stopped","reason":"disk_full"} when a write failure stopped it, {"state":"recording"}
 * when it resumed (docs/protocol.md). */
static void
send_recording_state (Participant *p, Room *room)
{
  g_autoptr (JsonBuilder) b = message_begin ("recording");
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, room->recording_stopped ? "stopped" : "recording");
  if (room->recording_stopped) {
    json_builder_set_member_name (b, "reason");
    json_builder_add_string_value (b, room->recording_stopped);
  }
  send_builder (p, b);
}

static void
broadcast_recording_state (Room *room)
{
  for (guint i = 0; i < room->participants->len; i++) {
    Participant *p = g_ptr_array_index (room->participants, i);
    if (p->role == ROLE_REVIEWER)
      send_recording_state (p, room);
  }
}

static gboolean room_start_recording (Room *room);
static void room_schedule_recording (Room *room);
static void room_recording_failed (Room *room, const gchar *reason);

/* the recordings volume has more free space than the floor ([archive] min_free_mb; at least
 * 1 MiB); unknown: yes */
static gboolean
recordings_have_space (Room *room)
{
  return recordings_free_mb (room->app->config) >= MAX (room->app->config->min_free_mb, 1);
}

/* main loop, every RECORDING_SPACE_CHECK_S while the room lives: a recording stops cleanly
 * at the floor, before the volume is full (and the database on it cannot write) */
static gboolean
on_space_check (gpointer data)
{
  Room *room = data;
  if (room->recorder && !recordings_have_space (room))
    room_recording_failed (room, "disk_full");
  return G_SOURCE_CONTINUE;
}

/* main loop: a resumed segment kept writing: recording is back */
static gboolean
on_recording_confirmed (gpointer data)
{
  Room *room = data;
  room->recording_confirm = 0;
  if (!room->recording_stopped || !room->recorder)
    return G_SOURCE_REMOVE;
  g_info ("case %s: recording resumed after %s", room->case_ref, room->recording_stopped);
  audit_note (room->app->db, "server", "recording.resumed", room->case_ref, "after", room->recording_stopped, NULL);
  room->recording_stopped = NULL;
  room->retry_delay_s = 0;
  broadcast_recording_state (room);
  room_refinalize_failed (room);   /* the segment the failure cut could not be archived then */
  return G_SOURCE_REMOVE;
}

/* main loop: the back-off is over */
static gboolean
on_recording_retry (gpointer data)
{
  Room *room = data;
  room->recording_retry = 0;
  if (room->recorder || !room->media_flowing || room->closing)
    return G_SOURCE_REMOVE;   /* media that starts flowing again starts a segment itself */
  if (room->recording_stopped && !recordings_have_space (room)) {
    room_schedule_recording (room);   /* still full: wait longer, quietly */
    return G_SOURCE_REMOVE;
  }
  if (room_start_recording (room) && room->recording_stopped && !room->recording_confirm)
    room->recording_confirm = g_timeout_add_seconds (RECORDING_CONFIRM_S, on_recording_confirmed, room);
  return G_SOURCE_REMOVE;
}

static void
room_schedule_recording (Room *room)
{
  if (room->recording_retry)
    return;
  room->retry_delay_s = room->retry_delay_s ? MIN (room->retry_delay_s * 2, RECORDING_RETRY_MAX_S)
                                            : RECORDING_RETRY_MIN_S;
  room->recording_retry = g_timeout_add_seconds (room->retry_delay_s, on_recording_retry, room);
}

/* main loop: the file cannot be written (a full disk, a failing volume). Restarting at once
 * would only fail again: recording stops — the live inspection goes on — reviewers are told,
 * once, with one audit entry, and a new segment of the same session is tried with back-off
 * once there is room again. A segment that fails again before it was confirmed stays in the
 * same outage (no new alert). */
static void
room_recording_failed (Room *room, const gchar *reason)
{
  room_stop_recording (room);
  if (room->recording_confirm) {
    g_source_remove (room->recording_confirm);
    room->recording_confirm = 0;
  }
  if (!room->recording_stopped) {
    room->recording_stopped = reason;
    room->recording_stopped_at = db_now_ms ();
    room->retry_delay_s = 0;
    g_warning ("case %s: recording stopped: %s; the live inspection goes on, recording is retried", room->case_ref,
               reason);
    g_autofree gchar *session_text = g_strdup_printf ("%" G_GINT64_FORMAT, room->session_id);
    audit_note (room->app->db, "server", "recording.stopped", room->case_ref, "session", session_text,
                "reason", reason, NULL);
    broadcast_recording_state (room);
  }
  room_schedule_recording (room);
}

/* returns whether a segment started */
static gboolean
room_start_recording (Room *room)
{
  room_stop_recording (room);
  if (room->recording_retry) {
    g_source_remove (room->recording_retry);
    room->recording_retry = 0;
  }
  if (!room->space_check)
    room->space_check = g_timeout_add_seconds (RECORDING_SPACE_CHECK_S, on_space_check, room);
  if (!recordings_have_space (room)) {   /* under the floor: not even a first segment */
    room_recording_failed (room, "disk_full");
    return FALSE;
  }
  g_autofree gchar *name = g_strdup_printf ("segment-%03d.mkv", ++room->segment_seq);
  g_autofree gchar *session = g_strdup_printf ("session-%" G_GINT64_FORMAT, room->session_id);
  g_autofree gchar *path = g_build_filename (room->app->config->recordings_dir, room->case_ref, session, name, NULL);
  g_autoptr (GError) error = NULL;
  room->recorder = recorder_start (room->relay, room->app->config, path, &error);
  if (!room->recorder) {
    g_warning ("case %s: recording does not start: %s", room->case_ref, error->message);
    room->segment_seq--;
    room_recording_failed (room, "write_failed");
    return FALSE;
  }
  room->segment_started_us = g_get_monotonic_time ();
  if (!room->first_media_ms)
    room->first_media_ms = db_now_ms ();
  room->recording_id = store_recording_begin (room->app->db, room->session_id, room->segment_seq, path,
                                              relay_codec_name (room->relay, TRACK_VIDEO),
                                              relay_codec_name (room->relay, TRACK_AUDIO));
  g_autofree gchar *seq = g_strdup_printf ("%d", room->segment_seq);
  g_autofree gchar *session_text = g_strdup_printf ("%" G_GINT64_FORMAT, room->session_id);
  audit_note (room->app->db, "server", "recording.started", room->case_ref, "session", session_text,
              "segment", seq, "path", path, "video", relay_codec_name (room->relay, TRACK_VIDEO), NULL);
  g_info ("case %s: recording segment %d to %s", room->case_ref, room->segment_seq, path);
  return TRUE;
}

/* main loop: the recording branch failed. A write failure stops recording (see above); a
 * muxer failure ends the segment where it was whole and continues in a new one — at once the
 * first time, with back-off when segments keep failing young, so nothing can loop. */
static void
on_branch_event (gpointer owner, const gchar *what)
{
  Room *room = owner;
  if (g_str_has_prefix (what, RECORDER_WRITE_FAILED) && room->recorder) {
    room_recording_failed (room, g_str_has_suffix (what, RELAY_NO_SPACE_SUFFIX) ? "disk_full" : "write_failed");
  } else if (g_strcmp0 (what, RECORDER_RESTART) == 0 && room->recorder && room->media_flowing) {
    gboolean young = g_get_monotonic_time () - room->segment_started_us < RECORDING_MIN_LIFE_US;
    g_info ("case %s: the recording branch restarts (a muxer error)%s; a new segment follows", room->case_ref,
            young ? " again soon after the last" : "");
    if (young) {
      room_stop_recording (room);
      room_schedule_recording (room);
    } else {
      room->retry_delay_s = 0;
      room_start_recording (room);
    }
  }
}

/* main loop: the applicant's video started or stopped flowing */
static void
on_media_flowing (gpointer owner, gboolean flowing)
{
  Room *room = owner;
  room->media_flowing = flowing;
  if (flowing)
    room_reach_stop (room->reach);
  room->media_lost = !flowing && room->applicant;   /* its link dropped, or it is reconnecting */
  if (flowing && !room->recording_stopped)
    room_start_recording (room);
  else if (flowing)
    room_schedule_recording (room);   /* a write failure is being waited out */
  else
    room_stop_recording (room);
  broadcast_state (room);
}

/* ---- the applicant's link quality ------------------------------------------------------ */

/* main loop: reviewers see the applicant's link, as the server receives it:
 * {"type":"link","who":"applicant","kbps":N,"loss_pct":N,"rtt_ms":N|null,"quality":"good"|"poor"|"bad"} */
static void
on_applicant_link (gpointer owner, const LinkQuality *q)
{
  Room *room = owner;
  if (!room->applicant)
    return;
  g_autoptr (JsonBuilder) b = message_begin ("link");
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
static gboolean
on_link_timer (gpointer data)
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
  if (p->role == ROLE_APPLICANT) {
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
  g_autoptr (JsonBuilder) b = message_begin ("ice");
  if (p->pc) {
    json_builder_set_member_name (b, "pc");
    json_builder_add_string_value (b, p->pc);
  }
  json_builder_set_member_name (b, "candidate");
  json_builder_add_string_value (b, candidate);
  json_builder_set_member_name (b, "sdpMLineIndex");
  json_builder_add_int_value (b, mline);
  send_builder (p, b);
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

static void room_remove (Room *room, Participant *p, gint error_code, const gchar *message);

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
    room_remove (room, p, KANYAN_ERROR_TIMEOUT, "the WHIP publisher's connection failed");
}

static void
on_peer_failed (gpointer owner, WebrtcPeer *peer, const gchar *message)
{
  Participant *p = owner;
  g_warning ("case %s: %s: negotiation failed: %s", p->room->case_ref, p->id, message);
  send_error (p, KANYAN_ERROR_BAD_SDP, message);
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
  g_autofree gchar *actor = g_strdup_printf ("%s:%s", role_names[p->role], p->id);
  g_autofree gchar *session_text = g_strdup_printf ("%" G_GINT64_FORMAT, room->session_id);
  audit_note (room->app->db, actor, "participant.connected", room->case_ref, "session", session_text,
              "server", p->ice_local, "peer", p->ice_remote, NULL);
  for (guint i = 0; i < room->participants->len; i++) {
    Participant *r = g_ptr_array_index (room->participants, i);
    if (r->role == ROLE_REVIEWER && (p->role == ROLE_APPLICANT || r == p))
      send_ice_pair (r, p);
  }
}

static const WebrtcPeerEvents peer_events = {
  on_local_description, on_ice_candidate, on_gathering_done, on_connection_state, on_peer_failed, on_selected_pair,
};

/* ---- viewers ------------------------------------------------------------------------- */

static gboolean
on_answer_timeout (gpointer data)
{
  Participant *p = data;
  p->answer_timeout = 0;
  room_remove (p->room, p, KANYAN_ERROR_TIMEOUT, p->whip ? "the WHIP publisher did not connect in time"
                                                          : "no answer to the offer in time");
  return G_SOURCE_REMOVE;
}

static void
viewer_drop (Participant *p)
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
static void
viewer_offer (Room *room, Participant *p)
{
  viewer_drop (p);
  g_free (p->pc);
  p->pc = g_strdup_printf ("%s.%u", p->id, ++p->pc_serial);
  g_autoptr (GError) error = NULL;
  p->viewer = relay_viewer_add (room->relay, p->id, &peer_events, p, &error);
  if (!p->viewer) {
    send_error (p, KANYAN_ERROR_INTERNAL, error->message);
    return;
  }
  p->answer_timeout = g_timeout_add_seconds (room->app->config->viewer_answer_timeout_s, on_answer_timeout, p);
}

/* ---- membership ---------------------------------------------------------------------- */

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
  room->relay = relay;
  room->participants = g_ptr_array_new ();
  room->stills = g_ptr_array_new ();
  room->reach = room_reach_new (on_reach_stalled, room);
  room->finishing = g_ptr_array_new ();
  g_snprintf (room->challenge, sizeof room->challenge, "%04u", randombytes_uniform (10000));
  store_session_set_challenge (app->db, session_id, room->challenge);
  relay_set_media_notify (relay, on_media_flowing, room);
  relay_set_branch_notify (relay, on_branch_event);
  room->revocation_check = g_timeout_add_seconds (ROOM_REVOCATION_CHECK_S, on_revocation_check, room);
  room->applicant_link = link_stats_new (on_applicant_link, room);
  room->link_timer = g_timeout_add (1000, on_link_timer, room);
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
  viewer_drop (p);
  if (room->applicant == p) {
    room_reach_stop (room->reach);
    room->applicant = NULL;
    relay_publisher_stop (room->relay);
    p->peer = NULL;
  }
  store_participant_leave (room->app->db, p->db_id);
  g_autofree gchar *actor = g_strdup_printf ("%s:%s", role_names[p->role], p->id);
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
    app_drop_room (room->app, room);
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

static void
room_remove (Room *room, Participant *p, gint error_code, const gchar *message)
{
  send_error (p, error_code, message);
  room_detach (room, p, TRUE);
  broadcast_participants (room);
  broadcast_state (room);
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
  for (guint i = 0; i < room->finishing->len; i++)   /* their files still close; nobody to tell */
    ((SegmentDone *) g_ptr_array_index (room->finishing, i))->room = NULL;
  g_ptr_array_unref (room->finishing);
  relay_free (room->relay);
  room_reach_free (room->reach);
  store_session_close (room->app->db, room->session_id);
  g_ptr_array_unref (room->participants);
  g_free (room->case_ref);
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
gint64 room_session_id (Room *room) { return room->session_id; }
gboolean room_is_live (Room *room) { return room->media_flowing; }
guint room_participant_count (Room *room) { return room->participants->len; }
const gchar *participant_id (Participant *p) { return p->id; }
ParticipantRole participant_role (Participant *p) { return p->role; }

Participant *
room_join (Room *room, ParticipantRole role, const gchar *name, gboolean whip,
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
  g_ptr_array_add (room->participants, p);   /* first, so the room never looks empty */
  if (replaced)   /* a reloaded page or a new WHIP publish takes over */
    room_remove (room, replaced, KANYAN_ERROR_REPLACED, "a newer applicant connection took over");
  if (role == ROLE_APPLICANT) {
    room->applicant = p;
    g_autoptr (CaseRow) row = store_case_get (room->app->db, room->case_ref, NULL);
    if (row)   /* the case is being inspected (again) */
      workflow_note (room->app->db, "server", row, CASE_EVENT_LIVE);
  }
  p->db_id = store_participant_join (room->app->db, room->session_id, p->id, role_names[role], p->name);
  g_autofree gchar *actor = g_strdup_printf ("%s:%s", role_names[role], p->id);
  g_autofree gchar *session_text = g_strdup_printf ("%" G_GINT64_FORMAT, room->session_id);
  audit_note (room->app->db, actor, "participant.joined", room->case_ref, "name", p->name,
              "session", session_text, "via", whip ? "whip" : "websocket", NULL);
  g_autoptr (JsonBuilder) b = message_begin ("joined");
  json_builder_set_member_name (b, "case");
  json_builder_add_string_value (b, room->case_ref);
  json_builder_set_member_name (b, "session");
  json_builder_add_int_value (b, room->session_id);
  json_builder_set_member_name (b, "peer");
  json_builder_add_string_value (b, p->id);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, role_names[role]);
  json_builder_set_member_name (b, "challenge");
  json_builder_add_string_value (b, room->challenge);
  /* [ice]: this peer's STUN/TURN servers; a TURN credential lives turn_ttl_s, a rejoin gets
   * a new one (docs/protocol.md, docs/deploy.md) */
  g_autofree gchar *ice_label = g_strdup_printf ("%s.%s", room->case_ref, p->id);
  g_strdelimit (ice_label, ":", '-');   /* the TURN username's own separator */
  json_builder_set_member_name (b, "iceServers");
  json_builder_add_value (b, ice_servers_for (room->app->config, ice_label, g_get_real_time () / G_USEC_PER_SEC));
  send_builder (p, b);
  broadcast_participants (room);
  if (role == ROLE_REVIEWER) {
    g_autoptr (JsonBuilder) s = message_begin ("state");
    json_builder_set_member_name (s, "applicant");
    json_builder_add_string_value (s, room_applicant_state (room));
    send_builder (p, s);
    if (room->recording_stopped)
      send_recording_state (p, room);
    if (room->applicant && room->applicant->ice_local)
      send_ice_pair (p, room->applicant);
    if (room_reach_stalled (room->reach))
      send_reach (p, room);
    if (room->applicant && relay_has_publisher_codecs (room->relay))
      viewer_offer (room, p);
  }
  return p;
}

void
room_leave (Room *room, Participant *p)
{
  room_detach (room, p, FALSE);
  broadcast_participants (room);
  broadcast_state (room);
  room_maybe_close (room);
}

gboolean
room_applicant_offer (Room *room, Participant *p, const gchar *sdp, gsize len, GError **error)
{
  if (p->role != ROLE_APPLICANT) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_WRONG_ROLE, "only the applicant sends offers");
    return FALSE;
  }
  g_autoptr (OfferAnalysis) offer = sdp_offer_analyze (sdp, len, error);
  if (!offer)
    return FALSE;
  gboolean codecs_changed = FALSE;
  p->peer = relay_publisher_start (room->relay, offer, &peer_events, p, &codecs_changed, error);
  if (!p->peer)
    return FALSE;
  /* a new connection: the kinds of candidates each side offers, and REACH_MEDIA_WAIT_S for media */
  room_reach_offer (room->reach, sdp, len, room->media_flowing);
  if (p->whip && !p->answer_timeout)   /* an abandoned WHIP offer holds a webrtcbin: not forever */
    p->answer_timeout = g_timeout_add_seconds (MAX (room->app->config->publisher_connect_timeout_s, 1),
                                               on_answer_timeout, p);
  /* reviewers without a connection, or whose codecs changed, get a fresh offer */
  for (guint i = 0; i < room->participants->len; i++) {
    Participant *r = g_ptr_array_index (room->participants, i);
    if (r->role == ROLE_REVIEWER && (!r->viewer || codecs_changed))
      viewer_offer (room, r);
  }
  broadcast_state (room);
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
  g_autoptr (JsonBuilder) b = message_begin ("bye");
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, reason);
  send_builder (p, b);
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
    app_drop_room (room->app, room);
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
  broadcast_participants (room);
  broadcast_state (room);
  room_maybe_close (room);
}

gboolean
room_next_session (Room *room, GError **error)
{
  gint64 id = store_session_open (room->app->db, room->case_id, error);
  if (!id)
    return FALSE;
  gint64 old = room->session_id;
  store_session_close (room->app->db, old);
  room->session_id = id;
  room->segment_seq = 0;
  room->first_media_ms = 0;
  store_session_set_challenge (room->app->db, id, room->challenge);   /* the same paper stays valid */
  for (guint i = 0; i < room->participants->len; i++) {   /* everyone present is now in the new one */
    Participant *p = g_ptr_array_index (room->participants, i);
    store_participant_leave (room->app->db, p->db_id);
    p->db_id = store_participant_join (room->app->db, id, p->id, role_names[p->role], p->name);
  }
  if (room->recorder)   /* the old session's segment ends with it; the new session records its own */
    room_start_recording (room);
  g_autofree gchar *old_text = g_strdup_printf ("%" G_GINT64_FORMAT, old);
  g_autofree gchar *new_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  audit_note (room->app->db, "server", "session.continued", room->case_ref, "after", old_text, "session", new_text,
              NULL);
  for (guint i = 0; i < room->participants->len; i++) {
    Participant *p = g_ptr_array_index (room->participants, i);
    g_autoptr (JsonBuilder) b = message_begin ("session");
    json_builder_set_member_name (b, "session");
    json_builder_add_int_value (b, id);
    json_builder_set_member_name (b, "challenge");
    json_builder_add_string_value (b, room->challenge);
    send_builder (p, b);
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

/* room_recording.c — a live inspection's recording: a segment starts whenever the applicant's
 * media starts flowing and ends when it stops; a write failure or the free-space floor
 * ([archive] min_free_mb) stops recording with one alert to reviewers, retried with back-off;
 * a muxer failure continues in a new segment; a finished segment goes to the archive
 * (recordings_finalize). Owns the Recorder. Never changes membership nor touches the
 * participants' peer connections (room.c, room_peers.c). */
#include "live/room_private.h"
#include "archive/archive.h"
#include "archive/recordings.h"
#include "review/audit.h"

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
    rooms_drop (sd->app, room);
  g_free (sd->case_ref);
  g_free (sd->path);
  g_free (sd);
}

void
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
  /* the stretches frozen after a loss: one row each, one line in the segment's audit entry */
  g_autoptr (GArray) gaps = recorder_take_gaps (room->recorder);
  gint64 latest_gap_ms = 0;
  for (guint i = 0; i < gaps->len; i++) {
    const RecorderGap *gap = &g_array_index (gaps, RecorderGap, i);
    store_recording_gap_add (room->app->db, room->recording_id, gap->at_ms, gap->duration_ms, gap->reason);
    sd->gap_ms += gap->duration_ms;
    latest_gap_ms = MAX (latest_gap_ms, gap->at_ms);
  }
  sd->gaps = gaps->len;
  GstClockTime first_running = 0;
  if (recorder_first_media (room->recorder, &sd->first_media_us, &first_running))
    sd->first_pts_us = (gint64) (first_running / GST_USECOND);
  /* the segment's true end, not when its file is flushed: the phone's last packet when it
   * came during the segment — a link that died is noticed RELAY_STALL_MS later, and the
   * file holds nothing after that packet (segment_sync.c) — else now; now too once a
   * reviewer's microphone runs the talk-back mix: the reviewers' voices go on being recorded
   * until the segment stops ("the picture froze" is part of the record) */
  gint64 now_ms = db_now_ms ();
  gint64 last_media_ms = relay_last_media_wall_ms (room->relay);
  gboolean media_in_segment = sd->first_media_us && last_media_ms * 1000 >= sd->first_media_us;
  sd->stopped_ms = media_in_segment && last_media_ms < now_ms && !relay_talk_running (room->relay)
                   ? last_media_ms : now_ms;
  /* never before a gap the recorder noticed in it (the last packet's loss is noticed in the
   * recorder's thread a few ms after that packet passed the tee) */
  sd->stopped_ms = MAX (sd->stopped_ms, MIN (latest_gap_ms, now_ms));
  room->pending_recorders++;
  Recorder *rec = g_steal_pointer (&room->recorder);
  recorder_stop (rec, on_segment_done, sd);
}

/* Reviewers see whether the inspection is being recorded: {"type":"recording","state":
 * "stopped","reason":"disk_full"} when a write failure stopped it, {"state":"recording"}
 * when it resumed (docs/protocol.md). */
void
room_send_recording_state (Participant *p, Room *room)
{
  g_autoptr (JsonBuilder) b = room_message_begin ("recording");
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, room->recording_stopped ? "stopped" : "recording");
  if (room->recording_stopped) {
    json_builder_set_member_name (b, "reason");
    json_builder_add_string_value (b, room->recording_stopped);
  }
  room_send_builder (p, b);
}

static void
broadcast_recording_state (Room *room)
{
  for (guint i = 0; i < room->participants->len; i++) {
    Participant *p = g_ptr_array_index (room->participants, i);
    if (p->role == ROLE_REVIEWER)
      room_send_recording_state (p, room);
  }
}

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
gboolean
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
  g_autofree gchar *audio_path = archive_part_path (path, ARCHIVE_PART_AUDIO);
  g_autofree gchar *talk_path = archive_part_path (path, ARCHIVE_PART_TALK);
  const gchar *paths[TRACK_COUNT] = { [TRACK_VIDEO] = path, [TRACK_AUDIO] = audio_path, [TRACK_TALK] = talk_path };
  room->recorder = recorder_start (room->relay, room->app->config, paths, &error);
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
void
room_on_branch_event (gpointer owner, const gchar *what)
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
void
room_on_media_flowing (gpointer owner, gboolean flowing)
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
  room_broadcast_state (room);
}

/* room_free: the segments still finishing close their files; nobody is left to tell */
void
room_forget_finishing (Room *room)
{
  for (guint i = 0; i < room->finishing->len; i++)
    ((SegmentDone *) g_ptr_array_index (room->finishing, i))->room = NULL;
  g_ptr_array_unref (room->finishing);
}

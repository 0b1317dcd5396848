/* recorder.h — one recording segment of a live inspection: taps the relay's tees and writes
 * each track — the applicant's video and audio, the reviewers' talk-back mix — into a file of
 * its own (the archive joins them), without transcoding, from a pipeline description in
 * pipelines/recorder.ini. */
#pragma once
#include "media/relay.h"

typedef struct _Recorder Recorder;
/* main loop, once the files are closed (or given up on); bytes = their size together */
typedef void (*RecorderDone) (gpointer data, gint64 bytes, gboolean clean);

/* When the muxer fails (or, which a segment never sees, the video codec changes), the segment
 * keeps what it had, drops what follows, and posts RECORDER_RESTART as an application message
 * on the relay's bus: the room then starts a new segment. When the file cannot be written
 * (a full disk), RECORDER_WRITE_FAILED comes first: the room stops recording instead of
 * restarting. A new resolution stays in the segment. Nothing that goes wrong in a recording
 * reaches the relay. */
#define RECORDER_RESTART "kanyan-recorder-restart"
#define RECORDER_WRITE_FAILED "kanyan-recorder-write-failed"

/* A stretch of a segment without video: a loss the jitterbuffer could not repair, until the
 * next keyframe. at_ms: wall clock (epoch ms) when the recording noticed it. */
typedef struct {
  gint64       at_ms;
  gint64       duration_ms;
  const gchar *reason;       /* static: "packet_loss" | "resync" */
} RecorderGap;

/* paths: each track's file, by RelayTrack; recorder_path () is the video's */
Recorder *recorder_start (Relay *relay, const KanyanConfig *cfg, const gchar *const paths[TRACK_COUNT], GError **error);
/* Ends the segment: EOS through the muxer, then done() on the main loop. Frees the recorder. */
void      recorder_stop (Recorder *rec, RecorderDone done, gpointer data);
const gchar *recorder_path (Recorder *rec);
/* The gaps noted since the last call (a gap still open ends now); main loop. Free with
 * g_array_unref. */
GArray  *recorder_take_gaps (Recorder *rec);
/* Where the file lies on the wall clock: the arrival time (g_get_real_time) of the video buffer
 * (audio, when no video came) that reached the muxer with the least delay, and its running time
 * (its timestamp in the segment's file). FALSE before any media. */
gboolean  recorder_first_media (Recorder *rec, gint64 *wall_us, GstClockTime *running);

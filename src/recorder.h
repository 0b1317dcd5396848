/* recorder.h — one recording segment of a live inspection: taps the relay's tees and writes
 * the applicant's video and audio and the reviewers' talk-back mix into one file, without
 * transcoding, from a pipeline description in pipelines/recorder.ini. */
#pragma once
#include "relay.h"

typedef struct _Recorder Recorder;
/* main loop, once the file is closed (or given up on); bytes = file size */
typedef void (*RecorderDone) (gpointer data, gint64 bytes, gboolean clean);

/* When the phone changes its video format mid-segment (a new resolution: a new SPS), or the
 * muxer or the file fails, the segment keeps what it had, drops what follows, and posts
 * RECORDER_RESTART as an application message on the relay's bus: the room then starts a new
 * segment. Nothing that goes wrong in a recording reaches the relay. */
#define RECORDER_RESTART "kanyan-recorder-restart"

Recorder *recorder_start (Relay *relay, const KanyanConfig *cfg, const gchar *path, GError **error);
/* Ends the segment: EOS through the muxer, then done() on the main loop. Frees the recorder. */
void      recorder_stop (Recorder *rec, RecorderDone done, gpointer data);
const gchar *recorder_path (Recorder *rec);
/* Where the file lies on the wall clock: the arrival time (g_get_real_time) of the video buffer
 * that reached the muxer with the least delay, and its running time (its timestamp in the
 * segment's file). FALSE before any media. */
gboolean  recorder_first_media (Recorder *rec, gint64 *wall_us, GstClockTime *running);

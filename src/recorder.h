/* recorder.h — one recording segment of a live inspection: taps the relay's tees and writes
 * the applicant's video and audio and the reviewers' talk-back mix into one file, without
 * transcoding, from a pipeline description in pipelines/recorder.ini. */
#pragma once
#include "relay.h"

typedef struct _Recorder Recorder;
/* main loop, once the file is closed (or given up on); bytes = file size */
typedef void (*RecorderDone) (gpointer data, gint64 bytes, gboolean clean);

/* When the phone changes its video format mid-segment (a new resolution: a new SPS), the
 * segment keeps what it had, drops what follows, and posts RECORDER_FORMAT_CHANGED as an
 * application message on the relay's bus: the room then starts a new segment. */
#define RECORDER_FORMAT_CHANGED "kanyan-recorder-format-changed"

Recorder *recorder_start (Relay *relay, const KanyanConfig *cfg, const gchar *path, GError **error);
/* Ends the segment: EOS through the muxer, then done() on the main loop. Frees the recorder. */
void      recorder_stop (Recorder *rec, RecorderDone done, gpointer data);
const gchar *recorder_path (Recorder *rec);

/* frame_filter.h — a recording's video, whole frames only: after a loss nothing passes until
 * the first packet of a keyframe, the phone is asked for one, and the gap is logged
 * (frame_filter.c). The recorder owns the log; the filter holds a reference. */
#pragma once
#include "media/recorder.h"
#include "media/rtp_keyframe.h"

typedef struct _GapLog GapLog;
GapLog  *gap_log_new (void);                 /* waiting for a keyframe, no gaps */
GapLog  *gap_log_ref (GapLog *log);          /* any thread */
void     gap_log_unref (gpointer log);       /* any thread */
gboolean gap_log_waiting (GapLog *log);      /* any thread: video waits for a keyframe */
void     gap_log_set_waiting (GapLog *log, gboolean waiting);
/* The gaps so far (of RecorderGap; a gap still open ends now), and a new empty log of them. */
GArray  *gap_log_take (GapLog *log);

/* A probe on the depayloader's sink pad (RTP of `codec`): whole frames from a keyframe on. */
void     frame_filter_add (GstPad *depay_sink, RtpCodec codec, GapLog *log);

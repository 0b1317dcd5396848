/* frame_filter.c — what a recording's video keeps after a loss: only whole frames, from the
 * first packet of a keyframe on (a short freeze, never smear), and the log of the gaps that
 * leaves, for the segment's metadata and the auditor's timeline. A pad probe on the
 * recorder's depayloader; owns its probe state and the gap log, never touches the muxer. */
#include "media/frame_filter.h"
#include "media/keyframe_gate.h"
#include "core/metrics.h"
#include <gst/video/video.h>

/* What the video frame filter (a streaming thread) tells the main loop: whether video waits
 * for a keyframe, and the gaps so far. Reference-counted: the filter may outlive the Recorder
 * by a buffer while the branch is taken down. */
struct _GapLog {
  gint    refs;              /* atomic */
  gint    waiting;           /* atomic: video waits for a keyframe (at the start, or after a loss) */
  GMutex  lock;              /* gaps, open_at_ms, open_reason */
  GArray *gaps;              /* of RecorderGap */
  gint64  open_at_ms;        /* a gap in progress: wall-clock ms it began; 0 when none */
  const gchar *open_reason;
};


GapLog *
gap_log_new (void)
{
  GapLog *log = g_new0 (GapLog, 1);
  log->refs = 1;
  log->waiting = 1;
  g_mutex_init (&log->lock);
  log->gaps = g_array_new (FALSE, FALSE, sizeof (RecorderGap));
  return log;
}

GapLog *
gap_log_ref (GapLog *log)
{
  g_atomic_int_inc (&log->refs);
  return log;
}

void
gap_log_unref (gpointer data)
{
  GapLog *log = data;
  if (!g_atomic_int_dec_and_test (&log->refs))
    return;
  g_mutex_clear (&log->lock);
  g_array_unref (log->gaps);
  g_free (log);
}

/* any thread */
static void
gap_open (GapLog *log, const gchar *reason)
{
  g_mutex_lock (&log->lock);
  if (!log->open_at_ms) {
    log->open_at_ms = g_get_real_time () / 1000;
    log->open_reason = reason;
  }
  g_mutex_unlock (&log->lock);
}

/* any thread; under log->lock */
static void
gap_close_locked (GapLog *log)
{
  if (!log->open_at_ms)
    return;
  RecorderGap gap = { log->open_at_ms, g_get_real_time () / 1000 - log->open_at_ms, log->open_reason };
  g_array_append_val (log->gaps, gap);
  log->open_at_ms = 0;
}

GArray *
gap_log_take (GapLog *log)
{
  g_mutex_lock (&log->lock);
  gap_close_locked (log);   /* still waiting at the end: the gap lasts until now */
  GArray *gaps = log->gaps;
  log->gaps = g_array_new (FALSE, FALSE, sizeof (RecorderGap));
  g_mutex_unlock (&log->lock);
  return gaps;
}

/* The video frame filter, between the chain's leaky queue and the depayloader. One frame
 * spans many RTP packets, and a frame missing one packet decodes with errors, as does every
 * frame after it until a keyframe. So the filter holds a frame's packets until the frame is
 * complete (its marker packet came, with no sequence number missing) and only then lets them
 * through; a missing sequence number (the jitterbuffer gave up on a packet, or the leaky queue
 * shed some) discards the frame in hand, and nothing passes until the first packet of a
 * keyframe — the archive freezes instead of smearing. The loss is noted as a gap, and the
 * phone is asked for a keyframe (here at once, and by the recorder's timer while waiting).
 * The segment starts the same way: waiting for a keyframe. Only the depayloader's streaming
 * thread touches a FrameFilter. */
typedef struct {
  RtpCodec   codec;
  GapLog    *log;
  gboolean   started;        /* a packet seen */
  gboolean   synced;         /* FALSE: waiting for a keyframe */
  gboolean   candidate;      /* not synced: held is the frame begun so far, a keyframe if a key
                              * packet follows (an access unit delimiter or SEI may open it) */
  gboolean   closing_gap;    /* synced on a keyframe: the gap ends when that frame is whole */
  gboolean   reinjecting;    /* our own gst_pad_chain of held packets is under way */
  guint32    ssrc, frame_ts;
  guint32    prev_ts;        /* the packet before (in sequence): its timestamp … */
  gboolean   prev_marker;    /* … and whether it ended its frame */
  guint16    next_seq;
  GPtrArray *held;           /* of GstBuffer*: the packets of the frame being assembled */
} FrameFilter;

static void
frame_filter_free (gpointer data)
{
  FrameFilter *f = data;
  g_ptr_array_unref (f->held);
  gap_log_unref (f->log);
  g_free (f);
}

static void
frame_filter_lose (FrameFilter *f, GstPad *pad, const gchar *reason)
{
  g_ptr_array_set_size (f->held, 0);
  f->candidate = FALSE;
  if (f->synced) {
    gap_open (f->log, reason);
    /* travels up through the queue to the video tee, where the relay takes it for its one
     * keyframe requester (relay_request_keyframe: within its limit, again until one passes) */
    gst_pad_push_event (pad, gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, FALSE, 0));
    metrics_keyframe_request (METRIC_KEYFRAME_RECORDER);   /* streaming thread: one atomic add */
  }
  f->synced = FALSE;
  f->closing_gap = FALSE;
  g_atomic_int_set (&f->log->waiting, 1);
}

/* the held packets, then (if the probe lets it pass) the current one, go to the depayloader */
static GstFlowReturn
frame_filter_release (FrameFilter *f, GstPad *pad)
{
  GstFlowReturn ret = GST_FLOW_OK;
  f->reinjecting = TRUE;
  for (guint i = 0; i < f->held->len && ret == GST_FLOW_OK; i++)
    ret = gst_pad_chain (pad, gst_buffer_ref (g_ptr_array_index (f->held, i)));
  f->reinjecting = FALSE;
  g_ptr_array_set_size (f->held, 0);
  return ret;
}

/* streaming thread: every video packet entering the depayloader */
static GstPadProbeReturn
filter_video_frames (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  FrameFilter *f = data;
  if (f->reinjecting)
    return GST_PAD_PROBE_OK;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp))
    return GST_PAD_PROBE_DROP;
  guint16 seq = gst_rtp_buffer_get_seq (&rtp);
  guint32 ts = gst_rtp_buffer_get_timestamp (&rtp);
  guint32 ssrc = gst_rtp_buffer_get_ssrc (&rtp);
  gboolean marker = gst_rtp_buffer_get_marker (&rtp);
  gboolean key = keyframe_rtp_is_key (f->codec, &rtp);
  gst_rtp_buffer_unmap (&rtp);

  /* whether this packet begins a frame: known only when the packet before it came (no gap)
   * and ended its frame or belonged to another one. An H.264 keyframe is often several slices,
   * each opening with a "keyframe" packet: after a loss, the second slice's must not be taken
   * for the frame's start (the picture would decode with errors from its top) */
  gboolean frame_start = FALSE;
  if (!f->started || ssrc != f->ssrc) {
    if (f->started)
      frame_filter_lose (f, pad, "resync");
    f->started = TRUE;
    f->ssrc = ssrc;
  } else {
    gint16 ahead = (gint16) (guint16) (seq - f->next_seq);
    if (ahead < 0)
      return GST_PAD_PROBE_DROP;   /* a duplicate or a straggler: its frame is settled */
    if (ahead > 0)
      frame_filter_lose (f, pad, "packet_loss");
    frame_start = ahead == 0 && (f->prev_marker || ts != f->prev_ts);
  }
  f->next_seq = seq + 1;
  f->prev_ts = ts;
  f->prev_marker = marker;

  if (!f->synced) {
    /* a keyframe's first packet need not be its frame's first: an H.264 access unit may open
     * with a delimiter or an SEI before the SPS and the IDR (x264's default, a WHIP encoder's
     * too). The frame is held from its first packet; it is the keyframe once a key packet of
     * it comes, and dropped if it ends (a marker, a new timestamp) without one. */
    if (frame_start) {
      g_ptr_array_set_size (f->held, 0);
      f->candidate = TRUE;
      f->frame_ts = ts;
    } else if (!f->candidate || ts != f->frame_ts) {
      f->candidate = FALSE;
      g_ptr_array_set_size (f->held, 0);
      return GST_PAD_PROBE_DROP;
    }
    if (!key) {
      if (marker) {
        f->candidate = FALSE;
        g_ptr_array_set_size (f->held, 0);
      } else {
        g_ptr_array_add (f->held, gst_buffer_ref (buf));
      }
      return GST_PAD_PROBE_DROP;
    }
    f->candidate = FALSE;
    f->synced = TRUE;
    f->closing_gap = TRUE;
    f->frame_ts = ts;
  }
  GstFlowReturn ret = GST_FLOW_OK;
  if (f->held->len && ts != f->frame_ts)
    ret = frame_filter_release (f, pad);   /* the previous frame ended without a marker */
  f->frame_ts = ts;
  if (!marker && ret == GST_FLOW_OK) {
    g_ptr_array_add (f->held, gst_buffer_ref (buf));
    return GST_PAD_PROBE_DROP;
  }
  if (ret == GST_FLOW_OK)
    ret = frame_filter_release (f, pad);
  if (ret == GST_FLOW_OK && f->closing_gap) {
    f->closing_gap = FALSE;
    g_atomic_int_set (&f->log->waiting, 0);
    g_mutex_lock (&f->log->lock);
    gap_close_locked (f->log);
    g_mutex_unlock (&f->log->lock);
  }
  if (ret == GST_FLOW_OK)
    return GST_PAD_PROBE_OK;   /* the marker packet follows its frame */
  gst_buffer_unref (buf);
  info->data = NULL;
  GST_PAD_PROBE_INFO_FLOW_RETURN (info) = ret;
  return GST_PAD_PROBE_HANDLED;
}

gboolean
gap_log_waiting (GapLog *log)
{
  return g_atomic_int_get (&log->waiting);
}

void
gap_log_set_waiting (GapLog *log, gboolean waiting)
{
  g_atomic_int_set (&log->waiting, waiting);
}

void
frame_filter_add (GstPad *depay_sink, RtpCodec codec, GapLog *log)
{
  FrameFilter *f = g_new0 (FrameFilter, 1);
  f->codec = codec;
  f->log = gap_log_ref (log);
  f->held = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  gst_pad_add_probe (depay_sink, GST_PAD_PROBE_TYPE_BUFFER, filter_video_frames, f, frame_filter_free);
}

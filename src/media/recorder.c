/* recorder.c — a recording segment: for each track a chain "leaky queue ! depayloader" from
 * the relay's tee into the muxer of pipelines/recorder.ini. The queues are leaky so a slow
 * disk never blocks the relay; video reaches the depayloader only as whole frames, from a
 * keyframe on: after a loss nothing passes until the next keyframe (a freeze, never smear),
 * and each such gap is noted; timestamps start at the segment's start. A new resolution
 * stays in the segment (the keyframes carry it in band). Owns its elements; never touches
 * the publisher or viewers. */
#include "media/recorder.h"
#include "media/keyframe_gate.h"
#include "core/errors.h"
#include <gst/rtp/rtp.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include "media/media_debug.h"

GST_DEBUG_CATEGORY_STATIC (kanyan_recorder_debug);   /* GST_DEBUG=kanyan-recorder:6 (media_debug.h) */
#define GST_CAT_DEFAULT kanyan_recorder_debug

void
recorder_debug_init (void)
{
  GST_DEBUG_CATEGORY_INIT (kanyan_recorder_debug, "kanyan-recorder", 0,
                           "Kanyan: recording segments into Matroska (recorder.c)");
}

#define STOP_TIMEOUT_MS    5000

/* What the video frame filter (a streaming thread) tells the main loop: whether video waits
 * for a keyframe, and the gaps so far. Reference-counted: the filter may outlive the Recorder
 * by a buffer while the branch is taken down. */
typedef struct {
  gint    refs;              /* atomic */
  gint    waiting;           /* atomic: video waits for a keyframe (at the start, or after a loss) */
  GMutex  lock;              /* gaps, open_at_ms, open_reason */
  GArray *gaps;              /* of RecorderGap */
  gint64  open_at_ms;        /* a gap in progress: wall-clock ms it began; 0 when none */
  const gchar *open_reason;
} GapLog;

struct _Recorder {
  Relay      *relay;
  gchar      *path;
  GstElement *mux_bin;
  GstElement *chain[TRACK_COUNT];
  GstPad     *tee_pad[TRACK_COUNT];
  RtpCodec    video_codec;
  GapLog     *gaps;              /* shared with the video chain's frame filter */
  struct _SyncRef *sync;         /* the segment's one timing reference, shared by its tracks */
  gint        finished;          /* atomic: EOS reached the file */
  RecorderDone done;
  gpointer    done_data;

  guint       stop_timeout;
  guint       keyframe_timer;
  struct FirstMedia *first_media;   /* shared with the muxer pads' probes */
};

const gchar *
recorder_path (Recorder *rec)
{
  return rec->path;
}

static GapLog *
gap_log_new (void)
{
  GapLog *log = g_new0 (GapLog, 1);
  log->refs = 1;
  log->waiting = 1;
  g_mutex_init (&log->lock);
  log->gaps = g_array_new (FALSE, FALSE, sizeof (RecorderGap));
  return log;
}

static GapLog *
gap_log_ref (GapLog *log)
{
  g_atomic_int_inc (&log->refs);
  return log;
}

static void
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
recorder_take_gaps (Recorder *rec)
{
  GapLog *log = rec->gaps;
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
  if (f->synced) {
    gap_open (f->log, reason);
    /* travels up through the queue and the tee to the publisher (a PLI) */
    gst_pad_push_event (pad, gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, FALSE, 0));
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
    if (!key || !frame_start)
      return GST_PAD_PROBE_DROP;
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

/* streaming thread, after the video parser: a browser changes its resolution as its bandwidth
 * or CPU changes (a new VP8 keyframe size, a new H.264 SPS). Both travel in band — VP8
 * keyframes carry their size, and h264parse (config-interval=-1) repeats SPS/PPS before every
 * IDR — and decoders follow them; matroskamux 1.22, though, refuses a caps change with
 * not-negotiated, which used to end the segment. So the muxer keeps the caps the segment
 * opened with, and later caps of the same format are dropped here; only a different format
 * (which a segment never sees: a new codec is a new publisher, so a new segment) posts
 * RECORDER_RESTART. A probe's own state, freed with the probe. */
typedef struct {
  GstCaps *caps;          /* video: the format this segment's file was opened with */
  gboolean changed;       /* video: a different format — from then on, buffers are dropped */
} BranchGuard;

static void
branch_guard_free (gpointer data)
{
  BranchGuard *g = data;
  gst_clear_caps (&g->caps);
  g_free (g);
}

static GstPadProbeReturn
guard_video_format (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  BranchGuard *g = data;   /* only this pad's streaming thread touches it */
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    return g->changed ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  GstCaps *caps = NULL;
  gst_event_parse_caps (event, &caps);
  if (!g->caps) {
    g->caps = gst_caps_ref (caps);
    return GST_PAD_PROBE_OK;
  }
  if (gst_structure_has_name (gst_caps_get_structure (caps, 0),
                              gst_structure_get_name (gst_caps_get_structure (g->caps, 0))))
    return GST_PAD_PROBE_DROP;   /* the same codec at another size: in band, the muxer keeps its caps */
  if (!g->changed) {
    g->changed = TRUE;
    GstObject *chain = GST_OBJECT_PARENT (pad);
    gst_element_post_message (GST_ELEMENT (chain), gst_message_new_application (
        chain, gst_structure_new_empty (RECORDER_RESTART)));
  }
  return GST_PAD_PROBE_DROP;
}

/* The recording's timeline is the phone's clock. The ingest jitterbuffers stamp buffers from
 * arrival times (their "slave" mode, right for the live relay, which must follow our clock);
 * after an uplink delay spike that stamping wanders for a second or two, differently per
 * track, and the archive's audio and video drift apart (tests/integration/test_av_sync). So
 * a recorded track counts in RTP time. And all tracks of a segment hang on ONE reference: the
 * sender's RTCP sender reports map each track's RTP clock onto its NTP wall clock (the ingest
 * asks rtpbin to attach that as a GstReferenceTimestampMeta, timestamp/x-ntp), so a buffer's
 * time in the file is the segment's reference arrival time plus its NTP distance from the
 * reference — the phone's own lip sync, not the order packets happened to arrive in.
 * Until every track has had its first sender report (a phone sends one a second or more
 * apart), its packets are held, not dropped: once all tracks know their place, the segment
 * starts at the latest of their first held packets — all tracks at one instant, so the first
 * flash keeps its beep — and the held packets go on, timed backwards from the mapping (an RTP
 * clock is linear). After SYNC_WAIT without a report, the tracks that have a mapping start,
 * and one that still has none is anchored on its first packet's arrival. */
#define SYNC_WAIT      (3 * GST_SECOND)
#define SYNC_TOLERANCE (2 * GST_SECOND)
#define MAP_CREEP      (2 * GST_MSECOND)
#define HELD_MAX       4000   /* packets held per track while waiting: 3 s of a 10 Mbit/s picture */

typedef struct _SyncRef {
  gint         refs;          /* atomic */
  GMutex       lock;
  guint        tracks;        /* tracks timed on it (set while the segment is built) */
  gint         mapped;        /* atomic: how many of them have their first sender report */
  GstClockTime first_seen;    /* arrival PTS of the segment's first packet, any track */
  gboolean     candidate;     /* the latest first held packet of the mapped tracks so far … */
  GstClockTime cand_ntp, cand_pts;   /* … its NTP time and its arrival */
  gboolean     set;
  GstClockTime ntp0, pts0;    /* the segment's reference: an NTP time and its arrival PTS */
  gint         started;       /* atomic: a timed track passed its first buffer (the talk track follows) */
} SyncRef;

static SyncRef *
sync_ref_new (void)
{
  SyncRef *sync = g_new0 (SyncRef, 1);
  sync->refs = 1;
  sync->first_seen = GST_CLOCK_TIME_NONE;
  g_mutex_init (&sync->lock);
  return sync;
}

static void
sync_ref_unref (SyncRef *sync)
{
  if (!g_atomic_int_dec_and_test (&sync->refs))
    return;
  g_mutex_clear (&sync->lock);
  g_free (sync);
}

typedef struct {
  GstBuffer *buf;
  guint64    ext;
} HeldPacket;

typedef struct {
  guint        clock_rate;
  guint64      last_ext;
  SyncRef     *sync;
  gboolean     mapped;        /* a sender report gave this track's RTP ↔ NTP mapping */
  guint64      map_ext;
  GstClockTime map_ntp;
  gboolean     fallback;      /* no sender report in time: anchored on arrival */
  guint64      first_ext;
  GstClockTime first_pts;
  GstClockTime last_pts;
  guint64      last_placed_ext;   /* the latest RTP time placed (with last_pts) */
  gint64       last_report;   /* the latest report's mapping less ours, at the same RTP time */
  GArray      *held;          /* of HeldPacket: waiting for the segment's reference */
  gboolean     reinjecting;   /* our own gst_pad_chain of held packets is under way */
} Retime;

static void
held_packet_clear (gpointer data)
{
  gst_clear_buffer (&((HeldPacket *) data)->buf);
}

static Retime *
retime_new (guint clock_rate, SyncRef *sync)
{
  Retime *r = g_new0 (Retime, 1);
  r->clock_rate = clock_rate;
  r->last_ext = G_MAXUINT64;   /* no packet yet: gst_rtp_buffer_ext_timestamp starts from the first */
  r->first_pts = r->last_pts = GST_CLOCK_TIME_NONE;
  g_atomic_int_inc (&sync->refs);
  r->sync = sync;
  r->held = g_array_new (FALSE, FALSE, sizeof (HeldPacket));
  g_array_set_clear_func (r->held, held_packet_clear);
  return r;
}

static void
retime_free (gpointer data)
{
  Retime *r = data;
  g_array_unref (r->held);
  sync_ref_unref (r->sync);
  g_free (r);
}

static GstCaps *
ntp_caps (void)
{
  static GstStaticCaps caps = GST_STATIC_CAPS ("timestamp/x-ntp");
  return gst_static_caps_get (&caps);
}

/* the NTP time of an RTP time, from the track's mapping (backwards too: the clock is linear) */
static GstClockTime
retime_ntp (const Retime *r, guint64 ext)
{
  if (ext >= r->map_ext)
    return r->map_ntp + gst_util_uint64_scale (ext - r->map_ext, GST_SECOND, r->clock_rate);
  GstClockTime back = gst_util_uint64_scale (r->map_ext - ext, GST_SECOND, r->clock_rate);
  return back < r->map_ntp ? r->map_ntp - back : 0;
}

/* The time in the file of a packet, once the segment's reference is set (or the track fell
 * back to arrival times); FALSE: the packet comes before the segment's start, drop it. */
static gboolean
retime_place (Retime *r, guint64 ext, GstClockTime arrival, GstClockTime *pts_out)
{
  SyncRef *sync = r->sync;
  GstClockTime pts;
  if (r->last_pts != GST_CLOCK_TIME_NONE && ext < r->last_placed_ext)
    return FALSE;   /* a straggler (a late retransmission) older than a packet already placed */
  if (!r->fallback) {
    GstClockTime ntp = retime_ntp (r, ext);
    g_mutex_lock (&sync->lock);
    GstClockTime ntp0 = sync->ntp0, pts0 = sync->pts0;
    g_mutex_unlock (&sync->lock);
    /* a sender whose reports disagree with its packets by seconds (not the tens of ms of lip
     * sync) would have this track dropped or misplaced for good: time it by arrival instead */
    gint64 off = ((gint64) ntp - (gint64) ntp0) + ((gint64) pts0 - (gint64) arrival);
    if (off < -(gint64) SYNC_TOLERANCE || off > (gint64) SYNC_TOLERANCE) {
      g_debug ("recorder: a track's sender reports are %" G_GINT64_FORMAT " ms off its arrival: timed by arrival",
               off / (gint64) GST_MSECOND);
      r->fallback = TRUE;
    } else if (ntp < ntp0) {
      return FALSE;   /* before the segment's reference */
    } else {
      pts = pts0 + ntp - ntp0;
    }
  }
  if (r->fallback) {
    if (r->first_pts == GST_CLOCK_TIME_NONE) {
      r->first_pts = arrival;
      r->first_ext = ext;
    }
    if (ext < r->first_ext)
      return FALSE;   /* older than the track's start */
    pts = r->first_pts + gst_util_uint64_scale (ext - r->first_ext, GST_SECOND, r->clock_rate);
  }
  /* a new sender report moved the mapping back (a busy sender's reports jitter by 100 ms and
   * more): time never goes backwards, and a newer packet never shares its predecessor's time —
   * MP4 refuses equal decoding times; 1 ms is Matroska's resolution */
  if (r->last_pts != GST_CLOCK_TIME_NONE && ext > r->last_placed_ext && pts < r->last_pts + GST_MSECOND)
    pts = r->last_pts + GST_MSECOND;
  else if (r->last_pts != GST_CLOCK_TIME_NONE && pts < r->last_pts)
    pts = r->last_pts;   /* another packet of the same frame */
  r->last_pts = pts;
  r->last_placed_ext = ext;
  *pts_out = pts;
  return TRUE;
}

static GstBuffer *
retime_stamp (GstBuffer *buf, GstClockTime pts)
{
  buf = gst_buffer_make_writable (buf);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DTS (buf) = pts;
  return buf;
}

/* the held packets go on, placed on the segment's timeline, before the packet in hand */
static GstFlowReturn
retime_release (Retime *r, GstPad *pad)
{
  GstFlowReturn ret = GST_FLOW_OK;
  r->reinjecting = TRUE;
  for (guint i = 0; i < r->held->len; i++) {
    HeldPacket *h = &g_array_index (r->held, HeldPacket, i);
    GstClockTime pts;
    if (ret != GST_FLOW_OK || !retime_place (r, h->ext, GST_BUFFER_PTS (h->buf), &pts))
      continue;
    g_atomic_int_set (&r->sync->started, 1);
    ret = gst_pad_chain (pad, retime_stamp (g_steal_pointer (&h->buf), pts));
  }
  r->reinjecting = FALSE;
  g_array_set_size (r->held, 0);
  return ret;
}

static void
retime_hold (Retime *r, GstBuffer *buf, guint64 ext)
{
  if (r->held->len >= HELD_MAX)
    g_array_remove_index (r->held, 0);
  HeldPacket h = { gst_buffer_ref (buf), ext };
  g_array_append_val (r->held, h);
}

/* streaming thread of the branch (the only one touching its Retime) */
static GstPadProbeReturn
retime_from_rtp (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Retime *r = data;
  if (r->reinjecting)
    return GST_PAD_PROBE_OK;   /* a held packet, already placed */
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!GST_BUFFER_PTS_IS_VALID (buf) || !gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp))
    return GST_PAD_PROBE_OK;
  guint32 ts = gst_rtp_buffer_get_timestamp (&rtp);
  gst_rtp_buffer_unmap (&rtp);
  guint64 ext = gst_rtp_buffer_ext_timestamp (&r->last_ext, ts);
  GstClockTime arrival = GST_BUFFER_PTS (buf);
  SyncRef *sync = r->sync;
  g_mutex_lock (&sync->lock);
  if (sync->first_seen == GST_CLOCK_TIME_NONE)
    sync->first_seen = arrival;
  gboolean late = arrival >= sync->first_seen + SYNC_WAIT;
  g_mutex_unlock (&sync->lock);
  if (!r->fallback) {
    g_autoptr (GstCaps) caps = ntp_caps ();
    GstReferenceTimestampMeta *meta = gst_buffer_get_reference_timestamp_meta (buf, caps);
    if (meta && r->mapped) {
      /* a later sender report: follow the sender's clock drift, but never jump later. A busy
       * sender (aiortc under load) stamps a report with the time it is sent and the RTP time
       * of its last packet, so a stalled one reports its packets too late, never too early:
       * an earlier mapping is taken at once, a later one creeps by MAP_CREEP per report (a
       * real drift, ~0.1 ms/s, is followed; a stall's 300 ms is not). */
      GstClockTime now_ntp = retime_ntp (r, ext);
      gint64 report = (gint64) meta->timestamp - (gint64) now_ntp;   /* this report against ours */
      gboolean new_report = ABS (report - r->last_report) > (gint64) (GST_MSECOND / 10);
      r->last_report = report;   /* every packet carries the latest report's mapping: act once per report */
      if (new_report || report < 0) {
        r->map_ext = ext;
        r->map_ntp = report <= (gint64) MAP_CREEP ? meta->timestamp : now_ntp + MAP_CREEP;
        r->last_report = (gint64) meta->timestamp - (gint64) r->map_ntp;
      }
    } else if (meta) {
      r->map_ext = ext;
      r->map_ntp = meta->timestamp;
      if (!r->mapped) {   /* this track's first packet is now placed: a candidate start */
        r->mapped = TRUE;
        GstClockTime first_ntp = r->held->len ? retime_ntp (r, g_array_index (r->held, HeldPacket, 0).ext)
                                              : r->map_ntp;
        GstClockTime first_arrival = r->held->len ? GST_BUFFER_PTS (g_array_index (r->held, HeldPacket, 0).buf)
                                                  : arrival;
        g_mutex_lock (&sync->lock);
        if (!sync->candidate || first_ntp > sync->cand_ntp) {
          sync->candidate = TRUE;
          sync->cand_ntp = first_ntp;
          sync->cand_pts = first_arrival;
        }
        g_mutex_unlock (&sync->lock);
        g_atomic_int_inc (&sync->mapped);
      }
    }
    if (!r->mapped && late) {
      g_debug ("recorder: no RTCP sender report within %" GST_TIME_FORMAT ": a track is timed by arrival",
               GST_TIME_ARGS (SYNC_WAIT));
      r->fallback = TRUE;
    }
  }
  /* the segment starts once every track knows its place (or waited long enough) */
  g_mutex_lock (&sync->lock);
  gboolean ready = sync->set || g_atomic_int_get (&sync->mapped) >= (gint) sync->tracks || late;
  if (ready && !sync->set) {
    sync->set = TRUE;
    if (sync->candidate) {
      sync->ntp0 = sync->cand_ntp;
      sync->pts0 = sync->cand_pts;
    } else {   /* no track has a mapping: every one is timed by arrival */
      sync->ntp0 = 0;
      sync->pts0 = arrival;
    }
  }
  g_mutex_unlock (&sync->lock);
  if (!ready || (!r->mapped && !r->fallback)) {
    retime_hold (r, buf, ext);
    return GST_PAD_PROBE_DROP;   /* this track's (or the segment's) place is not known yet */
  }
  GstFlowReturn ret = r->held->len ? retime_release (r, pad) : GST_FLOW_OK;
  GstClockTime pts;
  if (ret == GST_FLOW_OK && !retime_place (r, ext, arrival, &pts))
    return GST_PAD_PROBE_DROP;
  if (ret != GST_FLOW_OK) {
    gst_buffer_unref (buf);
    info->data = NULL;
    GST_PAD_PROBE_INFO_FLOW_RETURN (info) = ret;
    return GST_PAD_PROBE_HANDLED;
  }
  g_atomic_int_set (&sync->started, 1);
  GST_PAD_PROBE_INFO_DATA (info) = retime_stamp (buf, pts);
  return GST_PAD_PROBE_OK;
}

/* streaming thread: the reviewers' talk-back mix (on our clock already) starts with the
 * applicant's tracks, once the segment's reference is set, so every track of the file begins
 * at the same moment */
static GstPadProbeReturn
talk_waits_for_sync (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  SyncRef *sync = data;
  return g_atomic_int_get (&sync->started) ? GST_PAD_PROBE_REMOVE : GST_PAD_PROBE_DROP;
}

static void
sync_ref_unref_notify (gpointer data)
{
  sync_ref_unref (data);
}

/* main loop: while video waits for a keyframe (the segment's first, or after a loss), keep
 * asking the publisher (the relay sends at most one request every 500 ms) */
static KeyframeWant
recorder_want_keyframe (gpointer data)
{
  Recorder *rec = data;
  return g_atomic_int_get (&rec->gaps->waiting) ? KEYFRAME_ASK : KEYFRAME_WAIT;
}

/* Where the segment's file lies on the wall clock: for each buffer reaching the muxer,
 * the wall-clock time of its arrival less its running time (what matroskamux writes as its
 * timestamp); the least of these, over the segment, is the buffer that was delayed least (a
 * start-up burst or a busy moment only ever delays). With the archive's shift (archive.c) it
 * gives the wall-clock time of the archive's 0, the moment a reviewer saw that picture live
 * (the relay and the recorder leave the same jitter buffer). Video first; audio (the talk-back
 * mix is stamped by our clock, not the phone's) only for a segment whose video never came. An
 * atomic rc box with a lock: a streaming thread may still run a probe for a moment after the
 * Recorder is freed. */
typedef struct {
  gboolean     known;
  gint64       wall_us;   /* g_get_real_time () at the arrival of the reference buffer */
  GstClockTime running;   /* and its running time */
} MediaClock;

struct FirstMedia {
  GMutex     lock;
  MediaClock video, other;   /* other: audio, for a segment whose video never came */
};

static void
first_media_clear (gpointer data)
{
  g_mutex_clear (&((struct FirstMedia *) data)->lock);
}

static void
first_media_release (gpointer data)
{
  g_atomic_rc_box_release_full (data, first_media_clear);
}

/* streaming thread of a video pad of the muxer */
static GstPadProbeReturn
note_media_clock (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  struct FirstMedia *fm = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  if (!GST_BUFFER_PTS_IS_VALID (buf))
    return GST_PAD_PROBE_OK;
  gint64 wall_us = g_get_real_time ();
  GstEvent *seg_event = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  const GstSegment *seg = NULL;
  if (seg_event)
    gst_event_parse_segment (seg_event, &seg);
  GstClockTime running = seg ? gst_segment_to_running_time (seg, GST_FORMAT_TIME, GST_BUFFER_PTS (buf))
                             : GST_CLOCK_TIME_NONE;
  gst_clear_event (&seg_event);
  if (running == GST_CLOCK_TIME_NONE)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&fm->lock);
  MediaClock *c = g_str_has_prefix (GST_PAD_NAME (pad), "video") ? &fm->video : &fm->other;
  if (!c->known || wall_us - (gint64) (running / GST_USECOND) < c->wall_us - (gint64) (c->running / GST_USECOND)) {
    c->known = TRUE;
    c->wall_us = wall_us;
    c->running = running;
  }
  g_mutex_unlock (&fm->lock);
  return GST_PAD_PROBE_OK;
}

static gboolean
watch_media_clock (GstElement *mux, GstPad *pad, gpointer data)
{
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, note_media_clock, g_atomic_rc_box_acquire (data),
                     first_media_release);
  return TRUE;
}

/* main loop, once the muxer's pads exist */
static void
recorder_watch_media_clock (Recorder *rec)
{
  GstElement *mux = gst_bin_get_by_name (GST_BIN (rec->mux_bin), "mux");
  rec->first_media = g_atomic_rc_box_new0 (struct FirstMedia);
  g_mutex_init (&rec->first_media->lock);
  if (mux)
    gst_element_foreach_sink_pad (mux, watch_media_clock, rec->first_media);
  gst_clear_object (&mux);
}

gboolean
recorder_first_media (Recorder *rec, gint64 *wall_us, GstClockTime *running)
{
  struct FirstMedia *fm = rec->first_media;
  if (!fm)
    return FALSE;
  g_mutex_lock (&fm->lock);
  const MediaClock *c = fm->video.known ? &fm->video : &fm->other;
  gboolean known = c->known;
  *wall_us = c->wall_us;
  *running = c->running;
  g_mutex_unlock (&fm->lock);
  return known;
}

static GKeyFile *
load_description (const KanyanConfig *cfg, GError **error)
{
  g_autofree gchar *path = g_build_filename (cfg->pipelines_dir, "recorder.ini", NULL);
  GKeyFile *kf = g_key_file_new ();
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error)) {
    g_prefix_error (error, "%s: ", path);
    g_key_file_free (kf);
    return NULL;
  }
  return kf;
}

static gboolean
recorder_add_track (Recorder *rec, GKeyFile *kf, RelayTrack track, GstClockTime base, GError **error)
{
  Relay *relay = rec->relay;
  g_autoptr (GstCaps) caps = relay_track_caps (relay, track);
  const gchar *encoding = NULL;
  if (track == TRACK_TALK)
    encoding = "OPUS";
  else if (caps)
    encoding = gst_structure_get_string (gst_caps_get_structure (caps, 0), "encoding-name");
  if (!encoding)
    return TRUE;   /* track absent */
  g_autofree gchar *depay = g_key_file_get_string (kf, "depay", encoding, NULL);
  if (!depay) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "recorder.ini has no [depay] %s", encoding);
    return FALSE;
  }
  g_autofree gchar *desc = g_strdup_printf (
      /* bounded by packets, not time: timestamps jump at a segment's start and a
       * time-bounded queue would leak the very keyframe the segment waits for */
      "queue name=isolate leaky=downstream max-size-buffers=2000 max-size-bytes=0 max-size-time=0 ! %s", depay);
  GstElement *chain = gst_parse_bin_from_description (desc, TRUE, error);
  if (!chain)
    return FALSE;
  gst_bin_add (relay_pipeline (relay), chain);
  rec->chain[track] = chain;
  GstPad *src = gst_element_get_static_pad (chain, "src");
  GstElement *mux = gst_bin_get_by_name (GST_BIN (rec->mux_bin), "mux");
  GstPad *mux_pad = mux ? gst_element_request_pad_simple (mux, track == TRACK_VIDEO ? "video_%u" : "audio_%u") : NULL;
  /* the muxer lives in its own bin: reach its pad through a ghost pad */
  GstPad *ghost = mux_pad ? gst_ghost_pad_new (NULL, mux_pad) : NULL;
  if (ghost) {
    gst_pad_set_active (ghost, TRUE);
    gst_element_add_pad (rec->mux_bin, ghost);
  }
  gboolean ok = ghost && gst_pad_link (src, ghost) == GST_PAD_LINK_OK;
  if (ok && track == TRACK_VIDEO)
    gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, guard_video_format,
                       g_new0 (BranchGuard, 1), branch_guard_free);
  gst_clear_object (&mux);
  gst_object_unref (src);
  if (!ok) {
    gst_clear_object (&mux_pad);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the muxer takes no %s track", encoding);
    return FALSE;
  }
  gst_object_unref (mux_pad);
  GstElement *queue = gst_bin_get_by_name (GST_BIN (chain), "isolate");
  GstPad *queue_src = queue ? gst_element_get_static_pad (queue, "src") : NULL;
  if (queue_src)
    relay_isolate_branch (queue_src, RECORDER_RESTART);
  GstPad *depay_sink = queue_src ? gst_pad_get_peer (queue_src) : NULL;
  if (depay_sink && track == TRACK_VIDEO && rec->video_codec != RTP_CODEC_UNKNOWN) {
    FrameFilter *f = g_new0 (FrameFilter, 1);
    f->codec = rec->video_codec;
    f->log = gap_log_ref (rec->gaps);
    f->held = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
    gst_pad_add_probe (depay_sink, GST_PAD_PROBE_TYPE_BUFFER, filter_video_frames, f, frame_filter_free);
  } else if (track == TRACK_VIDEO) {
    g_atomic_int_set (&rec->gaps->waiting, 0);
  }
  gst_clear_object (&depay_sink);
  gst_clear_object (&queue_src);
  gst_clear_object (&queue);
  GstPad *sink = gst_element_get_static_pad (chain, "sink");
  gst_pad_set_offset (sink, -(gint64) base);
  gint clock_rate = 0;
  if (track != TRACK_TALK && caps &&   /* the talk-back mix is ours: already on our clock */
      gst_structure_get_int (gst_caps_get_structure (caps, 0), "clock-rate", &clock_rate) && clock_rate > 0) {
    Retime *r = retime_new ((guint) clock_rate, rec->sync);
    rec->sync->tracks++;   /* before any buffer: the tee pad links below */
    gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER, retime_from_rtp, r, retime_free);
  } else if (track == TRACK_TALK) {
    g_atomic_int_inc (&rec->sync->refs);
    gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER, talk_waits_for_sync, rec->sync, sync_ref_unref_notify);
  }
  gst_element_sync_state_with_parent (chain);
  gst_object_unref (sink);
  return TRUE;   /* recorder_start taps the tees once every track is in place */
}

static void recorder_free (Recorder *rec);

Recorder *
recorder_start (Relay *relay, const KanyanConfig *cfg, const gchar *path, GError **error)
{
  g_autoptr (GKeyFile) kf = load_description (cfg, error);
  if (!kf)
    return NULL;
  g_autofree gchar *mux_desc = g_key_file_get_string (kf, "container", "mux", error);
  if (!mux_desc)
    return NULL;
  g_autofree gchar *dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0750) != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot create %s", dir);
    return NULL;
  }
  Recorder *rec = g_new0 (Recorder, 1);
  rec->relay = relay;
  rec->path = g_strdup (path);
  GST_INFO ("recorder: a segment to %s", path);
  rec->video_codec = rtp_codec_from_name (relay_codec_name (relay, TRACK_VIDEO));
  rec->gaps = gap_log_new ();
  rec->sync = sync_ref_new ();
  rec->mux_bin = gst_parse_bin_from_description (mux_desc, FALSE, error);
  if (!rec->mux_bin) {
    recorder_free (rec);
    return NULL;
  }
  GstElement *sink = gst_bin_get_by_name (GST_BIN (rec->mux_bin), "sink");
  if (!sink) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "recorder.ini: the mux description has no element named sink");
    recorder_free (rec);
    return NULL;
  }
  g_object_set (sink, "location", path, NULL);
  gst_object_unref (sink);
  /* the file's write errors (a full disk) reach the room as RECORDER_WRITE_FAILED */
  g_object_set_data (G_OBJECT (rec->mux_bin), RELAY_WRITE_FAILURE, (gpointer) RECORDER_WRITE_FAILED);
  gst_bin_add (relay_pipeline (relay), rec->mux_bin);
  /* playing before any branch links: data reaching a muxer still in NULL is flushed away */
  gst_element_sync_state_with_parent (rec->mux_bin);
  /* the segment's time 0 is now, less the jitter buffer's delay */
  GstClockTime now = relay_running_time (relay);
  GstClockTime lag = (GstClockTime) (cfg->jitter_latency_ms + 100) * GST_MSECOND;
  GstClockTime base = now > lag ? now - lag : 0;
  for (gint t = 0; t < TRACK_COUNT; t++) {
    if (!recorder_add_track (rec, kf, t, base, error)) {
      recorder_stop (rec, NULL, NULL);
      return NULL;
    }
  }
  recorder_watch_media_clock (rec);
  for (gint t = 0; t < TRACK_COUNT; t++) {
    if (!rec->chain[t])
      continue;
    rec->tee_pad[t] = relay_tap_track (relay, t);
    GstPad *sink = gst_element_get_static_pad (rec->chain[t], "sink");
    if (rec->tee_pad[t])
      gst_pad_link (rec->tee_pad[t], sink);
    gst_object_unref (sink);
  }
  rec->keyframe_timer = keyframe_ask_add (relay, recorder_want_keyframe, rec);
  return rec;
}

static void
recorder_free (Recorder *rec)
{
  GstBin *pipeline = relay_pipeline (rec->relay);
  if (rec->keyframe_timer)
    g_source_remove (rec->keyframe_timer);
  for (gint t = 0; t < TRACK_COUNT; t++) {
    if (!rec->chain[t])
      continue;
    gst_element_set_locked_state (rec->chain[t], TRUE);
    gst_object_ref (rec->chain[t]);
    gst_bin_remove (pipeline, rec->chain[t]);
    relay_dispose_element (rec->relay, rec->chain[t]);
  }
  if (rec->mux_bin && GST_OBJECT_PARENT (rec->mux_bin)) {
    gst_element_set_locked_state (rec->mux_bin, TRUE);
    gst_object_ref (rec->mux_bin);
    gst_bin_remove (pipeline, rec->mux_bin);
    gst_element_set_state (rec->mux_bin, GST_STATE_NULL);
    gst_object_unref (rec->mux_bin);
  } else if (rec->mux_bin) {
    gst_object_unref (gst_object_ref_sink (rec->mux_bin));
  }
  gap_log_unref (rec->gaps);
  if (rec->first_media)
    first_media_release (rec->first_media);
  sync_ref_unref (rec->sync);
  g_free (rec->path);
  g_free (rec);
}

/* main loop */
static gboolean
recorder_finish (gpointer data)
{
  Recorder *rec = data;
  if (rec->stop_timeout)
    g_source_remove (rec->stop_timeout);
  gboolean clean = g_atomic_int_get (&rec->finished) == 1;
  g_autofree gchar *path = g_strdup (rec->path);
  RecorderDone done = rec->done;
  gpointer done_data = rec->done_data;
  recorder_free (rec);   /* the sink goes to NULL here: the file is closed */
  GStatBuf st;
  gint64 bytes = g_stat (path, &st) == 0 ? (gint64) st.st_size : 0;
  if (done)
    done (done_data, bytes, clean);
  return G_SOURCE_REMOVE;
}

/* main loop: EOS never reached the file */
static gboolean
recorder_stop_timed_out (gpointer data)
{
  Recorder *rec = data;
  rec->stop_timeout = 0;
  if (!g_atomic_int_compare_and_exchange (&rec->finished, 0, 2))
    return G_SOURCE_REMOVE;   /* EOS arrived meanwhile: its idle finishes */
  g_warning ("recorder: %s did not finish in time; closing it as it is", rec->path);
  return recorder_finish (rec);
}

/* streaming thread: the muxer's EOS reached the file sink */
static GstPadProbeReturn
on_sink_eos (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Recorder *rec = data;
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  if (g_atomic_int_compare_and_exchange (&rec->finished, 0, 1))
    g_idle_add (recorder_finish, rec);   /* wait: the sink still flushes after this probe */
  return GST_PAD_PROBE_OK;
}

void
recorder_stop (Recorder *rec, RecorderDone done, gpointer data)
{
  rec->done = done;
  rec->done_data = data;
  for (gint t = 0; t < TRACK_COUNT; t++) {
    if (rec->tee_pad[t]) {
      relay_untap_track (rec->relay, t, rec->tee_pad[t]);
      rec->tee_pad[t] = NULL;
    }
  }
  GstElement *sink = rec->mux_bin ? gst_bin_get_by_name (GST_BIN (rec->mux_bin), "sink") : NULL;
  gboolean any_chain = FALSE;
  for (gint t = 0; t < TRACK_COUNT; t++)
    any_chain |= rec->chain[t] != NULL;
  if (!sink || !any_chain || !GST_OBJECT_PARENT (rec->mux_bin)) {
    gst_clear_object (&sink);
    recorder_finish (rec);
    return;
  }
  GstPad *sink_pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (sink_pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_sink_eos, rec, NULL);
  gst_object_unref (sink_pad);
  gst_object_unref (sink);
  rec->stop_timeout = g_timeout_add (STOP_TIMEOUT_MS, recorder_stop_timed_out, rec);
  for (gint t = 0; t < TRACK_COUNT; t++) {
    if (!rec->chain[t])
      continue;
    GstPad *chain_sink = gst_element_get_static_pad (rec->chain[t], "sink");
    gst_pad_send_event (chain_sink, gst_event_new_eos ());
    gst_object_unref (chain_sink);
  }
}

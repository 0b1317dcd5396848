/* segment_sync.c — one recording segment's timeline: its tracks timed on the phone's clock
 * (RTCP sender reports) from one reference, held until each knows its place, started at one
 * instant. Pad probes on the recorder's track chains; owns their timing state, never touches
 * the muxer or the relay. */
#include "media/segment_sync.h"
#include "media/media_debug.h"
#include <gst/rtp/rtp.h>

GST_DEBUG_CATEGORY_STATIC (kanyan_segment_sync_debug);   /* GST_DEBUG=kanyan-segment-sync:6 (media_debug.h) */
#define GST_CAT_DEFAULT kanyan_segment_sync_debug

void
segment_sync_debug_init (void)
{
  GST_DEBUG_CATEGORY_INIT (kanyan_segment_sync_debug, "kanyan-segment-sync", 0,
                           "Kanyan: a recording segment's tracks timed on the phone's sender reports (segment_sync.c)");
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
#define SYNC_DISTRUST  (10 * GST_SECOND)   /* how long a track may come that late before its reports are dropped */
#define MAP_CREEP      (2 * GST_MSECOND)
#define HELD_MAX       4000   /* packets held per track while waiting: 3 s of a 10 Mbit/s picture */

struct _SyncRef {
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
  GstClockTime timed_end;     /* the latest time placed on a timed track (under lock): the phone's now */
};

SyncRef *
sync_ref_new (void)
{
  SyncRef *sync = g_new0 (SyncRef, 1);
  sync->refs = 1;
  sync->first_seen = GST_CLOCK_TIME_NONE;
  sync->timed_end = GST_CLOCK_TIME_NONE;
  g_mutex_init (&sync->lock);
  return sync;
}

void
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
  gboolean     fallback;      /* no sender report in time, or reports found wrong: anchored on arrival */
  GstClockTime late_since;     /* arrival of the first of a run of packets over SYNC_TOLERANCE late, or NONE */
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
  r->first_pts = r->last_pts = r->late_since = GST_CLOCK_TIME_NONE;
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
    /* A sender whose reports disagree with its packets by seconds (not the tens of ms of lip
     * sync) would have this track dropped or misplaced for good: time it by arrival instead.
     * A packet that comes seconds before its report's time says so at once (nothing arrives
     * before it is sent). One that comes seconds late is no proof: a phone's encoder that falls
     * behind, or a link whose queue fills, delivers a track late for a while, and timing it by
     * arrival from then on would leave it seconds behind the others for the rest of the file.
     * Late reports are given up only when every packet for SYNC_DISTRUST has been that late. */
    gint64 off = ((gint64) ntp - (gint64) ntp0) + ((gint64) pts0 - (gint64) arrival);
    if (off >= -(gint64) SYNC_TOLERANCE)
      r->late_since = GST_CLOCK_TIME_NONE;
    else if (r->late_since == GST_CLOCK_TIME_NONE)
      r->late_since = arrival;
    if (off > (gint64) SYNC_TOLERANCE ||
        (r->late_since != GST_CLOCK_TIME_NONE && arrival >= r->late_since + SYNC_DISTRUST)) {
      GST_DEBUG ("a track's sender reports are %" G_GINT64_FORMAT " ms off its arrival: timed by arrival",
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

/* under sync->lock: the segment's reference is the latest first packet of the tracks that have
 * a report, or (none has) `arrival`, every track then timed by arrival */
static void
sync_ref_set_start (SyncRef *sync, GstClockTime arrival)
{
  sync->set = TRUE;
  if (sync->candidate) {
    sync->ntp0 = sync->cand_ntp;
    sync->pts0 = sync->cand_pts;
  } else {
    sync->ntp0 = 0;
    sync->pts0 = arrival;
  }
}

/* The segment ends (EOS) while this track still holds packets: a session shorter than
 * SYNC_WAIT whose sender reports had not all come (a phone's first audio report can take
 * seconds), or a stop in the first seconds of a segment. What the track holds is the record:
 * it goes on, placed as SYNC_WAIT would have placed it: on the segment's reference if the
 * tracks that have a report set one (else the first held packet's arrival starts it), and by
 * arrival if this track has no report. Called with the pad's stream lock held (serialized
 * event), after the recorder untapped the tee: no buffer of this track is under way. */
static void
retime_release_at_end (Retime *r, GstPad *pad)
{
  SyncRef *sync = r->sync;
  g_mutex_lock (&sync->lock);
  if (!sync->set) {
    sync_ref_set_start (sync, GST_BUFFER_PTS (g_array_index (r->held, HeldPacket, 0).buf));
    GST_INFO ("the segment ends before its start was known: %d of %u tracks on the phone's sender reports",
              g_atomic_int_get (&sync->mapped), sync->tracks);
  }
  g_mutex_unlock (&sync->lock);
  if (!r->mapped)
    r->fallback = TRUE;
  retime_release (r, pad);
}

/* streaming thread of the branch (the only one touching its Retime); the recorder's stop
 * (its EOS, main loop) once the branch is untapped */
static GstPadProbeReturn
retime_from_rtp (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Retime *r = data;
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS && r->held->len)
      retime_release_at_end (r, pad);
    return GST_PAD_PROBE_OK;
  }
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
      GST_DEBUG ("no RTCP sender report within %" GST_TIME_FORMAT ": a track is timed by arrival",
                 GST_TIME_ARGS (SYNC_WAIT));
      r->fallback = TRUE;
    }
  }
  /* the segment starts once every track knows its place (or waited long enough) */
  g_mutex_lock (&sync->lock);
  gboolean ready = sync->set || g_atomic_int_get (&sync->mapped) >= (gint) sync->tracks || late;
  if (ready && !sync->set) {
    GST_INFO ("the segment starts: %d of %u tracks on the phone's sender reports", g_atomic_int_get (&sync->mapped),
              sync->tracks);
    sync_ref_set_start (sync, arrival);
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
  g_mutex_lock (&sync->lock);
  if (sync->timed_end == GST_CLOCK_TIME_NONE || pts > sync->timed_end)
    sync->timed_end = pts;
  g_mutex_unlock (&sync->lock);
  g_atomic_int_set (&sync->started, 1);   /* after timed_end: the talk track reads it from now on */
  GST_PAD_PROBE_INFO_DATA (info) = retime_stamp (buf, pts);
  return GST_PAD_PROBE_OK;
}

/* The talk-back track (the reviewers' mix, on our clock already) starts with the applicant's
 * tracks, once the segment's reference is set, so every track of the file begins at the same
 * moment. While nobody talks it carries an idle silent packet every 250 ms (relay.c), stamped
 * by our clock: when the phone's media come late (a busy or stalled sender; the timed tracks
 * are on the phone's clock), such packets would run ahead of the phone's tracks and the file
 * would outlast its picture — by up to RELAY_STALL_MS when the phone's link dies. So an idle
 * packet is placed no later than the phone's latest media, and one that would not advance the
 * track is dropped (the muxer needs the track to move only as far as the others). */
typedef struct {
  SyncRef     *sync;
  GstClockTime last;   /* the latest talk time passed */
} Follow;

static void
follow_free (gpointer data)
{
  Follow *f = data;
  sync_ref_unref (f->sync);
  g_free (f);
}

/* streaming thread of the talk tee's branch (main loop for the idle packets: relay_talk_gap) */
static GstPadProbeReturn
talk_follows_timed_tracks (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Follow *f = data;
  if (!g_atomic_int_get (&f->sync->started))
    return GST_PAD_PROBE_DROP;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime pts = GST_BUFFER_PTS (buf);
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP) && GST_CLOCK_TIME_IS_VALID (pts)) {
    g_mutex_lock (&f->sync->lock);
    GstClockTime phone_now = f->sync->timed_end;
    g_mutex_unlock (&f->sync->lock);
    if (pts > phone_now) {
      if (GST_CLOCK_TIME_IS_VALID (f->last) && phone_now <= f->last)
        return GST_PAD_PROBE_DROP;   /* the phone's tracks have not moved since the last one */
      GST_LOG ("an idle talk packet at %" GST_TIME_FORMAT " placed at the phone's %" GST_TIME_FORMAT,
               GST_TIME_ARGS (pts), GST_TIME_ARGS (phone_now));
      pts = phone_now;
      GST_PAD_PROBE_INFO_DATA (info) = retime_stamp (buf, pts);
    }
  }
  if (GST_CLOCK_TIME_IS_VALID (pts) && (!GST_CLOCK_TIME_IS_VALID (f->last) || pts > f->last))
    f->last = pts;
  return GST_PAD_PROBE_OK;
}

void
sync_ref_time_track (SyncRef *sync, GstPad *pad, guint clock_rate)
{
  Retime *r = retime_new (clock_rate, sync);
  sync->tracks++;   /* before any buffer: the caller links the tee pad afterwards */
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, retime_from_rtp, r,
                     retime_free);
}

void
sync_ref_follow (SyncRef *sync, GstPad *pad)
{
  Follow *f = g_new0 (Follow, 1);
  g_atomic_int_inc (&sync->refs);
  f->sync = sync;
  f->last = GST_CLOCK_TIME_NONE;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, talk_follows_timed_tracks, f, follow_free);
}

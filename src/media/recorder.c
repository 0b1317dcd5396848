/* recorder.c — a recording segment: for each track a lane of one leaky lanes element (lanes.c,
 * one thread for the segment), then a depayloader, from the relay's tee into a muxer of
 * pipelines/recorder.ini and a file of its own (see "A file per track" below; archive.c joins
 * them). The lanes are leaky so a slow disk never blocks the relay; video reaches the depayloader only as whole frames, from a
 * keyframe on (frame_filter.c: a freeze, never smear, each gap noted); every track is timed
 * on the phone's clock from one reference (segment_sync.c). A new resolution stays in the
 * segment (the keyframes carry it in band). Owns its elements; never touches the publisher
 * or viewers. */
#include "media/recorder.h"
#include "media/keyframe_gate.h"
#include "media/frame_filter.h"
#include "media/lanes.h"
#include "media/segment_sync.h"
#include "core/errors.h"
#include "core/metrics.h"
#include <gst/rtp/rtp.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include "media/media_debug.h"

static GstPadProbeReturn count_written (GstPad *pad, GstPadProbeInfo *info, gpointer data);

/* every media module opens with this block, its own GStreamer debug category: alike by
 * design (GStreamer's one category per module), registered once by media_debug.c */
GST_DEBUG_CATEGORY_STATIC (kanyan_recorder_debug);   /* GST_DEBUG=kanyan-recorder:6 (media_debug.h) */
#define GST_CAT_DEFAULT kanyan_recorder_debug

void
recorder_debug_init (void)
{
  GST_DEBUG_CATEGORY_INIT (kanyan_recorder_debug, "kanyan-recorder", 0,
                           "Kanyan: recording segments into Matroska (recorder.c)");
}

#define STOP_TIMEOUT_MS    5000

/* A file per track. A muxer (matroskamux 1.22, CollectPads) interleaves: it writes only when
 * each of its tracks holds a buffer, the earliest first, and holds each track's streaming
 * thread until then. In one muxer the applicant's video waited up to 600 ms at a time in its
 * queue for the audio and the talk-back track (the phone's audio is placed later than its
 * picture, the idle talk-back comes every 250 ms) — ~1 MB of packets per inspection held, and
 * a thread hand-off per buffer (bench/README.md, lever 10). So each track has its muxer and
 * its file (the segment's `segment-NNN.mkv` for the video, `.audio.mkv` and `.talk.mkv`
 * beside it, same container), all on the relay's running time; the archive interleaves them. */
struct _Recorder {
  Relay      *relay;
  gchar      *path[TRACK_COUNT];
  GstElement *mux_bin[TRACK_COUNT];
  gint        files_open;        /* atomic: files whose EOS has not reached the disk yet */
  GstElement *lanes;             /* the tracks' one leaky queue and thread, in front of the chains */
  GstPad     *lane_sink[TRACK_COUNT];
  GstElement *chain[TRACK_COUNT];
  GstPad     *tee_pad[TRACK_COUNT];
  RtpCodec    video_codec;
  GapLog     *gaps;              /* shared with the video chain's frame filter */
  SyncRef    *sync;              /* the segment's one timing reference, shared by its tracks */
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
  return rec->path[TRACK_VIDEO];
}

GArray *
recorder_take_gaps (Recorder *rec)
{
  return gap_log_take (rec->gaps);
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

/* main loop: while video waits for a keyframe (the segment's first, or after a loss), keep
 * asking the publisher (the relay sends at most one request every 500 ms) */
static KeyframeWant
recorder_want_keyframe (gpointer data)
{
  Recorder *rec = data;
  return gap_log_waiting (rec->gaps) ? KEYFRAME_ASK : KEYFRAME_WAIT;
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
  rec->first_media = g_atomic_rc_box_new0 (struct FirstMedia);
  g_mutex_init (&rec->first_media->lock);
  for (gint t = 0; t < TRACK_COUNT; t++) {   /* every file: one running time */
    GstElement *mux = rec->mux_bin[t] ? gst_bin_get_by_name (GST_BIN (rec->mux_bin[t]), "mux") : NULL;
    if (mux)
      gst_element_foreach_sink_pad (mux, watch_media_clock, rec->first_media);
    gst_clear_object (&mux);
  }
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

/* main loop: a muxer bin from the container description, writing to path, in the pipeline */
static GstElement *
recorder_add_file (Recorder *rec, const gchar *mux_desc, const gchar *path, GError **error)
{
  GstElement *bin = gst_parse_bin_from_description (mux_desc, FALSE, error);
  if (!bin)
    return NULL;
  GstElement *sink = gst_bin_get_by_name (GST_BIN (bin), "sink");
  if (!sink) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "recorder.ini: the mux description has no element named sink");
    gst_object_unref (gst_object_ref_sink (bin));
    return NULL;
  }
  g_object_set (sink, "location", path, NULL);
  GstPad *sink_pad = gst_element_get_static_pad (sink, "sink");
  if (sink_pad) {
    gst_pad_add_probe (sink_pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, count_written, NULL, NULL);
    gst_object_unref (sink_pad);
  }
  gst_object_unref (sink);
  /* the file's write errors (a full disk) reach the room as RECORDER_WRITE_FAILED */
  g_object_set_data (G_OBJECT (bin), RELAY_WRITE_FAILURE, (gpointer) RECORDER_WRITE_FAILED);
  gst_bin_add (relay_pipeline (rec->relay), bin);
  /* playing before any branch links: data reaching a muxer still in NULL is flushed away */
  gst_element_sync_state_with_parent (bin);
  return bin;
}

static gboolean
recorder_add_track (Recorder *rec, GKeyFile *kf, const gchar *mux_desc, RelayTrack track, GstClockTime base,
                    GError **error)
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
  GstElement *mux_bin = rec->mux_bin[track] = recorder_add_file (rec, mux_desc, rec->path[track], error);
  if (!mux_bin)
    return FALSE;
  GstElement *chain = gst_parse_bin_from_description (depay, TRUE, error);
  if (!chain)
    return FALSE;
  gst_bin_add (relay_pipeline (relay), chain);
  rec->chain[track] = chain;
  GstPad *src = gst_element_get_static_pad (chain, "src");
  GstElement *mux = gst_bin_get_by_name (GST_BIN (mux_bin), "mux");
  GstPad *mux_pad = mux ? gst_element_request_pad_simple (mux, track == TRACK_VIDEO ? "video_%u" : "audio_%u") : NULL;
  /* the muxer lives in its own bin: reach its pad through a ghost pad */
  GstPad *ghost = mux_pad ? gst_ghost_pad_new (NULL, mux_pad) : NULL;
  if (ghost) {
    gst_pad_set_active (ghost, TRUE);
    gst_element_add_pad (mux_bin, ghost);
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
  GstPad *chain_sink = gst_element_get_static_pad (chain, "sink");
  GstPad *lane_src = NULL;
  GstPad *sink = rec->lane_sink[track] = lanes_add_lane (rec->lanes, &lane_src);
  gst_pad_link (lane_src, chain_sink);
  relay_isolate_branch (lane_src, RECORDER_RESTART);
  GstPad *depay_sink = gst_ghost_pad_get_target (GST_GHOST_PAD (chain_sink));
  if (depay_sink && track == TRACK_VIDEO && rec->video_codec != RTP_CODEC_UNKNOWN) {
    frame_filter_add (depay_sink, rec->video_codec, rec->gaps);
  } else if (track == TRACK_VIDEO) {
    gap_log_set_waiting (rec->gaps, FALSE);
  }
  gst_clear_object (&depay_sink);
  gst_object_unref (chain_sink);
  /* what the queue's sink pad did before the lanes, the lane's sink pad does: it is the one
   * the tee's thread and the held packets' release (segment_sync.c) may both push into */
  gst_pad_set_offset (sink, -(gint64) base);
  gint clock_rate = 0;
  if (track != TRACK_TALK && caps &&   /* the talk-back mix is ours: already on our clock */
      gst_structure_get_int (gst_caps_get_structure (caps, 0), "clock-rate", &clock_rate) && clock_rate > 0) {
    sync_ref_time_track (rec->sync, sink, (guint) clock_rate);   /* before any buffer: the tee pad links later */
  } else if (track == TRACK_TALK) {
    sync_ref_follow (rec->sync, sink);
  }
  gst_element_sync_state_with_parent (chain);
  return TRUE;   /* recorder_start taps the tees once every track is in place */
}

Recorder *
recorder_start (Relay *relay, const KanyanConfig *cfg, const gchar *const paths[TRACK_COUNT], GError **error)
{
  g_autoptr (GKeyFile) kf = load_description (cfg, error);
  if (!kf)
    return NULL;
  g_autofree gchar *mux_desc = g_key_file_get_string (kf, "container", "mux", error);
  if (!mux_desc)
    return NULL;
  g_autofree gchar *dir = g_path_get_dirname (paths[TRACK_VIDEO]);
  if (g_mkdir_with_parents (dir, 0750) != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot create %s", dir);
    return NULL;
  }
  Recorder *rec = g_new0 (Recorder, 1);
  rec->relay = relay;
  for (gint t = 0; t < TRACK_COUNT; t++)
    rec->path[t] = g_strdup (paths[t]);
  GST_INFO ("recorder: a segment to %s (and %s, %s)", paths[TRACK_VIDEO], paths[TRACK_AUDIO], paths[TRACK_TALK]);
  rec->video_codec = rtp_codec_from_name (relay_codec_name (relay, TRACK_VIDEO));
  rec->gaps = gap_log_new ();
  rec->sync = sync_ref_new ();
  /* the segment's time 0 is now, less the jitter buffer's delay */
  GstClockTime now = relay_running_time (relay);
  GstClockTime lag = (GstClockTime) (cfg->jitter_latency_ms + 100) * GST_MSECOND;
  GstClockTime base = now > lag ? now - lag : 0;
  /* bounded by packets, not time: timestamps jump at a segment's start and a time-bounded
   * lane would leak the very keyframe the segment waits for */
  rec->lanes = lanes_new ("lanes-rec", 2000, 0);
  gst_bin_add (relay_pipeline (relay), rec->lanes);
  gst_element_sync_state_with_parent (rec->lanes);
  for (gint t = 0; t < TRACK_COUNT; t++) {
    if (!recorder_add_track (rec, kf, mux_desc, t, base, error)) {
      recorder_stop (rec, NULL, NULL);
      return NULL;
    }
  }
  recorder_watch_media_clock (rec);
  for (gint t = 0; t < TRACK_COUNT; t++) {
    if (!rec->chain[t])
      continue;
    rec->tee_pad[t] = relay_tap_track (relay, t);
    if (rec->tee_pad[t])
      gst_pad_link (rec->tee_pad[t], rec->lane_sink[t]);
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
  if (rec->lanes) {
    gst_element_set_locked_state (rec->lanes, TRUE);
    gst_object_ref (rec->lanes);
    gst_bin_remove (pipeline, rec->lanes);
    relay_dispose_element (rec->relay, rec->lanes);
  }
  for (gint t = 0; t < TRACK_COUNT; t++) {
    if (!rec->chain[t])
      continue;
    gst_element_set_locked_state (rec->chain[t], TRUE);
    gst_object_ref (rec->chain[t]);
    gst_bin_remove (pipeline, rec->chain[t]);
    relay_dispose_element (rec->relay, rec->chain[t]);
  }
  for (gint t = 0; t < TRACK_COUNT; t++) {
    GstElement *bin = rec->mux_bin[t];
    if (!bin)
      continue;
    gst_element_set_locked_state (bin, TRUE);
    gst_object_ref (bin);
    gst_bin_remove (pipeline, bin);
    gst_element_set_state (bin, GST_STATE_NULL);
    gst_object_unref (bin);
  }
  gap_log_unref (rec->gaps);
  if (rec->first_media)
    first_media_release (rec->first_media);
  sync_ref_unref (rec->sync);
  for (gint t = 0; t < TRACK_COUNT; t++)
    g_free (rec->path[t]);
  g_free (rec);
}

/* the file sink's streaming thread: what the muxer hands to the file, for the metrics (one
 * atomic add per muxer output buffer: a frame or a cluster header) */
static GstPadProbeReturn
count_written (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    metrics_recording_bytes (gst_buffer_get_size (GST_PAD_PROBE_INFO_BUFFER (info)));
  else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    metrics_recording_bytes (gst_buffer_list_calculate_size (GST_PAD_PROBE_INFO_BUFFER_LIST (info)));
  return GST_PAD_PROBE_OK;
}

/* main loop */
static gboolean
recorder_finish (gpointer data)
{
  Recorder *rec = data;
  if (rec->stop_timeout)
    g_source_remove (rec->stop_timeout);
  gboolean clean = g_atomic_int_get (&rec->finished) == 1;
  RecorderDone done = rec->done;
  gpointer done_data = rec->done_data;
  g_auto (GStrv) written = g_new0 (gchar *, TRACK_COUNT + 1);
  for (gint t = 0, n = 0; t < TRACK_COUNT; t++)
    if (rec->mux_bin[t])
      written[n++] = g_strdup (rec->path[t]);
  recorder_free (rec);   /* the sinks go to NULL here: the files are closed */
  gint64 bytes = 0;
  for (gchar **path = written; *path; path++) {
    GStatBuf st;
    if (g_stat (*path, &st) == 0)
      bytes += st.st_size;
  }
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
  g_warning ("recorder: %s (or a file beside it) did not finish in time; closing it as it is", rec->path[TRACK_VIDEO]);
  return recorder_finish (rec);
}

/* streaming thread: a muxer's EOS reached its file sink; the segment is done with the last */
static GstPadProbeReturn
on_sink_eos (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Recorder *rec = data;
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  if (g_atomic_int_dec_and_test (&rec->files_open) && g_atomic_int_compare_and_exchange (&rec->finished, 0, 1))
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
  /* each track's file waits for its EOS */
  GstElement *sinks[TRACK_COUNT] = { NULL };
  gint waiting = 0;
  for (gint t = 0; t < TRACK_COUNT; t++)
    if (rec->chain[t] && (sinks[t] = gst_bin_get_by_name (GST_BIN (rec->mux_bin[t]), "sink")))
      waiting++;
  if (waiting == 0) {
    recorder_finish (rec);
    return;
  }
  g_atomic_int_set (&rec->files_open, waiting);
  for (gint t = 0; t < TRACK_COUNT; t++) {
    if (!sinks[t])
      continue;
    GstPad *sink_pad = gst_element_get_static_pad (sinks[t], "sink");
    gst_pad_add_probe (sink_pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_sink_eos, rec, NULL);
    gst_object_unref (sink_pad);
    gst_object_unref (sinks[t]);
  }
  rec->stop_timeout = g_timeout_add (STOP_TIMEOUT_MS, recorder_stop_timed_out, rec);
  for (gint t = 0; t < TRACK_COUNT; t++) {
    if (!rec->chain[t])
      continue;
    gst_pad_send_event (rec->lane_sink[t], gst_event_new_eos ());   /* behind what the lane holds */
  }
}

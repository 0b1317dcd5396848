/* relay.c — the pipeline of one live inspection: tees per track (allow-not-linked), the
 * leaky branches that feed viewers and the recorder, the talk-back mixer that turns the
 * reviewers' voices into one Opus stream for the applicant, and keyframe requests.
 * The publisher's webrtcbin is in ingest.c, each viewer's in viewer.c. */
#include "media/relay_private.h"
#include "media/keyframe_gate.h"
#include "media/lanes.h"
#include "core/errors.h"
#include "core/metrics.h"
#include <gst/rtp/rtp.h>
#include <gst/video/video.h>
#include <string.h>
#include "media/media_debug.h"

GST_DEBUG_CATEGORY_STATIC (kanyan_relay_debug);   /* GST_DEBUG=kanyan-relay:6 (media_debug.h) */
#define GST_CAT_DEFAULT kanyan_relay_debug

void
relay_debug_init (void)
{
  GST_DEBUG_CATEGORY_INIT (kanyan_relay_debug, "kanyan-relay", 0,
                           "Kanyan: one inspection's live graph, tees and branches (relay.c)");
}

#define KEYFRAME_INTERVAL_US (KEYFRAME_RETRY_MS * G_TIME_SPAN_MILLISECOND)

static void relay_talk_gap (Relay *relay);

GstBin *
relay_pipeline (Relay *relay)
{
  return GST_BIN (relay->pipeline);
}

GstClockTime
relay_running_time (Relay *relay)
{
  GstClock *clock = gst_pipeline_get_clock (relay->pipeline);
  if (!clock)
    return 0;
  GstClockTime now = gst_clock_get_time (clock);
  gst_object_unref (clock);
  GstClockTime base = gst_element_get_base_time (GST_ELEMENT (relay->pipeline));
  return now > base ? now - base : 0;
}

/* main loop: a pipeline error leaves the graph as it stood, as DOT — written only when
 * GST_DEBUG_DUMP_DOT_DIR is set (GStreamer's rule), named after the case (the relay's name) */
static void
dump_graph (Relay *relay)
{
  const gchar *dir = g_getenv ("GST_DEBUG_DUMP_DOT_DIR");
  if (!dir || !*dir)
    return;
  static guint serial;   /* main loop only */
  g_autofree gchar *name = g_strdup_printf ("kanyan-%s-error-%u", relay->name, ++serial);
  g_strcanon (name, G_CSET_A_2_Z G_CSET_a_2_z G_CSET_DIGITS "-_.", '_');
  GST_DEBUG_BIN_TO_DOT_FILE (GST_BIN (relay->pipeline), GST_DEBUG_GRAPH_SHOW_ALL, name);
  g_warning ("relay %s: pipeline error: the graph is in %s/%s.dot", relay->name, dir, name);
}

/* main loop */
static gboolean
on_bus_message (GstBus *bus, GstMessage *msg, gpointer data)
{
  Relay *relay = data;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;
    g_autofree gchar *debug = NULL;
    gst_message_parse_error (msg, &err, &debug);
    g_warning ("relay %s: %s: %s (%s)", relay->name, GST_OBJECT_NAME (msg->src), err->message,
               debug ? debug : "");
    GST_ERROR_OBJECT (msg->src, "relay %s: %s", relay->name, err->message);
    dump_graph (relay);
    /* a branch that writes (the recorder's file) asked to hear of its write errors */
    const gchar *failure = NULL;
    for (GstObject *o = msg->src; o && !failure; o = GST_OBJECT_PARENT (o))
      failure = g_object_get_data (G_OBJECT (o), RELAY_WRITE_FAILURE);
    if (failure && err->domain == GST_RESOURCE_ERROR && relay->branch_notify) {
      g_autofree gchar *what = g_strconcat (failure, err->code == GST_RESOURCE_ERROR_NO_SPACE_LEFT
                                                     ? RELAY_NO_SPACE_SUFFIX : "", NULL);
      relay->branch_notify (relay->media_owner, what);
    }
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_LATENCY) {
    /* elements join a playing pipeline: hand every branch the new latency */
    gst_bin_recalculate_latency (GST_BIN (relay->pipeline));
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_APPLICATION && relay->branch_notify) {
    relay->branch_notify (relay->media_owner, gst_structure_get_name (gst_message_get_structure (msg)));
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
    g_autoptr (GError) err = NULL;
    gst_message_parse_warning (msg, &err, NULL);
    g_debug ("relay %s: %s: %s", relay->name, GST_OBJECT_NAME (msg->src), err->message);
  }
  return G_SOURCE_CONTINUE;
}

typedef struct { Relay *relay; gboolean flowing; } MediaNote;

/* main loop */
static gboolean
media_note_dispatch (gpointer data)
{
  MediaNote *note = data;
  if (note->relay->media_notify)
    note->relay->media_notify (note->relay->media_owner, note->flowing);
  return G_SOURCE_REMOVE;
}

/* streaming thread: every video packet entering the video tee */
static GstPadProbeReturn
on_video_packet (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Relay *relay = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  g_atomic_pointer_set (&relay->last_media_us, GSIZE_TO_POINTER (g_get_monotonic_time ()));
  if (g_atomic_int_compare_and_exchange (&relay->media_flowing, 0, 1)) {
    MediaNote *note = g_new (MediaNote, 1);
    note->relay = relay;
    note->flowing = TRUE;
    g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT, media_note_dispatch, note, g_free);
  }
  if (buf && gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp)) {
    if (keyframe_rtp_is_key (relay->video_codec, &rtp)) {
      g_atomic_pointer_set (&relay->last_keyframe_seen_us, GSIZE_TO_POINTER (g_get_monotonic_time ()));
      g_debug ("relay %s: keyframe seq %u", relay->name, gst_rtp_buffer_get_seq (&rtp));
    }
    gst_rtp_buffer_unmap (&rtp);
  }
  return GST_PAD_PROBE_OK;
}

/* streaming thread: every audio packet entering the audio tee (the link is alive) */
static GstPadProbeReturn
on_audio_packet (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Relay *relay = data;
  g_atomic_pointer_set (&relay->last_media_us, GSIZE_TO_POINTER (g_get_monotonic_time ()));
  return GST_PAD_PROBE_OK;
}

/* main loop: media was flowing and nothing came for RELAY_STALL_MS — the publisher's link is
 * down. Tell it as a stop (the recorder ends its segment, reviewers see "reconnecting"); the
 * next packet, on this publisher or a new one, tells "flowing" again. */
static void
relay_check_stall (Relay *relay)
{
  gint64 last = (gint64) GPOINTER_TO_SIZE (g_atomic_pointer_get (&relay->last_media_us));
  if (!relay->publisher || !g_atomic_int_get (&relay->media_flowing) ||
      g_get_monotonic_time () - last < (gint64) RELAY_STALL_MS * 1000)
    return;
  if (g_atomic_int_compare_and_exchange (&relay->media_flowing, 1, 0)) {
    g_info ("relay %s: no media from the publisher for %d ms", relay->name, RELAY_STALL_MS);
    if (relay->media_notify)
      relay->media_notify (relay->media_owner, FALSE);
  }
}

gint64
relay_last_media_wall_ms (Relay *relay)
{
  gint64 last = (gint64) GPOINTER_TO_SIZE (g_atomic_pointer_get (&relay->last_media_us));
  if (!last)
    return 0;
  return (g_get_real_time () - (g_get_monotonic_time () - last)) / 1000;
}

gboolean
relay_talk_running (Relay *relay)
{
  g_mutex_lock (&relay->lock);
  gboolean running = relay->talk_running;
  g_mutex_unlock (&relay->lock);
  return running;
}

static gint64
relay_last_keyframe (Relay *relay)
{
  return GPOINTER_TO_SIZE (g_atomic_pointer_get (&relay->last_keyframe_seen_us));
}

/* Any thread. The one door to the publisher: at most one request every KEYFRAME_RETRY_MS,
 * whoever asks (a waiting branch's timer, a viewer's PLI or FIR, a depayloader or decoder, the
 * recorder's frame filter after a loss) — a weak link's repeated PLIs must not have the phone
 * send keyframe after keyframe. One exception, `newcomer`: a branch that starts to wait (a
 * viewer just connected, a still, a new segment) asks at once if the last request has been
 * answered already (a keyframe passed the tee since). A reviewer who connects just after the
 * recorder's first keyframe is then not made to wait out the 500 ms (the bench's
 * connected→keyframe p50 was ~320 ms at 5 inspections for that alone); newcomers are people
 * joining, and a newcomer's request never adds a second unanswered one. A request held back
 * is not lost: it is "wanted", and on_keyframe_timer sends it once the limit allows, unless a
 * keyframe passed the tee in between. */
static void
relay_send_keyframe_request (Relay *relay, gboolean newcomer)
{
  gint64 now = g_get_monotonic_time ();
  gpointer last = g_atomic_pointer_get (&relay->last_keyframe_request_us);
  gboolean answered = relay_last_keyframe (relay) > (gint64) GPOINTER_TO_SIZE (last);
  if (((!newcomer || !answered) && now - (gint64) GPOINTER_TO_SIZE (last) < KEYFRAME_INTERVAL_US) ||
      !g_atomic_pointer_compare_and_exchange (&relay->last_keyframe_request_us, last, GSIZE_TO_POINTER (now)))
    return;
  metrics_keyframe_request (METRIC_KEYFRAME_RELAY);
  g_debug ("relay %s: asking the publisher for a keyframe", relay->name);
  GstPad *sink = gst_element_get_static_pad (relay->tee[TRACK_VIDEO], "sink");
  GstPad *ingest = gst_pad_get_peer (sink);
  /* into the publisher's webrtcbin, whose rtpsession sends the phone a PLI (all-headers=TRUE
   * would make it a FIR, which aiortc and some encoders ignore). Sent to the peer, not pushed
   * on the tee's pad, so that on_keyframe_request does not catch it again. */
  if (ingest)
    gst_pad_send_event (ingest, gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, FALSE, 0));
  gst_clear_object (&ingest);
  gst_object_unref (sink);
}

static void
relay_want_keyframe (Relay *relay, gboolean newcomer)
{
  gint64 now = g_get_monotonic_time ();
  gpointer since = g_atomic_pointer_get (&relay->keyframe_wanted_since);
  /* wanted from the first unanswered request on; one answered already starts a new wait */
  if (!since || relay_last_keyframe (relay) > (gint64) GPOINTER_TO_SIZE (since))
    g_atomic_pointer_compare_and_exchange (&relay->keyframe_wanted_since, since, GSIZE_TO_POINTER (now));
  relay_send_keyframe_request (relay, newcomer);
}

void
relay_request_keyframe (Relay *relay)
{
  relay_want_keyframe (relay, FALSE);
}

void
relay_request_keyframe_for_newcomer (Relay *relay)
{
  relay_want_keyframe (relay, TRUE);
}

/* streaming thread of a branch (a viewer's webrtcbin, a depayloader or decoder, the
 * recorder's frame filter): a keyframe request travelling up into the video tee. It goes no
 * further: the relay asks the publisher itself, within its limit. Browsers and webrtcbin ask
 * with FIR (all-headers=TRUE); once rtpsession has a FIR pending for a publisher that never
 * honours FIR (aiortc), it sends no PLI ever again, so every request leaves as a PLI. */
static GstPadProbeReturn
on_keyframe_request (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Relay *relay = data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  gboolean all_headers = FALSE;
  if (!gst_video_event_is_force_key_unit (event) ||
      !gst_video_event_parse_upstream_force_key_unit (event, NULL, &all_headers, NULL))
    return GST_PAD_PROBE_OK;
  if (all_headers)
    metrics_keyframe_request (METRIC_KEYFRAME_VIEWER);   /* one atomic add, on a rare event */
  relay_request_keyframe (relay);
  return GST_PAD_PROBE_DROP;
}

/* main loop, every 250 ms: send what the limit held back, until the wanted keyframe has
 * passed the tee; and notice a publisher whose media stopped */
static gboolean
on_keyframe_timer (gpointer data)
{
  Relay *relay = data;
  relay_check_stall (relay);
  relay_talk_gap (relay);
  gpointer since = g_atomic_pointer_get (&relay->keyframe_wanted_since);
  if (!since)
    return G_SOURCE_CONTINUE;
  if (relay_last_keyframe (relay) > (gint64) GPOINTER_TO_SIZE (since))
    g_atomic_pointer_compare_and_exchange (&relay->keyframe_wanted_since, since, NULL);
  else
    relay_send_keyframe_request (relay, FALSE);
  return G_SOURCE_CONTINUE;
}

static GstElement *
make_tee (Relay *relay, RelayTrack track)
{
  static const gchar *names[] = { "video-tee", "audio-tee", "talk-tee" };
  GstElement *tee = gst_element_factory_make ("tee", names[track]);
  g_object_set (tee, "allow-not-linked", TRUE, NULL);
  gst_bin_add (GST_BIN (relay->pipeline), tee);
  return tee;
}

/* the talk-out appsink's streaming thread: each packet of the mix goes to the current
 * publisher's appsrc, stamped with its running time (the appsrc's segment starts at 0 on the
 * same pipeline clock). The appsrc has the caps of the publisher's audio m-line, whose
 * payload type the payloader writes (ingest.c) */
static GstFlowReturn
on_talk_sample (GstAppSink *sink, gpointer data)
{
  Relay *relay = data;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  if (!sample)
    return GST_FLOW_OK;
  GstBuffer *buf = gst_sample_get_buffer (sample);
  const GstSegment *segment = gst_sample_get_segment (sample);
  /* the idle talk tee's silent packets are for the recorder alone (relay_talk_gap, which
   * pushes them on the main loop holding the relay's lock: decided before taking it) */
  if (!buf || !segment || !GST_BUFFER_PTS_IS_VALID (buf) || GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)) {
    gst_sample_unref (sample);
    return GST_FLOW_OK;
  }
  g_mutex_lock (&relay->lock);
  GstElement *src = relay->talk_src ? gst_object_ref (relay->talk_src) : NULL;
  g_mutex_unlock (&relay->lock);
  GST_LOG_OBJECT (relay->pipeline, "talk packet %" GST_TIME_FORMAT " to %" GST_PTR_FORMAT,
                  GST_TIME_ARGS (GST_BUFFER_PTS (buf)), src);
  if (src) {
    GstBuffer *out = gst_buffer_copy (buf);   /* shallow: the payload is shared */
    GST_BUFFER_PTS (out) = gst_segment_to_running_time (segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buf));
    GST_BUFFER_DTS (out) = GST_CLOCK_TIME_NONE;
    gst_app_src_push_buffer (GST_APP_SRC (src), out);   /* takes it; the caps are the publisher's */
  }
  gst_clear_object (&src);
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

/* The talk-back chain: a silent live source keeps the mixer running; each reviewer's
 * decoded microphone joins it; the mix is Opus-encoded once for the applicant. It stays in
 * NULL (locked) until the first reviewer's microphone arrives (relay_talk_start): before that
 * nothing is mixed, encoded or sent to the applicant, and the talk tee carries only a silent
 * packet every 250 ms for the recorder (relay_talk_gap) — issue 17: the chain with its 50
 * packets a second through the publisher's webrtcbin and the recorder was ~14 % of the
 * server's CPU while nobody talked. */
static gboolean
relay_build_talk_chain (Relay *relay, GError **error)
{
  g_autoptr (GError) parse_error = NULL;
  GstElement *bin = gst_parse_bin_from_description (
      "audiotestsrc name=silence is-live=true wave=silence samplesperbuffer=960 "
      /* start-time-selection=first: the mix starts where the (late-started) source does,
       * not at running time 0 (which would burst out the silence since the relay began) */
      "! audio/x-raw,rate=48000,channels=1 ! audiomixer name=mixer latency=100000000 start-time-selection=first "
      "! audioconvert ! audio/x-raw,rate=48000,channels=1 "
      "! opusenc bitrate=32000 frame-size=20 dtx=true ! rtpopuspay name=talkpay pt=111",
      TRUE, &parse_error);
  if (!bin) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "talk-back chain: %s", parse_error->message);
    return FALSE;
  }
  gst_element_set_name (bin, "talk");
  gst_element_set_locked_state (bin, TRUE);   /* until the first microphone: relay_talk_start */
  gst_bin_add (GST_BIN (relay->pipeline), bin);
  relay->talk_bin = bin;
  relay->mixer = gst_bin_get_by_name (GST_BIN (bin), "mixer");
  relay->talk_pay = gst_bin_get_by_name (GST_BIN (bin), "talkpay");
  relay->tee[TRACK_TALK] = make_tee (relay, TRACK_TALK);
  gst_element_link (bin, relay->tee[TRACK_TALK]);
  /* the mix reaches the publisher through an appsink here and an appsrc there, not a pad link:
   * a reviewer's microphone feeds the mix, the mix the publisher, and the publisher the
   * reviewer, so a direct link closes a loop in the pipeline's graph (GStreamer warns, and
   * orders its state changes arbitrarily) */
  GstElement *out = gst_element_factory_make ("appsink", "talk-out");
  if (!out) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "talk-back chain: appsink is not available");
    return FALSE;
  }
  g_object_set (out, "sync", FALSE, "async", FALSE, "drop", TRUE, "max-buffers", 50, NULL);
  GstAppSinkCallbacks callbacks = { .new_sample = on_talk_sample };
  gst_app_sink_set_callbacks (GST_APP_SINK (out), &callbacks, relay, NULL);
  gst_bin_add (GST_BIN (relay->pipeline), out);
  /* no queue (no thread) in front of it: the appsink only hands each packet to an appsrc that
   * never blocks (leaky, ingest.c), on the mixer's thread — or drops the idle silence */
  GstPad *out_sink = gst_element_get_static_pad (out, "sink");
  relay->talk_out_pad = gst_element_request_pad_simple (relay->tee[TRACK_TALK], "src_%u");
  gboolean ok = relay->talk_out_pad && gst_pad_link (relay->talk_out_pad, out_sink) == GST_PAD_LINK_OK;
  gst_object_unref (out_sink);
  if (!ok)
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "talk-back chain: the mix does not link");
  return ok;
}

/* an element kept in NULL (locked) while the pipeline plays joins it: the pipeline's clock and
 * base time, then its state */
void
relay_start_late (Relay *relay, GstElement *element)
{
  GstClock *clock = gst_pipeline_get_clock (relay->pipeline);
  if (clock)
    gst_element_set_clock (element, clock);
  gst_clear_object (&clock);
  gst_element_set_base_time (element, gst_element_get_base_time (GST_ELEMENT (relay->pipeline)));
  gst_element_set_locked_state (element, FALSE);
  gst_element_sync_state_with_parent (element);
}

/* what rtpopuspay makes of the mono mix (the gaps carry it before the chain runs) */
static GstCaps *
relay_talk_caps (void)
{
  static GstStaticCaps caps = GST_STATIC_CAPS (
      "application/x-rtp, media=(string)audio, clock-rate=(int)48000, encoding-name=(string)OPUS, "
      "sprop-stereo=(string)0, encoding-params=(string)2, sprop-maxcapturerate=(string)48000, payload=(int)111");
  return gst_static_caps_get (&caps);
}

/* Any thread (viewer.c calls it on a reviewer's webrtcbin streaming thread, as its microphone
 * arrives, before that microphone links to the mixer: its data must meet a running mixer, not
 * a flushing pad). Starts the talk-back chain once; it then runs for the rest of the relay.
 * Under the relay's lock, which relay_talk_gap (main loop) holds while it feeds the talk tee:
 * the tee's sink pad is fed by one of them only. */
void
relay_talk_start (Relay *relay)
{
  g_mutex_lock (&relay->lock);
  if (!relay->talk_running) {
    relay->talk_running = TRUE;
    GstElement *silence = gst_bin_get_by_name (GST_BIN (relay->talk_bin), "silence");
    /* the live source counts its samples from 0: start them at the relay's running time now */
    if (silence)
      g_object_set (silence, "timestamp-offset", (gint64) relay_running_time (relay), NULL);
    gst_clear_object (&silence);
    relay_start_late (relay, relay->talk_bin);
    if (relay->talk_src)   /* the publisher's appsrc waited too (ingest.c) */
      relay_start_late (relay, relay->talk_src);
    GST_INFO_OBJECT (relay->pipeline, "relay %s: talk-back chain started", relay->name);
    /* the mixer learns that its inputs are live from a latency query: have the bus handler
     * recalculate the pipeline's latency */
    gst_element_post_message (relay->talk_bin, gst_message_new_latency (GST_OBJECT (relay->talk_bin)));
  }
  g_mutex_unlock (&relay->lock);
}

/* main loop, every 250 ms (and once at start): while the talk-back chain has not started, the
 * talk tee gets one packet of Opus silence (a 3-byte frame) stamped now — not 50 a second.
 * The recorder's muxer (matroskamux 1.22, CollectPads) writes only when every track has a
 * buffer and drops GAP events, so the talk track must carry something, or the applicant's
 * video and audio would wait behind it (tried: they did); the file's talk track then holds a
 * silent frame every 250 ms until somebody talks. The packets carry GST_BUFFER_FLAG_GAP, and
 * on_talk_sample keeps them from the applicant. The sticky events first, with the caps
 * rtpopuspay gives the mix (the depayloaded caps, which the muxer keeps, come out the same). */
static void
relay_talk_gap (Relay *relay)
{
  static const guint8 opus_silence[] = { 0xf8, 0xff, 0xfe };   /* CELT, fullband, 20 ms, mono: silence */
  g_mutex_lock (&relay->lock);
  if (relay->talk_running) {
    g_mutex_unlock (&relay->lock);
    return;
  }
  GstPad *sink = gst_element_get_static_pad (relay->tee[TRACK_TALK], "sink");
  GstClockTime now = relay_running_time (relay);
  if (!relay->talk_gap_started) {
    relay->talk_gap_started = TRUE;
    g_autofree gchar *stream_id = g_strdup_printf ("%s/talk-idle", relay->name);
    gst_pad_send_event (sink, gst_event_new_stream_start (stream_id));
    g_autoptr (GstCaps) caps = relay_talk_caps ();
    gst_pad_send_event (sink, gst_event_new_caps (caps));
    GstSegment segment;
    gst_segment_init (&segment, GST_FORMAT_TIME);
    gst_pad_send_event (sink, gst_event_new_segment (&segment));
  }
  GstBuffer *buf = gst_rtp_buffer_new_allocate (sizeof opus_silence, 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (gst_rtp_buffer_map (buf, GST_MAP_WRITE, &rtp)) {
    gst_rtp_buffer_set_payload_type (&rtp, 111);
    gst_rtp_buffer_set_ssrc (&rtp, 0x4b414e59);   /* "KANY": the mix gets rtpopuspay's own */
    gst_rtp_buffer_set_seq (&rtp, (guint16) relay->talk_gap_seq++);
    gst_rtp_buffer_set_timestamp (&rtp, (guint32) gst_util_uint64_scale (now, 48000, GST_SECOND));
    memcpy (gst_rtp_buffer_get_payload (&rtp), opus_silence, sizeof opus_silence);
    gst_rtp_buffer_unmap (&rtp);
  }
  GST_BUFFER_PTS (buf) = now;
  GST_BUFFER_DURATION (buf) = 20 * GST_MSECOND;
  GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);
  gst_pad_chain (sink, buf);   /* takes it; the tee's branches are leaky queues: never blocks */
  gst_object_unref (sink);
  g_mutex_unlock (&relay->lock);
}


Relay *
relay_new (const KanyanConfig *cfg, const gchar *name, GError **error)
{
  media_debug_init ();   /* once; main.c did it already */
  Relay *relay = g_new0 (Relay, 1);
  relay->cfg = cfg;
  relay->name = g_strdup (name);
  g_mutex_init (&relay->lock);
  relay->viewers = g_ptr_array_new ();
  relay->pipeline = GST_PIPELINE (gst_pipeline_new (name));
  /* a configured latency: the talk-back mixer runs on it, and webrtcbin's elements warn on
   * every packet without one (nothing waits on it on the way out: see peer.c) */
  gst_pipeline_set_latency (relay->pipeline, (GstClockTime) cfg->jitter_latency_ms * GST_MSECOND);
  GstBus *bus = gst_pipeline_get_bus (relay->pipeline);
  relay->bus_watch = gst_bus_add_watch (bus, on_bus_message, relay);
  gst_object_unref (bus);
  relay->tee[TRACK_VIDEO] = make_tee (relay, TRACK_VIDEO);
  relay->tee[TRACK_AUDIO] = make_tee (relay, TRACK_AUDIO);
  GstPad *video_sink = gst_element_get_static_pad (relay->tee[TRACK_VIDEO], "sink");
  gst_pad_add_probe (video_sink, GST_PAD_PROBE_TYPE_BUFFER, on_video_packet, relay, NULL);
  gst_pad_add_probe (video_sink, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_keyframe_request, relay, NULL);
  gst_object_unref (video_sink);
  GstPad *audio_sink = gst_element_get_static_pad (relay->tee[TRACK_AUDIO], "sink");
  gst_pad_add_probe (audio_sink, GST_PAD_PROBE_TYPE_BUFFER, on_audio_packet, relay, NULL);
  gst_object_unref (audio_sink);
  if (!relay_build_talk_chain (relay, error) ||
      gst_element_set_state (GST_ELEMENT (relay->pipeline), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    if (error && !*error)
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the relay pipeline does not start");
    relay_free (relay);
    return NULL;
  }
  relay_talk_gap (relay);   /* the talk track's sticky events, before any recorder taps it */
  relay->keyframe_timer = g_timeout_add (250, on_keyframe_timer, relay);
  GST_INFO_OBJECT (relay->pipeline, "relay %s: playing", name);
  relay->uplink = uplink_cap_new (relay);
  return relay;
}

void
relay_set_media_notify (Relay *relay, RelayMediaNotify notify, gpointer owner)
{
  relay->media_notify = notify;
  relay->media_owner = owner;
}

void
relay_set_branch_notify (Relay *relay, RelayBranchNotify notify)
{
  relay->branch_notify = notify;
}

void
relay_free (Relay *relay)
{
  if (!relay)
    return;
  GST_INFO_OBJECT (relay->pipeline, "relay %s: stopping", relay->name);
  while (relay->viewers->len)
    relay_viewer_remove (relay, g_ptr_array_index (relay->viewers, relay->viewers->len - 1));
  relay_publisher_stop (relay);
  if (relay->keyframe_timer)
    g_source_remove (relay->keyframe_timer);
  uplink_cap_free (relay->uplink);
  if (relay->bus_watch)
    g_source_remove (relay->bus_watch);
  gst_element_set_state (GST_ELEMENT (relay->pipeline), GST_STATE_NULL);
  gst_clear_object (&relay->mixer);
  gst_clear_object (&relay->talk_pay);
  for (gint t = 0; t < TRACK_COUNT; t++)
    gst_clear_caps (&relay->caps[t]);
  gst_object_unref (relay->pipeline);
  g_ptr_array_unref (relay->viewers);
  g_mutex_clear (&relay->lock);
  g_free (relay->name);
  g_free (relay);
}

const gchar *
relay_codec_name (Relay *relay, RelayTrack track)
{
  if (!relay->caps[track])
    return NULL;
  return gst_structure_get_string (gst_caps_get_structure (relay->caps[track], 0), "encoding-name");
}

gboolean
relay_has_publisher_codecs (Relay *relay)
{
  return relay->caps[TRACK_VIDEO] != NULL;
}

GstCaps *
relay_track_caps (Relay *relay, RelayTrack track)
{
  return relay->caps[track] ? gst_caps_ref (relay->caps[track]) : NULL;
}

gboolean
relay_branch_link (Relay *relay, RelayTrack track, GstPad *sink, RelayBranch *branch)
{
  if (!branch->lanes) {
    /* leaky: a viewer that cannot take data (still negotiating, a weak link) drops its
     * oldest packets instead of stalling the tee and everybody else */
    branch->lanes = lanes_new ("lanes-viewer", 0, 500 * GST_MSECOND);
    /* what piles up while the thread is busy (~3 packets a wake-up at 10 inspections) crosses
     * the reviewer's RTP session, SRTP and ICE send as one list: bench README, lever 12. Every
     * probe on a viewer's path takes lists (viewer.c: a watcher's payload-type rewrite). */
    lanes_push_lists (branch->lanes);
    gst_bin_add (GST_BIN (relay->pipeline), branch->lanes);
    gst_element_sync_state_with_parent (branch->lanes);
  }
  GstPad *lane_src = NULL;
  GstPad *lane_sink = lanes_add_lane (branch->lanes, &lane_src);
  gboolean ok = gst_pad_link (lane_src, sink) == GST_PAD_LINK_OK;
  GstPad *tee_pad = ok ? gst_element_request_pad_simple (relay->tee[track], "src_%u") : NULL;
  ok = ok && gst_pad_link (tee_pad, lane_sink) == GST_PAD_LINK_OK;
  if (!ok) {
    g_warning ("relay %s: cannot link a branch of track %d", relay->name, track);
    if (tee_pad)
      gst_element_release_request_pad (relay->tee[track], tee_pad);
    gst_clear_object (&tee_pad);
    return FALSE;   /* the lane stays unused; the element goes with the others */
  }
  branch->tee_pad[track] = tee_pad;
  return TRUE;
}

void
relay_branch_unlink (Relay *relay, RelayBranch *branch)
{
  for (gint t = 0; t < TRACK_COUNT; t++) {
    if (!branch->tee_pad[t])
      continue;
    GstPad *lane_sink = gst_pad_get_peer (branch->tee_pad[t]);
    if (lane_sink) {
      gst_pad_unlink (branch->tee_pad[t], lane_sink);
      gst_object_unref (lane_sink);
    }
    gst_element_release_request_pad (relay->tee[t], branch->tee_pad[t]);
    gst_clear_object (&branch->tee_pad[t]);
  }
  if (!branch->lanes)
    return;
  gst_element_set_locked_state (branch->lanes, TRUE);
  gst_object_ref (branch->lanes);
  gst_bin_remove (GST_BIN (relay->pipeline), branch->lanes);
  relay_dispose_element (relay, g_steal_pointer (&branch->lanes));
}

void
relay_discard_pad (Relay *relay, GstPad *pad)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "async", FALSE, "sync", FALSE, NULL);
  gst_bin_add (GST_BIN (relay->pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  GstPad *sink_pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sink_pad);
  gst_object_unref (sink_pad);
}

/* a GstElement pool thread */
static void
dispose_async (GstElement *element, gpointer data)
{
  gst_element_set_state (element, GST_STATE_NULL);
}

void
relay_dispose_element (Relay *relay, GstElement *element)
{
  /* takes the caller's reference; released on the pool thread once in NULL */
  gst_element_call_async (element, dispose_async, element, gst_object_unref);
}

GstPad *
relay_tap_track (Relay *relay, RelayTrack track)
{
  if (track != TRACK_TALK && !relay->caps[track])
    return NULL;
  return gst_element_request_pad_simple (relay->tee[track], "src_%u");
}

void
relay_untap_track (Relay *relay, RelayTrack track, GstPad *tee_pad)
{
  GstPad *peer = gst_pad_get_peer (tee_pad);
  if (peer) {
    gst_pad_unlink (tee_pad, peer);
    gst_object_unref (peer);
  }
  gst_element_release_request_pad (relay->tee[track], tee_pad);
  gst_object_unref (tee_pad);
}

typedef struct {
  gchar   *failure;
  gboolean pushing;   /* our own push is under way */
  gboolean failed;    /* told once */
} Isolation;

static void
isolation_free (gpointer data)
{
  Isolation *iso = data;
  g_free (iso->failure);
  g_free (iso);
}

/* streaming thread of the branch's queue (the only one touching its Isolation) */
static GstPadProbeReturn
isolate_push (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Isolation *iso = data;
  if (iso->pushing)
    return GST_PAD_PROBE_OK;   /* our own push, below */
  iso->pushing = TRUE;
  GstFlowReturn ret = gst_pad_push (pad, GST_PAD_PROBE_INFO_BUFFER (info));
  iso->pushing = FALSE;
  if (ret != GST_FLOW_OK && ret != GST_FLOW_FLUSHING && ret != GST_FLOW_EOS && !iso->failed) {
    iso->failed = TRUE;
    GstObject *branch = gst_pad_get_parent (pad);
    while (branch && GST_OBJECT_PARENT (branch) && !GST_IS_PIPELINE (GST_OBJECT_PARENT (branch))) {
      GstObject *up = gst_object_get_parent (branch);   /* up to the branch's bin: take the parent first, */
      gst_object_unref (branch);                        /* then let go of the child (never the reverse) */
      branch = up;
    }
    if (branch && iso->failure)
      gst_element_post_message (GST_ELEMENT (branch), gst_message_new_application (
          branch, gst_structure_new (iso->failure, "flow", G_TYPE_STRING, gst_flow_get_name (ret), NULL)));
    gst_clear_object (&branch);
  }
  info->data = NULL;   /* gst_pad_push took the buffer */
  GST_PAD_PROBE_INFO_FLOW_RETURN (info) = GST_FLOW_OK;
  return GST_PAD_PROBE_HANDLED;
}

void
relay_isolate_branch (GstPad *queue_src, const gchar *failure)
{
  Isolation *iso = g_new0 (Isolation, 1);
  iso->failure = g_strdup (failure);
  gst_pad_add_probe (queue_src, GST_PAD_PROBE_TYPE_BUFFER, isolate_push, iso, isolation_free);
}

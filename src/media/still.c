/* still.c — an evidence still: a branch "leaky queue ! depayloader ! decoder ! encoder !
 * appsink" (pipelines/still.ini) on the relay's video tee, fed from the next keyframe on,
 * that yields one image and removes itself. Owns its elements; never touches the viewers,
 * the recorder or the publisher beyond asking it for a keyframe.
 *
 * The struct is reference-counted (GAtomicRcBox): its owner holds one reference, the
 * appsink's callbacks another, dropped when the appsink is finalized. The branch is stopped
 * on a pool thread after it leaves the relay, and until then its queue may still hand a frame
 * to on_new_sample: that frame must find the struct, not freed memory. */
#include "media/still.h"
#include "media/keyframe_gate.h"
#include "core/errors.h"
#include <gst/app/gstappsink.h>
#include <gst/rtp/rtp.h>
#include "media/media_debug.h"

GST_DEBUG_CATEGORY_STATIC (kanyan_still_debug);   /* GST_DEBUG=kanyan-still:6 (media_debug.h) */
#define GST_CAT_DEFAULT kanyan_still_debug

void
still_debug_init (void)
{
  GST_DEBUG_CATEGORY_INIT (kanyan_still_debug, "kanyan-still", 0,
                           "Kanyan: evidence stills: next keyframe to JPEG (still.c)");
}

#define STILL_TIMEOUT_MS   8000

struct _StillCapture {
  Relay      *relay;
  GstElement *branch;
  GstPad     *tee_pad;
  RtpCodec    codec;
  gint        taken;           /* atomic: the first image is on its way to the main loop */
  StillDone   done;
  gpointer    done_data;
  guint       timeout, keyframe_timer;
};

typedef struct {
  StillCapture *cap;
  GBytes       *jpeg;
} StillResult;

/* any thread: the last reference frees the struct (the elements left it in still_release) */
static void
still_unref (gpointer data)
{
  g_atomic_rc_box_release (data);
}

/* main loop: out of the relay; what is left is the struct */
static void
still_release (StillCapture *cap)
{
  if (cap->timeout)
    g_source_remove (cap->timeout);
  if (cap->keyframe_timer)
    g_source_remove (cap->keyframe_timer);
  cap->timeout = cap->keyframe_timer = 0;
  if (cap->tee_pad)
    relay_untap_track (cap->relay, TRACK_VIDEO, g_steal_pointer (&cap->tee_pad));
  if (cap->branch) {
    GstElement *branch = g_steal_pointer (&cap->branch);
    gst_element_set_locked_state (branch, TRUE);
    gst_object_ref (branch);
    gst_bin_remove (relay_pipeline (cap->relay), branch);
    relay_dispose_element (cap->relay, branch);
  }
  cap->relay = NULL;
}

/* main loop: the owner's reference goes; the appsink's may outlive it */
static void
still_free (StillCapture *cap)
{
  still_release (cap);
  cap->done = NULL;
  still_unref (cap);
}

static void
still_finish (StillCapture *cap, GBytes *jpeg, const gchar *message)
{
  StillDone done = cap->done;
  gpointer data = cap->done_data;
  still_free (cap);
  if (done)
    done (data, jpeg, message);
}

/* main loop */
static gboolean
on_result (gpointer data)
{
  StillResult *r = data;
  still_finish (r->cap, r->jpeg, NULL);
  g_bytes_unref (r->jpeg);
  g_free (r);
  return G_SOURCE_REMOVE;
}

/* streaming thread: the encoder's output; only the first one counts (the struct is alive:
 * the appsink holds a reference; once taken, nothing else here touches it) */
static GstFlowReturn
on_new_sample (GstAppSink *sink, gpointer data)
{
  StillCapture *cap = data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  if (!sample || !g_atomic_int_compare_and_exchange (&cap->taken, 0, 1))
    return GST_FLOW_EOS;
  GstBuffer *buf = gst_sample_get_buffer (sample);
  GstMapInfo map;
  if (!buf || !gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_FLOW_EOS;
  StillResult *r = g_new0 (StillResult, 1);
  r->cap = cap;
  r->jpeg = g_bytes_new (map.data, map.size);
  gst_buffer_unmap (buf, &map);
  g_main_context_invoke (NULL, on_result, r);
  return GST_FLOW_EOS;
}

/* main loop */
static gboolean
on_timeout (gpointer data)
{
  StillCapture *cap = data;
  cap->timeout = 0;
  if (g_atomic_int_compare_and_exchange (&cap->taken, 0, 1))
    still_finish (cap, NULL, "no decodable keyframe came from the phone in time");
  return G_SOURCE_REMOVE;
}

/* main loop: keep asking the phone until an image is taken — not merely until a keyframe
 * passes: a keyframe that reaches the branch while it starts may not decode, and then
 * only the next one will */
static KeyframeWant
want_keyframe (gpointer data)
{
  StillCapture *cap = data;
  if (g_atomic_int_get (&cap->taken)) {
    cap->keyframe_timer = 0;
    return KEYFRAME_DONE;
  }
  return KEYFRAME_ASK;
}

StillCapture *
still_capture_start (Relay *relay, const KanyanConfig *cfg, StillDone done, gpointer data, GError **error)
{
  const gchar *encoding = relay_codec_name (relay, TRACK_VIDEO);
  if (!encoding) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "no video is coming from the applicant");
    return NULL;
  }
  g_autofree gchar *path = g_build_filename (cfg->pipelines_dir, "still.ini", NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error)) {
    g_prefix_error (error, "%s: ", path);
    return NULL;
  }
  g_autofree gchar *decode = g_key_file_get_string (kf, "decode", encoding, NULL);
  g_autofree gchar *encode = g_key_file_get_string (kf, "encode", "jpeg", NULL);
  if (!decode || !encode) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "%s: needs [decode] %s and [encode] jpeg", path, encoding);
    return NULL;
  }
  /* async=false, like every sink added to the playing relay: an async sink waits for preroll
   * through the pipeline's state machinery, and when that races with another branch's change
   * (a recording segment restarting) it can stay in PAUSED, holding its one image */
  g_autofree gchar *desc = g_strdup_printf ("queue name=isolate leaky=downstream max-size-buffers=500 max-size-bytes=0 "
                                            "max-size-time=0 ! %s ! %s ! appsink name=sink sync=false async=false "
                                            "max-buffers=1 drop=true", decode, encode);
  GstElement *branch = gst_parse_bin_from_description (desc, TRUE, error);
  if (!branch)
    return NULL;
  GST_INFO ("still: the next %s keyframe becomes a JPEG", encoding);
  StillCapture *cap = g_atomic_rc_box_new0 (StillCapture);
  cap->relay = relay;
  cap->codec = rtp_codec_from_name (encoding);
  cap->done = done;
  cap->done_data = data;
  cap->branch = branch;
  GstElement *sink = gst_bin_get_by_name (GST_BIN (branch), "sink");
  GstAppSinkCallbacks callbacks = { .new_sample = on_new_sample };
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, g_atomic_rc_box_acquire (cap), still_unref);
  gst_object_unref (sink);
  gst_bin_add (relay_pipeline (relay), branch);
  GstElement *queue = gst_bin_get_by_name (GST_BIN (branch), "isolate");
  GstPad *queue_src = gst_element_get_static_pad (queue, "src");
  relay_isolate_branch (queue_src, NULL);   /* a decoder error stays in this branch */
  gst_object_unref (queue_src);
  gst_object_unref (queue);
  GstPad *branch_sink = gst_element_get_static_pad (branch, "sink");
  if (cap->codec != RTP_CODEC_UNKNOWN)   /* the decoder starts at a keyframe, so the first frame is whole */
    keyframe_gate_add (branch_sink, cap->codec);
  gst_element_sync_state_with_parent (branch);
  cap->tee_pad = relay_tap_track (relay, TRACK_VIDEO);
  if (cap->tee_pad)
    gst_pad_link (cap->tee_pad, branch_sink);
  gst_object_unref (branch_sink);
  cap->keyframe_timer = keyframe_ask_add (relay, want_keyframe, cap);
  cap->timeout = g_timeout_add (STILL_TIMEOUT_MS, on_timeout, cap);
  return cap;
}

void
still_capture_cancel (StillCapture *cap)
{
  cap->done = NULL;   /* its owner is going: nobody is told */
  if (g_atomic_int_compare_and_exchange (&cap->taken, 0, 1))
    still_free (cap);
  else
    still_release (cap);   /* a result is queued for the main loop: on_result frees the rest */
}

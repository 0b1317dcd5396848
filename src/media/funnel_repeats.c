/* funnel_repeats.c — keeps webrtcbin's bundle funnel from re-sending, at every switch between
 * tracks, sticky events nothing changed. Owns one pad probe on the `src` pad of each
 * `rtpfunnel` that peer.c sees webrtcbin create, and what that probe let through. Never
 * touches buffers, other events, or anything past that one pad.
 *
 * Why: a bundled webrtcbin merges its tracks in an `rtpfunnel`, and GStreamer 1.22's funnel
 * pushes the incoming track's SEGMENT and custom sticky events downstream each time the packet
 * it forwards comes from another track than the one before. A reviewer's audio packet between
 * video packets is two switches, ~100 a second. Each event travels the whole send chain (rtpbin,
 * the RTP session, the RTX sender, SRTP, DTLS's funnel, a dozen ghost pads) to nicesink, where
 * webrtcbin's TOS event (`GstWebRtcBinUpdateTos`, one per track) looks its transceiver up and
 * sets the socket's DSCP again. At 10 inspections that was 8 % of the reviewers' send threads
 * (bench/README.md, lever 9). So the probe answers:
 * - a SEGMENT equal to the last one it let through (the relay's tracks come from one transport,
 *   so their segments are equal); a segment that differs still goes;
 * - a custom sticky event that is the very object it already let through since the last flush:
 *   webrtcbin makes a new TOS event when a track's caps change, and the funnel re-sends the
 *   same one at every switch. Kanyan sets no sender priority, so every track's DSCP is 0 and
 *   the repeats would set 0 again; a priority set later would apply from the next new TOS event.
 * A flush forgets both, so what follows it is sent again. */
#include "media/funnel_repeats.h"

#define MAX_REMEMBERED 8   /* custom sticky events of one funnel: one TOS event per track */

typedef struct {
  GMutex     lock;         /* buffers' pushes hold the funnel's stream lock; a flush may not */
  GstSegment last;         /* the last segment let through; valid while `have_segment` */
  gboolean   have_segment;
  GPtrArray *passed;       /* custom sticky events let through since the last flush (refs) */
} FunnelRepeats;

static void
funnel_repeats_free (gpointer data)
{
  FunnelRepeats *fs = data;
  g_mutex_clear (&fs->lock);
  g_ptr_array_unref (fs->passed);
  g_free (fs);
}

/* TRUE when the event changes nothing past the funnel; else it is remembered as let through */
static gboolean
already_delivered (FunnelRepeats *fs, GstEvent *event)
{
  if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT) {
    const GstSegment *segment = NULL;
    gst_event_parse_segment (event, &segment);
    if (fs->have_segment && gst_segment_is_equal (segment, &fs->last))
      return TRUE;
    gst_segment_copy_into (segment, &fs->last);
    fs->have_segment = TRUE;
    return FALSE;
  }
  if (g_ptr_array_find (fs->passed, event, NULL))
    return TRUE;
  if (fs->passed->len == MAX_REMEMBERED)
    g_ptr_array_remove_index (fs->passed, 0);
  g_ptr_array_add (fs->passed, gst_event_ref (event));
  return FALSE;
}

/* the streaming thread of whichever track the funnel forwards; a flush's thread */
static GstPadProbeReturn
answer_repeated_event (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  FunnelRepeats *fs = data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstEventType type = GST_EVENT_TYPE (event);
  if (type != GST_EVENT_FLUSH_STOP && type != GST_EVENT_SEGMENT && type != GST_EVENT_CUSTOM_DOWNSTREAM_STICKY)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&fs->lock);
  gboolean repeat = FALSE;
  if (type == GST_EVENT_FLUSH_STOP) {   /* the flush clears the sticky events downstream */
    fs->have_segment = FALSE;
    g_ptr_array_set_size (fs->passed, 0);
  } else {
    repeat = already_delivered (fs, event);
  }
  g_mutex_unlock (&fs->lock);
  if (!repeat)
    return GST_PAD_PROBE_OK;
  /* HANDLED, not DROP: a dropped sticky event stays pending and is retried before every
   * buffer; a handled one counts as delivered (gstpad.c, push_sticky) */
  gst_event_unref (event);
  GST_PAD_PROBE_INFO_DATA (info) = NULL;
  return GST_PAD_PROBE_HANDLED;
}

void
funnel_repeats_answer (GstElement *rtpfunnel)
{
  GstPad *src = gst_element_get_static_pad (rtpfunnel, "src");
  if (!src)
    return;
  FunnelRepeats *fs = g_new0 (FunnelRepeats, 1);
  g_mutex_init (&fs->lock);
  fs->passed = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_event_unref);
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_EVENT_FLUSH,
                     answer_repeated_event, fs, funnel_repeats_free);
  gst_object_unref (src);
}

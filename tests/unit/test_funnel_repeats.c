/* test_funnel_repeats.c — webrtcbin's bundle funnel (a real `rtpfunnel`) with funnel_repeats.c
 * on its src pad: what reaches the send chain when a reviewer's two tracks take turns. Two test
 * pads feed the funnel as webrtcbin's tracks do (caps, segment, webrtcbin's TOS event, RTP);
 * a sink pad after it records every event and, for each packet, the segment it arrived under.
 * Everything runs on the test's thread: nothing waits. */
#include "media/funnel_repeats.h"
#include <gst/rtp/gstrtpbuffer.h>

enum { VIDEO, AUDIO, TRACKS };
static const guint32 ssrc_of[TRACKS] = { 1111, 2222 };

typedef struct {
  GstElement *funnel;
  GstPad     *src[TRACKS];   /* the tracks' pads, linked to the funnel's sink pads */
  GstPad     *sink;          /* after the funnel: where the send chain would be */
  guint       segments;      /* SEGMENT events that reached the sink */
  guint       tos;           /* webrtcbin TOS events that reached the sink */
  GPtrArray  *segment_at;    /* per packet: a copy of the segment it arrived under (or NULL) */
  GPtrArray  *ssrc_at;       /* per packet: its SSRC */
} Bench;

static void
segment_free (gpointer segment)
{
  if (segment)
    gst_segment_free (segment);
}

/* the test's thread, inside a push */
static gboolean
sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  Bench *b = g_object_get_data (G_OBJECT (pad), "bench");
  if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT)
    b->segments++;
  if (GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_DOWNSTREAM_STICKY &&
      gst_event_has_name (event, "GstWebRtcBinUpdateTos"))
    b->tos++;
  gst_event_unref (event);
  return TRUE;
}

static GstFlowReturn
sink_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  Bench *b = g_object_get_data (G_OBJECT (pad), "bench");
  GstEvent *seg_event = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  GstSegment *segment = NULL;
  if (seg_event) {
    const GstSegment *s;
    gst_event_parse_segment (seg_event, &s);
    segment = gst_segment_copy (s);
    gst_event_unref (seg_event);
  }
  g_ptr_array_add (b->segment_at, segment);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  g_assert_true (gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp));
  g_ptr_array_add (b->ssrc_at, GUINT_TO_POINTER (gst_rtp_buffer_get_ssrc (&rtp)));
  gst_rtp_buffer_unmap (&rtp);
  gst_buffer_unref (buf);
  return GST_FLOW_OK;
}

static GstSegment
segment_with_base (GstClockTime base)
{
  GstSegment s;
  gst_segment_init (&s, GST_FORMAT_TIME);
  s.base = base;
  return s;
}

/* the events webrtcbin's sink pad sends down a track before its first packet */
static void
start_track (Bench *b, gint t, const GstSegment *segment)
{
  gchar id[16];
  g_snprintf (id, sizeof id, "track-%d", t);
  g_assert_true (gst_pad_push_event (b->src[t], gst_event_new_stream_start (id)));
  GstCaps *caps = gst_caps_new_simple ("application/x-rtp", "media", G_TYPE_STRING, t == VIDEO ? "video" : "audio",
                                       "ssrc", G_TYPE_UINT, ssrc_of[t], NULL);
  g_assert_true (gst_pad_push_event (b->src[t], gst_event_new_caps (caps)));
  gst_caps_unref (caps);
  g_assert_true (gst_pad_push_event (b->src[t], gst_event_new_segment (segment)));
  GstStructure *tos = gst_structure_new ("GstWebRtcBinUpdateTos", "mid", G_TYPE_STRING, t == VIDEO ? "video0" : "audio1",
                                         NULL);
  g_assert_true (gst_pad_push_event (b->src[t], gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM_STICKY, tos)));
}

static void
push_packet (Bench *b, gint t)
{
  static guint16 seq;
  GstBuffer *buf = gst_rtp_buffer_new_allocate (100, 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gst_rtp_buffer_map (buf, GST_MAP_WRITE, &rtp);
  gst_rtp_buffer_set_ssrc (&rtp, ssrc_of[t]);
  gst_rtp_buffer_set_seq (&rtp, seq++);
  gst_rtp_buffer_unmap (&rtp);
  g_assert_cmpint (gst_pad_push (b->src[t], buf), ==, GST_FLOW_OK);
}

/* a funnel (with funnel_repeats.c when `answer_repeats`) whose two tracks have started */
static Bench *
bench_new (gboolean answer_repeats, const GstSegment *video, const GstSegment *audio)
{
  Bench *b = g_new0 (Bench, 1);
  b->funnel = gst_element_factory_make ("rtpfunnel", NULL);
  g_assert_nonnull (b->funnel);
  gst_object_ref_sink (b->funnel);
  if (answer_repeats)
    funnel_repeats_answer (b->funnel);
  b->segment_at = g_ptr_array_new_with_free_func (segment_free);
  b->ssrc_at = g_ptr_array_new ();
  b->sink = gst_pad_new ("sink", GST_PAD_SINK);
  g_object_set_data (G_OBJECT (b->sink), "bench", b);
  gst_pad_set_event_function (b->sink, sink_event);
  gst_pad_set_chain_function (b->sink, sink_chain);
  GstPad *funnel_src = gst_element_get_static_pad (b->funnel, "src");
  g_assert_cmpint (gst_pad_link (funnel_src, b->sink), ==, GST_PAD_LINK_OK);
  gst_object_unref (funnel_src);
  gst_pad_set_active (b->sink, TRUE);
  for (gint t = 0; t < TRACKS; t++) {
    b->src[t] = gst_pad_new (t == VIDEO ? "video" : "audio", GST_PAD_SRC);
    GstPad *funnel_sink = gst_element_request_pad_simple (b->funnel, "sink_%u");
    g_assert_cmpint (gst_pad_link (b->src[t], funnel_sink), ==, GST_PAD_LINK_OK);
    gst_object_unref (funnel_sink);
    gst_pad_set_active (b->src[t], TRUE);
  }
  g_assert_cmpint (gst_element_set_state (b->funnel, GST_STATE_PLAYING), ==, GST_STATE_CHANGE_SUCCESS);
  start_track (b, VIDEO, video);
  start_track (b, AUDIO, audio);
  return b;
}

static void
bench_free (Bench *b)
{
  gst_element_set_state (b->funnel, GST_STATE_NULL);
  for (gint t = 0; t < TRACKS; t++) {
    gst_pad_set_active (b->src[t], FALSE);
    gst_object_unref (b->src[t]);
  }
  gst_pad_set_active (b->sink, FALSE);
  gst_object_unref (b->sink);
  gst_object_unref (b->funnel);
  g_ptr_array_unref (b->segment_at);
  g_ptr_array_unref (b->ssrc_at);
  g_free (b);
}

/* video, audio, video, … : 2 × n packets, each switch of track one the funnel re-sends on */
static void
take_turns (Bench *b, guint n)
{
  for (guint i = 0; i < n; i++) {
    push_packet (b, VIDEO);
    push_packet (b, AUDIO);
  }
}

/* what the change is for: the tracks' equal segments and their TOS events go down once each,
 * however often the tracks take turns */
static void
test_repeats_go_down_once (void)
{
  GstSegment same = segment_with_base (0);
  Bench *b = bench_new (TRUE, &same, &same);
  take_turns (b, 50);
  g_assert_cmpuint (b->segment_at->len, ==, 100);
  g_assert_cmpuint (b->segments, ==, 1);
  g_assert_cmpuint (b->tos, ==, 2);   /* each track's own, once */
  for (guint i = 0; i < b->segment_at->len; i++)
    g_assert_true (gst_segment_is_equal (g_ptr_array_index (b->segment_at, i), &same));
  bench_free (b);
}

/* the same, without funnel_repeats.c: what the send chain got before (the bench's 8 %) */
static void
test_stock_funnel_resends_at_every_switch (void)
{
  GstSegment same = segment_with_base (0);
  Bench *b = bench_new (FALSE, &same, &same);
  take_turns (b, 50);
  g_assert_cmpuint (b->segments, ==, 100);
  g_assert_cmpuint (b->tos, >=, 100);   /* and once more each as it first arrives */
  bench_free (b);
}

/* segments that differ are never answered: each packet arrives under its own track's */
static void
test_a_different_segment_still_goes (void)
{
  GstSegment video = segment_with_base (0), audio = segment_with_base (GST_SECOND);
  Bench *b = bench_new (TRUE, &video, &audio);
  take_turns (b, 10);
  g_assert_cmpuint (b->segments, ==, 20);
  for (guint i = 0; i < b->segment_at->len; i++) {
    guint32 ssrc = GPOINTER_TO_UINT (g_ptr_array_index (b->ssrc_at, i));
    const GstSegment *got = g_ptr_array_index (b->segment_at, i);
    g_assert_nonnull (got);
    g_assert_true (gst_segment_is_equal (got, ssrc == ssrc_of[VIDEO] ? &video : &audio));
  }
  bench_free (b);
}

/* a flush clears the sticky events past the funnel: the next segment and TOS go down again,
 * even though equal to those sent before it */
static void
test_after_a_flush_they_go_again (void)
{
  GstSegment same = segment_with_base (0);
  Bench *b = bench_new (TRUE, &same, &same);
  take_turns (b, 5);   /* ends with audio */
  g_assert_cmpuint (b->segments, ==, 1);
  g_assert_true (gst_pad_push_event (b->src[VIDEO], gst_event_new_flush_start ()));
  g_assert_true (gst_pad_push_event (b->src[VIDEO], gst_event_new_flush_stop (TRUE)));
  for (gint t = 0; t < TRACKS; t++)   /* as a source does after a flush */
    g_assert_true (gst_pad_push_event (b->src[t], gst_event_new_segment (&same)));
  guint before = b->segment_at->len;
  push_packet (b, VIDEO);   /* a switch (the last was audio): the funnel sends video's segment */
  g_assert_cmpuint (b->segments, ==, 2);
  g_assert_nonnull (g_ptr_array_index (b->segment_at, before));   /* it arrived under a segment */
  g_assert_cmpuint (b->tos, ==, 3);
  take_turns (b, 5);
  g_assert_cmpuint (b->segments, ==, 2);
  bench_free (b);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/funnel_repeats/repeats_go_down_once", test_repeats_go_down_once);
  g_test_add_func ("/funnel_repeats/stock_funnel_resends_at_every_switch", test_stock_funnel_resends_at_every_switch);
  g_test_add_func ("/funnel_repeats/a_different_segment_still_goes", test_a_different_segment_still_goes);
  g_test_add_func ("/funnel_repeats/after_a_flush_they_go_again", test_after_a_flush_they_go_again);
  return g_test_run ();
}

/* test_lanes.c — lanes.c, the leaky queue for several streams with one thread: what comes out
 * of each lane, in what order, on which thread; what a full lane drops; that one lane's failing
 * consumer never reaches its producer; that upstream events cross their own lane only. Test
 * pads stand for the tees upstream and the consumers downstream. The element's thread pushes
 * to the consumers; the test waits for what they received (a condition, with a deadline only
 * against a hang). */
#include "media/lanes.h"

enum { LANES = 2 };

typedef struct {
  GMutex      lock;
  GCond       cond;
  GstElement *lanes;
  GstPad     *up[LANES];       /* the producers (a tee's pads) */
  GstPad     *down[LANES];     /* the consumers */
  GArray     *pts[LANES];      /* guint64: the buffers each consumer received */
  GArray     *lists[LANES];    /* guint: the length of each list each consumer received */
  GPtrArray  *events[LANES];   /* event type names, in order, as each consumer received them */
  GThread    *pusher[LANES];   /* the thread of each consumer's last buffer */
  gboolean    eos[LANES];
  GstFlowReturn answer[LANES]; /* what each consumer returns */
  gboolean    hold;            /* consumer 0 holds its next buffer until `hold` is cleared */
  gboolean    holding;         /* consumer 0 holds one */
  guint       upstream_seen[LANES];
  guint       mark_at[LANES];  /* how many buffers came before a custom downstream event */
} Bed;

static Bed *bed_of (GstPad *pad) { return g_object_get_data (G_OBJECT (pad), "bed"); }
static gint lane_of (GstPad *pad) { return GPOINTER_TO_INT (g_object_get_data (G_OBJECT (pad), "lane")); }

/* the lanes' thread */
static GstFlowReturn
down_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  Bed *b = bed_of (pad);
  gint t = lane_of (pad);
  g_mutex_lock (&b->lock);
  if (t == 0 && b->hold) {
    b->holding = TRUE;
    g_cond_broadcast (&b->cond);
    while (b->hold)
      g_cond_wait (&b->cond, &b->lock);
    b->holding = FALSE;
  }
  guint64 pts = GST_BUFFER_PTS (buf);
  g_array_append_val (b->pts[t], pts);
  b->pusher[t] = g_thread_self ();
  GstFlowReturn answer = b->answer[t];
  g_cond_broadcast (&b->cond);
  g_mutex_unlock (&b->lock);
  gst_buffer_unref (buf);
  return answer;
}

/* the lanes' thread: a lane's buffers of one wake-up, with lanes_push_lists() */
static GstFlowReturn
down_chain_list (GstPad *pad, GstObject *parent, GstBufferList *list)
{
  Bed *b = bed_of (pad);
  gint t = lane_of (pad);
  g_mutex_lock (&b->lock);
  guint n = gst_buffer_list_length (list);
  g_array_append_val (b->lists[t], n);
  for (guint i = 0; i < n; i++) {
    guint64 pts = GST_BUFFER_PTS (gst_buffer_list_get (list, i));
    g_array_append_val (b->pts[t], pts);
  }
  b->pusher[t] = g_thread_self ();
  g_cond_broadcast (&b->cond);
  g_mutex_unlock (&b->lock);
  gst_buffer_list_unref (list);
  return b->answer[t];
}

/* the lanes' thread (serialized events) */
static gboolean
down_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  Bed *b = bed_of (pad);
  gint t = lane_of (pad);
  g_mutex_lock (&b->lock);
  g_ptr_array_add (b->events[t], (gpointer) GST_EVENT_TYPE_NAME (event));
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
    b->eos[t] = TRUE;
  if (GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_DOWNSTREAM)
    b->mark_at[t] = b->pts[t]->len;
  g_cond_broadcast (&b->cond);
  g_mutex_unlock (&b->lock);
  gst_event_unref (event);
  return TRUE;
}

/* the test's thread: consumer 0 takes RTP video only, consumer 1 RTP audio only */
static gboolean
down_query (GstPad *pad, GstObject *parent, GstQuery *query)
{
  if (GST_QUERY_TYPE (query) != GST_QUERY_CAPS)
    return gst_pad_query_default (pad, parent, query);
  GstCaps *caps = gst_caps_from_string (lane_of (pad) ? "application/x-rtp, media=(string)audio"
                                                      : "application/x-rtp, media=(string)video");
  gst_query_set_caps_result (query, caps);
  gst_caps_unref (caps);
  return TRUE;
}

/* the test's thread: an upstream event that crossed a lane */
static gboolean
up_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  Bed *b = bed_of (pad);
  if (GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_UPSTREAM)
    b->upstream_seen[lane_of (pad)]++;
  gst_event_unref (event);
  return TRUE;
}

static Bed *
bed_new_full (guint max_buffers, GstClockTime max_time, gboolean lists)
{
  Bed *b = g_new0 (Bed, 1);
  g_mutex_init (&b->lock);
  g_cond_init (&b->cond);
  b->lanes = gst_object_ref_sink (lanes_new ("lanes-test", max_buffers, max_time));
  if (lists)
    lanes_push_lists (b->lanes);
  g_assert_cmpint (gst_element_set_state (b->lanes, GST_STATE_PLAYING), ==, GST_STATE_CHANGE_SUCCESS);
  for (gint t = 0; t < LANES; t++) {
    b->pts[t] = g_array_new (FALSE, FALSE, sizeof (guint64));
    b->lists[t] = g_array_new (FALSE, FALSE, sizeof (guint));
    b->events[t] = g_ptr_array_new ();
    GstPad *src = NULL;
    GstPad *sink = lanes_add_lane (b->lanes, &src);   /* added while playing, as a reviewer joins */
    g_assert_true (gst_pad_is_active (sink) && gst_pad_is_active (src));
    b->up[t] = gst_pad_new (t ? "up1" : "up0", GST_PAD_SRC);
    b->down[t] = gst_pad_new (t ? "down1" : "down0", GST_PAD_SINK);
    for (GstPad **pad = (GstPad *[]) { b->up[t], b->down[t], NULL }; *pad; pad++) {
      g_object_set_data (G_OBJECT (*pad), "bed", b);
      g_object_set_data (G_OBJECT (*pad), "lane", GINT_TO_POINTER (t));
    }
    gst_pad_set_chain_function (b->down[t], down_chain);
    gst_pad_set_chain_list_function (b->down[t], down_chain_list);
    gst_pad_set_event_function (b->down[t], down_event);
    gst_pad_set_query_function (b->down[t], down_query);
    gst_pad_set_event_function (b->up[t], up_event);
    g_assert_cmpint (gst_pad_link (src, b->down[t]), ==, GST_PAD_LINK_OK);
    g_assert_cmpint (gst_pad_link (b->up[t], sink), ==, GST_PAD_LINK_OK);
    gst_pad_set_active (b->down[t], TRUE);
    gst_pad_set_active (b->up[t], TRUE);
    g_assert_true (gst_pad_push_event (b->up[t], gst_event_new_stream_start (t ? "lane-1" : "lane-0")));
    GstCaps *caps = gst_caps_new_simple ("application/x-rtp", "media", G_TYPE_STRING, t ? "audio" : "video", NULL);
    g_assert_true (gst_pad_push_event (b->up[t], gst_event_new_caps (caps)));
    gst_caps_unref (caps);
    GstSegment segment;
    gst_segment_init (&segment, GST_FORMAT_TIME);
    g_assert_true (gst_pad_push_event (b->up[t], gst_event_new_segment (&segment)));
  }
  return b;
}

static Bed *
bed_new (guint max_buffers, GstClockTime max_time)
{
  return bed_new_full (max_buffers, max_time, FALSE);
}

static void
bed_free (Bed *b)
{
  g_assert_cmpint (gst_element_set_state (b->lanes, GST_STATE_NULL), ==, GST_STATE_CHANGE_SUCCESS);
  for (gint t = 0; t < LANES; t++) {
    gst_pad_set_active (b->up[t], FALSE);
    gst_pad_set_active (b->down[t], FALSE);
    gst_object_unref (b->up[t]);
    gst_object_unref (b->down[t]);
    g_array_unref (b->pts[t]);
    g_array_unref (b->lists[t]);
    g_ptr_array_unref (b->events[t]);
  }
  gst_object_unref (b->lanes);
  g_mutex_clear (&b->lock);
  g_cond_clear (&b->cond);
  g_free (b);
}

static GstFlowReturn
push (Bed *b, gint t, guint64 pts)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 100, NULL);
  GST_BUFFER_PTS (buf) = pts;
  return gst_pad_push (b->up[t], buf);
}

/* the test's thread: until `what` holds, checked under the bed's lock at every change */
#define WAIT_UNTIL(b, what) G_STMT_START {                                          \
  gint64 deadline_ = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;             \
  g_mutex_lock (&(b)->lock);                                                        \
  while (!(what))                                                                   \
    g_assert_true (g_cond_wait_until (&(b)->cond, &(b)->lock, deadline_) || (what)); \
  g_mutex_unlock (&(b)->lock);                                                      \
} G_STMT_END

static guint64 pts_at (Bed *b, gint t, guint i) { return g_array_index (b->pts[t], guint64, i); }

/* consumer 0 holds the buffer of time 0 in the lanes' thread, until let_go */
static void
hold_first_buffer (Bed *b)
{
  b->hold = TRUE;
  push (b, 0, 0);
  WAIT_UNTIL (b, b->holding);
}

static void
let_go (Bed *b)
{
  g_mutex_lock (&b->lock);
  b->hold = FALSE;
  g_cond_broadcast (&b->cond);
  g_mutex_unlock (&b->lock);
}

/* each lane's buffers and events come out in order, behind its caps and segment, ahead of its
 * EOS — all on one thread, which is not the producers' */
static void
test_order_one_thread (void)
{
  Bed *b = bed_new (0, 0);
  for (guint64 i = 0; i < 200; i++)
    g_assert_cmpint (push (b, i % 3 == 0, i * GST_MSECOND), ==, GST_FLOW_OK);
  for (gint t = 0; t < LANES; t++)
    g_assert_true (gst_pad_push_event (b->up[t], gst_event_new_eos ()));
  WAIT_UNTIL (b, b->eos[0] && b->eos[1]);
  for (gint t = 0; t < LANES; t++) {
    g_assert_cmpuint (b->pts[t]->len, ==, t ? 67 : 133);
    for (guint i = 1; i < b->pts[t]->len; i++)
      g_assert_cmpuint (pts_at (b, t, i - 1), <, pts_at (b, t, i));
    g_assert_cmpuint (b->events[t]->len, ==, 4);
    g_assert_cmpstr (g_ptr_array_index (b->events[t], 0), ==, "stream-start");
    g_assert_cmpstr (g_ptr_array_index (b->events[t], 1), ==, "caps");
    g_assert_cmpstr (g_ptr_array_index (b->events[t], 2), ==, "segment");
    g_assert_cmpstr (g_ptr_array_index (b->events[t], 3), ==, "eos");
  }
  g_assert_true (b->pusher[0] == b->pusher[1]);
  g_assert_true (b->pusher[0] != g_thread_self ());
  g_assert_cmpuint (lanes_dropped (b->lanes), ==, 0);
  bed_free (b);
}

/* a consumer that holds: its producer never waits, its lane keeps its newest `max_buffers`,
 * and the other lane loses nothing */
static void
test_full_lane_drops_its_oldest (void)
{
  Bed *b = bed_new (5, 0);
  hold_first_buffer (b);
  for (guint64 i = 1; i <= 20; i++)
    g_assert_cmpint (push (b, 0, i * GST_MSECOND), ==, GST_FLOW_OK);   /* never blocks */
  for (guint64 i = 0; i < 3; i++)
    g_assert_cmpint (push (b, 1, i * GST_MSECOND), ==, GST_FLOW_OK);
  g_assert_cmpuint (lanes_dropped (b->lanes), ==, 15);
  let_go (b);
  WAIT_UNTIL (b, b->pts[0]->len == 6 && b->pts[1]->len == 3);
  g_assert_cmpuint (pts_at (b, 0, 0), ==, 0);
  for (guint i = 1; i < 6; i++)
    g_assert_cmpuint (pts_at (b, 0, i), ==, (15 + i) * GST_MSECOND);   /* 16..20 ms */
  bed_free (b);
}

/* bounded by time: a held lane keeps what is within max_time of its newest buffer */
static void
test_full_lane_by_time (void)
{
  Bed *b = bed_new (0, 100 * GST_MSECOND);
  hold_first_buffer (b);
  for (guint64 i = 1; i <= 50; i++)
    push (b, 0, i * 10 * GST_MSECOND);   /* 10 .. 500 ms */
  let_go (b);
  g_assert_true (gst_pad_push_event (b->up[0], gst_event_new_eos ()));
  WAIT_UNTIL (b, b->eos[0]);
  g_assert_cmpuint (b->pts[0]->len, ==, 1 + 11);   /* the held one, then 400 .. 500 ms */
  g_assert_cmpuint (pts_at (b, 0, 1), ==, 400 * GST_MSECOND);
  g_assert_cmpuint (pts_at (b, 0, 11), ==, 500 * GST_MSECOND);
  g_assert_cmpuint (lanes_dropped (b->lanes), ==, 39);
  bed_free (b);
}

/* a consumer that fails (a reviewer leaving, a muxer refusing) never reaches its producer,
 * and the other lane flows on */
static void
test_failure_stays_in_its_lane (void)
{
  Bed *b = bed_new (0, 0);
  b->answer[0] = GST_FLOW_ERROR;
  for (guint64 i = 0; i < 20; i++) {
    g_assert_cmpint (push (b, 0, i * GST_MSECOND), ==, GST_FLOW_OK);
    g_assert_cmpint (push (b, 1, i * GST_MSECOND), ==, GST_FLOW_OK);
  }
  WAIT_UNTIL (b, b->pts[0]->len == 20 && b->pts[1]->len == 20);
  bed_free (b);
}

/* an upstream event (a keyframe request) crosses its own lane, and only that one */
static void
test_upstream_event_crosses_its_lane (void)
{
  Bed *b = bed_new (0, 0);
  GstStructure *s = gst_structure_new_empty ("kanyan-test-upstream");
  g_assert_true (gst_pad_push_event (b->down[1], gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM, s)));
  g_assert_cmpuint (b->upstream_seen[1], ==, 1);
  g_assert_cmpuint (b->upstream_seen[0], ==, 0);
  /* and a caps query crosses too: each consumer's answer reaches its own producer */
  for (gint t = 0; t < LANES; t++) {
    GstCaps *caps = gst_pad_peer_query_caps (b->up[t], NULL);
    g_assert_cmpstr (gst_structure_get_string (gst_caps_get_structure (caps, 0), "media"), ==, t ? "audio" : "video");
    gst_caps_unref (caps);
  }
  bed_free (b);
}

/* another thread: what the relay's disposal does (relay_dispose_element) */
static gpointer
stop_lanes (gpointer data)
{
  Bed *b = data;
  g_assert_cmpint (gst_element_set_state (b->lanes, GST_STATE_NULL), ==, GST_STATE_CHANGE_SUCCESS);
  return NULL;
}

/* stopped while its thread is inside a consumer's push, with more held behind it: the stop
 * completes once the consumer lets go, whichever comes first, and what the lanes held is freed
 * (valgrind would name a leak) */
static void
test_stop_while_held (void)
{
  Bed *b = bed_new (0, 0);
  hold_first_buffer (b);
  for (guint64 i = 1; i < 10; i++)
    push (b, 0, i * GST_MSECOND);
  GThread *stopper = g_thread_new ("stopper", stop_lanes, b);
  let_go (b);
  g_thread_join (stopper);
  g_assert_cmpuint (b->pts[0]->len, <=, 10);
  bed_free (b);
}

/* with lanes_push_lists(): what piled up in a lane while its thread was busy goes on as one
 * list, split where one of the lane's events stands, in order; without it, never a list */
static void
test_lists_of_what_piled_up (void)
{
  for (gboolean lists = FALSE; lists <= TRUE; lists++) {
    Bed *b = bed_new_full (0, 0, lists);
    hold_first_buffer (b);
    for (guint64 i = 1; i <= 10; i++)
      push (b, 0, i * GST_MSECOND);
    for (guint64 i = 1; i <= 3; i++)
      push (b, 1, i * GST_MSECOND);
    GstStructure *s = gst_structure_new_empty ("kanyan-test-mark");
    g_assert_true (gst_pad_push_event (b->up[0], gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, s)));
    for (guint64 i = 11; i <= 15; i++)
      push (b, 0, i * GST_MSECOND);
    let_go (b);
    WAIT_UNTIL (b, b->pts[0]->len == 16 && b->pts[1]->len == 3);
    for (guint i = 0; i < 16; i++)
      g_assert_cmpuint (pts_at (b, 0, i), ==, i * GST_MSECOND);
    g_assert_cmpuint (b->events[0]->len, ==, 4);   /* stream-start, caps, segment, the mark */
    g_assert_cmpuint (b->mark_at[0], ==, 11);      /* between the buffers of 10 and 11 ms */
    if (!lists) {
      g_assert_cmpuint (b->lists[0]->len + b->lists[1]->len, ==, 0);
    } else {
      g_assert_cmpuint (b->lists[0]->len, ==, 2);
      g_assert_cmpuint (g_array_index (b->lists[0], guint, 0), ==, 10);   /* up to the mark */
      g_assert_cmpuint (g_array_index (b->lists[0], guint, 1), ==, 5);
      g_assert_cmpuint (b->lists[1]->len, ==, 1);
      g_assert_cmpuint (g_array_index (b->lists[1], guint, 0), ==, 3);
    }
    bed_free (b);
  }
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lanes/order-one-thread", test_order_one_thread);
  g_test_add_func ("/lanes/full-lane-drops-its-oldest", test_full_lane_drops_its_oldest);
  g_test_add_func ("/lanes/full-lane-by-time", test_full_lane_by_time);
  g_test_add_func ("/lanes/failure-stays-in-its-lane", test_failure_stays_in_its_lane);
  g_test_add_func ("/lanes/upstream-event-crosses-its-lane", test_upstream_event_crosses_its_lane);
  g_test_add_func ("/lanes/stop-while-held", test_stop_while_held);
  g_test_add_func ("/lanes/lists-of-what-piled-up", test_lists_of_what_piled_up);
  return g_test_run ();
}

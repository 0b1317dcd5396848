/* lanes.c — a leaky queue for several streams with one thread (see lanes.h). A `queue` per
 * track costs a thread per track: a reviewer's video and audio, a segment's three tracks. Their
 * packets go to one webrtcbin, or to one segment's files, so one thread can carry them all, in
 * the order they came; each lane keeps its own bound, so that a full lane never holds another.
 * Owns the packets it holds and its one task; never looks inside a packet. */
#include "media/lanes.h"

#define KANYAN_TYPE_LANES (kanyan_lanes_get_type ())
G_DECLARE_FINAL_TYPE (KanyanLanes, kanyan_lanes, KANYAN, LANES, GstElement)

typedef struct _Lane Lane;

/* A buffer or a serialized event, in two FIFOs at once: the element's (every lane, in arrival
 * order: what the task pushes) and its lane's (what a full lane drops from). */
typedef struct {
  GList          link;        /* in KanyanLanes.items; link.data is the item */
  GList          lane_link;   /* in Lane.items; lane_link.data is the item */
  Lane          *lane;
  GstMiniObject *obj;
} Item;

struct _Lane {
  GstPad  *sink;
  GstPad  *src;
  GQueue   items;       /* Item.lane_link, oldest first */
  guint    buffers;     /* how many of items are buffers */
  gboolean flushing;    /* between a FLUSH_START and its FLUSH_STOP from upstream */
  /* the task thread's own, with push_lists: this wake-up's buffers not yet pushed, and
   * whether the lane is in the wake-up's list of lanes to finish */
  GstBufferList *pending;
  gboolean       touched;
};

struct _KanyanLanes {
  GstElement   parent;
  guint        max_buffers;   /* per lane; 0: no bound */
  GstClockTime max_time;      /* per lane, newest buffer's time less the oldest's; 0: no bound */
  gboolean     push_lists;    /* a lane's buffers of one wake-up go as one list */

  GMutex       lock;          /* guards what follows and every Lane's items, buffers, flushing */
  GCond        cond;
  GQueue       items;         /* Item.link, oldest first */
  gboolean     waiting;       /* the task sleeps on cond: a new item must wake it */
  gboolean     flushing;      /* below PAUSED: nothing enters */
  GPtrArray   *lanes;         /* Lane*, owned; lanes only come, until finalize */
  guint64      dropped;

  GstTask     *task;
  GRecMutex    task_lock;
};

G_DEFINE_TYPE (KanyanLanes, kanyan_lanes, GST_TYPE_ELEMENT)

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE ("sink_%u", GST_PAD_SINK, GST_PAD_SOMETIMES, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE ("src_%u", GST_PAD_SRC, GST_PAD_SOMETIMES, GST_STATIC_CAPS_ANY);

/* lock held */
static void
item_unlink (KanyanLanes *self, Item *item)
{
  g_queue_unlink (&self->items, &item->link);
  g_queue_unlink (&item->lane->items, &item->lane_link);
  if (GST_IS_BUFFER (item->obj))
    item->lane->buffers--;
}

static void
item_free (Item *item)
{
  gst_mini_object_unref (item->obj);
  g_free (item);
}

/* lock held: takes obj */
static void
lane_enqueue (KanyanLanes *self, Lane *lane, GstMiniObject *obj)
{
  Item *item = g_new0 (Item, 1);
  item->link.data = item->lane_link.data = item;
  item->lane = lane;
  item->obj = obj;
  g_queue_push_tail_link (&self->items, &item->link);
  g_queue_push_tail_link (&lane->items, &item->lane_link);
  if (GST_IS_BUFFER (obj))
    lane->buffers++;
  if (self->waiting)
    g_cond_signal (&self->cond);   /* a wake-up only when the task sleeps: no syscall per packet */
}

/* lock held: room for one more buffer of time `incoming`, dropping the lane's oldest buffers
 * (its events stay: a caps or a segment dropped would leave what follows undecodable) */
static void
lane_make_room (KanyanLanes *self, Lane *lane, GstClockTime incoming)
{
  GList *l = lane->items.head;
  while (l) {
    Item *item = l->data;
    l = l->next;
    if (!GST_IS_BUFFER (item->obj))
      continue;
    GstClockTime oldest = GST_BUFFER_DTS_OR_PTS (GST_BUFFER (item->obj));
    gboolean full = (self->max_buffers && lane->buffers >= self->max_buffers) ||
                    (self->max_time && GST_CLOCK_TIME_IS_VALID (incoming) && GST_CLOCK_TIME_IS_VALID (oldest) &&
                     incoming > oldest && incoming - oldest > self->max_time);
    if (!full)
      return;
    item_unlink (self, item);
    item_free (item);
    self->dropped++;
  }
}

/* lock held */
static void
lane_purge (KanyanLanes *self, Lane *lane)
{
  while (lane->items.head) {
    Item *item = lane->items.head->data;
    item_unlink (self, item);
    item_free (item);
  }
}

/* the upstream's streaming thread (a tee's) */
static GstFlowReturn
lanes_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  KanyanLanes *self = KANYAN_LANES (parent);
  Lane *lane = gst_pad_get_element_private (pad);
  g_mutex_lock (&self->lock);
  if (self->flushing || lane->flushing) {
    g_mutex_unlock (&self->lock);
    gst_buffer_unref (buf);
    return GST_FLOW_FLUSHING;
  }
  lane_make_room (self, lane, GST_BUFFER_DTS_OR_PTS (buf));
  lane_enqueue (self, lane, GST_MINI_OBJECT_CAST (buf));
  g_mutex_unlock (&self->lock);
  return GST_FLOW_OK;   /* never the downstream's result: see lanes.h */
}

/* the upstream's streaming thread, or whoever sends an event to the lane */
static gboolean
lanes_sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  KanyanLanes *self = KANYAN_LANES (parent);
  Lane *lane = gst_pad_get_element_private (pad);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
    case GST_EVENT_FLUSH_STOP:
      g_mutex_lock (&self->lock);
      lane->flushing = GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_START;
      lane_purge (self, lane);
      g_mutex_unlock (&self->lock);
      return gst_pad_push_event (lane->src, event);
    default:
      if (!GST_EVENT_IS_SERIALIZED (event))
        return gst_pad_push_event (lane->src, event);
      g_mutex_lock (&self->lock);
      gboolean taken = !self->flushing && !lane->flushing;
      if (taken)
        lane_enqueue (self, lane, GST_MINI_OBJECT_CAST (event));
      g_mutex_unlock (&self->lock);
      if (!taken)
        gst_event_unref (event);
      return taken;
  }
}

/* any thread: a lane's pads lead only to each other, so that the default handlers of upstream
 * events and of queries (caps, allocation, latency) cross the lane and nothing else */
static GstIterator *
lanes_iterate_internal_links (GstPad *pad, GstObject *parent)
{
  Lane *lane = gst_pad_get_element_private (pad);
  GValue other = G_VALUE_INIT;
  g_value_init (&other, GST_TYPE_PAD);
  g_value_set_object (&other, pad == lane->sink ? lane->src : lane->sink);
  GstIterator *it = gst_iterator_new_single (GST_TYPE_PAD, &other);
  g_value_unset (&other);
  return it;
}

/* the element's task thread: a lane's buffers of one wake-up, alone or as a list (the
 * consumer's result stays in the lane: lanes.h) */
static void
lane_push_pending (Lane *lane)
{
  GstBufferList *list = g_steal_pointer (&lane->pending);
  if (!list)
    return;
  if (gst_buffer_list_length (list) == 1) {
    gst_pad_push (lane->src, gst_buffer_ref (gst_buffer_list_get (list, 0)));
    gst_buffer_list_unref (list);
  } else {
    gst_pad_push_list (lane->src, list);
  }
}

/* the element's task thread: every item held, of every lane, in the order they came */
static void
lanes_loop (gpointer data)
{
  KanyanLanes *self = data;
  g_mutex_lock (&self->lock);
  while (!self->flushing && g_queue_is_empty (&self->items)) {
    self->waiting = TRUE;
    g_cond_wait (&self->cond, &self->lock);
    self->waiting = FALSE;
  }
  if (self->flushing) {
    g_mutex_unlock (&self->lock);
    gst_task_pause (self->task);
    return;
  }
  GQueue batch = G_QUEUE_INIT;   /* taken at once: one lock and one wake-up for what piled up */
  GList *l;
  while ((l = self->items.head)) {
    Item *item = l->data;
    item_unlink (self, item);
    g_queue_push_tail_link (&batch, &item->link);
  }
  guint n_lanes = self->lanes->len;
  g_mutex_unlock (&self->lock);
  /* With push_lists, each lane's buffers up to its next event go on as one list: one pass
   * through the consumer's elements for what piled up (a lane's order is kept; lanes never
   * wait for each other, so their relative order within a wake-up does not matter). Without,
   * each buffer goes at once. The lanes are reached through the items only: lanes_add_lane
   * may grow the array meanwhile. */
  Lane *touched[n_lanes];   /* n_lanes >= 1: the batch holds an item of some lane */
  guint n_touched = 0;
  while ((l = g_queue_pop_head_link (&batch))) {
    Item *item = l->data;
    Lane *lane = item->lane;
    GstMiniObject *obj = g_steal_pointer (&item->obj);
    g_free (item);
    if (!GST_IS_BUFFER (obj)) {
      lane_push_pending (lane);   /* a lane's event ends its list */
      gst_pad_push_event (lane->src, GST_EVENT (obj));
    } else if (!self->push_lists) {
      gst_pad_push (lane->src, GST_BUFFER (obj));   /* its result stays in the lane: lanes.h */
    } else {
      if (!lane->pending)
        lane->pending = gst_buffer_list_new ();
      gst_buffer_list_add (lane->pending, GST_BUFFER (obj));
      if (!lane->touched) {
        lane->touched = TRUE;
        touched[n_touched++] = lane;
      }
    }
  }
  for (guint i = 0; i < n_touched; i++) {
    lane_push_pending (touched[i]);
    touched[i]->touched = FALSE;
  }
}

static void
lanes_set_flushing (KanyanLanes *self, gboolean flushing)
{
  g_mutex_lock (&self->lock);
  self->flushing = flushing;
  if (flushing) {
    for (guint i = 0; i < self->lanes->len; i++)
      lane_purge (self, g_ptr_array_index (self->lanes, i));
    g_cond_signal (&self->cond);
  }
  g_mutex_unlock (&self->lock);
}

/* the thread that changes the state */
static GstStateChangeReturn
lanes_change_state (GstElement *element, GstStateChange transition)
{
  KanyanLanes *self = KANYAN_LANES (element);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    lanes_set_flushing (self, FALSE);
    gst_task_start (self->task);
  } else if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    lanes_set_flushing (self, TRUE);
    /* the task pauses itself once it sees flushing (lanes_loop): let that pass first, under
     * the lock it runs with, or its pause would undo the stop */
    g_rec_mutex_lock (&self->task_lock);
    gst_task_stop (self->task);
    g_rec_mutex_unlock (&self->task_lock);
  }
  GstStateChangeReturn ret = GST_ELEMENT_CLASS (kanyan_lanes_parent_class)->change_state (element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    gst_task_join (self->task);
  return ret;
}

static void
lane_free (gpointer data)
{
  g_free (data);   /* its items went with the element's flushing; its pads are the element's */
}

static void
kanyan_lanes_init (KanyanLanes *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_rec_mutex_init (&self->task_lock);
  self->flushing = TRUE;
  self->lanes = g_ptr_array_new_with_free_func (lane_free);
  self->task = gst_task_new (lanes_loop, self, NULL);
  gst_task_set_lock (self->task, &self->task_lock);
}

static void
kanyan_lanes_finalize (GObject *object)
{
  KanyanLanes *self = KANYAN_LANES (object);
  lanes_set_flushing (self, TRUE);
  gst_object_unref (self->task);
  g_ptr_array_unref (self->lanes);
  g_rec_mutex_clear (&self->task_lock);
  g_cond_clear (&self->cond);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (kanyan_lanes_parent_class)->finalize (object);
}

static void
kanyan_lanes_class_init (KanyanLanesClass *klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  G_OBJECT_CLASS (klass)->finalize = kanyan_lanes_finalize;
  element_class->change_state = lanes_change_state;
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Kanyan lanes", "Generic",
      "A leaky queue for several streams with one thread", "Kanyan");
}

GstElement *
lanes_new (const gchar *name, guint max_buffers, GstClockTime max_time)
{
  KanyanLanes *self = g_object_new (KANYAN_TYPE_LANES, NULL);
  self->max_buffers = max_buffers;
  self->max_time = max_time;
  gst_object_set_name (GST_OBJECT (self->task), name);   /* the thread's name (GstTask sets it) */
  return GST_ELEMENT (self);
}

GstPad *
lanes_add_lane (GstElement *element, GstPad **src)
{
  KanyanLanes *self = KANYAN_LANES (element);
  Lane *lane = g_new0 (Lane, 1);
  g_mutex_lock (&self->lock);
  guint n = self->lanes->len;
  g_ptr_array_add (self->lanes, lane);
  g_mutex_unlock (&self->lock);
  g_autofree gchar *sink_name = g_strdup_printf ("sink_%u", n);
  g_autofree gchar *src_name = g_strdup_printf ("src_%u", n);
  lane->sink = gst_pad_new_from_static_template (&sink_template, sink_name);
  lane->src = gst_pad_new_from_static_template (&src_template, src_name);
  for (GstPad **pad = (GstPad *[]) { lane->sink, lane->src, NULL }; *pad; pad++) {
    gst_pad_set_element_private (*pad, lane);
    gst_pad_set_iterate_internal_links_function (*pad, lanes_iterate_internal_links);
    GST_PAD_SET_PROXY_CAPS (*pad);
    GST_PAD_SET_PROXY_ALLOCATION (*pad);
  }
  gst_pad_set_chain_function (lane->sink, lanes_chain);
  gst_pad_set_event_function (lane->sink, lanes_sink_event);
  gst_element_add_pad (element, lane->src);    /* add_pad activates a pad of a running element */
  gst_element_add_pad (element, lane->sink);
  *src = lane->src;
  return lane->sink;
}

void
lanes_push_lists (GstElement *element)
{
  KANYAN_LANES (element)->push_lists = TRUE;
}

guint64
lanes_dropped (GstElement *element)
{
  KanyanLanes *self = KANYAN_LANES (element);
  g_mutex_lock (&self->lock);
  guint64 dropped = self->dropped;
  g_mutex_unlock (&self->lock);
  return dropped;
}

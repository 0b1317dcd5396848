/* lanes.h — a leaky queue for several streams with one thread (lanes.c) */
#pragma once
#include <gst/gst.h>

/* A lanes element holds, like a leaky `queue`, what its upstream pushes until its own thread
 * pushes it on, so that a slow consumer never holds the producer. Unlike a queue it has any
 * number of lanes — a sink pad and a src pad each — and one thread for all of them: the tracks
 * of one reviewer, or of one recording segment. Per lane, in the order they came: buffers,
 * serialized events (caps, segment, EOS). Upstream events and queries cross a lane to its
 * other pad. Each lane is bounded on its own (`max_buffers` and `max_time`, 0 for no bound):
 * a full lane drops its oldest buffer, and never holds another lane.
 *
 * A lane never reports its downstream's failure upstream: its sink pad returns OK unless the
 * lane or the element is flushing, so one consumer's trouble (a reviewer leaving, a muxer
 * refusing) never stops a tee feeding others. Put relay_isolate_branch() on a lane's src pad
 * to hear of it.
 *
 * Threads: lanes_new and lanes_add_lane on any thread (a lane may be added while the element
 * plays); the element's own task pushes everything downstream. Its thread is named `name`. */
GstElement *lanes_new (const gchar *name, guint max_buffers, GstClockTime max_time);
/* A new lane, activated as the element is. Returns its sink pad; *src is its src pad (both
 * owned by the element: borrowed references). */
GstPad     *lanes_add_lane (GstElement *lanes, GstPad **src);
/* Before it plays: each lane's buffers taken at one wake-up go downstream as one buffer list
 * (a single buffer alone), for a consumer that handles lists in one pass; every probe below
 * must then take lists too. */
void        lanes_push_lists (GstElement *lanes);
/* Any thread: buffers dropped so far because a lane was full (all lanes). */
guint64     lanes_dropped (GstElement *lanes);

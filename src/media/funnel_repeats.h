/* funnel_repeats.h — webrtcbin's bundle funnel without its repeated sticky events (funnel_repeats.c) */
#pragma once
#include <gst/gst.h>

/* Any thread, once per `rtpfunnel` (peer.c calls it as webrtcbin adds one): from now on the
 * funnel's src pad answers, instead of sending down the send chain again, a SEGMENT equal to
 * the last one it let through and a custom sticky event it already let through. */
void funnel_repeats_answer (GstElement *rtpfunnel);

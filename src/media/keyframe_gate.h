/* keyframe_gate.h — waiting for a keyframe, one way for every branch that must start on one
 * (the recorder, a still, each viewer until its first): how often the publisher is asked
 * again, whether an RTP packet starts a keyframe, a gate that holds a branch until one, and
 * the timer that keeps asking while a branch waits. Every request reaches the phone through
 * the relay's one requester (relay_request_keyframe), within its limit. */
#pragma once
#include "media/relay.h"
#include "media/rtp_keyframe.h"
#include <gst/rtp/rtp.h>

/* the publisher is asked at most this often, whoever asks (relay.c), and waiting branches ask again at this pace */
#define KEYFRAME_RETRY_MS 500

/* Any thread: does this mapped RTP packet start a keyframe of `codec`? */
gboolean keyframe_rtp_is_key (RtpCodec codec, GstRTPBuffer *rtp);

/* A buffer probe on `pad` (RTP of `codec`) that drops every packet until the first packet of a
 * keyframe, lets that one through and removes itself. Streaming thread; nothing to free. */
void     keyframe_gate_add (GstPad *pad, RtpCodec codec);

/* Asks the relay's publisher for a keyframe now (relay_request_keyframe_for_newcomer), and
 * every KEYFRAME_RETRY_MS (relay_request_keyframe) as long as
 * `wanted` (main loop) says: ASK again, WAIT (not now, keep the timer), or DONE (the timer
 * ends; its source id is then no longer valid). Returns the timer's source id, to remove
 * before the relay goes. */
typedef enum { KEYFRAME_ASK, KEYFRAME_WAIT, KEYFRAME_DONE } KeyframeWant;
typedef KeyframeWant (*KeyframeWanted) (gpointer data);
guint    keyframe_ask_add (Relay *relay, KeyframeWanted wanted, gpointer data);

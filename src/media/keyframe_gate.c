/* keyframe_gate.c — the one keyframe gate and the one keyframe retry of the media branches
 * (keyframe_gate.h). Asks through relay_request_keyframe only; never touches a branch's
 * elements beyond the probe it is given a pad for. */
#include "media/keyframe_gate.h"

gboolean
keyframe_rtp_is_key (RtpCodec codec, GstRTPBuffer *rtp)
{
  return rtp_payload_is_keyframe (codec, gst_rtp_buffer_get_payload (rtp), gst_rtp_buffer_get_payload_len (rtp));
}

typedef struct {
  RtpCodec codec;
  gint     open;   /* atomic: a keyframe passed */
} Gate;

/* streaming thread: every packet entering the gated pad until the gate opens */
static GstPadProbeReturn
gate_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Gate *gate = data;
  if (g_atomic_int_get (&gate->open))
    return GST_PAD_PROBE_REMOVE;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gboolean key = FALSE;
  if (gst_rtp_buffer_map (GST_PAD_PROBE_INFO_BUFFER (info), GST_MAP_READ, &rtp)) {
    key = keyframe_rtp_is_key (gate->codec, &rtp);
    gst_rtp_buffer_unmap (&rtp);
  }
  if (!key)
    return GST_PAD_PROBE_DROP;
  g_atomic_int_set (&gate->open, 1);
  return GST_PAD_PROBE_REMOVE;
}

void
keyframe_gate_add (GstPad *pad, RtpCodec codec)
{
  Gate *gate = g_new0 (Gate, 1);
  gate->codec = codec;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, gate_probe, gate, g_free);
}

typedef struct {
  Relay          *relay;
  KeyframeWanted  wanted;
  gpointer        data;
} Asker;

/* main loop, every KEYFRAME_RETRY_MS */
static gboolean
ask_tick (gpointer data)
{
  Asker *a = data;
  switch (a->wanted (a->data)) {
    case KEYFRAME_ASK:
      relay_request_keyframe (a->relay);
      return G_SOURCE_CONTINUE;
    case KEYFRAME_WAIT:
      return G_SOURCE_CONTINUE;
    default:
      return G_SOURCE_REMOVE;
  }
}

guint
keyframe_ask_add (Relay *relay, KeyframeWanted wanted, gpointer data)
{
  Asker *a = g_new (Asker, 1);
  a->relay = relay;
  a->wanted = wanted;
  a->data = data;
  relay_request_keyframe_for_newcomer (relay);
  return g_timeout_add_full (G_PRIORITY_DEFAULT, KEYFRAME_RETRY_MS, ask_tick, a, g_free);
}

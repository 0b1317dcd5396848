/* viewer.c — one reviewer's webrtcbin in the relay: video sendonly and audio sendrecv fed
 * from the tees through one leaky lanes element, one thread for both (relay_branch_link; the
 * server offers), and the reviewer's microphone
 * decoded into the talk-back mixer. A WHEP watcher's webrtcbin too: the player offers, both
 * tracks sendonly, payload types rewritten to the answer's, never a talk-back chain. Never
 * decodes the applicant's media. */
#include "media/relay_private.h"
#include "media/keyframe_gate.h"
#include "core/metrics.h"
#include "core/errors.h"
#include "media/media_debug.h"
#include <gst/rtp/rtp.h>
#include <stdlib.h>

GST_DEBUG_CATEGORY_STATIC (kanyan_viewer_debug);   /* GST_DEBUG=kanyan-viewer:6 (media_debug.h) */
#define GST_CAT_DEFAULT kanyan_viewer_debug

void
viewer_debug_init (void)
{
  GST_DEBUG_CATEGORY_INIT (kanyan_viewer_debug, "kanyan-viewer", 0,
                           "Kanyan: each reviewer's webrtcbin and the talk-back (viewer.c)");
}

/* webrtcbin streaming thread: the reviewer's microphone arrived */
static void
on_viewer_pad_added (GstElement *webrtcbin, GstPad *pad, RelayViewer *viewer)
{
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  Relay *relay = viewer->relay;
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  const gchar *media = caps ? gst_structure_get_string (gst_caps_get_structure (caps, 0), "media") : NULL;
  if (g_strcmp0 (media, "audio") != 0) {   /* only a microphone is welcome */
    relay_discard_pad (relay, pad);
    return;
  }
  g_autoptr (GError) error = NULL;
  GstElement *chain = gst_parse_bin_from_description (
      "rtpopusdepay ! opusdec plc=true ! audioconvert ! audioresample "
      "! audio/x-raw,rate=48000,channels=1 ! queue leaky=downstream max-size-time=200000000",
      TRUE, &error);
  if (!chain) {
    g_warning ("relay %s: talk-back chain: %s", relay->name, error->message);
    return;
  }
  g_mutex_lock (&viewer->lock);
  if (viewer->talk_chain) {           /* one microphone per viewer */
    g_mutex_unlock (&viewer->lock);
    gst_object_unref (gst_object_ref_sink (chain));
    relay_discard_pad (relay, pad);
    return;
  }
  relay_talk_start (relay);   /* the first microphone starts the mixer (idle until now) */
  gst_bin_add (GST_BIN (relay->pipeline), chain);
  GstPad *chain_sink = gst_element_get_static_pad (chain, "sink");
  GstPad *chain_src = gst_element_get_static_pad (chain, "src");
  viewer->mixer_pad = gst_element_request_pad_simple (relay->mixer, "sink_%u");
  /* the mixer lives in the talk bin: the chain reaches it through a ghost pad */
  viewer->mixer_ghost = gst_ghost_pad_new (NULL, viewer->mixer_pad);
  gst_pad_set_active (viewer->mixer_ghost, TRUE);
  gst_element_add_pad (relay->talk_bin, gst_object_ref (viewer->mixer_ghost));
  if (gst_pad_link (chain_src, viewer->mixer_ghost) != GST_PAD_LINK_OK)
    g_warning ("relay %s: the talk-back chain does not link to the mixer", relay->name);
  gst_element_sync_state_with_parent (chain);
  gst_pad_link (pad, chain_sink);
  viewer->talk_chain = gst_object_ref (chain);
  g_mutex_unlock (&viewer->lock);
  gst_object_unref (chain_sink);
  gst_object_unref (chain_src);
}

static GstPad *
viewer_request_sink (RelayViewer *viewer, GstCaps *caps, GstWebRTCRTPTransceiverDirection direction,
                     gboolean nack)
{
  GstElement *webrtcbin = viewer->peer->webrtcbin;
  GstPadTemplate *templ = gst_element_get_pad_template (webrtcbin, "sink_%u");
  GstPad *sink = gst_element_request_pad (webrtcbin, templ, NULL, caps);
  if (!sink)
    return NULL;
  GstWebRTCRTPTransceiver *trans = NULL;
  g_object_get (sink, "transceiver", &trans, NULL);
  if (trans) {
    g_object_set (trans, "codec-preferences", caps, "direction", direction, "do-nack", nack, NULL);
    gst_object_unref (trans);
  }
  return sink;
}

RelayViewer *
relay_viewer_add (Relay *relay, const gchar *name, const WebrtcPeerEvents *events, gpointer owner,
                  GError **error)
{
  if (!relay->caps[TRACK_VIDEO]) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "no publisher media to offer yet");
    return NULL;
  }
  g_autofree gchar *element_name = g_strdup_printf ("%s-%s-%u", relay->name, name, ++relay->serial);
  WebrtcPeer *peer = webrtc_peer_new (GST_BIN (relay->pipeline), element_name, relay->cfg, events, owner);
  if (!peer) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "webrtcbin is not available");
    return NULL;
  }
  GST_INFO ("relay %s: viewer %s", relay->name, element_name);
  RelayViewer *viewer = g_new0 (RelayViewer, 1);
  viewer->relay = relay;
  viewer->peer = peer;
  viewer->added_us = g_get_monotonic_time ();
  g_mutex_init (&viewer->lock);

  viewer->sink[TRACK_VIDEO] = viewer_request_sink (viewer, relay->caps[TRACK_VIDEO],
                                                   GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, TRUE);
  if (relay->caps[TRACK_AUDIO])
    viewer->sink[TRACK_AUDIO] = viewer_request_sink (viewer, relay->caps[TRACK_AUDIO],
                                                     GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV, FALSE);
  viewer->pad_added_id = g_signal_connect (peer->webrtcbin, "pad-added", G_CALLBACK (on_viewer_pad_added), viewer);
  gst_element_sync_state_with_parent (peer->webrtcbin);
  g_ptr_array_add (relay->viewers, viewer);
  webrtc_peer_create_offer (peer);
  return viewer;
}

/* webrtcbin streaming thread: a WHEP watcher sends nothing (its transceivers are sendonly
 * here); whatever arrives anyway is dropped, never decoded, never mixed into the talk-back */
static void
on_watcher_pad_added (GstElement *webrtcbin, GstPad *pad, RelayViewer *viewer)
{
  if (GST_PAD_DIRECTION (pad) == GST_PAD_SRC)
    relay_discard_pad (viewer->relay, pad);
}

/* A WHEP watcher: the client offers (recvonly), the server answers with video and audio
 * sendonly from the tees. Its webrtcbin never gets a talk-back chain: it cannot reach the
 * applicant's audio mix. The answer comes through events (local description, gathering). */
RelayViewer *
relay_watcher_add (Relay *relay, const gchar *name, GstSDPMessage *offer, const WebrtcPeerEvents *events,
                   gpointer owner, GError **error)
{
  if (!relay->caps[TRACK_VIDEO]) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_LIVE, "no applicant media flows in this case yet");
    gst_sdp_message_free (offer);
    return NULL;
  }
  g_autofree gchar *element_name = g_strdup_printf ("%s-%s-%u", relay->name, name, ++relay->serial);
  WebrtcPeer *peer = webrtc_peer_new (GST_BIN (relay->pipeline), element_name, relay->cfg, events, owner);
  if (!peer) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "webrtcbin is not available");
    gst_sdp_message_free (offer);
    return NULL;
  }
  GST_INFO ("relay %s: WHEP watcher %s", relay->name, element_name);
  RelayViewer *viewer = g_new0 (RelayViewer, 1);
  viewer->relay = relay;
  viewer->peer = peer;
  viewer->added_us = g_get_monotonic_time ();
  g_mutex_init (&viewer->lock);
  /* the player's offer names the payload types: the transceivers take the codec without one */
  for (gint t = TRACK_VIDEO; t <= TRACK_AUDIO; t++) {
    viewer->pt_from[t] = -1;
    if (!relay->caps[t])
      continue;
    g_autoptr (GstCaps) caps = gst_caps_copy (relay->caps[t]);
    GstStructure *st = gst_caps_get_structure (caps, 0);
    gst_structure_get_int (st, "payload", &viewer->pt_from[t]);
    gst_structure_remove_fields (st, "payload", "ssrc", NULL);
    viewer->sink[t] = viewer_request_sink (viewer, caps, GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
                                           t == TRACK_VIDEO);
  }
  viewer->pad_added_id = g_signal_connect (peer->webrtcbin, "pad-added", G_CALLBACK (on_watcher_pad_added), viewer);
  gst_element_sync_state_with_parent (peer->webrtcbin);
  g_ptr_array_add (relay->viewers, viewer);
  webrtc_peer_set_remote (peer, GST_WEBRTC_SDP_TYPE_OFFER, offer);   /* takes the offer; answers */
  return viewer;
}

typedef struct { gint from, to; } PtRewrite;

/* buffers are shared with the other branches: the caller made this one writable */
static void
rewrite_pt (GstBuffer *buf, const PtRewrite *pt)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (gst_rtp_buffer_map (buf, GST_MAP_READWRITE, &rtp)) {
    if (gst_rtp_buffer_get_payload_type (&rtp) == pt->from)
      gst_rtp_buffer_set_payload_type (&rtp, pt->to);
    gst_rtp_buffer_unmap (&rtp);
  }
}

static gboolean
rewrite_list_item (GstBuffer **buf, guint idx, gpointer data)
{
  *buf = gst_buffer_make_writable (*buf);
  rewrite_pt (*buf, data);
  return TRUE;
}

/* streaming thread: the publisher's payload type becomes the one the player's answer chose.
 * `data` is the probe's own PtRewrite (freed with the probe), never the viewer: a push under
 * way while the viewer is removed still runs this probe. */
static GstPadProbeReturn
on_watcher_rewrite (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  const PtRewrite *pt = data;
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
      return GST_PAD_PROBE_OK;
    GstCaps *caps = NULL;
    gst_event_parse_caps (event, &caps);
    GstCaps *copy = gst_caps_copy (caps);
    gst_structure_set (gst_caps_get_structure (copy, 0), "payload", G_TYPE_INT, pt->to, NULL);
    GST_PAD_PROBE_INFO_DATA (info) = gst_event_new_caps (copy);
    gst_caps_unref (copy);
    gst_event_unref (event);
    return GST_PAD_PROBE_OK;
  }
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = gst_buffer_list_make_writable (GST_PAD_PROBE_INFO_BUFFER_LIST (info));
    GST_PAD_PROBE_INFO_DATA (info) = list;
    gst_buffer_list_foreach (list, rewrite_list_item, (gpointer) pt);
    return GST_PAD_PROBE_OK;
  }
  GstBuffer *buf = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  rewrite_pt (buf, pt);
  return GST_PAD_PROBE_OK;
}

/* the first payload type of the answer's m-line of this kind, or -1 */
static gint
answer_pt (const GstSDPMessage *answer, const gchar *kind)
{
  for (guint i = 0; i < gst_sdp_message_medias_len (answer); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (answer, i);
    if (g_strcmp0 (gst_sdp_media_get_media (m), kind) == 0 && gst_sdp_media_get_port (m) != 0 &&
        gst_sdp_media_formats_len (m) > 0)
      return atoi (gst_sdp_media_get_format (m, 0));
  }
  return -1;
}

void
relay_watcher_answered (Relay *relay, RelayViewer *viewer, const gchar *answer_sdp)
{
  GstSDPMessage *answer = NULL;
  gst_sdp_message_new (&answer);
  if (gst_sdp_message_parse_buffer ((const guint8 *) answer_sdp, strlen (answer_sdp), answer) == GST_SDP_OK) {
    for (gint t = TRACK_VIDEO; t <= TRACK_AUDIO; t++) {
      gint pt = answer_pt (answer, t == TRACK_VIDEO ? "video" : "audio");
      if (!viewer->sink[t] || pt < 0 || viewer->pt_from[t] < 0 || pt == viewer->pt_from[t] || viewer->branch.tee_pad[t])
        continue;
      GST_INFO ("relay %s: watcher payload type %d -> %d", relay->name, viewer->pt_from[t], pt);
      PtRewrite *rewrite = g_new (PtRewrite, 1);
      *rewrite = (PtRewrite) { viewer->pt_from[t], pt };
      gst_pad_add_probe (viewer->sink[t], GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                         GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                         on_watcher_rewrite, rewrite, g_free);
    }
  }
  gst_sdp_message_free (answer);
  relay_viewer_answered (relay, viewer);
}

WebrtcPeer *
relay_viewer_peer (RelayViewer *viewer)
{
  return viewer->peer;
}

void
relay_viewer_answered (Relay *relay, RelayViewer *viewer)
{
  for (gint t = TRACK_VIDEO; t <= TRACK_AUDIO; t++)
    if (viewer->sink[t] && !viewer->branch.tee_pad[t])
      relay_branch_link (relay, t, viewer->sink[t], &viewer->branch);
}

/* main loop, every KEYFRAME_RETRY_MS while a viewer waits for its first keyframe after
 * connecting (keyframe_ask_add) */
static KeyframeWant
viewer_want_keyframe (gpointer data)
{
  RelayViewer *viewer = data;
  gint64 last_seen = GPOINTER_TO_SIZE (g_atomic_pointer_get (&viewer->relay->last_keyframe_seen_us));
  if (last_seen <= viewer->waiting_keyframe_since)
    return KEYFRAME_ASK;
  if (!viewer->first_keyframe_us)   /* the viewer's first: join to keyframe */
    metrics_join_to_keyframe ((last_seen - viewer->added_us) / 1e6);
  viewer->first_keyframe_us = last_seen;
  viewer->waiting_keyframe_since = 0;
  viewer->keyframe_ask = 0;
  return KEYFRAME_DONE;
}

void
relay_viewer_connected (Relay *relay, RelayViewer *viewer)
{
  viewer->waiting_keyframe_since = g_get_monotonic_time ();
  if (viewer->keyframe_ask)   /* connected again while still waiting: the timer goes on */
    relay_request_keyframe (relay);
  else
    viewer->keyframe_ask = keyframe_ask_add (relay, viewer_want_keyframe, viewer);
}

gint64
relay_viewer_first_keyframe_us (RelayViewer *viewer)
{
  return viewer->first_keyframe_us;
}

void
relay_viewer_remove (Relay *relay, RelayViewer *viewer)
{
  g_ptr_array_remove (relay->viewers, viewer);
  if (viewer->keyframe_ask)
    g_source_remove (viewer->keyframe_ask);
  g_signal_handler_disconnect (viewer->peer->webrtcbin, viewer->pad_added_id);
  relay_branch_unlink (relay, &viewer->branch);
  for (gint t = 0; t < TRACK_COUNT; t++)
    gst_clear_object (&viewer->sink[t]);
  g_mutex_lock (&viewer->lock);
  if (viewer->talk_chain) {
    GstPad *chain_src = gst_element_get_static_pad (viewer->talk_chain, "src");
    gst_pad_unlink (chain_src, viewer->mixer_ghost);
    gst_object_unref (chain_src);
    gst_element_remove_pad (relay->talk_bin, viewer->mixer_ghost);
    gst_clear_object (&viewer->mixer_ghost);
    gst_element_release_request_pad (relay->mixer, viewer->mixer_pad);
    gst_clear_object (&viewer->mixer_pad);
    gst_element_set_locked_state (viewer->talk_chain, TRUE);
    gst_bin_remove (GST_BIN (relay->pipeline), viewer->talk_chain);
    relay_dispose_element (relay, viewer->talk_chain);   /* takes our reference */
    viewer->talk_chain = NULL;
  }
  g_mutex_unlock (&viewer->lock);
  webrtc_peer_close (viewer->peer);
  webrtc_peer_unref (viewer->peer);
  g_mutex_clear (&viewer->lock);
  g_free (viewer);
}

/* ingest.c — the publisher side of the relay: the applicant's webrtcbin (WebSocket or WHIP).
 * Builds its transceivers from the offer before answering (so 1.22 keeps NACK/RTX and the
 * H.264 profile), links its RTP src pads to the relay's tees on the streaming thread, and
 * feeds it the reviewers' talk-back mix. A reconnect is a new publisher on the same tees. */
#include "media/relay_private.h"
#include "core/errors.h"
#include <string.h>
#include "media/media_debug.h"

GST_DEBUG_CATEGORY_STATIC (kanyan_ingest_debug);   /* GST_DEBUG=kanyan-ingest:6 (media_debug.h) */
#define GST_CAT_DEFAULT kanyan_ingest_debug

/* the publisher's video session: its RTCP interval's floor and bandwidth (ingest_quicken_feedback) */
#define INGEST_RTCP_MIN_INTERVAL_MS 50
#define INGEST_RTCP_BYTES_PER_S 8000

void
ingest_debug_init (void)
{
  GST_DEBUG_CATEGORY_INIT (kanyan_ingest_debug, "kanyan-ingest", 0,
                           "Kanyan: the publisher's webrtcbin and its streams (ingest.c)");
}

/* webrtcbin streaming thread: a received stream appeared */
static void
on_publisher_pad_added (GstElement *webrtcbin, GstPad *pad, Relay *relay)
{
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  const gchar *media = gst_structure_get_string (gst_caps_get_structure (caps, 0), "media");
  RelayTrack track = g_strcmp0 (media, "video") == 0 ? TRACK_VIDEO
                   : g_strcmp0 (media, "audio") == 0 ? TRACK_AUDIO : TRACK_COUNT;
  gboolean linked = FALSE;
  g_mutex_lock (&relay->lock);
  RelayPublisher *pub = relay->publisher;
  if (track != TRACK_COUNT && pub && pub->peer->webrtcbin == webrtcbin && !pub->linked_src[track]) {
    GstPad *tee_sink = gst_element_get_static_pad (relay->tee[track], "sink");
    GstPad *old = gst_pad_get_peer (tee_sink);
    if (old) {
      gst_pad_unlink (old, tee_sink);
      gst_object_unref (old);
    }
    linked = gst_pad_link (pad, tee_sink) == GST_PAD_LINK_OK;
    if (linked)
      pub->linked_src[track] = gst_object_ref (pad);
    gst_object_unref (tee_sink);
  }
  g_mutex_unlock (&relay->lock);
  if (!linked)
    relay_discard_pad (relay, pad);
  g_info ("relay %s: publisher %s stream %s", relay->name, linked ? "relays" : "discards",
          media ? media : "?");
  gst_caps_unref (caps);
}

/* Any thread. What the phone needs from us promptly leaves as RTCP, and rtpsession times
 * RTCP by RFC 3550/4585: "early" feedback at a random moment within half the last regular
 * interval, and a second early packet only a whole interval after the first. Its defaults
 * (a 5 s floor, ~330 ms from the bandwidth here) delayed two things:
 * - a keyframe request (PLI): a reviewer who connected just after the recorder's request
 *   waited 100-170 ms more, up to seconds with a longer interval;
 * - transport-wide congestion feedback (TWCC), which browsers steer their send rate by and
 *   expect every 50-100 ms: it left every ~180 ms or later, in bursts. After a capped
 *   uplink was freed, Chromium's estimate then stayed at 130-210 kbit/s for 100-200 s in 2
 *   of 3 runs; with feedback every ~90 ms, 6 runs of 6 were back over 600 kbit/s in 15-83 s.
 * A 50 ms floor and 8000 B/s of RTCP bandwidth make the interval ~90 ms: ~12 kbit/s of
 * reports on the phone's downlink. */
static void
ingest_quicken_feedback (GstElement *rtpbin, guint session)
{
  GObject *internal = NULL;
  g_signal_emit_by_name (rtpbin, "get-internal-session", session, &internal);
  if (!internal)
    return;
  g_object_set (internal, "rtcp-min-interval", (guint64) INGEST_RTCP_MIN_INTERVAL_MS * GST_MSECOND,
                "rtcp-rr-bandwidth", INGEST_RTCP_BYTES_PER_S, "rtcp-rs-bandwidth", INGEST_RTCP_BYTES_PER_S, NULL);
  g_object_unref (internal);
}

/* rtpbin streaming thread: a jitterbuffer for a new SSRC. webrtcbin 1.22 leaves
 * do-retransmission off, so no NACK would ever reach the phone: turn it on for video
 * (and for any SSRC the offer did not name — better a NACK too many than none).
 * A NACK only for a gap, not for a packet that is merely later than the estimate
 * (rtx-next-seqnum off): a phone held down to a few hundred kbit/s paces a keyframe over
 * a second, with pauses of 100-200 ms while its congestion window waits for feedback.
 * Estimating the next packet's arrival, the jitterbuffer asked for packets that had not
 * been sent yet, declared them lost after its latency, and dropped them when they came:
 * 7-16 % of the phone's packets, all of them on the wire in order (captured on the test's
 * loopback), missing for every reviewer and the recording, and reported to the phone as
 * loss, which took its bitrate further down. */
static void
on_new_jitterbuffer (GstElement *rtpbin, GstElement *jitterbuffer, guint session, guint ssrc,
                     RelayPublisher *pub)
{
  gboolean video = pub->n_video_ssrcs == 0;
  for (guint i = 0; i < pub->n_video_ssrcs; i++)
    video |= pub->video_ssrcs[i] == ssrc;
  if (video) {
    g_object_set (jitterbuffer, "do-retransmission", TRUE, "rtx-next-seqnum", FALSE, NULL);
    ingest_quicken_feedback (rtpbin, session);
  }
  /* the first video SSRC: the phone is told (REMB) what the slowest reviewer receives well */
  if (video && !g_atomic_pointer_get (&pub->remb)) {
    RembHook *hook = remb_hook_install (rtpbin, session, ssrc);
    if (hook && !g_atomic_pointer_compare_and_exchange (&pub->remb, NULL, hook))
      remb_hook_unref (hook);
  }
}

void
relay_publisher_free (Relay *relay, RelayPublisher *pub)
{
  g_mutex_lock (&relay->lock);
  for (gint t = 0; t < TRACK_COUNT; t++) {
    if (!pub->linked_src[t])
      continue;
    GstPad *tee_sink = gst_element_get_static_pad (relay->tee[t], "sink");
    gst_pad_unlink (pub->linked_src[t], tee_sink);
    gst_object_unref (tee_sink);
    gst_clear_object (&pub->linked_src[t]);
  }
  if (relay->publisher == pub)
    relay->publisher = NULL;
  g_mutex_unlock (&relay->lock);
  if (pub->pad_added_id)
    g_signal_handler_disconnect (pub->peer->webrtcbin, pub->pad_added_id);
  if (pub->rtpbin) {
    g_signal_handler_disconnect (pub->rtpbin, pub->jitterbuffer_id);
    gst_object_unref (pub->rtpbin);
  }
  if (pub->talk_src) {
    g_mutex_lock (&relay->lock);
    if (relay->talk_src == pub->talk_src)
      gst_clear_object (&relay->talk_src);
    g_mutex_unlock (&relay->lock);
    gst_element_set_locked_state (pub->talk_src, TRUE);
    gst_bin_remove (GST_BIN (relay->pipeline), pub->talk_src);   /* unlinks it */
    relay_dispose_element (relay, pub->talk_src);                /* takes our reference */
    pub->talk_src = NULL;
  }
  remb_hook_unref (g_atomic_pointer_get (&pub->remb));
  webrtc_peer_close (pub->peer);
  webrtc_peer_unref (pub->peer);
  g_free (pub);
}

void
relay_publisher_stop (Relay *relay)
{
  if (!relay->publisher)
    return;
  relay_publisher_free (relay, relay->publisher);
  if (g_atomic_int_compare_and_exchange (&relay->media_flowing, 1, 0) && relay->media_notify)
    relay->media_notify (relay->media_owner, FALSE);
}

static gboolean
caps_differ (GstCaps *old, GstCaps *new)
{
  if (!old)
    return FALSE;   /* first publisher: nobody to re-offer to */
  if (!new)
    return TRUE;
  return !gst_caps_is_equal (old, new);
}

/* The applicant's audio m-line is sendrecv: a sink pad fed by the talk-back mix, through an
 * appsrc that the relay's talk-out appsink pushes to (relay.c: a pad link would close a loop).
 * Live and leaky: a publisher that cannot take the mix drops its oldest packets. */
static void
publisher_link_talk (Relay *relay, RelayPublisher *pub, const OfferMedia *audio)
{
  g_autoptr (GstCaps) caps = offer_media_caps (audio);
  g_object_set (relay->talk_pay, "pt", (guint) audio->pt, NULL);
  GstPadTemplate *templ = gst_element_get_pad_template (pub->peer->webrtcbin, "sink_%u");
  GstPad *sink = gst_element_request_pad (pub->peer->webrtcbin, templ, NULL, caps);
  if (!sink)
    return;
  GstWebRTCRTPTransceiver *trans = NULL;
  g_object_get (sink, "transceiver", &trans, NULL);
  if (trans) {
    g_object_set (trans, "codec-preferences", caps, "direction",
                  GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV, NULL);
    gst_object_unref (trans);
  }
  GstElement *src = gst_element_factory_make ("appsrc", NULL);
  g_object_set (src, "caps", caps, "format", GST_FORMAT_TIME, "is-live", TRUE, "do-timestamp", FALSE,
                "max-time", (guint64) 500 * GST_MSECOND, "max-bytes", (guint64) 0, "max-buffers", (guint64) 0, NULL);
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (src), "leaky-type"))
    gst_util_set_object_arg (G_OBJECT (src), "leaky-type", "downstream");
  gst_bin_add (GST_BIN (relay->pipeline), src);
  GstPad *src_pad = gst_element_get_static_pad (src, "src");
  gboolean linked = gst_pad_link (src_pad, sink) == GST_PAD_LINK_OK;
  gst_object_unref (src_pad);
  gst_object_unref (sink);
  if (!linked) {
    g_warning ("relay %s: the talk-back mix does not link to the publisher", relay->name);
    gst_bin_remove (GST_BIN (relay->pipeline), src);
    return;
  }
  gst_element_set_locked_state (src, TRUE);   /* until publisher_start_talk */
  pub->talk_src = gst_object_ref (src);
}

/* Once the publisher's webrtcbin is PLAYING, its appsrc becomes the one the mix goes to; it
 * starts now if a reviewer already talks, else with the mixer (relay_talk_start). Started
 * before the webrtcbin, its first push met a flushing sink pad and its task stopped for good:
 * a reconnected phone never heard the reviewer again (seen beside a CPU hog). */
static void
publisher_start_talk (Relay *relay, RelayPublisher *pub)
{
  if (!pub->talk_src)
    return;
  g_mutex_lock (&relay->lock);
  gst_object_replace ((GstObject **) &relay->talk_src, GST_OBJECT (pub->talk_src));
  if (relay->talk_running)
    relay_start_late (relay, pub->talk_src);
  g_mutex_unlock (&relay->lock);
}

WebrtcPeer *
relay_publisher_start (Relay *relay, OfferAnalysis *offer, const WebrtcPeerEvents *events,
                       gpointer owner, gboolean *codecs_changed, GError **error)
{
  relay_publisher_stop (relay);

  const OfferMedia *video = &g_array_index (offer->media, OfferMedia, offer->video_index);
  const OfferMedia *audio = offer->audio_index >= 0
      ? &g_array_index (offer->media, OfferMedia, offer->audio_index) : NULL;
  GstCaps *video_caps = offer_media_caps (video);
  GstCaps *audio_caps = audio ? offer_media_caps (audio) : NULL;
  *codecs_changed = caps_differ (relay->caps[TRACK_VIDEO], video_caps) ||
                    (relay->caps[TRACK_VIDEO] && caps_differ (relay->caps[TRACK_AUDIO], audio_caps)) ||
                    (relay->caps[TRACK_VIDEO] && !relay->caps[TRACK_AUDIO] && audio_caps);
  gst_clear_caps (&relay->caps[TRACK_VIDEO]);
  gst_clear_caps (&relay->caps[TRACK_AUDIO]);
  relay->caps[TRACK_VIDEO] = video_caps;
  relay->caps[TRACK_AUDIO] = audio_caps;
  relay->video_codec = rtp_codec_from_name (video->encoding);

  g_autofree gchar *name = g_strdup_printf ("%s-pub%u", relay->name, ++relay->serial);
  WebrtcPeer *peer = webrtc_peer_new (GST_BIN (relay->pipeline), name, relay->cfg, events, owner);
  if (!peer) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "webrtcbin is not available");
    return NULL;
  }
  /* the answer names the rate a browser's sender starts at: its 720p starts at 720p */
  peer->start_bitrate_kbps = relay->cfg->start_bitrate_kbps;
  GST_INFO ("relay %s: publisher %s (%s)", relay->name, name, video->encoding);
  RelayPublisher *pub = g_new0 (RelayPublisher, 1);
  pub->peer = peer;
  memcpy (pub->video_ssrcs, video->ssrcs, sizeof pub->video_ssrcs);
  pub->n_video_ssrcs = video->n_ssrcs;
  pub->rtpbin = gst_bin_get_by_name (GST_BIN (peer->webrtcbin), "rtpbin");
  /* each received buffer carries the sender's NTP time from its RTCP sender reports: the
   * recorder times all tracks of a segment on it (lip sync by the phone's clocks) */
  if (pub->rtpbin && g_object_class_find_property (G_OBJECT_GET_CLASS (pub->rtpbin), "add-reference-timestamp-meta"))
    g_object_set (pub->rtpbin, "add-reference-timestamp-meta", TRUE, NULL);
  if (pub->rtpbin)
    pub->jitterbuffer_id = g_signal_connect (pub->rtpbin, "new-jitterbuffer", G_CALLBACK (on_new_jitterbuffer), pub);

  /* transceivers in m-line order, before the offer is applied, so the answer carries them */
  for (guint i = 0; i < offer->media->len; i++) {
    const OfferMedia *m = &g_array_index (offer->media, OfferMedia, i);
    if ((gint) i == offer->video_index) {
      GstWebRTCRTPTransceiver *trans = NULL;
      /* with transport-wide-cc when offered: the phone's encoder follows the server's feedback
       * (the relay's own caps, offered to viewers, keep no extension) */
      g_autoptr (GstCaps) pub_caps = offer_media_publisher_caps (video);
      g_signal_emit_by_name (peer->webrtcbin, "add-transceiver",
                             GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, pub_caps, &trans);
      if (trans) {
        g_object_set (trans, "do-nack", TRUE, NULL);   /* NACK + RTX back into the answer */
        gst_object_unref (trans);
      }
    } else if ((gint) i == offer->audio_index) {
      publisher_link_talk (relay, pub, m);
    }
  }
  g_mutex_lock (&relay->lock);
  relay->publisher = pub;
  g_mutex_unlock (&relay->lock);
  pub->pad_added_id = g_signal_connect (peer->webrtcbin, "pad-added", G_CALLBACK (on_publisher_pad_added), relay);
  gst_element_sync_state_with_parent (peer->webrtcbin);
  publisher_start_talk (relay, pub);
  webrtc_peer_set_remote (peer, GST_WEBRTC_SDP_TYPE_OFFER, offer_analysis_steal_sdp (offer));
  return peer;
}

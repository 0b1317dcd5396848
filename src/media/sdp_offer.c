/* sdp_offer.c — chooses, for each m-line of an offer, the codec Kanyan relays and records
 * without transcoding, and the caps that make webrtcbin 1.22 answer it with NACK/RTX,
 * the right H.264 profile and transport-wide congestion control (see media-notes: 1.22
 * otherwise drops all three). */
#include "media/sdp_offer.h"
#include "core/errors.h"
#include <stdio.h>
#include <string.h>

static void
offer_media_clear (gpointer data)
{
  OfferMedia *m = data;
  g_free (m->encoding);
}

void
offer_analysis_free (OfferAnalysis *analysis)
{
  if (!analysis)
    return;
  if (analysis->sdp)
    gst_sdp_message_free (analysis->sdp);
  g_array_unref (analysis->media);
  g_free (analysis);
}

GstSDPMessage *
offer_analysis_steal_sdp (OfferAnalysis *analysis)
{
  GstSDPMessage *sdp = analysis->sdp;
  analysis->sdp = NULL;
  return sdp;
}

/* "96 H264/90000" → pt 96, encoding "H264", rate 90000 */
static gboolean
parse_rtpmap (const gchar *value, gint *pt, gchar **encoding, gint *rate)
{
  gchar name[32];
  gint r = 0;
  if (sscanf (value, "%d %31[^/]/%d", pt, name, &r) < 2 || *pt < 0 || *pt > 127)
    return FALSE;
  *encoding = g_ascii_strup (name, -1);
  *rate = r;
  return TRUE;
}

static const gchar *
fmtp_for (const GstSDPMedia *media, gint pt)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
    gint fpt;
    if (g_strcmp0 (attr->key, "fmtp") == 0 && attr->value && sscanf (attr->value, "%d", &fpt) == 1 && fpt == pt)
      return attr->value;
  }
  return "";
}

static gboolean
fmtp_has (const gchar *fmtp, const gchar *param)
{
  g_autofree gchar *lower = g_ascii_strdown (fmtp, -1);
  return strstr (lower, param) != NULL;
}

/* Scores a codec: higher is better, 0 = unusable. */
static gint
codec_score (MediaKind kind, const gchar *encoding, gint rate, const gchar *fmtp)
{
  if (kind == MEDIA_KIND_AUDIO)
    return g_strcmp0 (encoding, "OPUS") == 0 && rate == 48000 ? 1 : 0;
  if (g_strcmp0 (encoding, "H264") == 0 && rate == 90000 && fmtp_has (fmtp, "packetization-mode=1")) {
    if (fmtp_has (fmtp, "profile-level-id=42e0"))
      return 3;   /* constrained baseline */
    if (fmtp_has (fmtp, "profile-level-id=4200"))
      return 2;   /* baseline */
    return 0;     /* High & co: decoders at viewers are not guaranteed */
  }
  if (g_strcmp0 (encoding, "VP8") == 0 && rate == 90000)
    return 1;
  return 0;
}

static void
analyze_media (const GstSDPMedia *media, OfferMedia *out)
{
  const gchar *kind = gst_sdp_media_get_media (media);
  out->pt = -1;
  out->rtx_pt = -1;
  out->kind = g_strcmp0 (kind, "video") == 0 ? MEDIA_KIND_VIDEO
            : g_strcmp0 (kind, "audio") == 0 ? MEDIA_KIND_AUDIO : MEDIA_KIND_NONE;
  out->recv_only = gst_sdp_media_get_attribute_val (media, "recvonly") != NULL;
  /* port 0 rejects a line, unless it is bundle-only (RFC 8843): then it rides the bundle's
   * transport, as "max-bundle" offerers (GStreamer, some browsers) send every line after the first */
  gboolean bundle_only = gst_sdp_media_get_attribute_val (media, "bundle-only") != NULL;
  if (out->kind == MEDIA_KIND_NONE || (gst_sdp_media_get_port (media) == 0 && !bundle_only))
    return;
  gint best = 0;
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
    gint pt, rate;
    g_autofree gchar *encoding = NULL;
    if (g_strcmp0 (attr->key, "rtpmap") != 0 || !attr->value || !parse_rtpmap (attr->value, &pt, &encoding, &rate))
      continue;
    gint score = codec_score (out->kind, encoding, rate, fmtp_for (media, pt));
    if (score > best) {
      best = score;
      g_free (out->encoding);
      out->encoding = g_steal_pointer (&encoding);
      out->pt = pt;
      out->clock_rate = rate;
    }
  }
  for (guint i = 0; i < gst_sdp_media_attributes_len (media) && out->n_ssrcs < G_N_ELEMENTS (out->ssrcs); i++) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
    guint32 ssrc;
    if (g_strcmp0 (attr->key, "ssrc") != 0 || !attr->value || sscanf (attr->value, "%u", &ssrc) != 1)
      continue;
    gboolean seen = FALSE;
    for (guint k = 0; k < out->n_ssrcs; k++)
      seen |= out->ssrcs[k] == ssrc;
    if (!seen)
      out->ssrcs[out->n_ssrcs++] = ssrc;
  }
  /* a=extmap:ID[/direction] URI — the transport-wide congestion control sequence number */
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
    gint id;
    const gchar *uri = attr->value ? strchr (attr->value, ' ') : NULL;
    if (g_strcmp0 (attr->key, "extmap") == 0 && uri && sscanf (attr->value, "%d", &id) == 1 &&
        id >= 1 && id <= 14 && g_str_has_prefix (uri + 1, TWCC_EXTMAP_URI) &&
        (uri[1 + strlen (TWCC_EXTMAP_URI)] == '\0' || g_ascii_isspace (uri[1 + strlen (TWCC_EXTMAP_URI)])))
      out->twcc_ext = id;
  }
  if (!out->encoding || out->kind != MEDIA_KIND_VIDEO)
    return;
  /* the RTX payload type whose apt= is the chosen one */
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
    gint pt, rate, apt;
    g_autofree gchar *encoding = NULL;
    if (g_strcmp0 (attr->key, "rtpmap") != 0 || !attr->value || !parse_rtpmap (attr->value, &pt, &encoding, &rate))
      continue;
    if (g_strcmp0 (encoding, "RTX") == 0) {
      const gchar *apt_str = strstr (fmtp_for (media, pt), "apt=");
      if (apt_str && sscanf (apt_str + 4, "%d", &apt) == 1 && apt == out->pt)
        out->rtx_pt = pt;
    }
  }
}

OfferAnalysis *
sdp_offer_analyze (const gchar *text, gsize len, GError **error)
{
  if (!text || len == 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_SDP, "the SDP offer is empty");
    return NULL;
  }
  if (len > SDP_MAX_BYTES) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_TOO_LARGE, "the SDP offer is over %d bytes", SDP_MAX_BYTES);
    return NULL;
  }
  if (!g_utf8_validate (text, len, NULL) || memchr (text, '\0', len)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_SDP, "the SDP offer is not text");
    return NULL;
  }
  GstSDPMessage *sdp = NULL;
  gst_sdp_message_new (&sdp);
  if (gst_sdp_message_parse_buffer ((const guint8 *) text, len, sdp) != GST_SDP_OK ||
      g_strcmp0 (gst_sdp_message_get_version (sdp), "0") != 0 || gst_sdp_message_medias_len (sdp) == 0) {
    gst_sdp_message_free (sdp);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_SDP, "the SDP offer cannot be read (no v=0 or no m-line)");
    return NULL;
  }
  OfferAnalysis *analysis = g_new0 (OfferAnalysis, 1);
  analysis->sdp = sdp;
  analysis->media = g_array_new (FALSE, TRUE, sizeof (OfferMedia));
  g_array_set_clear_func (analysis->media, offer_media_clear);
  analysis->video_index = analysis->audio_index = -1;
  if (gst_sdp_message_medias_len (sdp) > 8) {
    offer_analysis_free (analysis);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_SDP, "the SDP offer has more than 8 m-lines");
    return NULL;
  }
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    OfferMedia m = { 0 };
    analyze_media (gst_sdp_message_get_media (sdp, i), &m);
    g_array_append_val (analysis->media, m);
    if (!m.encoding || m.recv_only)
      continue;
    if (m.kind == MEDIA_KIND_VIDEO && analysis->video_index < 0)
      analysis->video_index = i;
    if (m.kind == MEDIA_KIND_AUDIO && analysis->audio_index < 0)
      analysis->audio_index = i;
  }
  if (analysis->video_index < 0) {
    offer_analysis_free (analysis);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_SDP,
                 "the offer sends no video Kanyan can relay (H.264 constrained baseline with "
                 "packetization-mode=1, or VP8)");
    return NULL;
  }
  return analysis;
}

GstCaps *
offer_media_caps (const OfferMedia *media)
{
  if (!media->encoding)
    return NULL;
  GstCaps *caps = gst_caps_new_simple ("application/x-rtp",
      "media", G_TYPE_STRING, media->kind == MEDIA_KIND_VIDEO ? "video" : "audio",
      "encoding-name", G_TYPE_STRING, media->encoding,
      "payload", G_TYPE_INT, media->pt,
      "clock-rate", G_TYPE_INT, media->clock_rate, NULL);
  GstStructure *s = gst_caps_get_structure (caps, 0);
  if (media->kind == MEDIA_KIND_VIDEO) {
    gst_structure_set (s, "rtcp-fb-nack", G_TYPE_BOOLEAN, TRUE,
                       "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE,
                       "rtcp-fb-ccm-fir", G_TYPE_BOOLEAN, TRUE, NULL);
    if (g_strcmp0 (media->encoding, "H264") == 0)
      gst_structure_set (s, "packetization-mode", G_TYPE_STRING, "1",
                         "profile-level-id", G_TYPE_STRING, "42e01f",
                         "level-asymmetry-allowed", G_TYPE_STRING, "1", NULL);
  } else {
    gst_structure_set (s, "encoding-params", G_TYPE_STRING, "2",
                       "minptime", G_TYPE_STRING, "10", "useinbandfec", G_TYPE_STRING, "1", NULL);
  }
  return caps;
}

GstCaps *
offer_media_publisher_caps (const OfferMedia *media)
{
  GstCaps *caps = offer_media_caps (media);
  if (!caps || media->twcc_ext <= 0)
    return caps;
  /* webrtcbin answers the extmap and the feedback it finds in a transceiver's caps, and its
   * receiving RTP session sends transport-wide feedback for the packets that carry it */
  g_autofree gchar *key = g_strdup_printf ("extmap-%d", media->twcc_ext);
  gst_structure_set (gst_caps_get_structure (caps, 0), key, G_TYPE_STRING, TWCC_EXTMAP_URI,
                     "rtcp-fb-transport-cc", G_TYPE_BOOLEAN, TRUE, NULL);
  return caps;
}

/* the payload type's a=fmtp attribute on this m-line, or -1 */
static gint
fmtp_index (const GstSDPMedia *media, gint pt)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
    gint fpt = -1;
    if (g_strcmp0 (attr->key, "fmtp") == 0 && attr->value && sscanf (attr->value, "%d", &fpt) == 1 && fpt == pt)
      return (gint) i;
  }
  return -1;
}

gchar *
sdp_answer_with_start_bitrate (const gchar *text, gint kbps)
{
  GstSDPMessage *msg = NULL;
  if (kbps <= 0 || !g_str_has_prefix (text, "v=0") || gst_sdp_message_new_from_text (text, &msg) != GST_SDP_OK)
    return g_strdup (text);
  g_autofree gchar *param = g_strdup_printf ("x-google-start-bitrate=%d", kbps);
  for (guint m = 0; m < gst_sdp_message_medias_len (msg); m++) {
    GstSDPMedia *media = (GstSDPMedia *) gst_sdp_message_get_media (msg, m);
    if (g_strcmp0 (gst_sdp_media_get_media (media), "video") != 0)
      continue;
    for (guint a = 0; a < gst_sdp_media_attributes_len (media); a++) {
      const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, a);
      gint pt = -1;
      gchar encoding[16] = "";
      if (g_strcmp0 (attr->key, "rtpmap") != 0 || !attr->value ||
          sscanf (attr->value, "%d %15[^/]", &pt, encoding) != 2 ||
          !(g_ascii_strcasecmp (encoding, "VP8") == 0 || g_ascii_strcasecmp (encoding, "VP9") == 0 ||
            g_ascii_strcasecmp (encoding, "H264") == 0 || g_ascii_strcasecmp (encoding, "AV1") == 0))
        continue;
      gint at = fmtp_index (media, pt);
      GstSDPAttribute fmtp;
      if (at < 0) {
        g_autofree gchar *value = g_strdup_printf ("%d %s", pt, param);
        gst_sdp_media_add_attribute (media, "fmtp", value);
      } else {
        g_autofree gchar *value = g_strdup_printf ("%s;%s", gst_sdp_media_get_attribute (media, at)->value, param);
        gst_sdp_attribute_set (&fmtp, "fmtp", value);
        gst_sdp_media_replace_attribute (media, at, &fmtp);
      }
    }
  }
  gchar *out = gst_sdp_message_as_text (msg);
  gst_sdp_message_free (msg);
  return out;
}

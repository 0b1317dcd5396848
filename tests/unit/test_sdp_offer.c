/* test_sdp_offer.c — sdp_offer_analyze(): which codec and payload types it picks, which offers it refuses, and the caps. */
#include "media/sdp_offer.h"
#include "core/errors.h"
#include <gst/gst.h>

#define HEAD "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
#define AUDIO "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\n" \
  "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=rtcp-fb:111 transport-cc\r\n" \
  "a=rtpmap:63 red/48000/2\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n" \
  "a=ssrc:11 cname:x\r\n"
#define VP8_ONLY(port, extra) "m=video " port " UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n" extra \
  "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\n"

/* Chrome 12x, trimmed: VP8 first, then H.264 baseline, constrained baseline, High */
static const gchar chrome_offer[] = HEAD AUDIO
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 108 109 112\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\n"
  "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
  "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
  "a=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
  "a=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n"
  "a=rtpmap:108 H264/90000\r\na=rtcp-fb:108 nack\r\n"
  "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
  "a=rtpmap:109 rtx/90000\r\na=fmtp:109 apt=108\r\n"
  "a=rtpmap:112 H264/90000\r\na=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f\r\n"
  "a=ssrc-group:FID 21 22\r\na=ssrc:21 cname:x\r\na=ssrc:21 msid:s v\r\na=ssrc:22 cname:x\r\n";

static OfferAnalysis *
analyze_len (const gchar *text, gsize len, gint expect_code)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *exact = g_malloc (MAX (len, 1));   /* exact-size heap copy, no terminator */
  memcpy (exact, text, len);
  OfferAnalysis *a = sdp_offer_analyze (exact, len, &error);
  if (expect_code < 0) {
    g_assert_no_error (error);
    g_assert_nonnull (a);
    g_assert_nonnull (a->sdp);
    g_assert_cmpuint (a->media->len, ==, gst_sdp_message_medias_len (a->sdp));
  } else {
    g_assert_error (error, KANYAN_ERROR, expect_code);
    g_assert_null (a);
  }
  return a;
}

static OfferAnalysis *
analyze (const gchar *text, gint expect_code)
{
  return analyze_len (text, strlen (text), expect_code);
}

static const OfferMedia *
media (const OfferAnalysis *a, gint index)
{
  g_assert_cmpint (index, >=, 0);
  g_assert_cmpuint ((guint) index, <, a->media->len);
  return &g_array_index (a->media, OfferMedia, index);
}

static void
test_chrome_prefers_constrained_baseline (void)
{
  g_autoptr (OfferAnalysis) a = analyze (chrome_offer, -1);
  g_assert_cmpuint (a->media->len, ==, 2);
  g_assert_cmpint (a->audio_index, ==, 0);
  g_assert_cmpint (a->video_index, ==, 1);
  const OfferMedia *au = media (a, 0), *v = media (a, 1);
  g_assert_cmpint (v->kind, ==, MEDIA_KIND_VIDEO);
  g_assert_cmpstr (v->encoding, ==, "H264");
  g_assert_cmpint (v->pt, ==, 108);
  g_assert_cmpint (v->rtx_pt, ==, 109);
  g_assert_cmpint (v->clock_rate, ==, 90000);
  g_assert_false (v->recv_only);
  g_assert_cmpuint (v->n_ssrcs, ==, 2);   /* 21 listed twice, counted once */
  g_assert_cmpuint (v->ssrcs[0], ==, 21);
  g_assert_cmpuint (v->ssrcs[1], ==, 22);
  g_assert_cmpint (au->kind, ==, MEDIA_KIND_AUDIO);
  g_assert_cmpstr (au->encoding, ==, "OPUS");
  g_assert_cmpint (au->pt, ==, 111);
  g_assert_cmpint (au->clock_rate, ==, 48000);
  g_assert_cmpint (au->rtx_pt, ==, -1);
  g_assert_cmpuint (au->n_ssrcs, ==, 1);
}

static void
test_caps (void)
{
  g_autoptr (OfferAnalysis) a = analyze (chrome_offer, -1);
  g_autoptr (GstCaps) vc = offer_media_caps (media (a, a->video_index));
  g_assert_cmpuint (gst_caps_get_size (vc), ==, 1);
  GstStructure *s = gst_caps_get_structure (vc, 0);
  g_assert_cmpstr (gst_structure_get_name (s), ==, "application/x-rtp");
  g_assert_cmpstr (gst_structure_get_string (s, "media"), ==, "video");
  g_assert_cmpstr (gst_structure_get_string (s, "encoding-name"), ==, "H264");
  g_assert_cmpstr (gst_structure_get_string (s, "profile-level-id"), ==, "42e01f");
  g_assert_cmpstr (gst_structure_get_string (s, "packetization-mode"), ==, "1");
  gint pt = 0, rate = 0;
  g_assert_true (gst_structure_get_int (s, "payload", &pt));
  g_assert_cmpint (pt, ==, 108);
  g_assert_true (gst_structure_get_int (s, "clock-rate", &rate));
  g_assert_cmpint (rate, ==, 90000);
  gboolean nack = FALSE, pli = FALSE;
  g_assert_true (gst_structure_get_boolean (s, "rtcp-fb-nack", &nack));
  g_assert_true (nack);
  g_assert_true (gst_structure_get_boolean (s, "rtcp-fb-nack-pli", &pli));
  g_assert_true (pli);

  g_autoptr (GstCaps) ac = offer_media_caps (media (a, a->audio_index));
  s = gst_caps_get_structure (ac, 0);
  g_assert_cmpstr (gst_structure_get_string (s, "media"), ==, "audio");
  g_assert_cmpstr (gst_structure_get_string (s, "encoding-name"), ==, "OPUS");
  g_assert_true (gst_structure_get_int (s, "payload", &pt));
  g_assert_cmpint (pt, ==, 111);
  g_assert_true (gst_structure_get_int (s, "clock-rate", &rate));
  g_assert_cmpint (rate, ==, 48000);
  g_assert_false (gst_structure_has_field (s, "rtcp-fb-nack"));
  g_assert_false (gst_structure_has_field (s, "profile-level-id"));

  g_autoptr (OfferAnalysis) vp8 = analyze (HEAD VP8_ONLY ("9", ""), -1);
  g_autoptr (GstCaps) pc = offer_media_caps (media (vp8, vp8->video_index));
  s = gst_caps_get_structure (pc, 0);
  g_assert_cmpstr (gst_structure_get_string (s, "encoding-name"), ==, "VP8");
  g_assert_true (gst_structure_get_int (s, "payload", &pt));
  g_assert_cmpint (pt, ==, 96);
  g_assert_true (gst_structure_get_boolean (s, "rtcp-fb-nack", &nack));
  g_assert_true (nack);
  g_assert_false (gst_structure_has_field (s, "profile-level-id"));
  g_assert_false (gst_structure_has_field (s, "packetization-mode"));

  OfferMedia unusable = { .kind = MEDIA_KIND_VIDEO, .pt = -1, .rtx_pt = -1 };
  g_assert_null (offer_media_caps (&unusable));
}

static void
test_vp8 (void)
{
  g_autoptr (OfferAnalysis) a = analyze (HEAD VP8_ONLY ("9", ""), -1);
  g_assert_cmpint (a->video_index, ==, 0);
  g_assert_cmpint (a->audio_index, ==, -1);
  const OfferMedia *v = media (a, 0);
  g_assert_cmpstr (v->encoding, ==, "VP8");
  g_assert_cmpint (v->pt, ==, 96);
  g_assert_cmpint (v->rtx_pt, ==, -1);
  g_assert_cmpuint (v->n_ssrcs, ==, 0);
  /* with RTX for it; an RTX for another payload type is not taken; H.264 mode 0 loses to VP8 */
  g_autoptr (OfferAnalysis) b = analyze (HEAD AUDIO
    "m=video 9 UDP/TLS/RTP/SAVPF 100 101 98 99\r\n"
    "a=rtpmap:100 H264/90000\r\na=fmtp:100 packetization-mode=0;profile-level-id=42e01f\r\n"
    "a=rtpmap:101 rtx/90000\r\na=fmtp:101 apt=100\r\n"
    "a=rtpmap:98 VP8/90000\r\na=rtpmap:99 rtx/90000\r\na=fmtp:99 apt=98\r\n", -1);
  v = media (b, b->video_index);
  g_assert_cmpstr (v->encoding, ==, "VP8");
  g_assert_cmpint (v->pt, ==, 98);
  g_assert_cmpint (v->rtx_pt, ==, 99);
}

static void
test_h264_preferences (void)
{
  /* constrained baseline wins wherever it is listed; lower-case fmtp is read too */
  g_autoptr (OfferAnalysis) a = analyze (HEAD
    "m=video 9 RTP/AVP 126 96 97\r\n"
    "a=rtpmap:126 H264/90000\r\na=fmtp:126 PROFILE-LEVEL-ID=42E01F;PACKETIZATION-MODE=1\r\n"
    "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 H264/90000\r\na=fmtp:97 profile-level-id=42001f;packetization-mode=1\r\n", -1);
  g_assert_cmpstr (media (a, 0)->encoding, ==, "H264");
  g_assert_cmpint (media (a, 0)->pt, ==, 126);
  /* baseline is still preferred to VP8 */
  g_autoptr (OfferAnalysis) b = analyze (HEAD
    "m=video 9 RTP/AVP 96 97\r\na=rtpmap:96 VP8/90000\r\n"
    "a=rtpmap:97 H264/90000\r\na=fmtp:97 profile-level-id=42001f;packetization-mode=1\r\n", -1);
  g_assert_cmpint (media (b, 0)->pt, ==, 97);
  /* wrong clock rate: not usable */
  g_autoptr (OfferAnalysis) c = analyze (HEAD
    "m=video 9 RTP/AVP 96 97\r\na=rtpmap:96 VP8/90000\r\n"
    "a=rtpmap:97 H264/48000\r\na=fmtp:97 profile-level-id=42e01f;packetization-mode=1\r\n", -1);
  g_assert_cmpstr (media (c, 0)->encoding, ==, "VP8");
}

static void
test_refused_codecs (void)
{
  /* only H.264 High */
  analyze (HEAD AUDIO "m=video 9 UDP/TLS/RTP/SAVPF 112\r\na=rtpmap:112 H264/90000\r\n"
           "a=fmtp:112 packetization-mode=1;profile-level-id=640c1f\r\n", KANYAN_ERROR_BAD_SDP);
  /* only H.264 in packetization mode 0 */
  analyze (HEAD "m=video 9 RTP/AVP 100\r\na=rtpmap:100 H264/90000\r\n"
           "a=fmtp:100 packetization-mode=0;profile-level-id=42e01f\r\n", KANYAN_ERROR_BAD_SDP);
  /* VP9 / AV1 only */
  analyze (HEAD "m=video 9 RTP/AVP 98 45\r\na=rtpmap:98 VP9/90000\r\na=rtpmap:45 AV1/90000\r\n", KANYAN_ERROR_BAD_SDP);
  /* audio only: video is required */
  analyze (HEAD AUDIO, KANYAN_ERROR_BAD_SDP);
  /* audio without Opus: accepted for its video, audio absent */
  g_autoptr (OfferAnalysis) a = analyze (HEAD "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" VP8_ONLY ("9", ""), -1);
  g_assert_cmpint (a->audio_index, ==, -1);
  g_assert_cmpint (a->video_index, ==, 1);
  g_assert_null (media (a, 0)->encoding);
  g_assert_cmpint (media (a, 0)->kind, ==, MEDIA_KIND_AUDIO);
}

static void
test_port_zero_and_recvonly (void)
{
  /* a rejected (port 0) video m-line is skipped; the next one is used */
  g_autoptr (OfferAnalysis) a = analyze (HEAD VP8_ONLY ("0", "") AUDIO VP8_ONLY ("9", ""), -1);
  g_assert_cmpuint (a->media->len, ==, 3);
  g_assert_null (media (a, 0)->encoding);
  g_assert_cmpint (media (a, 0)->pt, ==, -1);
  g_assert_cmpint (a->video_index, ==, 2);
  g_assert_cmpint (a->audio_index, ==, 1);
  analyze (HEAD AUDIO VP8_ONLY ("0", ""), KANYAN_ERROR_BAD_SDP);
  /* a recvonly video m-line sends nothing to relay */
  g_autoptr (OfferAnalysis) r = analyze (HEAD VP8_ONLY ("9", "a=recvonly\r\n") VP8_ONLY ("9", "a=sendonly\r\n"), -1);
  g_assert_true (media (r, 0)->recv_only);
  g_assert_false (media (r, 1)->recv_only);
  g_assert_cmpint (r->video_index, ==, 1);
  analyze (HEAD VP8_ONLY ("9", "a=recvonly\r\n"), KANYAN_ERROR_BAD_SDP);
  /* port 0 with bundle-only (a "max-bundle" offer) is not rejected: it shares the bundle */
  g_autoptr (OfferAnalysis) b = analyze (HEAD VP8_ONLY ("9", "a=mid:0\r\n")
                                         "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"
                                         "a=bundle-only\r\na=rtpmap:111 opus/48000/2\r\n", -1);
  g_assert_cmpint (b->video_index, ==, 0);
  g_assert_cmpint (b->audio_index, ==, 1);
  g_assert_cmpstr (media (b, 1)->encoding, ==, "OPUS");
}

static void
test_unreadable (void)
{
  analyze ("garbage", KANYAN_ERROR_BAD_SDP);
  analyze ("garbage\r\nmore garbage\r\n", KANYAN_ERROR_BAD_SDP);
  analyze (HEAD, KANYAN_ERROR_BAD_SDP);                                     /* no m-line */
  analyze ("v=1\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" VP8_ONLY ("9", ""), KANYAN_ERROR_BAD_SDP);
  analyze (VP8_ONLY ("9", ""), KANYAN_ERROR_BAD_SDP);                      /* no v= line */
  analyze_len ("", 0, KANYAN_ERROR_BAD_SDP);
  g_autoptr (GError) error = NULL;
  g_assert_null (sdp_offer_analyze (NULL, 0, &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_SDP);
  /* a NUL byte inside an otherwise valid offer */
  g_autofree gchar *with_nul = g_strdup (HEAD VP8_ONLY ("9", ""));
  with_nul[strlen (HEAD) - 1] = '\0';
  analyze_len (with_nul, strlen (HEAD VP8_ONLY ("9", "")), KANYAN_ERROR_BAD_SDP);
  analyze (HEAD "m=video 9 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\na=x:\xff\xfe\r\n", KANYAN_ERROR_BAD_SDP);
  /* more than eight m-lines */
  g_autoptr (GString) many = g_string_new (HEAD);
  for (gint i = 0; i < 9; i++)
    g_string_append (many, VP8_ONLY ("9", ""));
  analyze (many->str, KANYAN_ERROR_BAD_SDP);
}

/* A valid VP8 offer padded with a=x lines to exactly `len` bytes. */
static gchar *
padded_offer (gsize len)
{
  const gchar base[] = HEAD VP8_ONLY ("9", "");
  GString *s = g_string_new (base);
  while (s->len + 100 < len)
    g_string_append_printf (s, "a=x:%093d\r\n", 0);
  g_string_append (s, "a=x:");
  while (s->len + 2 < len)
    g_string_append_c (s, 'y');
  g_string_append (s, "\r\n");
  g_assert_cmpuint (s->len, ==, len);
  return g_string_free (s, FALSE);
}

static void
test_size_limit (void)
{
  g_assert_cmpint (SDP_MAX_BYTES, ==, 65536);
  g_autofree gchar *at_limit = padded_offer (SDP_MAX_BYTES);
  g_autoptr (OfferAnalysis) ok = analyze_len (at_limit, SDP_MAX_BYTES, -1);
  g_assert_cmpstr (media (ok, ok->video_index)->encoding, ==, "VP8");
  g_autofree gchar *over = padded_offer (SDP_MAX_BYTES + 1);
  analyze_len (over, SDP_MAX_BYTES + 1, KANYAN_ERROR_TOO_LARGE);
  g_autofree gchar *junk = g_strnfill (200000, 'a');
  analyze_len (junk, 200000, KANYAN_ERROR_TOO_LARGE);
}

static void
test_steal_sdp (void)
{
  g_autoptr (OfferAnalysis) a = analyze (chrome_offer, -1);
  GstSDPMessage *sdp = offer_analysis_steal_sdp (a);
  g_assert_nonnull (sdp);
  g_assert_null (a->sdp);
  g_assert_cmpuint (gst_sdp_message_medias_len (sdp), ==, 2);
  g_assert_cmpstr (gst_sdp_media_get_media (gst_sdp_message_get_media (sdp, 1)), ==, "video");
  gst_sdp_message_free (sdp);
}

/* the transport-wide-cc header extension: its id is read (with or without a direction),
 * other extensions and malformed ids are not taken for it; only the publisher's caps carry it */
static void
test_twcc_extmap (void)
{
  g_autoptr (OfferAnalysis) a = analyze (HEAD AUDIO
      "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
      VP8_ONLY ("9", "a=mid:1\r\na=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
                "a=extmap:5/sendrecv http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
                "a=extmap:6 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-012\r\n"), -1);
  g_assert_cmpint (media (a, 0)->twcc_ext, ==, 3);
  g_assert_cmpint (media (a, 1)->twcc_ext, ==, 5);
  g_autoptr (GstCaps) relay_caps = offer_media_caps (media (a, 1));
  g_autoptr (GstCaps) pub_caps = offer_media_publisher_caps (media (a, 1));
  const GstStructure *s = gst_caps_get_structure (pub_caps, 0);
  g_assert_cmpstr (gst_structure_get_string (s, "extmap-5"), ==, TWCC_EXTMAP_URI);
  gboolean fb = FALSE;
  g_assert_true (gst_structure_get_boolean (s, "rtcp-fb-transport-cc", &fb) && fb);
  g_assert_false (gst_structure_has_field (gst_caps_get_structure (relay_caps, 0), "extmap-5"));
  g_assert_false (gst_structure_has_field (gst_caps_get_structure (relay_caps, 0), "rtcp-fb-transport-cc"));

  g_autoptr (OfferAnalysis) none = analyze (HEAD VP8_ONLY ("9", "a=mid:0\r\n"
      "a=extmap:15 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
      "a=extmap:x http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"), -1);
  g_assert_cmpint (media (none, 0)->twcc_ext, ==, 0);
  g_autoptr (GstCaps) plain = offer_media_publisher_caps (media (none, 0));
  g_assert_false (gst_structure_has_field (gst_caps_get_structure (plain, 0), "rtcp-fb-transport-cc"));
}

/* a publisher's answer names the bitrate its sender starts at: on each video codec's fmtp line
 * (added to one, or a line of its own), never on RTX, audio, or text that is not SDP */
static void
test_answer_start_bitrate (void)
{
  const gchar *answer = "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 OPUS/48000/2\r\n"
      "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\n"
      "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:102 H264/90000\r\n"
      "a=fmtp:102 packetization-mode=1;profile-level-id=42e01f\r\n";
  g_autofree gchar *out = sdp_answer_with_start_bitrate (answer, 1000);
  g_assert_nonnull (strstr (out, "a=fmtp:96 x-google-start-bitrate=1000\r\n"));
  g_assert_nonnull (strstr (out, "a=fmtp:102 packetization-mode=1;profile-level-id=42e01f;x-google-start-bitrate=1000\r\n"));
  g_assert_nonnull (strstr (out, "a=fmtp:97 apt=96\r\n"));
  g_assert_nonnull (strstr (out, "a=fmtp:111 minptime=10;useinbandfec=1\r\n"));
  g_auto (GStrv) parts = g_strsplit (out, "x-google-start-bitrate", -1);
  g_assert_cmpint (g_strv_length (parts), ==, 3);   /* twice: VP8 and H.264 */
  g_autofree gchar *none = sdp_answer_with_start_bitrate (answer, 0);
  g_assert_cmpstr (none, ==, answer);
  g_autofree gchar *junk = sdp_answer_with_start_bitrate ("not sdp at all", 1000);
  g_assert_cmpstr (junk, ==, "not sdp at all");
}

int
main (int argc, char **argv)
{
  gst_init (NULL, NULL);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sdp-offer/chrome", test_chrome_prefers_constrained_baseline);
  g_test_add_func ("/sdp-offer/answer-start-bitrate", test_answer_start_bitrate);
  g_test_add_func ("/sdp-offer/caps", test_caps);
  g_test_add_func ("/sdp-offer/vp8", test_vp8);
  g_test_add_func ("/sdp-offer/h264-preferences", test_h264_preferences);
  g_test_add_func ("/sdp-offer/refused-codecs", test_refused_codecs);
  g_test_add_func ("/sdp-offer/port-zero-and-recvonly", test_port_zero_and_recvonly);
  g_test_add_func ("/sdp-offer/unreadable", test_unreadable);
  g_test_add_func ("/sdp-offer/size-limit", test_size_limit);
  g_test_add_func ("/sdp-offer/steal-sdp", test_steal_sdp);
  g_test_add_func ("/sdp-offer/twcc-extmap", test_twcc_extmap);
  return g_test_run ();
}

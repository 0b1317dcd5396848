/* test_sdp_offer.c — which codec sdp_offer_analyze() picks, and which offers it refuses. */
#include "sdp_offer.h"
#include "errors.h"
#include <gst/gst.h>

#define HEAD "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
#define AUDIO "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10\r\na=ssrc:11 cname:x\r\n"

static const gchar chrome_offer[] = HEAD AUDIO
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 108 109 123\r\n"
  "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
  "a=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
  "a=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n"
  "a=rtpmap:108 H264/90000\r\na=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
  "a=rtpmap:109 rtx/90000\r\na=fmtp:109 apt=108\r\n"
  "a=rtpmap:123 H264/90000\r\na=fmtp:123 packetization-mode=1;profile-level-id=640c1f\r\n"
  "a=ssrc:21 cname:x\r\na=ssrc:22 cname:x\r\n";

static OfferAnalysis *
analyze (const gchar *text, gint expect_code)
{
  g_autoptr (GError) error = NULL;
  OfferAnalysis *a = sdp_offer_analyze (text, strlen (text), &error);
  if (expect_code < 0)
    g_assert_no_error (error);
  else
    g_assert_error (error, KANYAN_ERROR, expect_code);
  return a;
}

static void
test_chrome_prefers_constrained_baseline (void)
{
  g_autoptr (OfferAnalysis) a = analyze (chrome_offer, -1);
  g_assert_cmpint (a->audio_index, ==, 0);
  g_assert_cmpint (a->video_index, ==, 1);
  OfferMedia *v = &g_array_index (a->media, OfferMedia, 1);
  OfferMedia *au = &g_array_index (a->media, OfferMedia, 0);
  g_assert_cmpstr (v->encoding, ==, "H264");
  g_assert_cmpint (v->pt, ==, 108);
  g_assert_cmpint (v->rtx_pt, ==, 109);
  g_assert_cmpuint (v->n_ssrcs, ==, 2);
  g_assert_cmpstr (au->encoding, ==, "OPUS");
  g_assert_cmpint (au->pt, ==, 111);
  g_autoptr (GstCaps) caps = offer_media_caps (v);
  GstStructure *s = gst_caps_get_structure (caps, 0);
  g_assert_cmpstr (gst_structure_get_string (s, "profile-level-id"), ==, "42e01f");
  g_assert_cmpstr (gst_structure_get_string (s, "packetization-mode"), ==, "1");
  gboolean nack = FALSE;
  g_assert_true (gst_structure_get_boolean (s, "rtcp-fb-nack", &nack) && nack);
  gint pt = 0;
  g_assert_true (gst_structure_get_int (s, "payload", &pt) && pt == 108);
}

static void
test_vp8_only (void)
{
  g_autoptr (OfferAnalysis) a = analyze (HEAD "m=video 9 UDP/TLS/RTP/SAVPF 97\r\na=rtpmap:97 VP8/90000\r\n", -1);
  OfferMedia *v = &g_array_index (a->media, OfferMedia, a->video_index);
  g_assert_cmpstr (v->encoding, ==, "VP8");
  g_assert_cmpint (v->rtx_pt, ==, -1);
  g_assert_cmpint (a->audio_index, ==, -1);
}

static void
test_refused_offers (void)
{
  g_autoptr (OfferAnalysis) high = analyze (HEAD "m=video 9 RTP/AVP 123\r\na=rtpmap:123 H264/90000\r\n"
                                             "a=fmtp:123 packetization-mode=1;profile-level-id=640c1f\r\n", KANYAN_ERROR_BAD_SDP);
  g_assert_null (high);
  g_assert_null (analyze (HEAD AUDIO, KANYAN_ERROR_BAD_SDP));                 /* no video */
  g_assert_null (analyze ("garbage", KANYAN_ERROR_BAD_SDP));
  g_assert_null (analyze (HEAD, KANYAN_ERROR_BAD_SDP));                       /* no m-line */
  g_assert_null (analyze (HEAD "m=video 0 RTP/AVP 97\r\na=rtpmap:97 VP8/90000\r\n", KANYAN_ERROR_BAD_SDP));  /* port 0 */
  g_autoptr (GError) error = NULL;
  g_assert_null (sdp_offer_analyze ("", 0, &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_SDP);
  g_clear_error (&error);
  const gchar nul[] = "v=0\r\n\0m=video";
  g_assert_null (sdp_offer_analyze (nul, sizeof nul - 1, &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_SDP);
  g_clear_error (&error);
  g_autofree gchar *huge = g_strnfill (SDP_MAX_BYTES + 1, 'a');
  g_assert_null (sdp_offer_analyze (huge, SDP_MAX_BYTES + 1, &error));
  g_assert_error (error, KANYAN_ERROR, KANYAN_ERROR_TOO_LARGE);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sdp-offer/chrome", test_chrome_prefers_constrained_baseline);
  g_test_add_func ("/sdp-offer/vp8", test_vp8_only);
  g_test_add_func ("/sdp-offer/refused", test_refused_offers);
  return g_test_run ();
}

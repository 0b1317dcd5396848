/* test_rtp_keyframe.c — keyframe detection in H.264 and VP8 RTP payloads, never reading past the end. */
#include "rtp_keyframe.h"

static gboolean
key (RtpCodec codec, const guint8 *bytes, gsize len)
{
  g_autofree guint8 *exact = g_memdup2 (bytes, len);   /* exact-size heap copy: ASan catches over-reads */
  return rtp_payload_is_keyframe (codec, exact, len);
}

static void
test_vp8 (void)
{
  const guint8 plain_key[] = { 0x10, 0x00, 0x9d, 0x01 };            /* S=1 PID=0, P=0 */
  const guint8 plain_inter[] = { 0x10, 0x01 };                      /* P=1 */
  const guint8 continuation[] = { 0x00, 0x00 };                     /* S=0 */
  const guint8 ext_m[] = { 0x90, 0x80, 0x81, 0x23, 0x00 };           /* X, I with 15-bit picture id */
  const guint8 ext_m_inter[] = { 0x90, 0x80, 0x81, 0x23, 0x01 };
  const guint8 ext_all[] = { 0x90, 0xf0, 0x05, 0x11, 0x22, 0x00 };   /* I (7-bit), L, T/K */
  const guint8 truncated[] = { 0x90, 0x80, 0x81 };
  g_assert_true (key (RTP_CODEC_VP8, plain_key, sizeof plain_key));
  g_assert_false (key (RTP_CODEC_VP8, plain_inter, sizeof plain_inter));
  g_assert_false (key (RTP_CODEC_VP8, continuation, sizeof continuation));
  g_assert_true (key (RTP_CODEC_VP8, ext_m, sizeof ext_m));
  g_assert_false (key (RTP_CODEC_VP8, ext_m_inter, sizeof ext_m_inter));
  g_assert_true (key (RTP_CODEC_VP8, ext_all, sizeof ext_all));
  g_assert_false (key (RTP_CODEC_VP8, truncated, sizeof truncated));
  g_assert_false (key (RTP_CODEC_VP8, plain_key, 0));
}

static void
test_h264 (void)
{
  const guint8 idr[] = { 0x65, 0x88 };
  const guint8 sps[] = { 0x67, 0x42 };
  const guint8 slice[] = { 0x41, 0x9a };
  const guint8 stap_sps[] = { 0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce };
  const guint8 stap_bad[] = { 0x78, 0x00, 0x40, 0x67 };             /* size past the end */
  const guint8 fua_start_idr[] = { 0x7c, 0x85, 0x88 };
  const guint8 fua_middle_idr[] = { 0x7c, 0x05, 0x88 };
  const guint8 fua_start_slice[] = { 0x7c, 0x81 };
  g_assert_true (key (RTP_CODEC_H264, idr, sizeof idr));
  g_assert_true (key (RTP_CODEC_H264, sps, sizeof sps));
  g_assert_false (key (RTP_CODEC_H264, slice, sizeof slice));
  g_assert_true (key (RTP_CODEC_H264, stap_sps, sizeof stap_sps));
  g_assert_false (key (RTP_CODEC_H264, stap_bad, sizeof stap_bad));
  g_assert_true (key (RTP_CODEC_H264, fua_start_idr, sizeof fua_start_idr));
  g_assert_false (key (RTP_CODEC_H264, fua_middle_idr, sizeof fua_middle_idr));
  g_assert_false (key (RTP_CODEC_H264, fua_start_slice, sizeof fua_start_slice));
  g_assert_false (key (RTP_CODEC_H264, idr, 0));
  g_assert_false (key (RTP_CODEC_UNKNOWN, idr, sizeof idr));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rtp-keyframe/vp8", test_vp8);
  g_test_add_func ("/rtp-keyframe/h264", test_h264);
  return g_test_run ();
}

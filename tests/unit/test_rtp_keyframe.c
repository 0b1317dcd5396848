/* test_rtp_keyframe.c — rtp_payload_is_keyframe() on VP8 and H.264 payloads, never reading past len (exact-size heap copies). */
#include "media/rtp_keyframe.h"

/* Every call goes through an exact-size heap copy, so a read past len is a heap
 * overflow that ASan (or valgrind) reports; len 0 passes a 1-byte buffer. */
static gboolean
key (RtpCodec codec, const guint8 *bytes, gsize len)
{
  g_autofree guint8 *exact = g_malloc (MAX (len, 1));
  memcpy (exact, bytes, len);
  gboolean result = rtp_payload_is_keyframe (codec, exact, len);
  g_assert_true (memcmp (exact, bytes, len) == 0);   /* the payload is read, never written */
  return result;
}

/* A keyframe start packet must be seen as one, and every strict prefix of it
 * (the same packet cut short) must not: the answer comes from bytes inside len. */
static void
assert_key_and_prefixes_not (RtpCodec codec, const guint8 *bytes, gsize len)
{
  g_assert_true (key (codec, bytes, len));
  for (gsize n = 0; n < len; n++)
    if (key (codec, bytes, n))
      g_error ("a %" G_GSIZE_FORMAT "-byte prefix of a %" G_GSIZE_FORMAT "-byte packet was taken for a keyframe", n, len);
}

#define KEY(codec, a) assert_key_and_prefixes_not (codec, a, sizeof a)
#define IS(codec, a) key (codec, a, sizeof a)

/* VP8 (RFC 7741): descriptor byte X R N S R PID; extension byte I L T K; the payload
 * header's low bit is P (0 = keyframe). Each vector ends at the payload header byte. */
static void
test_vp8_plain (void)
{
  const guint8 plain_key[] = { 0x10, 0x9c };                       /* S=1 PID=0 | P=0 */
  const guint8 plain_inter[] = { 0x10, 0x9d };                     /* P=1 */
  const guint8 continuation[] = { 0x00, 0x9c };                    /* S=0: not the start of the frame */
  const guint8 other_partition[] = { 0x11, 0x9c };                 /* S=1 but PID=1 */
  const guint8 non_ref_key[] = { 0x30, 0x00 };                     /* N=1 does not matter */
  KEY (RTP_CODEC_VP8, plain_key);
  KEY (RTP_CODEC_VP8, non_ref_key);
  g_assert_false (IS (RTP_CODEC_VP8, plain_inter));
  g_assert_false (IS (RTP_CODEC_VP8, continuation));
  g_assert_false (IS (RTP_CODEC_VP8, other_partition));
  g_assert_false (key (RTP_CODEC_VP8, plain_key, 0));
  g_assert_false (key (RTP_CODEC_VP8, plain_key, 1));
}

static void
test_vp8_extensions (void)
{
  const guint8 x_none[] = { 0x90, 0x00, 0x00 };                    /* X with no optional field */
  const guint8 x_i7[] = { 0x90, 0x80, 0x05, 0x00 };                /* I, 7-bit picture id */
  const guint8 x_i15[] = { 0x90, 0x80, 0x81, 0x23, 0x00 };         /* I, M=1: 15-bit picture id */
  const guint8 x_l[] = { 0x90, 0x40, 0x07, 0x00 };                 /* L: TL0PICIDX */
  const guint8 x_t[] = { 0x90, 0x20, 0x40, 0x00 };                 /* T: TID/Y/KEYIDX byte */
  const guint8 x_k[] = { 0x90, 0x10, 0x05, 0x00 };                 /* K alone uses the same byte */
  const guint8 x_tk[] = { 0x90, 0x30, 0x45, 0x00 };
  const guint8 x_all7[] = { 0x90, 0xf0, 0x05, 0x11, 0x22, 0x00 };  /* I (7-bit), L, T, K */
  const guint8 x_all15[] = { 0x90, 0xf0, 0x81, 0x23, 0x11, 0x22, 0x00 };
  KEY (RTP_CODEC_VP8, x_none);
  KEY (RTP_CODEC_VP8, x_i7);
  KEY (RTP_CODEC_VP8, x_i15);
  KEY (RTP_CODEC_VP8, x_l);
  KEY (RTP_CODEC_VP8, x_t);
  KEY (RTP_CODEC_VP8, x_k);
  KEY (RTP_CODEC_VP8, x_tk);
  KEY (RTP_CODEC_VP8, x_all7);
  KEY (RTP_CODEC_VP8, x_all15);

  /* the same packets as inter frames: P=1 in the payload header */
  const guint8 *vectors[] = { x_none, x_i7, x_i15, x_l, x_t, x_k, x_tk, x_all7, x_all15 };
  const gsize lens[] = { sizeof x_none, sizeof x_i7, sizeof x_i15, sizeof x_l, sizeof x_t, sizeof x_k,
                         sizeof x_tk, sizeof x_all7, sizeof x_all15 };
  for (guint i = 0; i < G_N_ELEMENTS (vectors); i++) {
    g_autofree guint8 *inter = g_memdup2 (vectors[i], lens[i]);
    inter[lens[i] - 1] |= 0x01;
    g_assert_false (key (RTP_CODEC_VP8, inter, lens[i]));
    /* and as continuation packets (S=0) of a keyframe */
    g_autofree guint8 *cont = g_memdup2 (vectors[i], lens[i]);
    cont[0] &= ~0x10;
    g_assert_false (key (RTP_CODEC_VP8, cont, lens[i]));
  }

  /* the extension bytes are skipped, not read as the payload header: with a picture id
   * whose low bit is clear and a payload header with P=1, this is an inter frame */
  const guint8 i7_inter[] = { 0x90, 0x80, 0x02, 0x01 };
  const guint8 i15_inter[] = { 0x90, 0x80, 0x80, 0x02, 0x01 };
  const guint8 all_inter[] = { 0x90, 0xf0, 0x80, 0x00, 0x00, 0x00, 0x01 };
  g_assert_false (IS (RTP_CODEC_VP8, i7_inter));
  g_assert_false (IS (RTP_CODEC_VP8, i15_inter));
  g_assert_false (IS (RTP_CODEC_VP8, all_inter));
}

static void
test_vp8_truncated (void)
{
  const guint8 x_only[] = { 0x90 };                                /* X set, extension byte missing */
  const guint8 i_missing[] = { 0x90, 0x80 };                       /* I set, picture id missing */
  const guint8 i15_half[] = { 0x90, 0x80, 0x81 };                  /* 15-bit id cut after its first byte */
  const guint8 all_cut[] = { 0x90, 0xf0, 0x05, 0x11, 0x22 };       /* payload header missing */
  g_assert_false (IS (RTP_CODEC_VP8, x_only));
  g_assert_false (IS (RTP_CODEC_VP8, i_missing));
  g_assert_false (IS (RTP_CODEC_VP8, i15_half));
  g_assert_false (IS (RTP_CODEC_VP8, all_cut));
}

/* H.264 (RFC 6184): NAL header F NRI type; STAP-A = 24, FU-A = 28 */
static void
test_h264_single_nal (void)
{
  const guint8 idr[] = { 0x65 };                                    /* type 5 */
  const guint8 idr_low_nri[] = { 0x25, 0x88, 0x84 };                /* NRI does not matter */
  const guint8 sps[] = { 0x67, 0x42, 0xe0, 0x1f };                  /* type 7 */
  const guint8 pps[] = { 0x68, 0xce, 0x3c, 0x80 };                  /* type 8 */
  const guint8 slice[] = { 0x41, 0x9a, 0x02 };                      /* type 1, non-IDR */
  const guint8 sei[] = { 0x06, 0x05 };                              /* type 6 */
  const guint8 aud[] = { 0x09, 0xf0 };                              /* type 9 */
  const guint8 reserved[] = { 0x7e, 0x85 };                         /* type 30 */
  KEY (RTP_CODEC_H264, idr);                                        /* one byte decides */
  g_assert_true (IS (RTP_CODEC_H264, idr_low_nri));
  g_assert_true (IS (RTP_CODEC_H264, sps));
  g_assert_false (IS (RTP_CODEC_H264, pps));
  g_assert_false (IS (RTP_CODEC_H264, slice));
  g_assert_false (IS (RTP_CODEC_H264, sei));
  g_assert_false (IS (RTP_CODEC_H264, aud));
  g_assert_false (IS (RTP_CODEC_H264, reserved));
  g_assert_false (key (RTP_CODEC_H264, idr, 0));                    /* empty payload */
}

static void
test_h264_stap_a (void)
{
  const guint8 stap_sps[] = { 0x78, 0x00, 0x04, 0x67, 0x42, 0xe0, 0x1f,
                              0x00, 0x02, 0x68, 0xce };             /* SPS + PPS */
  const guint8 stap_later_idr[] = { 0x78, 0x00, 0x02, 0x06, 0x05,
                                    0x00, 0x02, 0x68, 0xce,
                                    0x00, 0x02, 0x65, 0x88 };       /* SEI, PPS, then IDR */
  const guint8 stap_no_key[] = { 0x78, 0x00, 0x02, 0x68, 0xce, 0x00, 0x02, 0x41, 0x9a };
  const guint8 stap_bogus[] = { 0x78, 0x00, 0x40, 0x67 };            /* size 64 past the end */
  const guint8 stap_bogus_2nd[] = { 0x78, 0x00, 0x02, 0x68, 0xce, 0xff, 0xff, 0x65 };
  const guint8 stap_zero[] = { 0x78, 0x00, 0x00, 0x00, 0x02, 0x67, 0x42 };   /* size 0 ends it */
  const guint8 stap_header_only[] = { 0x78 };
  const guint8 stap_size_only[] = { 0x78, 0x00, 0x01 };
  KEY (RTP_CODEC_H264, stap_later_idr);
  g_assert_true (IS (RTP_CODEC_H264, stap_sps));
  for (gsize n = 0; n < 4; n++)                                        /* cut inside the SPS unit */
    g_assert_false (key (RTP_CODEC_H264, stap_sps, n));
  g_assert_false (key (RTP_CODEC_H264, stap_sps, 6));
  g_assert_false (IS (RTP_CODEC_H264, stap_no_key));
  g_assert_false (IS (RTP_CODEC_H264, stap_bogus));
  g_assert_false (IS (RTP_CODEC_H264, stap_bogus_2nd));
  g_assert_false (IS (RTP_CODEC_H264, stap_zero));
  g_assert_false (IS (RTP_CODEC_H264, stap_header_only));
  g_assert_false (IS (RTP_CODEC_H264, stap_size_only));
}

static void
test_h264_fu_a (void)
{
  const guint8 fua_start_idr[] = { 0x7c, 0x85 };                     /* S=1, type 5 */
  const guint8 fua_start_idr_body[] = { 0x7c, 0x85, 0x88, 0x84, 0x00 };
  const guint8 fua_middle_idr[] = { 0x7c, 0x05, 0x88 };              /* S=0 E=0 */
  const guint8 fua_end_idr[] = { 0x7c, 0x45, 0x88 };                 /* E=1 */
  const guint8 fua_start_slice[] = { 0x5c, 0x81, 0x9a };             /* S=1, type 1 */
  const guint8 fua_header_only[] = { 0x7c };
  KEY (RTP_CODEC_H264, fua_start_idr);
  g_assert_true (IS (RTP_CODEC_H264, fua_start_idr_body));
  g_assert_false (IS (RTP_CODEC_H264, fua_middle_idr));
  g_assert_false (IS (RTP_CODEC_H264, fua_end_idr));
  g_assert_false (IS (RTP_CODEC_H264, fua_start_slice));
  g_assert_false (IS (RTP_CODEC_H264, fua_header_only));
}

static void
test_codecs (void)
{
  g_assert_cmpint (rtp_codec_from_name ("H264"), ==, RTP_CODEC_H264);
  g_assert_cmpint (rtp_codec_from_name ("VP8"), ==, RTP_CODEC_VP8);
  g_assert_cmpint (rtp_codec_from_name ("VP9"), ==, RTP_CODEC_UNKNOWN);
  g_assert_cmpint (rtp_codec_from_name ("OPUS"), ==, RTP_CODEC_UNKNOWN);
  g_assert_cmpint (rtp_codec_from_name (NULL), ==, RTP_CODEC_UNKNOWN);
  /* the same bytes mean different things per codec */
  const guint8 vp8_key[] = { 0x10, 0x00 };                           /* as H.264: type 16, reserved */
  const guint8 h264_idr[] = { 0x65, 0x01 };                          /* as VP8: S=0 */
  g_assert_true (IS (RTP_CODEC_VP8, vp8_key));
  g_assert_false (IS (RTP_CODEC_H264, vp8_key));
  g_assert_true (IS (RTP_CODEC_H264, h264_idr));
  g_assert_false (IS (RTP_CODEC_VP8, h264_idr));
  g_assert_false (IS (RTP_CODEC_UNKNOWN, h264_idr));
  g_assert_false (IS (RTP_CODEC_UNKNOWN, vp8_key));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rtp-keyframe/vp8/plain", test_vp8_plain);
  g_test_add_func ("/rtp-keyframe/vp8/extensions", test_vp8_extensions);
  g_test_add_func ("/rtp-keyframe/vp8/truncated", test_vp8_truncated);
  g_test_add_func ("/rtp-keyframe/h264/single-nal", test_h264_single_nal);
  g_test_add_func ("/rtp-keyframe/h264/stap-a", test_h264_stap_a);
  g_test_add_func ("/rtp-keyframe/h264/fu-a", test_h264_fu_a);
  g_test_add_func ("/rtp-keyframe/codecs", test_codecs);
  return g_test_run ();
}

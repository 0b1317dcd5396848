/* rtp_keyframe.c — recognises the first packet of a keyframe in an RTP payload, so the
 * relay can tell when a waiting viewer got one and the recorder can start on one. */
#include "media/rtp_keyframe.h"

RtpCodec
rtp_codec_from_name (const gchar *encoding_name)
{
  if (g_strcmp0 (encoding_name, "H264") == 0)
    return RTP_CODEC_H264;
  if (g_strcmp0 (encoding_name, "VP8") == 0)
    return RTP_CODEC_VP8;
  return RTP_CODEC_UNKNOWN;
}

static gboolean
h264_nal_is_key (guint8 type)
{
  return type == 5 || type == 7;   /* IDR slice, or SPS that precedes one */
}

static gboolean
h264_is_keyframe (const guint8 *p, gsize len)
{
  if (len < 1)
    return FALSE;
  guint8 type = p[0] & 0x1f;
  if (type >= 1 && type <= 23)
    return h264_nal_is_key (type);
  if (type == 24) {                 /* STAP-A: [size16][nal]… */
    gsize off = 1;
    while (off + 2 < len) {
      gsize size = ((gsize) p[off] << 8) | p[off + 1];
      off += 2;
      if (size == 0 || off + size > len)
        return FALSE;
      if (h264_nal_is_key (p[off] & 0x1f))
        return TRUE;
      off += size;
    }
    return FALSE;
  }
  if (type == 28 && len >= 2)       /* FU-A: start bit and the fragmented NAL's type */
    return (p[1] & 0x80) && h264_nal_is_key (p[1] & 0x1f);
  return FALSE;
}

static gboolean
vp8_is_keyframe (const guint8 *p, gsize len)
{
  if (len < 1)
    return FALSE;
  gboolean start = (p[0] & 0x10) != 0;
  guint partition = p[0] & 0x07;
  gsize off = 1;
  if (p[0] & 0x80) {                /* X: extension byte */
    if (len < 2)
      return FALSE;
    guint8 x = p[1];
    off = 2;
    if (x & 0x80) {                 /* I: picture id, 7 or 15 bits */
      if (off >= len)
        return FALSE;
      off += (p[off] & 0x80) ? 2 : 1;
    }
    if (x & 0x40)                   /* L: TL0PICIDX */
      off += 1;
    if (x & 0x30)                   /* T or K */
      off += 1;
  }
  if (!start || partition != 0 || off >= len)
    return FALSE;
  return (p[off] & 0x01) == 0;      /* P bit clear: keyframe */
}

gboolean
rtp_payload_is_keyframe (RtpCodec codec, const guint8 *payload, gsize len)
{
  switch (codec) {
    case RTP_CODEC_H264: return h264_is_keyframe (payload, len);
    case RTP_CODEC_VP8:  return vp8_is_keyframe (payload, len);
    default:             return FALSE;
  }
}

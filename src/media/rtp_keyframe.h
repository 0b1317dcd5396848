/* rtp_keyframe.h — does this RTP packet start a keyframe? (H.264, VP8). Pure function. */
#pragma once
#include <glib.h>

typedef enum { RTP_CODEC_UNKNOWN, RTP_CODEC_H264, RTP_CODEC_VP8 } RtpCodec;

RtpCodec rtp_codec_from_name (const gchar *encoding_name);
gboolean rtp_payload_is_keyframe (RtpCodec codec, const guint8 *payload, gsize len);

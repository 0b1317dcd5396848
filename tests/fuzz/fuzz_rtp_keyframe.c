/* fuzz_rtp_keyframe.c — libFuzzer target: RTP payloads into the keyframe detector. */
#include "media/rtp_keyframe.h"
#include <stdint.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  rtp_payload_is_keyframe (RTP_CODEC_H264, data, size);
  rtp_payload_is_keyframe (RTP_CODEC_VP8, data, size);
  return 0;
}

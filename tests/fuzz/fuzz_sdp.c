/* fuzz_sdp.c — libFuzzer target: an SDP offer (WebSocket or WHIP) into sdp_offer_analyze(). */
#include "media/sdp_offer.h"
#include <gst/gst.h>
#include <stdint.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static gboolean initialised = FALSE;
  if (!initialised) {
    gst_init (NULL, NULL);
    initialised = TRUE;
  }
  g_autoptr (GError) error = NULL;
  g_autoptr (OfferAnalysis) offer = sdp_offer_analyze ((const gchar *) data, size, &error);
  g_assert ((offer == NULL) == (error != NULL));
  if (offer) {
    g_assert (offer->video_index >= 0 && (guint) offer->video_index < offer->media->len);
    for (guint i = 0; i < offer->media->len; i++) {
      OfferMedia *m = &g_array_index (offer->media, OfferMedia, i);
      GstCaps *caps = offer_media_caps (m);
      if (caps)
        gst_caps_unref (caps);
    }
  }
  return 0;
}

/* sdp_offer.h — reading a publisher's SDP offer: which codec of each m-line Kanyan will
 * accept (H.264 constrained baseline first, VP8 next; Opus), with its payload types.
 * Pure functions on text: no GStreamer elements, safe to fuzz. */
#pragma once
#include <glib.h>
#include <gst/sdp/sdp.h>

typedef enum { MEDIA_KIND_NONE, MEDIA_KIND_AUDIO, MEDIA_KIND_VIDEO } MediaKind;

typedef struct {
  MediaKind kind;
  gchar    *encoding;      /* "H264", "VP8", "OPUS"; NULL when nothing usable (m-line rejected) */
  gint      pt;
  gint      rtx_pt;        /* -1 when none */
  gint      clock_rate;
  gboolean  recv_only;     /* the offerer only receives on this m-line */
  guint32   ssrcs[4];      /* from a=ssrc lines (media and RTX), when the offer has them */
  guint     n_ssrcs;
  gint      twcc_ext;      /* the offer's id for the transport-wide-cc header extension, 0 = none */
} OfferMedia;

typedef struct {
  GstSDPMessage *sdp;
  GArray        *media;    /* of OfferMedia, one per m-line, in order */
  gint           video_index, audio_index;  /* -1 when absent */
} OfferAnalysis;

#define SDP_MAX_BYTES 65536

OfferAnalysis *sdp_offer_analyze (const gchar *text, gsize len, GError **error);
void           offer_analysis_free (OfferAnalysis *analysis);
GstSDPMessage *offer_analysis_steal_sdp (OfferAnalysis *analysis);
/* RTP caps for the codec chosen on one m-line (codec preferences of a transceiver). */
GstCaps       *offer_media_caps (const OfferMedia *media);
/* The same, plus what the server answers a publisher for congestion control: the
 * transport-wide-cc header extension with the offer's id and its transport-cc feedback. */
GstCaps       *offer_media_publisher_caps (const OfferMedia *media);
/* An answer's text, each video codec's a=fmtp naming x-google-start-bitrate=kbps (added, or a
 * line of its own): the rate a browser's sender starts at (Chromium: 300 kbit/s, at which it
 * starts a 720p camera at 180p and climbs for seconds). kbps <= 0, or text not starting "v=0":
 * a copy of the text. */
gchar         *sdp_answer_with_start_bitrate (const gchar *text, gint kbps);
#define TWCC_EXTMAP_URI "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OfferAnalysis, offer_analysis_free)

/* uplink_cap.h — the bitrate the phone is asked for so that the slowest reviewer still receives
 * well (issue 14). Main loop only, unless a function says otherwise. */
#pragma once
#include <gst/gst.h>
#include "media/link_stats.h"

typedef struct _Relay Relay;
typedef struct _UplinkCap UplinkCap;

/* One publisher's REMB: the cap its RTP session puts in every RTCP it sends to the phone
 * (0 kbit/s: none). Reference-counted: the RTP session's signal holds one. */
typedef struct _RembHook RembHook;

/* One viewer's estimate of what its link carries well (0 kbit/s: it limits nothing). */
typedef struct {
  gdouble  kbps;
  gint64   lossy_at;        /* monotonic µs of its last report with loss or a queue */
  gint     min_rtt_ms;      /* the shortest round trip its reports gave: the path without a queue */
  gint     last_rtt_ms;     /* the latest (a new value: a new report) */
  gboolean have_rtt;
  guint    queued_reports;  /* reports running whose round trip said a queue */
} ViewerEstimate;

/* One second of a viewer's link (what the relay sent it, its reports) into its estimate, the
 * phone's own loss of the last seconds (%) beside it; `now` in monotonic µs. Pure. */
void       viewer_estimate_update (ViewerEstimate *e, const LinkQuality *q, gdouble upstream_loss_pct, gint64 now);

UplinkCap *uplink_cap_new (Relay *relay);
void       uplink_cap_free (UplinkCap *cap);
gint       uplink_cap_kbps (UplinkCap *cap);   /* what the phone is asked for now, 0 = no cap */

/* rtpbin streaming thread: the publisher's video SSRC appeared in `session`; hooks the REMB
 * into that RTP session's outgoing RTCP. Returns the hook (a reference) or NULL. */
RembHook  *remb_hook_install (GstElement *rtpbin, guint session, guint32 media_ssrc);
/* Any thread. 0 = no cap: no REMB while none was ever sent, REMB_UNCAPPED_KBPS after one. */
#define REMB_UNCAPPED_KBPS 100000
void       remb_hook_set_kbps (RembHook *hook, gint kbps);
void       remb_hook_unref (RembHook *hook);

/* uplink_cap.h — the bitrate the phone is asked for so that the slowest reviewer still receives
 * well (issue 14). Main loop only, unless a function says otherwise. */
#pragma once
#include <gst/gst.h>

typedef struct _Relay Relay;
typedef struct _UplinkCap UplinkCap;

/* One publisher's REMB: the cap its RTP session puts in every RTCP it sends to the phone
 * (0 kbit/s: none). Reference-counted: the RTP session's signal holds one. */
typedef struct _RembHook RembHook;

UplinkCap *uplink_cap_new (Relay *relay);
void       uplink_cap_free (UplinkCap *cap);
gint       uplink_cap_kbps (UplinkCap *cap);   /* what the phone is asked for now, 0 = no cap */

/* rtpbin streaming thread: the publisher's video SSRC appeared in `session`; hooks the REMB
 * into that RTP session's outgoing RTCP. Returns the hook (a reference) or NULL. */
RembHook  *remb_hook_install (GstElement *rtpbin, guint session, guint32 media_ssrc);
void       remb_hook_set_kbps (RembHook *hook, gint kbps);   /* any thread */
void       remb_hook_unref (RembHook *hook);

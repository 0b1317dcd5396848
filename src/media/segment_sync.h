/* segment_sync.h — a recording segment's one timeline (segment_sync.c): every timed track
 * placed on the phone's clock from one reference, all starting at one instant. Built while
 * the segment is, before any buffer flows; then only streaming threads touch it. */
#pragma once
#include <gst/gst.h>

typedef struct _SyncRef SyncRef;
SyncRef *sync_ref_new (void);
void     sync_ref_unref (SyncRef *sync);
/* Times the RTP on `pad` (a track chain's sink, before its queue) at `clock_rate`. */
void     sync_ref_time_track (SyncRef *sync, GstPad *pad, guint clock_rate);
/* A track on our own clock (the talk-back mix) waits on `pad` until the timed tracks start;
 * its idle packets never run ahead of them. */
void     sync_ref_follow (SyncRef *sync, GstPad *pad);

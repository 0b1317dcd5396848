/* media_debug.h — one GStreamer debug category per media module, so one module's lines can
 * be turned up alone: GST_DEBUG=kanyan-relay:6 (kanyan-peer, kanyan-relay, kanyan-ingest,
 * kanyan-viewer, kanyan-recorder, kanyan-still, kanyan-segment-sync, kanyan-uplink-cap;
 * GST_DEBUG=kanyan-*:5 for all). Each module
 * keeps its category static (GST_DEBUG_CATEGORY_STATIC) and registers it in its *_debug_init;
 * media_debug_init() calls them all once, after gst_init (main.c; relay_new, for other
 * users of the library). A pipeline error dumps the relay's graph (relay.c) when
 * GST_DEBUG_DUMP_DOT_DIR is set. */
#pragma once

void media_debug_init (void);

/* each module's, for media_debug_init() only */
void peer_debug_init (void);
void relay_debug_init (void);
void ingest_debug_init (void);
void viewer_debug_init (void);
void recorder_debug_init (void);
void still_debug_init (void);
void segment_sync_debug_init (void);
void uplink_cap_debug_init (void);

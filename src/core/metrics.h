/* metrics.h — the process's metrics registry (docs/metrics.md): counters and histograms kept
 * as plain C11 atomics, so any thread may update them without a lock — GStreamer streaming
 * threads, the RTCP thread, archive and SQLite worker threads, the main loop. Each update is
 * one to three relaxed atomic adds (a histogram also scans its ≤ 16 bounds). The one table
 * with dynamic labels, HTTP requests by (route, status), is updated on the main loop only and
 * holds a mutex for that (one uncontended lock per request, never on a media path).
 * Rendering in the Prometheus text format (version 0.0.4) is here too; what is read at scrape
 * time (rooms, the audit log, the disk, /proc) is the exposition module's (web/metrics_http.c).
 * Knows nothing of Kanyan's modules: they call it at their own events. */
#pragma once
#include <glib.h>

typedef enum { METRIC_KEYFRAME_RELAY, METRIC_KEYFRAME_VIEWER, METRIC_KEYFRAME_RECORDER, METRIC_N_KEYFRAME } MetricKeyframeSource;
typedef enum { METRIC_SEGMENT_ARCHIVED, METRIC_SEGMENT_SALVAGED, METRIC_SEGMENT_EMPTY, METRIC_SEGMENT_FAILED,
               METRIC_N_SEGMENT } MetricSegmentOutcome;

/* RTP from publishers (what reached the relay; lost on the way; repaired by a retransmission;
 * NACKs the relay sent them) and to reviewers and publishers (what the relay sent; what their
 * receiver reports say was lost; NACKs they sent). Deltas of webrtcbin's get-stats samples
 * (media/uplink_cap.c, main loop, once a second per peer). */
void metrics_rtp_in (guint64 packets, guint64 bytes, guint64 lost, guint64 repaired, guint64 nacks_sent);
void metrics_rtp_out (guint64 packets, guint64 bytes, guint64 lost, guint64 nacks_received);
void metrics_keyframe_request (MetricKeyframeSource source);   /* any thread */
void metrics_join_to_keyframe (gdouble seconds);              /* main loop (relay.c) */
void metrics_ws_opened (void);                                /* main loop (http.c) */
void metrics_ws_closed (void);
/* route: a static or interned string from the route table ("api", "whip", …), never a path */
void metrics_http_request (const gchar *route, guint status); /* main loop */
void metrics_recording_bytes (guint64 bytes);                 /* the file sink's streaming thread */
void metrics_segment (MetricSegmentOutcome outcome);          /* main loop (recordings.c) */
void metrics_archive_duration (gdouble seconds);              /* the archive's worker thread */
void metrics_db_write (gdouble seconds);                      /* the thread of the SQLite connection */

/* The registry's families in the text format, appended to out (any thread). */
void metrics_render (GString *out);

/* Text-format helpers for families computed at scrape time: "# HELP" and "# TYPE" lines, and
 * one sample (labels: NULL, or pairs name, value, … ending in NULL; values are escaped). */
void metrics_text_family (GString *out, const gchar *name, const gchar *type, const gchar *help);
void metrics_text_sample (GString *out, const gchar *name, gdouble value, ...) G_GNUC_NULL_TERMINATED;

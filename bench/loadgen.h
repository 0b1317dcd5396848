/* loadgen.h — shared state of the Kanyan load generator (bench/loadgen.c, see bench/README.md).
 *
 * One process holds N WHIP publishers (one webrtcbin each, fed from a pre-encoded clip held
 * in memory) and M WebSocket reviewers per publisher (a webrtcbin per server `pc`, nothing
 * decoded). Publisher and reviewers share the process, so the reviewer looks up the send
 * time its publisher stamped on each RTP packet: that is the relay-added latency. */
#ifndef KANYAN_LOADGEN_H
#define KANYAN_LOADGEN_H

#define GST_USE_UNSTABLE_API
#include <gst/gst.h>
#include <gst/rtp/rtp.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include "reviewer_client.h"   /* tests/peers/: the reviewer's signaling, shared with the test peer */

enum { TRACK_VIDEO, TRACK_AUDIO, N_TRACKS };

/* One track of the clip: access units (video, SPS/PPS before every IDR) or Opus packets,
 * their times from the clip's start, and the loop period. Buffers are never modified:
 * each push sends a shallow copy with new timestamps. */
typedef struct {
  GPtrArray *bufs;        /* GstBuffer* */
  GArray *pts;            /* GstClockTime, from 0 */
  GArray *is_key;         /* gboolean */
  GstCaps *caps;
  GstClockTime period;    /* loop length */
} ClipTrack;

typedef struct {
  ClipTrack track[N_TRACKS];
} Clip;

/* Send times of one publisher track, indexed by RTP sequence number; rtp_ts tells a slot
 * of this lap from one 65 536 packets ago. Written by the publisher's streaming thread,
 * read by the reviewers' (relaxed atomics). */
typedef struct {
  guint32 ssrc;           /* 0 until the first packet */
  gint64 packets;         /* RTP packets handed to webrtcbin */
  gint64 sent_us[65536];
  guint32 rtp_ts[65536];
} SendMap;

/* Received-side counters of one reviewer track (written by one streaming thread). */
typedef struct {
  gint64 packets, bytes, keyframes;
  gint64 first_ext, max_ext;    /* extended sequence numbers; max_ext < 0 before the first */
  gint64 seq_base;              /* extended = seq + seq_base (moves on an SSRC change) */
  guint32 ssrc, last_key_ts;
  gint ssrc_changes;
} TrackRx;

typedef struct Pub Pub;

typedef struct {
  Pub *pub;
  guint index;
  char *name;
  ReviewerClient *client;        /* its signaling and peer connections */
  gpointer first_key_us;         /* atomic: monotonic µs of the first keyframe packet, NULL before */
  GMutex lock;                   /* rx */
  TrackRx rx[N_TRACKS];
  gint latency_samples;          /* atomic */
  gint conn_state;               /* atomic */
} Rev;

struct Pub {
  guint index;
  char *ref, *token, *location;
  GstElement *pipe, *webrtc, *src[N_TRACKS];
  GObject *ice, *agent;
  gint conn_state;               /* atomic GstWebRTCPeerConnectionState */
  gboolean sending, http_failed, revs_scheduled;
  gint64 start_us;               /* monotonic time of the clip's time 0 */
  GstClockTime start_rt;         /* the pipeline's running time then */
  guint next[N_TRACKS];
  GstClockTimeDiff offset[N_TRACKS]; /* added to the clip's pts (loops, keyframe jumps) */
  gint keyframe_wanted;          /* atomic: a PLI/FIR reached the payloader */
  gint keyframe_jumps;
  gint offered;                  /* atomic: the offer is being made */
  SendMap *map[N_TRACKS];
  GPtrArray *revs;
};

typedef struct {
  /* options */
  const char *base, *ice_address;
  guint reviewers;
  char *cookie;           /* "kanyan_session=…" after --username/--password, else NULL */
  /* shared */
  Clip clip;
  SoupSession *http;
  GPtrArray *pubs;
  GMainLoop *loop;
} LoadGen;

extern LoadGen lg;

/* lg_media.c */
gboolean clip_load (Clip *clip, const char *path, GError **error);
GstElement *lg_webrtcbin (GstElement *pipe, GstWebRTCBundlePolicy bundle, GObject **ice, GObject **agent);
void lg_rx_packet (Rev *rev, guint track, GstBuffer *buf);
void latency_reset (void);
void latency_quantiles (double q[], guint nq, double out_ms[], guint64 *samples);
gboolean h264_payload_is_keyframe (const guint8 *p, gsize n);

/* lg_publisher.c */
Pub *pub_start (guint index, const char *ref, const char *token);
void pub_pace (Pub *pub, gint64 now_us);
void pub_delete (Pub *pub);
void lg_to_fakesink (GstElement *webrtc, GstPad *pad, gpointer pipe);

/* lg_reviewer.c */
Rev *rev_start (Pub *pub, guint index);
void rev_leave (Rev *rev);

/* lg_util */
void lg_pub_connected (Pub *pub);   /* loadgen.c: schedules the publisher's reviewers */

#endif

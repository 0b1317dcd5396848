/* loadgen.h — shared state of the Kanyan load generator (bench/loadgen.c, see bench/README.md).
 *
 * One process holds N WHIP publishers (one webrtcbin each, fed from a pre-encoded clip held
 * in memory) and M WebSocket reviewers per publisher (a webrtcbin per server `pc`, nothing
 * decoded). Publisher and reviewers share the process, so the reviewer looks up the send
 * time its publisher stamped on each RTP packet: that is the relay-added latency.
 * With --janus the same publishers and reviewers are signaled through Janus's HTTP API
 * instead (bench/lg_janus.c: the bench's anchor). */
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
  guint32 fp[65536];      /* lg_payload_fp of the payload: finds a packet whose header a relay rewrote */
} SendMap;

/* Received-side counters of one reviewer track (written by one streaming thread). */
typedef struct {
  gint64 packets, bytes, keyframes;
  gint64 first_ext, max_ext;    /* extended sequence numbers; max_ext < 0 before the first */
  gint64 seq_base;              /* extended = seq + seq_base (moves on an SSRC change) */
  guint32 ssrc, last_key_ts;
  gint ssrc_changes;
  /* a relay that rewrites sequence numbers and timestamps (Janus): the publisher's = the
   * received + these, learnt from one packet's payload fingerprint (lg_media.c) */
  gboolean aligned;
  guint16 seq_off;
  guint32 ts_off;
  guint misaligned;             /* lookups in a row that did not match: learn again */
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
  gpointer connected_us;         /* atomic: monotonic µs of its first `connected`, NULL before */
  gpointer offer_us;             /* atomic: monotonic µs the server's first offer arrived, NULL before */
  gpointer ice_us;               /* atomic: monotonic µs its ICE first connected, NULL before */
  gpointer janus;                /* --janus: its JSession (lg_janus.c), else NULL */
  gint64 join_us;                /* --janus: monotonic time its `join` was sent */
  guint audio_pt;                /* the payload type of the audio in the server's offer, 0: 111 */
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
  gpointer janus;                /* --janus: its JSession (lg_janus.c), else NULL */
};

typedef struct {
  /* options */
  const char *base, *ice_address;
  guint reviewers;
  gboolean janus;         /* base is Janus's HTTP API (…/janus), not Kanyan */
  gboolean floor;         /* base is bench-floor (bench/floor.c): WHIP publishers, /view reviewers */
  const char *janus_rec_dir;
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
/* fn(data) on the main loop once webrtcbin's ICE gathering is complete (its description then
 * holds every candidate) */
void lg_on_gathered (GstElement *webrtc, GSourceFunc fn, gpointer data);
/* rev->conn_state follows the webrtcbin's connection state; rev->connected_us notes the first
 * `connected` (lg_rev_conn_state: the same for a peer connection of reviewer_client's). Any thread. */
void lg_track_conn_state (GstElement *webrtc, Rev *rev);
void lg_rev_conn_state (Rev *rev, GstWebRTCPeerConnectionState state);
/* create-offer or create-answer, its result set as the local description */
void lg_create_description (GstElement *webrtc, gboolean offer);
char *lg_local_sdp (GstElement *webrtc);   /* its local description as SDP text, or NULL */
/* POST an SDP text (taken) to url, with "Authorization: Bearer token" unless token is NULL */
void lg_post_sdp (const char *url, const char *token, char *sdp_take, GAsyncReadyCallback done, gpointer data);
void lg_rx_packet (Rev *rev, guint track, GstBuffer *buf);
void latency_reset (void);
void latency_quantiles (double q[], guint nq, double out_ms[], guint64 *samples);
gboolean h264_payload_is_keyframe (const guint8 *p, gsize n);
guint32 lg_payload_fp (const guint8 *p, gsize n);

/* lg_publisher.c */
Pub *pub_start (guint index, const char *ref, const char *token);
void pub_pace (Pub *pub, gint64 now_us);
void pub_delete (Pub *pub);
void pub_apply_answer (Pub *pub, const char *sdp_text);
void lg_to_fakesink (GstElement *webrtc, GstPad *pad, gpointer pipe);

/* lg_reviewer.c */
Rev *rev_start (Pub *pub, guint index);
void rev_leave (Rev *rev);
void rev_watch_pc (Rev *rev, GstElement *webrtc);

/* lg_janus.c (--janus) */
void janus_init (void);
void janus_pub_offer (Pub *pub, const char *sdp);
void janus_pub_leave (Pub *pub);
void janus_rev_start (Rev *rev);
void janus_rev_leave (Rev *rev);

/* lg_floor.c (--floor) */
void floor_rev_start (Rev *rev);

/* lg_util */
void lg_pub_connected (Pub *pub);   /* loadgen.c: schedules the publisher's reviewers */

#endif

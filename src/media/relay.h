/* relay.h — the live media graph of one live inspection: one GstPipeline holding the
 * publisher's webrtcbin, tees that fan its RTP out without decoding, one webrtcbin per
 * viewer behind a leaky queue, the talk-back mixer, and taps for the recorder.
 * Only relay.c, ingest.c, viewer.c and recorder.c touch this graph. Main loop only,
 * unless a function says otherwise. */
#pragma once
#include "media/peer.h"
#include "media/sdp_offer.h"
#include "media/rtp_keyframe.h"

typedef struct _Relay Relay;
typedef struct _RelayViewer RelayViewer;

typedef enum { TRACK_VIDEO, TRACK_AUDIO, TRACK_TALK, TRACK_COUNT } RelayTrack;

/* Called on the main loop when the publisher's media first flows or stops: stops when the
 * publisher goes, or when none of its packets (audio or video) came for RELAY_STALL_MS (its
 * link is down: the next packet tells "flowing" again). */
#define RELAY_STALL_MS 2000
typedef void (*RelayMediaNotify) (gpointer owner, gboolean flowing);

Relay   *relay_new (const KanyanConfig *cfg, const gchar *name, GError **error);
void     relay_free (Relay *relay);
GstBin  *relay_pipeline (Relay *relay);

/* The publisher (applicant). Starting one stops any previous one. Returns the new peer
 * (owned by the relay) that will answer the offer. *codecs_changed tells whether the
 * viewers' codecs or payload types differ from the previous publisher's. */
WebrtcPeer *relay_publisher_start (Relay *relay, OfferAnalysis *offer, const WebrtcPeerEvents *events,
                                   gpointer owner, gboolean *codecs_changed, GError **error);
void     relay_publisher_stop (Relay *relay);
gboolean relay_has_publisher_codecs (Relay *relay);   /* a publisher has negotiated once */
const gchar *relay_codec_name (Relay *relay, RelayTrack track);   /* "H264", "VP8", "OPUS" or NULL */
void     relay_set_media_notify (Relay *relay, RelayMediaNotify notify, gpointer owner);
/* Called on the main loop with the name of an application message a branch posted on the
 * relay's bus (the recorder's RECORDER_RESTART, RECORDER_WRITE_FAILED); never after relay_free(). Same owner. */
typedef void (*RelayBranchNotify) (gpointer owner, const gchar *what);
/* A branch's bin that carries this object data (a static string, the failure's name) has its
 * elements' resource errors (a file that cannot be written) told through the same notify: the
 * name, plus RELAY_NO_SPACE_SUFFIX when the disk is full. */
#define RELAY_WRITE_FAILURE   "kanyan-relay-write-failure"
#define RELAY_NO_SPACE_SUFFIX "/no-space"
void     relay_set_branch_notify (Relay *relay, RelayBranchNotify notify);

/* Viewers (reviewers). relay_viewer_add creates the webrtcbin and makes the offer. */
RelayViewer *relay_viewer_add (Relay *relay, const gchar *name, const WebrtcPeerEvents *events,
                               gpointer owner, GError **error);
WebrtcPeer  *relay_viewer_peer (RelayViewer *viewer);
/* a WHEP watcher: answers the client's offer (takes it), sendonly, no talk-back; NOT_LIVE
 * before any publisher media */
RelayViewer *relay_watcher_add (Relay *relay, const gchar *name, GstSDPMessage *offer,
                                const WebrtcPeerEvents *events, gpointer owner, GError **error);
/* The viewer's answer is applied: only now do the tees feed it. An unanswered webrtcbin
 * blocks its sink pads, so it must never sit in the data path. */
void         relay_viewer_answered (Relay *relay, RelayViewer *viewer);
/* a watcher's answer is set: its payload types are taken from it (the publisher's RTP is
 * rewritten to them on the way out when they differ), then the tees feed it */
void         relay_watcher_answered (Relay *relay, RelayViewer *viewer, const gchar *answer_sdp);
void         relay_viewer_connected (Relay *relay, RelayViewer *viewer);   /* ask for a keyframe until one comes */
void         relay_viewer_remove (Relay *relay, RelayViewer *viewer);
gint64       relay_viewer_first_keyframe_us (RelayViewer *viewer);        /* 0 until one passed */

/* Keyframes, any thread: ask the publisher for one (at most one request every
 * KEYFRAME_RETRY_MS, keyframe_gate.h), and again until one passes the video tee. Branches
 * waiting on the main loop ask through keyframe_ask_add; a branch's upstream GstForceKeyUnit
 * ends at the video tee and comes here. */
void     relay_request_keyframe (Relay *relay);
/* The same for a branch that starts to wait (keyframe_ask_add's first ask): at once, inside
 * the limit, if the last request has been answered already. */
void     relay_request_keyframe_for_newcomer (Relay *relay);

/* Taps for the recorder: a request pad on a track's tee (NULL if the track is absent). */
GstPad  *relay_tap_track (Relay *relay, RelayTrack track);
void     relay_untap_track (Relay *relay, RelayTrack track, GstPad *tee_pad);
GstCaps *relay_track_caps (Relay *relay, RelayTrack track);
GstClockTime relay_running_time (Relay *relay);
/* Any thread: the wall-clock time (ms since epoch) the publisher's latest packet, audio or
 * video, reached the tees; 0 before any. */
gint64       relay_last_media_wall_ms (Relay *relay);
/* Any thread: a reviewer's microphone has started the talk-back mix (it runs on from then). */
gboolean     relay_talk_running (Relay *relay);

/* A branch's queue (recorder, still) pushes through this probe, which always reports OK to the
 * queue: a queue that saw an error keeps returning it upstream, into the tee, and that would stop
 * the publisher's receive path. On the first failure, `failure` (if not NULL) is posted as an
 * application message from the branch on the relay's bus. Any thread. */
void     relay_isolate_branch (GstPad *queue_src, const gchar *failure);

/* A viewer's tracks from the tees: a lane each of one leaky lanes element (lanes.c), so one
 * thread per viewer carries its packets. relay_branch_link adds a track (the element comes
 * with the first); relay_branch_unlink takes every track off the tees and disposes of the
 * element. Main loop. */
typedef struct {
  GstElement *lanes;
  GstPad     *tee_pad[TRACK_COUNT];   /* NULL: that track is not linked */
} RelayBranch;
gboolean relay_branch_link (Relay *relay, RelayTrack track, GstPad *sink, RelayBranch *branch);
void     relay_branch_unlink (Relay *relay, RelayBranch *branch);
/* Any thread: a received stream nobody uses still needs a sink — an unlinked webrtcbin
 * src pad returns not-linked and stops the whole receive path of that peer. */
void     relay_discard_pad (Relay *relay, GstPad *pad);
/* Take an element (already out of the pipeline) to NULL off the main loop — 1.22.0's
 * webrtcbin can block there when nothing flowed. Takes the caller's reference. */
void     relay_dispose_element (Relay *relay, GstElement *element);

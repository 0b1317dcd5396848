/* reviewer_client.h — the reviewer's side of the WebSocket signaling (docs/protocol.md), shared
 * by the integration tests' reviewer-peer (tests/peers/reviewer_peer.c) and the bench's load
 * generator (bench/lg_reviewer.c): join a case as role "reviewer", answer each server `offer`
 * with a fresh webrtcbin in a pipeline of its own (a new `pc` = a new peer connection), trickle
 * ICE both ways, leave. What happens to the received media is the caller's (events.pc_new).
 * Main loop, unless an event says otherwise. Peer connections are never freed: a torn-down
 * webrtcbin's signals and promises may still fire, and a reviewer gets only a few offers. */
#ifndef KANYAN_REVIEWER_CLIENT_H
#define KANYAN_REVIEWER_CLIENT_H

#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API
#endif
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

typedef struct ReviewerClient ReviewerClient;

typedef struct {
  /* makes the webrtcbin inside pipe and keeps its ICE objects in ice and agent; NULL: a plain
   * one, max-bundle, with libnice's UPnP turned off */
  GstElement *(*make_webrtc) (gpointer owner, GstElement *pipe, GObject **ice, GObject **agent);
  /* a new peer connection, before the offer is applied: link its pads, add a talk source… */
  void (*pc_new) (gpointer owner, GstElement *pipe, GstElement *webrtc, const GstSDPMessage *offer);
  /* webrtcbin's thread: the current peer connection's state changed */
  void (*pc_state) (gpointer owner, GstWebRTCPeerConnectionState state);
  /* a server message the client does not handle itself (error, recording, bye, …) */
  void (*message) (gpointer owner, const char *type, JsonObject *msg);
  /* the WebSocket could not be opened */
  void (*failed) (gpointer owner, const GError *error);
} ReviewerEvents;

typedef struct {
  const char *url;          /* ws://HOST:PORT/ws (or wss://) */
  const char *cookie;       /* "kanyan_session=…", or NULL */
  const char *case_ref, *name;
  const char *log_name;     /* how its lines on stderr begin */
  gboolean no_answer;       /* joins but never answers (a silent reviewer) */
  gboolean verbose;         /* every signaling message on stderr */
  guint port_min, port_max; /* the plain webrtcbin's ICE ports (0: any), so a test's firewall can tell it apart */
} ReviewerOptions;

/* connects and joins; the strings of opt are copied */
ReviewerClient *reviewer_client_start (SoupSession *session, const ReviewerOptions *opt, const ReviewerEvents *events,
                                       gpointer owner);
guint    reviewer_client_pcs (ReviewerClient *c);          /* offers received */
gint64   reviewer_client_join_us (ReviewerClient *c);      /* monotonic time `join` was sent, 0 before */
gboolean reviewer_client_connected (ReviewerClient *c);    /* the current peer connection is connected */
/* sends `leave` and closes the WebSocket (when open); with wait, until the close frame is out */
void     reviewer_client_leave (ReviewerClient *c, gboolean wait);

#endif

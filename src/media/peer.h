/* peer.h — one webrtcbin and its signaling state (WebrtcPeer). Every webrtcbin signal
 * is re-delivered on the main loop through WebrtcPeerEvents; the owner never sees a
 * streaming thread. A reconnect is a new WebrtcPeer, never a renegotiation. */
#pragma once
#include <gst/gst.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>
#include "app/app.h"

typedef struct _WebrtcPeer WebrtcPeer;
typedef struct _WebrtcPeerPair WebrtcPeerPair;

typedef struct {
  /* all on the main loop */
  void (*local_description) (gpointer owner, WebrtcPeer *peer, const gchar *sdp);
  void (*ice_candidate) (gpointer owner, WebrtcPeer *peer, guint mline, const gchar *candidate);
  void (*gathering_done) (gpointer owner, WebrtcPeer *peer);
  void (*connection_state) (gpointer owner, WebrtcPeer *peer, GstWebRTCPeerConnectionState state);
  void (*failed) (gpointer owner, WebrtcPeer *peer, const gchar *message);
  /* the candidate pair ICE selected, read from get-stats once connected (NULL: not set) */
  void (*selected_pair) (gpointer owner, WebrtcPeer *peer, const WebrtcPeerPair *pair);
} WebrtcPeerEvents;

/* One side of the selected pair: type "host" / "srflx" / "prflx" / "relay", protocol "udp" /
 * "tcp" (the candidate's own transport; for a relay candidate, relay_protocol is how the
 * server reached its TURN server, when webrtcbin tells), address "IP:port". */
typedef struct {
  gchar *type, *protocol, *relay_protocol, *address;
} WebrtcPeerCandidate;
struct _WebrtcPeerPair {
  WebrtcPeerCandidate local, remote;
};
/* "host/udp", "relay/udp(tcp)": the short form recorded and shown */
gchar *webrtc_peer_candidate_label (const WebrtcPeerCandidate *c);

struct _WebrtcPeer {
  gatomicrefcount ref;
  gchar      *name;
  GstElement *webrtcbin;     /* owned by the room pipeline while open */
  GstBin     *pipeline;
  GObject    *ice;           /* kept alive until close (1.22 ref-count trap) */
  GObject    *nice_agent;
  guint       ice_wait_ms;   /* libnice idle-timeout while not connected (peer_configure_ice) */
  const WebrtcPeerEvents *events;
  gpointer    owner;         /* NULL once closed: late events are dropped */
  gboolean    gathering_done;
  gint        inflight;      /* atomic: promises webrtcbin has not let go of yet */
  gboolean    close_pending; /* closed by its owner; stopped once webrtcbin is idle */
  guint       close_timer;   /* stops it anyway if webrtcbin never settles */
  GstWebRTCPeerConnectionState state;
  gchar     **public_addresses; /* [ice] 1:1 NAT: host candidates are advertised with these */
  gboolean    keep_private;
  gint        start_bitrate_kbps; /* a publisher's: named in the answer it is sent (0: none) */
  gint        pair_tries;    /* atomic: get-stats asked for the selected pair */
  guint       pair_timer;    /* asks again shortly (holds a reference) */
};

WebrtcPeer *webrtc_peer_new (GstBin *pipeline, const gchar *name, const KanyanConfig *cfg,
                             const WebrtcPeerEvents *events, gpointer owner);
WebrtcPeer *webrtc_peer_ref (WebrtcPeer *peer);
void        webrtc_peer_unref (WebrtcPeer *peer);
/* Apply a remote description; for an offer, answer it. Takes ownership of sdp. */
void        webrtc_peer_set_remote (WebrtcPeer *peer, GstWebRTCSDPType type, GstSDPMessage *sdp);
void        webrtc_peer_create_offer (WebrtcPeer *peer);
void        webrtc_peer_add_ice (WebrtcPeer *peer, guint mline, const gchar *candidate);
gchar      *webrtc_peer_local_sdp (WebrtcPeer *peer);   /* current local description text */
/* Stop delivering events and take the webrtcbin out of the pipeline (main loop).
 * The caller unlinks the branches feeding it first. The webrtcbin is stopped (set to NULL,
 * released) once it has settled what it was doing: no promise of ours outstanding and no
 * ICE gathering in progress. webrtcbin 1.22.0 stopped in the middle of a negotiation or a
 * gathering keeps its ICE agent, sockets and threads forever (seen with WHIP publishers
 * replaced while their answer was pending); a peer that never settles is stopped after
 * PEER_CLOSE_GRACE_S anyway. */
#define PEER_CLOSE_GRACE_S 10
void        webrtc_peer_close (WebrtcPeer *peer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WebrtcPeer, webrtc_peer_unref)

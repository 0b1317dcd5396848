/* peer.c — the webrtcbin wrapper. Owns one webrtcbin's life in the room pipeline, its ICE
 * settings (no UPnP, chosen addresses and ports, the [ice] STUN/TURN servers, host candidates
 * advertised with a 1:1 NAT's public address) and the hop of each of its signals from
 * webrtcbin's threads to the main loop. Knows nothing of rooms, tees or transports. */
#include "media/peer.h"
#include "media/ice_servers.h"
#include "media/sdp_offer.h"
#include "media/funnel_repeats.h"
#include <nice/agent.h>
#include <malloc.h>
#include "media/media_debug.h"

GST_DEBUG_CATEGORY_STATIC (kanyan_peer_debug);   /* GST_DEBUG=kanyan-peer:6 (media_debug.h) */
#define GST_CAT_DEFAULT kanyan_peer_debug

void
peer_debug_init (void)
{
  GST_DEBUG_CATEGORY_INIT (kanyan_peer_debug, "kanyan-peer", 0,
                           "Kanyan: one webrtcbin: ICE settings, thread hops (peer.c)");
}

/* webrtcbins created and not yet finalized, process-wide (atomic) */
static gint live_webrtcbins;

typedef enum { EV_SDP, EV_ICE, EV_GATHERED, EV_STATE, EV_FAILED, EV_SETTLED, EV_PAIR } PeerEventKind;

typedef struct {
  WebrtcPeer   *peer;
  PeerEventKind kind;
  guint         mline;
  gint          state;
  gchar        *text;
  WebrtcPeerPair *pair;
} PeerEvent;

WebrtcPeer *
webrtc_peer_ref (WebrtcPeer *peer)
{
  g_atomic_ref_count_inc (&peer->ref);
  return peer;
}

void
webrtc_peer_unref (WebrtcPeer *peer)
{
  if (!peer || !g_atomic_ref_count_dec (&peer->ref))
    return;
  g_clear_object (&peer->nice_agent);
  g_clear_object (&peer->ice);
  gst_clear_object (&peer->webrtcbin);
  gst_clear_object (&peer->pipeline);
  g_free (peer->name);
  g_strfreev (peer->public_addresses);
  g_free (peer);
}

static void peer_close_maybe (WebrtcPeer *peer);
static void peer_read_selected_pair (WebrtcPeer *peer);
static gboolean on_pair_retry (gpointer data);
#define PAIR_TRIES 20          /* get-stats may not name the pair at the very moment of connecting */
#define PAIR_RETRY_MS 500
#define PEER_STUN_PACING_MS 5    /* libnice Ta between connectivity checks (peer_configure_ice) */
#define PEER_IDLE_TIMEOUT_MAX_S 60   /* libnice's idle-timeout takes at most 60000 ms */
#define PEER_IDLE_CONNECTED_MS 5000  /* libnice's default, once connected (peer_set_ice_patience) */
/* How far back a retransmission can go: webrtcbin keeps the last 500 packets of each stream
 * for a receiver's NACKs, ~2 s of the phone's video, and holds every one of them (a reviewer's
 * store holds the tee's packets past their use). A NACK answered after a second is too late
 * to help a picture that a 4G round trip of a few hundred ms already waited on. */
#define PEER_RTX_STORE_MS 1000

static void
candidate_clear (WebrtcPeerCandidate *c)
{
  g_free (c->type);
  g_free (c->protocol);
  g_free (c->relay_protocol);
  g_free (c->address);
}

static void
pair_free (WebrtcPeerPair *pair)
{
  candidate_clear (&pair->local);
  candidate_clear (&pair->remote);
  g_free (pair);
}

gchar *
webrtc_peer_candidate_label (const WebrtcPeerCandidate *c)
{
  if (!c->type)
    return g_strdup ("");
  if (c->relay_protocol && *c->relay_protocol && g_strcmp0 (c->type, "relay") == 0)
    return g_strdup_printf ("%s/%s(%s)", c->type, c->protocol ? c->protocol : "?", c->relay_protocol);
  return g_strdup_printf ("%s/%s", c->type, c->protocol ? c->protocol : "?");
}

/* main loop: the agent's connectivity-check timer ticks every PEER_STUN_PACING_MS until it
 * has been idle for idle-timeout, also after the connection is up: the long wait for the
 * phone's nomination (peer_configure_ice) would cost 200 wake-ups a second for 30 s after
 * every connect (the bench saw the main-loop threads' CPU quadruple). Patient while not
 * connected, libnice's default once connected. */
static void
peer_set_ice_patience (WebrtcPeer *peer, GstWebRTCPeerConnectionState state)
{
  if (!peer->nice_agent || !peer->ice_wait_ms)
    return;
  g_object_set (peer->nice_agent, "idle-timeout",
                state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED ? (guint) PEER_IDLE_CONNECTED_MS
                                                                    : peer->ice_wait_ms, NULL);
}

/* main loop */
static gboolean
peer_event_dispatch (gpointer data)
{
  PeerEvent *ev = data;
  WebrtcPeer *peer = ev->peer;
  if (ev->kind == EV_GATHERED)
    peer->gathering_done = TRUE;
  if (peer->close_pending && (ev->kind == EV_GATHERED || ev->kind == EV_SETTLED))
    peer_close_maybe (peer);
  if (!peer->owner)
    return G_SOURCE_REMOVE;
  switch (ev->kind) {
    case EV_SDP: {
      /* 1:1 NAT: what leaves the server names the public address (ice_servers.c); a
       * publisher's answer names the bitrate its sender starts at */
      g_autofree gchar *started = sdp_answer_with_start_bitrate (ev->text, peer->start_bitrate_kbps);
      g_autofree gchar *sdp = ice_rewrite_sdp (started, (const gchar *const *) peer->public_addresses,
                                               peer->keep_private);
      peer->events->local_description (peer->owner, peer, sdp);
      break;
    }
    case EV_ICE: {
      if (!peer->public_addresses || !ev->text || !*ev->text) {
        peer->events->ice_candidate (peer->owner, peer, ev->mline, ev->text);
        break;
      }
      g_auto (GStrv) lines = ice_rewrite_candidate (ev->text, (const gchar *const *) peer->public_addresses,
                                                    peer->keep_private);
      for (gchar **l = lines; *l && peer->owner; l++)
        peer->events->ice_candidate (peer->owner, peer, ev->mline, *l);
      break;
    }
    case EV_GATHERED:
      peer->events->gathering_done (peer->owner, peer);
      break;
    case EV_STATE:
      peer->state = ev->state;
      peer_set_ice_patience (peer, ev->state);
      peer->events->connection_state (peer->owner, peer, ev->state);
      if (ev->state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED && peer->owner)
        peer_read_selected_pair (peer);
      break;
    case EV_PAIR:
      if (ev->pair && peer->events->selected_pair)
        peer->events->selected_pair (peer->owner, peer, ev->pair);
      else if (!ev->pair && g_atomic_int_get (&peer->pair_tries) < PAIR_TRIES && !peer->pair_timer)
        peer->pair_timer = g_timeout_add_full (G_PRIORITY_DEFAULT, PAIR_RETRY_MS, on_pair_retry,
                                               webrtc_peer_ref (peer), (GDestroyNotify) webrtc_peer_unref);
      break;
    case EV_FAILED:
      peer->events->failed (peer->owner, peer, ev->text);
      break;
    case EV_SETTLED:
      break;
  }
  return G_SOURCE_REMOVE;
}

static void
peer_event_free (gpointer data)
{
  PeerEvent *ev = data;
  webrtc_peer_unref (ev->peer);
  g_free (ev->text);
  if (ev->pair)
    pair_free (ev->pair);
  g_free (ev);
}

/* any thread */
static void
peer_post (WebrtcPeer *peer, PeerEventKind kind, guint mline, gint state, gchar *text_take)
{
  PeerEvent *ev = g_new0 (PeerEvent, 1);
  ev->peer = webrtc_peer_ref (peer);
  ev->kind = kind;
  ev->mline = mline;
  ev->state = state;
  ev->text = text_take;
  g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT, peer_event_dispatch, ev, peer_event_free);
}

/* webrtcbin thread: set-local-description or an answer's set-remote-description finished
 * (only counted, by peer_promise_done) */
static void
on_settled (GstPromise *promise, gpointer data)
{
}

/* any thread: webrtcbin let go of a promise of ours (replied or dropped) */
static void
peer_promise_done (gpointer data)
{
  WebrtcPeer *peer = data;
  if (g_atomic_int_dec_and_test (&peer->inflight))
    peer_post (peer, EV_SETTLED, 0, 0, NULL);
  webrtc_peer_unref (peer);
}

/* any thread: a promise webrtcbin settles; the peer is not stopped while one is out */
static GstPromise *
peer_promise (WebrtcPeer *peer, GstPromiseChangeFunc func)
{
  g_atomic_int_inc (&peer->inflight);
  return gst_promise_new_with_change_func (func, webrtc_peer_ref (peer), peer_promise_done);
}

/* webrtcbin thread */
static void
on_ice_candidate (GstElement *webrtcbin, guint mline, gchar *candidate, WebrtcPeer *peer)
{
  peer_post (peer, EV_ICE, mline, 0, g_strdup (candidate));
}

/* webrtcbin thread */
static void
on_gathering_state (GObject *webrtcbin, GParamSpec *pspec, WebrtcPeer *peer)
{
  GstWebRTCICEGatheringState state;
  g_object_get (webrtcbin, "ice-gathering-state", &state, NULL);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    peer_post (peer, EV_GATHERED, 0, 0, NULL);
}

/* webrtcbin thread */
static void
on_connection_state (GObject *webrtcbin, GParamSpec *pspec, WebrtcPeer *peer)
{
  GstWebRTCPeerConnectionState state;
  g_object_get (webrtcbin, "connection-state", &state, NULL);
  peer_post (peer, EV_STATE, 0, state, NULL);
}

/* ---- the selected candidate pair, from get-stats --------------------------------------- */


/* a stats field that is a string or an enum, as a string ("srflx" for server-reflexive) */
static gchar *
stats_string (const GstStructure *s, const gchar *field)
{
  const GValue *v = gst_structure_get_value (s, field);
  if (!v)
    return NULL;
  if (G_VALUE_HOLDS_STRING (v))
    return g_value_dup_string (v);
  if (G_VALUE_HOLDS_ENUM (v)) {
    GEnumValue *e = g_enum_get_value (g_type_class_peek (G_VALUE_TYPE (v)), g_value_get_enum (v));
    const gchar *nick = e ? e->value_nick : NULL;
    static const gchar *const names[][2] = { { "server-reflexive", "srflx" }, { "peer-reflexive", "prflx" } };
    for (guint i = 0; nick && i < G_N_ELEMENTS (names); i++)
      if (g_strcmp0 (nick, names[i][0]) == 0)
        return g_strdup (names[i][1]);
    return g_strdup (nick);
  }
  return NULL;
}

static GstWebRTCStatsType
stats_type (const GstStructure *s)
{
  GstWebRTCStatsType type = 0;
  gst_structure_get (s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL);
  return type;
}

/* the stats entry named `id` */
static const GstStructure *
stats_entry (const GstStructure *reply, const gchar *id)
{
  const GValue *v = id ? gst_structure_get_value (reply, id) : NULL;
  return v && GST_VALUE_HOLDS_STRUCTURE (v) ? gst_value_get_structure (v) : NULL;
}

static gboolean
candidate_from_stats (const GstStructure *s, WebrtcPeerCandidate *out)
{
  if (!s)
    return FALSE;
  out->type = stats_string (s, "candidate-type");
  out->protocol = stats_string (s, "protocol");
  out->relay_protocol = stats_string (s, "relay-protocol");
  if (out->relay_protocol && (!*out->relay_protocol || g_ascii_strcasecmp (out->relay_protocol, "none") == 0))
    g_clear_pointer (&out->relay_protocol, g_free);   /* webrtcbin 1.22 says "none" when it does not know */
  g_autofree gchar *address = stats_string (s, "address");
  guint port = 0;
  gst_structure_get_uint (s, "port", &port);
  out->address = address ? g_strdup_printf ("%s:%u", address, port) : NULL;
  if (out->type)
    for (gchar *c = out->type; *c; c++)
      *c = g_ascii_tolower (*c);
  if (out->protocol)
    for (gchar *c = out->protocol; *c; c++)
      *c = g_ascii_tolower (*c);
  return out->type != NULL;
}

/* webrtcbin thread: the pair a transport names as selected, else the only (or a nominated,
 * or a "selected") candidate-pair entry, with its two candidates */
static WebrtcPeerPair *
pair_from_stats (const GstStructure *reply)
{
  const GstStructure *chosen = NULL;
  guint n_pairs = 0;
  const GstStructure *only = NULL;
  for (gint i = 0; i < gst_structure_n_fields (reply) && !chosen; i++) {
    const GstStructure *s = stats_entry (reply, gst_structure_nth_field_name (reply, i));
    if (!s)
      continue;
    GstWebRTCStatsType type = stats_type (s);
    if (type == GST_WEBRTC_STATS_TRANSPORT) {
      g_autofree gchar *id = stats_string (s, "selected-candidate-pair-id");
      chosen = stats_entry (reply, id);
    } else if (type == GST_WEBRTC_STATS_CANDIDATE_PAIR) {
      gboolean flag = FALSE;
      if ((gst_structure_get_boolean (s, "selected", &flag) && flag) ||
          (gst_structure_get_boolean (s, "nominated", &flag) && flag))
        chosen = s;
      n_pairs++;
      only = s;
    }
  }
  if (!chosen && n_pairs == 1)
    chosen = only;
  if (!chosen)
    return NULL;
  g_autofree gchar *local_id = stats_string (chosen, "local-candidate-id");
  g_autofree gchar *remote_id = stats_string (chosen, "remote-candidate-id");
  WebrtcPeerPair *pair = g_new0 (WebrtcPeerPair, 1);
  if (!candidate_from_stats (stats_entry (reply, local_id), &pair->local) ||
      !candidate_from_stats (stats_entry (reply, remote_id), &pair->remote)) {
    pair_free (pair);
    return NULL;
  }
  return pair;
}

/* webrtcbin thread: get-stats answered */
static void
on_stats (GstPromise *promise, gpointer data)
{
  WebrtcPeer *peer = data;
  const GstStructure *reply = gst_promise_get_reply (promise);
  WebrtcPeerPair *pair = reply ? pair_from_stats (reply) : NULL;
  if (!pair && reply && g_atomic_int_get (&peer->pair_tries) >= PAIR_TRIES) {
    g_autofree gchar *text = gst_structure_to_string (reply);
    g_debug ("peer %s: no selected candidate pair in the stats: %s", peer->name, text);
  }
  PeerEvent *ev = g_new0 (PeerEvent, 1);
  ev->peer = webrtc_peer_ref (peer);
  ev->kind = EV_PAIR;
  ev->pair = pair;
  g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT, peer_event_dispatch, ev, peer_event_free);
}

/* main loop: ask webrtcbin for its stats (again, until they name the pair) */
static void
peer_read_selected_pair (WebrtcPeer *peer)
{
  if (!peer->owner || peer->close_pending)
    return;
  g_atomic_int_inc (&peer->pair_tries);
  GstPromise *promise = peer_promise (peer, on_stats);
  g_signal_emit_by_name (peer->webrtcbin, "get-stats", NULL, promise);
  gst_promise_unref (promise);
}

static gboolean
on_pair_retry (gpointer data)
{
  WebrtcPeer *peer = data;
  peer->pair_timer = 0;
  peer_read_selected_pair (peer);
  return G_SOURCE_REMOVE;
}

/* the [ice] STUN and TURN servers (ice_servers.c), the same ones the pages and WHIP
 * publishers are given; with turn_secret, a credential computed for the server itself */
static void
peer_configure_ice_servers (WebrtcPeer *peer, const KanyanConfig *cfg)
{
  g_autofree gchar *stun = ice_servers_gst_stun (cfg);
  if (stun)
    g_object_set (peer->webrtcbin, "stun-server", stun, NULL);
  g_auto (GStrv) turn = ice_servers_gst_turn (cfg, "kanyan-server", g_get_real_time () / G_USEC_PER_SEC);
  for (gchar **uri = turn; *uri; uri++) {
    gboolean added = FALSE;
    g_signal_emit_by_name (peer->webrtcbin, "add-turn-server", *uri, &added);
    if (!added)
      g_warning ("peer %s: webrtcbin refused TURN server %s", peer->name, cfg->turn_servers[uri - turn]);
  }
  peer->public_addresses = g_strdupv (cfg->public_addresses);
  peer->keep_private = cfg->keep_private;
}

static void
peer_configure_ice (WebrtcPeer *peer, const KanyanConfig *cfg)
{
  peer_configure_ice_servers (peer, cfg);
  g_object_get (peer->webrtcbin, "ice-agent", &peer->ice, NULL);
  if (!peer->ice)
    return;
  /* ICE-TCP (RFC 6544): passive TCP host candidates on the same port range as UDP, so a
   * phone whose network drops UDP connects directly; off, only TURN over TCP/TLS is left */
  g_object_set (peer->ice, "ice-tcp", cfg->ice_tcp, NULL);
  if (cfg->ice_port_min > 0 && cfg->ice_port_max >= cfg->ice_port_min)
    g_object_set (peer->ice, "min-rtp-port", (guint) cfg->ice_port_min,
                  "max-rtp-port", (guint) cfg->ice_port_max, NULL);
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (peer->ice), "agent"))
    g_object_get (peer->ice, "agent", &peer->nice_agent, NULL);
  if (!peer->nice_agent)
    return;
  /* UPnP would send SSDP multicast to the real network and start threads. */
  g_object_set (peer->nice_agent, "upnp", FALSE, NULL);
  /* Connectivity checks one every PEER_STUN_PACING_MS, not libnice's 20 ms (RFC 8445 allows
   * 5): the controlling side's regular nomination costs two checks after the first success,
   * each waiting for its tick, and an ICE-TCP pair takes a tick in between, so a reviewer
   * was connected ~50 ms after its first check succeeded. */
  g_object_set (peer->nice_agent, "stun-pacing-timer", (guint) PEER_STUN_PACING_MS, NULL);
  /* The phone offers, so it is the controlling side: only its checks nominate a pair. libnice's
   * controlled agent declares the connection failed idle-timeout after its own checks end
   * (5 s by default), while a phone's first checks may still be lost on a congested uplink
   * and its stack retransmits for much longer (aioice ~30 s). A publisher has
   * publisher_connect_timeout_s to connect (room.c): let that deadline decide. (Where the
   * server offers, to reviewers and watchers, it nominates itself; the wait then only delays
   * the failure of a connection whose every pair failed, which their own timeouts end.) */
  peer->ice_wait_ms = (guint) CLAMP (cfg->publisher_connect_timeout_s, 1, PEER_IDLE_TIMEOUT_MAX_S) * 1000;
  peer_set_ice_patience (peer, GST_WEBRTC_PEER_CONNECTION_STATE_NEW);
  for (gchar **addr = cfg->ice_addresses; addr && *addr; addr++) {
    NiceAddress nice_addr;
    nice_address_init (&nice_addr);
    if (nice_address_set_from_string (&nice_addr, *addr))
      nice_agent_add_local_address (NICE_AGENT (peer->nice_agent), &nice_addr);
    else
      g_warning ("ice_addresses: '%s' is not an IP address", *addr);
  }
}

/* Any thread that builds webrtcbin's insides. webrtcbin 1.22 paces what it sends: a
 * `clocksync` on each outgoing stream and the RTP `nicesink` wait for each buffer's
 * running time plus the pipeline latency (the ingest jitterbuffer's and more), so every
 * relayed packet would leave 100–350 ms after it arrived. The relay forwards RTP that is
 * already paced by the phone, and the talk-back mixer paces itself: send each packet the
 * moment it is ready. And the bundle funnel re-sends a track's sticky events at every switch of
 * track: funnel_repeats.c answers the repeats. The retransmission store keeps one second. */
static void
on_element_added (GstBin *webrtcbin, GstBin *sub_bin, GstElement *element, gpointer data)
{
  (void) webrtcbin; (void) sub_bin; (void) data;
  GstElementFactory *factory = gst_element_get_factory (element);
  const gchar *kind = factory ? GST_OBJECT_NAME (factory) : NULL;
  if (g_strcmp0 (kind, "clocksync") == 0 || g_strcmp0 (kind, "nicesink") == 0)
    g_object_set (element, "sync", FALSE, NULL);
  else if (g_strcmp0 (kind, "rtpfunnel") == 0)   /* the bundle's tracks merge here */
    funnel_repeats_answer (element);
  else if (g_strcmp0 (kind, "rtprtxsend") == 0)   /* the retransmission store */
    g_object_set (element, "max-size-time", PEER_RTX_STORE_MS, NULL);
}

WebrtcPeer *
webrtc_peer_new (GstBin *pipeline, const gchar *name, const KanyanConfig *cfg,
                 const WebrtcPeerEvents *events, gpointer owner)
{
  GstElement *webrtcbin = gst_element_factory_make ("webrtcbin", name);
  if (!webrtcbin)
    return NULL;
  static gsize arenas_limited = 0;
  if (g_once_init_enter (&arenas_limited)) {
    /* every webrtcbin brings ~7 threads; one malloc arena each fragments memory for good */
    mallopt (M_ARENA_MAX, 4);
    g_once_init_leave (&arenas_limited, 1);
  }
  g_atomic_int_inc (&live_webrtcbins);
  WebrtcPeer *peer = g_new0 (WebrtcPeer, 1);
  g_atomic_ref_count_init (&peer->ref);
  peer->name = g_strdup (name);
  peer->webrtcbin = gst_object_ref_sink (webrtcbin);
  peer->pipeline = gst_object_ref (pipeline);
  peer->events = events;
  peer->owner = owner;
  g_object_set (webrtcbin, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE,
                "latency", (guint) cfg->jitter_latency_ms, NULL);
  peer_configure_ice (peer, cfg);
  g_signal_connect (webrtcbin, "deep-element-added", G_CALLBACK (on_element_added), NULL);
  g_signal_connect (webrtcbin, "on-ice-candidate", G_CALLBACK (on_ice_candidate), peer);
  g_signal_connect (webrtcbin, "notify::ice-gathering-state", G_CALLBACK (on_gathering_state), peer);
  g_signal_connect (webrtcbin, "notify::connection-state", G_CALLBACK (on_connection_state), peer);
  gst_bin_add (pipeline, webrtcbin);
  GST_INFO_OBJECT (webrtcbin, "peer %s: webrtcbin added", name);
  return peer;
}

/* webrtcbin thread: create-offer / create-answer finished */
static void
on_description_created (GstPromise *promise, gpointer data)
{
  WebrtcPeer *peer = data;
  const GstStructure *reply = gst_promise_get_reply (promise);
  GstWebRTCSessionDescription *desc = NULL;
  if (reply)
    gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL);
  if (!desc && reply)
    gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL);
  if (!desc) {
    GError *err = NULL;
    if (reply)
      gst_structure_get (reply, "error", G_TYPE_ERROR, &err, NULL);
    peer_post (peer, EV_FAILED, 0, 0, g_strdup (err ? err->message : "no description created"));
    g_clear_error (&err);
  } else {
    GstPromise *set = peer_promise (peer, on_settled);
    g_signal_emit_by_name (peer->webrtcbin, "set-local-description", desc, set);
    gst_promise_unref (set);
    peer_post (peer, EV_SDP, 0, 0, gst_sdp_message_as_text (desc->sdp));
    gst_webrtc_session_description_free (desc);
  }
}

/* webrtcbin thread: set-remote-description(offer) finished */
static void
on_remote_offer_set (GstPromise *promise, gpointer data)
{
  WebrtcPeer *peer = data;
  const GstStructure *reply = gst_promise_get_reply (promise);
  GError *err = NULL;
  if (reply && gst_structure_get (reply, "error", G_TYPE_ERROR, &err, NULL)) {
    peer_post (peer, EV_FAILED, 0, 0, g_strdup (err->message));
    g_clear_error (&err);
    return;
  }
  GstPromise *answer = peer_promise (peer, on_description_created);
  g_signal_emit_by_name (peer->webrtcbin, "create-answer", NULL, answer);
  gst_promise_unref (answer);
}

void
webrtc_peer_set_remote (WebrtcPeer *peer, GstWebRTCSDPType type, GstSDPMessage *sdp)
{
  GstWebRTCSessionDescription *desc = gst_webrtc_session_description_new (type, sdp);
  GstPromise *promise = NULL;
  promise = peer_promise (peer, type == GST_WEBRTC_SDP_TYPE_OFFER ? on_remote_offer_set : on_settled);
  g_signal_emit_by_name (peer->webrtcbin, "set-remote-description", desc, promise);
  gst_promise_unref (promise);
  gst_webrtc_session_description_free (desc);
}

void
webrtc_peer_create_offer (WebrtcPeer *peer)
{
  GstPromise *promise = peer_promise (peer, on_description_created);
  g_signal_emit_by_name (peer->webrtcbin, "create-offer", NULL, promise);
  gst_promise_unref (promise);
}

void
webrtc_peer_add_ice (WebrtcPeer *peer, guint mline, const gchar *candidate)
{
  if (peer->owner && candidate && *candidate)
    g_signal_emit_by_name (peer->webrtcbin, "add-ice-candidate", mline, candidate);
}

gchar *
webrtc_peer_local_sdp (WebrtcPeer *peer)
{
  GstWebRTCSessionDescription *desc = NULL;
  g_object_get (peer->webrtcbin, "local-description", &desc, NULL);
  if (!desc)
    return NULL;
  g_autofree gchar *plain = gst_sdp_message_as_text (desc->sdp);
  gst_webrtc_session_description_free (desc);
  g_autofree gchar *text = sdp_answer_with_start_bitrate (plain, peer->start_bitrate_kbps);
  return ice_rewrite_sdp (text, (const gchar *const *) peer->public_addresses, peer->keep_private);
}

/* a GstElement pool thread */
static void
close_async (GstElement *webrtcbin, gpointer data)
{
  gst_element_set_state (webrtcbin, GST_STATE_NULL);
}

/* a GstElement pool thread, once close_async is done: the last reference */
static void
close_done (gpointer data)
{
  gst_object_unref (data);
  /* webrtcbin's many threads leave freed memory spread over malloc's arenas; with no
   * webrtcbin left, give it back so a burst of abandoned offers does not keep the peak */
  if (g_atomic_int_dec_and_test (&live_webrtcbins))
    malloc_trim (0);
}

/* main loop: stop the webrtcbin now (settled, or its grace is over) */
static void
peer_stop (WebrtcPeer *peer)
{
  if (!peer->close_pending)
    return;
  peer->close_pending = FALSE;
  if (peer->close_timer) {
    g_source_remove (peer->close_timer);
    peer->close_timer = 0;
  }
  if (peer->pair_timer) {
    g_source_remove (peer->pair_timer);
    peer->pair_timer = 0;
  }
  g_signal_handlers_disconnect_by_data (peer->webrtcbin, peer);
  /* 1.22.0 can block going to NULL before any data flowed: never on the main loop */
  gst_element_call_async (peer->webrtcbin, close_async, gst_object_ref (peer->webrtcbin), close_done);
  webrtc_peer_unref (peer);   /* the reference webrtc_peer_close took */
}

static gboolean
on_close_grace_over (gpointer data)
{
  WebrtcPeer *peer = data;
  peer->close_timer = 0;
  g_debug ("peer %s: webrtcbin did not settle in %d s; stopped anyway", peer->name, PEER_CLOSE_GRACE_S);
  peer_stop (peer);
  return G_SOURCE_REMOVE;
}

/* main loop */
static void
peer_close_maybe (WebrtcPeer *peer)
{
  if (g_atomic_int_get (&peer->inflight) > 0)
    return;
  GstWebRTCICEGatheringState gathering = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
  g_object_get (peer->webrtcbin, "ice-gathering-state", &gathering, NULL);
  if (gathering == GST_WEBRTC_ICE_GATHERING_STATE_GATHERING && !peer->gathering_done)
    return;
  peer_stop (peer);
}

void
webrtc_peer_close (WebrtcPeer *peer)
{
  if (!peer->owner)
    return;
  peer->owner = NULL;
  gst_element_set_locked_state (peer->webrtcbin, TRUE);
  gst_bin_remove (peer->pipeline, peer->webrtcbin);   /* it keeps running on its own threads */
  peer->close_pending = TRUE;
  webrtc_peer_ref (peer);
  peer->close_timer = g_timeout_add_seconds (PEER_CLOSE_GRACE_S, on_close_grace_over, peer);
  peer_close_maybe (peer);
}

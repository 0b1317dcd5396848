/* ice_servers.h — the ICE servers ([ice] settings) as each kind of peer needs them: the
 * WebRTC `iceServers` JSON for the pages, RFC 9725 `Link` headers for WHIP publishers, and
 * webrtcbin's stun-server / add-turn-server URIs for the server itself; TURN credentials,
 * static or computed from coturn's shared secret; and the 1:1 NAT rewrite of the server's
 * host candidates. Pure: no sockets, no rooms, no webrtcbin. */
#pragma once
#include <glib.h>
#include <json-glib/json-glib.h>
#include "app/app.h"

/* Validates the [ice] settings: URI schemes, TURN credentials present when TURN is, a
 * positive turn_ttl_s, public addresses that are IP addresses. */
gboolean  ice_servers_check_config (const KanyanConfig *cfg, GError **error);

/* coturn use-auth-secret (the TURN REST API): password = base64 (HMAC-SHA1 (secret, username)) */
gchar    *ice_turn_rest_password (const gchar *secret, const gchar *username);

/* The TURN credential for one peer: with turn_secret, username "<now + turn_ttl_s>:<label>"
 * and its computed password; else the static pair. FALSE (and NULLs) when none is set. */
gboolean  ice_turn_credential (const KanyanConfig *cfg, const gchar *label, gint64 now_unix,
                               gchar **username, gchar **password);

/* [{"urls":[stun…]},{"urls":[turn…],"username":…,"credential":…}]; [] when nothing is set */
JsonNode *ice_servers_for (const KanyanConfig *cfg, const gchar *label, gint64 now_unix);

/* One `Link` header value per configured URI (RFC 9725 §4.6); empty when nothing is set */
GStrv     ice_servers_link_headers (const KanyanConfig *cfg, const gchar *label, gint64 now_unix);

/* webrtcbin's forms: "stun://host:port" (the first STUN server, or NULL) and
 * "turn(s)://user:pass@host:port?transport=…" for each TURN server */
gchar    *ice_servers_gst_stun (const KanyanConfig *cfg);
GStrv     ice_servers_gst_turn (const KanyanConfig *cfg, const gchar *label, gint64 now_unix);

/* 1:1 NAT. One candidate ("candidate:…" or "a=candidate:…", no line end) becomes the lines
 * to advertise: a host candidate whose address public_addresses maps is given the public
 * address, the private one is kept too (after it) when keep_private; anything else is
 * returned unchanged. Entries are "PUBLIC" (every host address) or "PRIVATE=PUBLIC". */
GStrv     ice_rewrite_candidate (const gchar *candidate, const gchar *const *public_addresses,
                                 gboolean keep_private);
/* The same for every a=candidate line of a session description. */
gchar    *ice_rewrite_sdp (const gchar *sdp, const gchar *const *public_addresses, gboolean keep_private);

/* "host/udp", "srflx/udp", "relay/udp", "host/tcp" … of one candidate line ("candidate:…"
 * or "a=candidate:…"); NULL when it is not one. For the reviewer's "which kinds each side
 * offered" and the audit. */
gchar    *ice_candidate_kind (const gchar *candidate);
/* The same for every a=candidate line of a session description, each kind once, in order. */
GStrv     ice_candidate_kinds_of_sdp (const gchar *sdp);

/* ice_servers.c — the ICE servers ([ice] settings) handed to every peer, and the 1:1 NAT
 * rewrite of the server's host candidates. Computes; never opens a socket, never touches a
 * webrtcbin or a room (peer.c, room.c and whip.c apply what it returns). */
#include "media/ice_servers.h"
#include "core/errors.h"
#include <gio/gio.h>
#include <string.h>

/* g_strv_builder_take() is GLib 2.80; Debian 12 has 2.74 */
static void
builder_take (GStrvBuilder *b, gchar *text)
{
  g_strv_builder_add (b, text);
  g_free (text);
}

static gboolean
uri_has_scheme (const gchar *uri, const gchar *const *schemes)
{
  for (; *schemes; schemes++)
    if (g_str_has_prefix (uri, *schemes) && uri[strlen (*schemes)] != '\0')
      return TRUE;
  return FALSE;
}

/* characters that would break out of a Link header's <…> or a JSON-less consumer */
static gboolean
uri_is_clean (const gchar *uri)
{
  for (const gchar *c = uri; *c; c++)
    if ((guchar) *c <= ' ' || *c == '<' || *c == '>' || *c == '"' || *c == '\\' || (guchar) *c >= 0x7f)
      return FALSE;
  return TRUE;
}

/* "PUBLIC" or "PRIVATE=PUBLIC" → its two halves (private NULL for "every host address") */
static gboolean
split_mapping (const gchar *entry, gchar **private_out, gchar **public_out)
{
  const gchar *eq = strchr (entry, '=');
  g_autofree gchar *priv = eq ? g_strstrip (g_strndup (entry, eq - entry)) : NULL;
  g_autofree gchar *pub = g_strstrip (g_strdup (eq ? eq + 1 : entry));
  if (!g_hostname_is_ip_address (pub) || (priv && !g_hostname_is_ip_address (priv)))
    return FALSE;
  if (private_out)
    *private_out = g_steal_pointer (&priv);
  if (public_out)
    *public_out = g_steal_pointer (&pub);
  return TRUE;
}

gboolean
ice_servers_check_config (const KanyanConfig *cfg, GError **error)
{
  static const gchar *const stun_schemes[] = { "stun:", "stuns:", NULL };
  static const gchar *const turn_schemes[] = { "turn:", "turns:", NULL };
  for (gchar **u = cfg->stun_servers; u && *u; u++)
    if (!uri_has_scheme (*u, stun_schemes) || !uri_is_clean (*u)) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[ice] stun_servers: \"%s\" is not a stun: URI", *u);
      return FALSE;
    }
  for (gchar **u = cfg->turn_servers; u && *u; u++) {
    const gchar *query = strchr (*u, '?');
    if (!uri_has_scheme (*u, turn_schemes) || !uri_is_clean (*u) ||
        (query && g_strcmp0 (query, "?transport=udp") != 0 && g_strcmp0 (query, "?transport=tcp") != 0)) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[ice] turn_servers: \"%s\" is not a turn: or turns: URI (optionally ?transport=udp or tcp)", *u);
      return FALSE;
    }
  }
  gboolean has_static = cfg->turn_username && *cfg->turn_username && cfg->turn_password;
  gboolean has_secret = cfg->turn_secret && *cfg->turn_secret;
  if (cfg->turn_servers && *cfg->turn_servers && !has_static && !has_secret) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                 "[ice] turn_servers needs turn_secret, or turn_username and turn_password");
    return FALSE;
  }
  if (cfg->turn_ttl_s <= 0) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                 "[ice] turn_ttl_s: %d is not a positive number of seconds", cfg->turn_ttl_s);
    return FALSE;
  }
  for (gchar **a = cfg->public_addresses; a && *a; a++)
    if (!split_mapping (*a, NULL, NULL)) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[ice] public_addresses: \"%s\" is not PUBLIC or PRIVATE=PUBLIC (IP addresses)", *a);
      return FALSE;
    }
  return TRUE;
}

gchar *
ice_turn_rest_password (const gchar *secret, const gchar *username)
{
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA1, (const guchar *) secret, strlen (secret));
  g_hmac_update (hmac, (const guchar *) username, strlen (username));
  guint8 digest[20];
  gsize len = sizeof digest;
  g_hmac_get_digest (hmac, digest, &len);
  return g_base64_encode (digest, len);
}

gboolean
ice_turn_credential (const KanyanConfig *cfg, const gchar *label, gint64 now_unix,
                     gchar **username, gchar **password)
{
  *username = *password = NULL;
  if (cfg->turn_secret && *cfg->turn_secret) {
    *username = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", now_unix + cfg->turn_ttl_s,
                                 label && *label ? label : "kanyan");
    *password = ice_turn_rest_password (cfg->turn_secret, *username);
    return TRUE;
  }
  if (cfg->turn_username && *cfg->turn_username && cfg->turn_password) {
    *username = g_strdup (cfg->turn_username);
    *password = g_strdup (cfg->turn_password);
    return TRUE;
  }
  return FALSE;
}

static void
add_urls (JsonBuilder *b, gchar **uris)
{
  json_builder_set_member_name (b, "urls");
  json_builder_begin_array (b);
  for (; *uris; uris++)
    json_builder_add_string_value (b, *uris);
  json_builder_end_array (b);
}

JsonNode *
ice_servers_for (const KanyanConfig *cfg, const gchar *label, gint64 now_unix)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  if (cfg->stun_servers && *cfg->stun_servers) {
    json_builder_begin_object (b);
    add_urls (b, cfg->stun_servers);
    json_builder_end_object (b);
  }
  g_autofree gchar *user = NULL, *pass = NULL;
  if (cfg->turn_servers && *cfg->turn_servers && ice_turn_credential (cfg, label, now_unix, &user, &pass)) {
    json_builder_begin_object (b);
    add_urls (b, cfg->turn_servers);
    json_builder_set_member_name (b, "username");
    json_builder_add_string_value (b, user);
    json_builder_set_member_name (b, "credential");
    json_builder_add_string_value (b, pass);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}

/* an RFC 9110 quoted-string: backslash before '"' and '\'; control characters dropped */
static void
append_quoted (GString *out, const gchar *value)
{
  g_string_append_c (out, '"');
  for (const gchar *c = value; *c; c++) {
    if ((guchar) *c < ' ' || *c == 0x7f)
      continue;
    if (*c == '"' || *c == '\\')
      g_string_append_c (out, '\\');
    g_string_append_c (out, *c);
  }
  g_string_append_c (out, '"');
}

GStrv
ice_servers_link_headers (const KanyanConfig *cfg, const gchar *label, gint64 now_unix)
{
  g_autoptr (GStrvBuilder) out = g_strv_builder_new ();
  for (gchar **u = cfg->stun_servers; u && *u; u++) {
    g_autofree gchar *line = g_strdup_printf ("<%s>; rel=\"ice-server\"", *u);
    g_strv_builder_add (out, line);
  }
  g_autofree gchar *user = NULL, *pass = NULL;
  if (cfg->turn_servers && *cfg->turn_servers && ice_turn_credential (cfg, label, now_unix, &user, &pass))
    for (gchar **u = cfg->turn_servers; *u; u++) {
      GString *line = g_string_new (NULL);
      g_string_append_printf (line, "<%s>; rel=\"ice-server\"; username=", *u);
      append_quoted (line, user);
      g_string_append (line, "; credential=");
      append_quoted (line, pass);
      g_string_append (line, "; credential-type=\"password\"");
      builder_take (out, g_string_free (line, FALSE));
    }
  return g_strv_builder_end (out);
}

gchar *
ice_servers_gst_stun (const KanyanConfig *cfg)
{
  if (!cfg->stun_servers || !*cfg->stun_servers || !g_str_has_prefix (cfg->stun_servers[0], "stun:"))
    return NULL;
  return g_strdup_printf ("stun://%s", cfg->stun_servers[0] + 5);
}

GStrv
ice_servers_gst_turn (const KanyanConfig *cfg, const gchar *label, gint64 now_unix)
{
  g_autoptr (GStrvBuilder) out = g_strv_builder_new ();
  g_autofree gchar *user = NULL, *pass = NULL;
  if (cfg->turn_servers && *cfg->turn_servers && ice_turn_credential (cfg, label, now_unix, &user, &pass)) {
    /* webrtcbin splits the userinfo at its first ':' and unescapes both halves */
    g_autofree gchar *u = g_uri_escape_string (user, NULL, FALSE);
    g_autofree gchar *p = g_uri_escape_string (pass, NULL, FALSE);
    for (gchar **uri = cfg->turn_servers; *uri; uri++) {
      const gchar *colon = strchr (*uri, ':');
      g_autofree gchar *scheme = g_strndup (*uri, colon - *uri);
      builder_take (out, g_strdup_printf ("%s://%s:%s@%s", scheme, u, p, colon + 1));
    }
  }
  return g_strv_builder_end (out);
}

/* the public address a host candidate at `address` is advertised with, or NULL */
static gchar *
public_for (const gchar *address, const gchar *const *mapping)
{
  gboolean v6 = strchr (address, ':') != NULL;
  for (; mapping && *mapping; mapping++) {
    g_autofree gchar *priv = NULL, *pub = NULL;
    if (!split_mapping (*mapping, &priv, &pub) || (strchr (pub, ':') != NULL) != v6)
      continue;
    if (!priv || g_ascii_strcasecmp (priv, address) == 0)
      return g_steal_pointer (&pub);
  }
  return NULL;
}

GStrv
ice_rewrite_candidate (const gchar *candidate, const gchar *const *public_addresses, gboolean keep_private)
{
  g_autoptr (GStrvBuilder) out = g_strv_builder_new ();
  /* candidate:FOUNDATION COMPONENT TRANSPORT PRIORITY ADDRESS PORT typ TYPE … */
  g_auto (GStrv) f = g_strsplit (candidate, " ", 0);
  g_autofree gchar *pub = NULL;
  if (g_strv_length (f) >= 8 && g_strcmp0 (f[6], "typ") == 0 && g_strcmp0 (f[7], "host") == 0)
    pub = public_for (f[4], public_addresses);
  if (pub && g_ascii_strcasecmp (pub, f[4]) != 0) {
    g_autofree gchar *priv = g_steal_pointer (&f[4]);
    f[4] = g_steal_pointer (&pub);
    builder_take (out, g_strjoinv (" ", f));
    if (keep_private)
      g_strv_builder_add (out, candidate);
    g_free (f[4]);
    f[4] = g_steal_pointer (&priv);
  } else {
    g_strv_builder_add (out, candidate);
  }
  return g_strv_builder_end (out);
}

gchar *
ice_rewrite_sdp (const gchar *sdp, const gchar *const *public_addresses, gboolean keep_private)
{
  if (!public_addresses || !*public_addresses)
    return g_strdup (sdp);
  GString *out = g_string_sized_new (strlen (sdp) + 256);
  const gchar *line = sdp;
  while (*line) {
    const gchar *end = strchr (line, '\n');
    gsize len = end ? (gsize) (end - line) + 1 : strlen (line);
    gsize body = len;
    while (body > 0 && (line[body - 1] == '\n' || line[body - 1] == '\r'))
      body--;
    if (g_str_has_prefix (line, "a=candidate:")) {
      g_autofree gchar *text = g_strndup (line, body);
      g_auto (GStrv) lines = ice_rewrite_candidate (text, public_addresses, keep_private);
      for (gchar **l = lines; *l; l++) {
        g_string_append (out, *l);
        g_string_append_len (out, line + body, len - body);   /* the line's own ending */
      }
    } else {
      g_string_append_len (out, line, len);
    }
    line += len;
  }
  return g_string_free (out, FALSE);
}

gchar *
ice_candidate_kind (const gchar *candidate)
{
  if (!candidate)
    return NULL;
  if (g_str_has_prefix (candidate, "a="))
    candidate += 2;
  if (!g_str_has_prefix (candidate, "candidate:"))
    return NULL;
  /* candidate:FOUNDATION COMPONENT TRANSPORT PRIORITY ADDRESS PORT typ TYPE … */
  g_auto (GStrv) f = g_strsplit (candidate, " ", 10);
  if (g_strv_length (f) < 8 || g_strcmp0 (f[6], "typ") != 0)
    return NULL;
  g_autofree gchar *proto = g_ascii_strdown (f[2], -1);
  g_autofree gchar *type = g_ascii_strdown (f[7], -1);
  g_strchomp (type);
  if (g_strcmp0 (proto, "udp") != 0 && g_strcmp0 (proto, "tcp") != 0)
    return NULL;
  static const gchar *const types[] = { "host", "srflx", "prflx", "relay", NULL };
  if (!g_strv_contains (types, type))
    return NULL;
  return g_strdup_printf ("%s/%s", type, proto);
}

GStrv
ice_candidate_kinds_of_sdp (const gchar *sdp)
{
  g_autoptr (GStrvBuilder) out = g_strv_builder_new ();
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) lines = g_strsplit (sdp ? sdp : "", "\n", 0);
  for (gchar **l = lines; *l; l++) {
    g_strchomp (*l);
    gchar *kind = ice_candidate_kind (*l);
    if (!kind)
      continue;
    if (g_ptr_array_find_with_equal_func (seen, kind, g_str_equal, NULL)) {
      g_free (kind);
      continue;
    }
    g_strv_builder_add (out, kind);
    g_ptr_array_add (seen, kind);
  }
  return g_strv_builder_end (out);
}

/* test_ice_servers.c — ice_servers.c: the [ice] settings' checks, coturn's shared-secret
 * TURN credential, the RFC 9725 Link header values, the iceServers JSON, webrtcbin's URIs
 * and the 1:1 NAT rewrite of host candidates. */
#include "media/ice_servers.h"
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

static KanyanConfig *
turn_config (void)
{
  KanyanConfig *cfg = config_new_defaults ();
  cfg->stun_servers = g_strsplit ("stun:stun.example.org:3478", ";", 0);
  cfg->turn_servers = g_strsplit ("turn:turn.example.org:3478?transport=udp;turns:turn.example.org:443?transport=tcp", ";", 0);
  cfg->turn_secret = g_strdup ("secret");
  cfg->turn_ttl_s = 3600;
  return cfg;
}

static void
test_rest_password (void)
{
  /* the scheme coturn checks under use-auth-secret / static-auth-secret=north, computed
   * independently with python3:
   *   base64.b64encode(hmac.new(b'north', b'1433895918506:ab1234', hashlib.sha1).digest())
   *   → poWp0WSIHQAyD/0Gi13UtkENKKI=
   *   base64.b64encode(hmac.new(b'secret', b'1700000000:K-1.p3', hashlib.sha1).digest())
   *   → EG4btgwQSG0ULheRWuW3V+asOCY= */
  g_autofree gchar *a = ice_turn_rest_password ("north", "1433895918506:ab1234");
  g_assert_cmpstr (a, ==, "poWp0WSIHQAyD/0Gi13UtkENKKI=");
  g_autofree gchar *b = ice_turn_rest_password ("secret", "1700000000:K-1.p3");
  g_assert_cmpstr (b, ==, "EG4btgwQSG0ULheRWuW3V+asOCY=");
}

static void
test_credential (void)
{
  g_autoptr (KanyanConfig) cfg = turn_config ();
  g_autofree gchar *user = NULL, *pass = NULL;
  g_assert_true (ice_turn_credential (cfg, "K-1.p3", 1700000000 - 3600, &user, &pass));
  g_assert_cmpstr (user, ==, "1700000000:K-1.p3");   /* expiry = now + turn_ttl_s */
  g_assert_cmpstr (pass, ==, "EG4btgwQSG0ULheRWuW3V+asOCY=");
  g_clear_pointer (&user, g_free);
  g_clear_pointer (&pass, g_free);
  /* static credentials when there is no secret */
  g_clear_pointer (&cfg->turn_secret, g_free);
  cfg->turn_username = g_strdup ("bureau");
  cfg->turn_password = g_strdup ("pw");
  g_assert_true (ice_turn_credential (cfg, "x", 1, &user, &pass));
  g_assert_cmpstr (user, ==, "bureau");
  g_assert_cmpstr (pass, ==, "pw");
  g_clear_pointer (&user, g_free);
  g_clear_pointer (&pass, g_free);
  g_clear_pointer (&cfg->turn_username, g_free);
  g_assert_false (ice_turn_credential (cfg, "x", 1, &user, &pass));
  g_assert_null (user);
}

static void
test_json (void)
{
  g_autoptr (KanyanConfig) cfg = turn_config ();
  g_autoptr (JsonNode) node = ice_servers_for (cfg, "K-1.p3", 1700000000 - 3600);
  g_autofree gchar *text = json_to_string (node, FALSE);
  g_assert_cmpstr (text, ==,
    "[{\"urls\":[\"stun:stun.example.org:3478\"]},"
    "{\"urls\":[\"turn:turn.example.org:3478?transport=udp\",\"turns:turn.example.org:443?transport=tcp\"],"
    "\"username\":\"1700000000:K-1.p3\",\"credential\":\"EG4btgwQSG0ULheRWuW3V+asOCY=\"}]");
  /* nothing configured: an empty list, and no Link headers */
  g_autoptr (KanyanConfig) none = config_new_defaults ();
  g_autoptr (JsonNode) empty = ice_servers_for (none, "x", 1);
  g_autofree gchar *empty_text = json_to_string (empty, FALSE);
  g_assert_cmpstr (empty_text, ==, "[]");
  g_auto (GStrv) links = ice_servers_link_headers (none, "x", 1);
  g_assert_cmpuint (g_strv_length (links), ==, 0);
  g_autofree gchar *stun = ice_servers_gst_stun (none);
  g_assert_null (stun);
}

static void
test_link_headers (void)
{
  g_autoptr (KanyanConfig) cfg = turn_config ();
  g_auto (GStrv) links = ice_servers_link_headers (cfg, "K-1.p3", 1700000000 - 3600);
  g_assert_cmpuint (g_strv_length (links), ==, 3);
  g_assert_cmpstr (links[0], ==, "<stun:stun.example.org:3478>; rel=\"ice-server\"");
  g_assert_cmpstr (links[1], ==, "<turn:turn.example.org:3478?transport=udp>; rel=\"ice-server\"; "
                   "username=\"1700000000:K-1.p3\"; credential=\"EG4btgwQSG0ULheRWuW3V+asOCY=\"; "
                   "credential-type=\"password\"");
  g_assert_true (g_str_has_prefix (links[2], "<turns:turn.example.org:443?transport=tcp>; rel=\"ice-server\"; "));
  /* a static credential with quotes and backslashes stays one quoted-string */
  g_clear_pointer (&cfg->turn_secret, g_free);
  cfg->turn_username = g_strdup ("a\"b");
  cfg->turn_password = g_strdup ("c\\d\r\n");
  g_auto (GStrv) escaped = ice_servers_link_headers (cfg, "x", 1);
  g_assert_cmpstr (escaped[1], ==, "<turn:turn.example.org:3478?transport=udp>; rel=\"ice-server\"; "
                   "username=\"a\\\"b\"; credential=\"c\\\\d\"; credential-type=\"password\"");
}

static void
test_gst_uris (void)
{
  g_autoptr (KanyanConfig) cfg = turn_config ();
  g_autofree gchar *stun = ice_servers_gst_stun (cfg);
  g_assert_cmpstr (stun, ==, "stun://stun.example.org:3478");
  g_auto (GStrv) turn = ice_servers_gst_turn (cfg, "server", 1700000000 - 3600);
  g_assert_cmpuint (g_strv_length (turn), ==, 2);
  /* the username's ':' and the password's '/', '+', '=' are escaped in the userinfo */
  g_autofree gchar *pass = ice_turn_rest_password ("secret", "1700000000:server");
  g_autofree gchar *pass_esc = g_uri_escape_string (pass, NULL, FALSE);
  g_autofree gchar *want = g_strdup_printf ("turn://1700000000%%3Aserver:%s@turn.example.org:3478?transport=udp", pass_esc);
  g_assert_cmpstr (turn[0], ==, want);
  g_assert_true (g_str_has_prefix (turn[1], "turns://1700000000%3Aserver:"));
}

static void
test_check_config (void)
{
  struct { const gchar *stun, *turn, *pub; gboolean secret; gboolean ok; } cases[] = {
    { "stun:a.example:3478", NULL, NULL, FALSE, TRUE },
    { "http://a.example", NULL, NULL, FALSE, FALSE },
    { NULL, "turn:a.example?transport=udp", NULL, TRUE, TRUE },
    { NULL, "turn:a.example?transport=sctp", NULL, TRUE, FALSE },
    { NULL, "stun:a.example", NULL, TRUE, FALSE },
    { NULL, "turn:a.example", NULL, FALSE, FALSE },     /* TURN without credentials */
    { NULL, "turn:a.exa mple", NULL, TRUE, FALSE },
    { NULL, NULL, "203.0.113.5", FALSE, TRUE },
    { NULL, NULL, "10.0.0.5=203.0.113.5", FALSE, TRUE },
    { NULL, NULL, "example.org", FALSE, FALSE },
    { NULL, NULL, "10.0.0=203.0.113.5", FALSE, FALSE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (KanyanConfig) cfg = config_new_defaults ();
    if (cases[i].stun) cfg->stun_servers = g_strsplit (cases[i].stun, ";", 0);
    if (cases[i].turn) cfg->turn_servers = g_strsplit (cases[i].turn, ";", 0);
    if (cases[i].pub) cfg->public_addresses = g_strsplit (cases[i].pub, ";", 0);
    if (cases[i].secret) cfg->turn_secret = g_strdup ("s");
    g_autoptr (GError) error = NULL;
    g_assert_cmpint (ice_servers_check_config (cfg, &error), ==, cases[i].ok);
    if (!cases[i].ok)
      g_assert_true (g_str_has_prefix (error->message, "[ice] "));
  }
}

static void
test_rewrite_candidate (void)
{
  const gchar *one[] = { "203.0.113.5", NULL };
  const gchar *host = "candidate:1 1 UDP 2015363327 10.0.0.5 41234 typ host";
  g_auto (GStrv) both = ice_rewrite_candidate (host, one, TRUE);
  g_assert_cmpuint (g_strv_length (both), ==, 2);
  g_assert_cmpstr (both[0], ==, "candidate:1 1 UDP 2015363327 203.0.113.5 41234 typ host");
  g_assert_cmpstr (both[1], ==, host);
  g_auto (GStrv) only = ice_rewrite_candidate (host, one, FALSE);
  g_assert_cmpuint (g_strv_length (only), ==, 1);
  g_assert_cmpstr (only[0], ==, "candidate:1 1 UDP 2015363327 203.0.113.5 41234 typ host");
  /* not a host candidate, or another family: unchanged */
  const gchar *srflx = "candidate:2 1 UDP 1679819007 198.51.100.1 5000 typ srflx raddr 10.0.0.5 rport 41234";
  g_auto (GStrv) s = ice_rewrite_candidate (srflx, one, TRUE);
  g_assert_cmpuint (g_strv_length (s), ==, 1);
  g_assert_cmpstr (s[0], ==, srflx);
  const gchar *v6 = "candidate:3 1 UDP 2015363327 fd00::5 41234 typ host";
  g_auto (GStrv) s6 = ice_rewrite_candidate (v6, one, FALSE);
  g_assert_cmpstr (s6[0], ==, v6);
  /* PRIVATE=PUBLIC maps only its own address; TCP host candidates too */
  const gchar *pairs[] = { "10.0.0.6=198.51.100.6", "10.0.0.5=203.0.113.5", NULL };
  const gchar *tcp = "candidate:4 1 TCP 1015021823 10.0.0.5 9 typ host tcptype active";
  g_auto (GStrv) t = ice_rewrite_candidate (tcp, pairs, FALSE);
  g_assert_cmpstr (t[0], ==, "candidate:4 1 TCP 1015021823 203.0.113.5 9 typ host tcptype active");
  const gchar *other = "candidate:5 1 UDP 2015363327 10.0.0.7 41234 typ host";
  g_auto (GStrv) o = ice_rewrite_candidate (other, pairs, FALSE);
  g_assert_cmpstr (o[0], ==, other);
}

static void
test_rewrite_sdp (void)
{
  const gchar *one[] = { "203.0.113.5", NULL };
  const gchar *sdp =
    "v=0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    "a=candidate:1 1 UDP 2015363327 10.0.0.5 41234 typ host\r\n"
    "a=candidate:2 1 UDP 1679819007 198.51.100.1 5000 typ srflx raddr 10.0.0.5 rport 41234\r\n"
    "a=end-of-candidates\r\n";
  g_autofree gchar *out = ice_rewrite_sdp (sdp, one, TRUE);
  g_assert_cmpstr (out, ==,
    "v=0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    "a=candidate:1 1 UDP 2015363327 203.0.113.5 41234 typ host\r\n"
    "a=candidate:1 1 UDP 2015363327 10.0.0.5 41234 typ host\r\n"
    "a=candidate:2 1 UDP 1679819007 198.51.100.1 5000 typ srflx raddr 10.0.0.5 rport 41234\r\n"
    "a=end-of-candidates\r\n");
  g_autofree gchar *same = ice_rewrite_sdp (sdp, NULL, TRUE);
  g_assert_cmpstr (same, ==, sdp);
}

static void
test_config_file (void)
{
  gchar *path = NULL;
  gint fd = g_file_open_tmp ("kanyan-ice-XXXXXX.conf", &path, NULL);
  close (fd);
  g_assert_true (g_file_set_contents (path,
    "[ice]\nstun_servers=stun:s.example:3478\nturn_servers=turn:t.example:3478?transport=udp;turns:t.example:443?transport=tcp\n"
    "turn_secret=north\nturn_ttl_s=600\npublic_addresses=203.0.113.5\nkeep_private=false\n", -1, NULL));
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_assert_true (cfg->keep_private);
  g_autoptr (GError) error = NULL;
  g_assert_true (config_load_file (cfg, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (cfg->turn_servers), ==, 2);
  g_assert_cmpstr (cfg->turn_secret, ==, "north");
  g_assert_cmpint (cfg->turn_ttl_s, ==, 600);
  g_assert_cmpstr (cfg->public_addresses[0], ==, "203.0.113.5");
  g_assert_false (cfg->keep_private);
  /* TURN without any credential is refused at load */
  g_assert_true (g_file_set_contents (path, "[ice]\nturn_servers=turn:t.example\n", -1, NULL));
  g_autoptr (KanyanConfig) bad = config_new_defaults ();
  g_assert_false (config_load_file (bad, path, &error));
  g_assert_true (strstr (error->message, "turn_secret") != NULL);
  g_unlink (path);
  g_free (path);
}

/* the kinds of candidates each side offered, for the reviewer's "no media" notice */
static void
test_candidate_kind (void)
{
  g_autofree gchar *host = ice_candidate_kind ("candidate:1 1 UDP 2015363327 10.77.0.1 40001 typ host");
  g_assert_cmpstr (host, ==, "host/udp");
  g_autofree gchar *tcp = ice_candidate_kind ("a=candidate:2 1 TCP 1015021823 10.77.0.1 40002 typ host tcptype passive");
  g_assert_cmpstr (tcp, ==, "host/tcp");
  g_autofree gchar *relay = ice_candidate_kind ("candidate:3 1 udp 41885439 10.77.0.1 49170 typ relay raddr 0.0.0.0 rport 0");
  g_assert_cmpstr (relay, ==, "relay/udp");
  g_autofree gchar *srflx = ice_candidate_kind ("candidate:4 1 udp 1677729535 203.0.113.9 5000 typ srflx raddr 10.0.0.2 rport 5000");
  g_assert_cmpstr (srflx, ==, "srflx/udp");
  g_assert_null (ice_candidate_kind (""));
  g_assert_null (ice_candidate_kind (NULL));
  g_assert_null (ice_candidate_kind ("candidate:1 1 SCTP 1 10.0.0.1 1 typ host"));
  g_assert_null (ice_candidate_kind ("candidate:1 1 UDP 1 10.0.0.1 1 typ bogus"));
  g_assert_null (ice_candidate_kind ("a=rtcp-mux"));
  g_auto (GStrv) kinds = ice_candidate_kinds_of_sdp (
    "v=0\r\na=candidate:1 1 UDP 1 10.0.0.1 1 typ host\r\na=candidate:2 1 UDP 1 10.0.0.1 2 typ host\r\n"
    "a=candidate:3 1 TCP 1 10.0.0.1 9 typ host tcptype active\r\na=candidate:4 1 UDP 1 1.2.3.4 5 typ srflx raddr 10.0.0.1 rport 1\r\n");
  g_assert_cmpuint (g_strv_length (kinds), ==, 3);
  g_assert_cmpstr (kinds[0], ==, "host/udp");
  g_assert_cmpstr (kinds[1], ==, "host/tcp");
  g_assert_cmpstr (kinds[2], ==, "srflx/udp");
}

/* [ice] tcp: ICE-TCP on by default, off when asked, a clear error for a non-boolean */
static void
test_config_tcp (void)
{
  gchar *path = NULL;
  gint fd = g_file_open_tmp ("kanyan-ice-XXXXXX.conf", &path, NULL);
  close (fd);
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_assert_true (cfg->ice_tcp);
  g_autoptr (GError) error = NULL;
  g_assert_true (g_file_set_contents (path, "[ice]\ntcp=false\n", -1, NULL));
  g_assert_true (config_load_file (cfg, path, &error));
  g_assert_no_error (error);
  g_assert_false (cfg->ice_tcp);
  g_assert_true (g_file_set_contents (path, "[ice]\ntcp=maybe\n", -1, NULL));
  g_autoptr (KanyanConfig) bad = config_new_defaults ();
  g_assert_false (config_load_file (bad, path, &error));
  g_assert_true (strstr (error->message, "[ice] tcp") != NULL);
  g_unlink (path);
  g_free (path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ice/rest-password", test_rest_password);
  g_test_add_func ("/ice/credential", test_credential);
  g_test_add_func ("/ice/json", test_json);
  g_test_add_func ("/ice/link-headers", test_link_headers);
  g_test_add_func ("/ice/gst-uris", test_gst_uris);
  g_test_add_func ("/ice/check-config", test_check_config);
  g_test_add_func ("/ice/rewrite-candidate", test_rewrite_candidate);
  g_test_add_func ("/ice/rewrite-sdp", test_rewrite_sdp);
  g_test_add_func ("/ice/config-file", test_config_file);
  g_test_add_func ("/ice/candidate-kind", test_candidate_kind);
  g_test_add_func ("/ice/config-tcp", test_config_tcp);
  return g_test_run ();
}

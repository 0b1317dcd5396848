/* test_config.c — config_new_defaults(), config_load_file() over GKeyFile files (overrides and refusals), config_public_url(), config_reload() (SIGHUP), config_timezone(). */
#include "app/app.h"
#include "web/http.h"
#include <glib/gstdio.h>

static gchar *
write_conf (const gchar *text)
{
  gchar *path = NULL;
  g_autoptr (GError) error = NULL;
  gint fd = g_file_open_tmp ("kanyan-XXXXXX.conf", &path, &error);
  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
test_defaults (void)
{
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_assert_cmpint (cfg->port, ==, 8443);
  g_assert_true (cfg->tls);
  g_assert_cmpstr (cfg->data_dir, ==, "data");
  g_assert_cmpstr (cfg->recordings_dir, ==, "recordings");
  g_assert_cmpstr (cfg->web_dir, ==, "web");
  g_assert_cmpstr (cfg->pipelines_dir, ==, "pipelines");
  g_assert_null (cfg->bind_address);
  g_assert_null (cfg->public_url);
  g_assert_null (cfg->ice_addresses);
  g_assert_null (cfg->tls_cert);
  g_assert_cmpint (cfg->invite_days, ==, 7);
  g_assert_cmpint (cfg->viewer_answer_timeout_s, ==, 15);
}

static void
test_file_overrides (void)
{
  /* written with the GKeyFile API itself, as an operator's tool would */
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_key_file_set_integer (kf, "server", "port", 9000);
  g_key_file_set_boolean (kf, "server", "tls", FALSE);
  g_key_file_set_string (kf, "server", "public_url", "https://inspect.example.cn");
  g_key_file_set_string (kf, "server", "data_dir", "/var/lib/kanyan");
  const gchar *const addrs[] = { "10.0.0.1", "fd00::2" };
  g_key_file_set_string_list (kf, "media", "ice_addresses", addrs, G_N_ELEMENTS (addrs));
  g_key_file_set_integer (kf, "media", "viewer_answer_timeout_s", 5);
  g_key_file_set_integer (kf, "invites", "valid_days", 3);
  g_autofree gchar *text = g_key_file_to_data (kf, NULL, NULL);
  g_autofree gchar *path = write_conf (text);

  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_autoptr (GError) error = NULL;
  g_assert_true (config_load_file (cfg, path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cfg->port, ==, 9000);
  g_assert_false (cfg->tls);
  g_assert_cmpstr (cfg->public_url, ==, "https://inspect.example.cn");
  g_assert_cmpstr (cfg->data_dir, ==, "/var/lib/kanyan");
  g_assert_nonnull (cfg->ice_addresses);
  g_assert_cmpuint (g_strv_length (cfg->ice_addresses), ==, 2);
  g_assert_cmpstr (cfg->ice_addresses[0], ==, "10.0.0.1");
  g_assert_cmpstr (cfg->ice_addresses[1], ==, "fd00::2");
  g_assert_cmpint (cfg->viewer_answer_timeout_s, ==, 5);
  g_assert_cmpint (cfg->invite_days, ==, 3);
  /* what the file does not set keeps its default */
  g_assert_cmpstr (cfg->recordings_dir, ==, "recordings");
  g_assert_cmpint (cfg->room_linger_s, ==, 30);
  g_unlink (path);
}

static void
test_layering (void)
{
  /* a second file overrides only what it sets */
  g_autofree gchar *first = write_conf ("[server]\nport=9000\ntls=false\n[media]\nice_addresses=10.0.0.1;\n");
  g_autofree gchar *second = write_conf ("# comment\n[server]\nport=9443\n[media]\nice_addresses=192.168.1.2;192.168.1.3;\n");
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_assert_true (config_load_file (cfg, first, NULL));
  g_assert_true (config_load_file (cfg, second, NULL));
  g_assert_cmpint (cfg->port, ==, 9443);
  g_assert_false (cfg->tls);
  g_assert_cmpuint (g_strv_length (cfg->ice_addresses), ==, 2);
  g_assert_cmpstr (cfg->ice_addresses[0], ==, "192.168.1.2");
  g_unlink (first);
  g_unlink (second);
  /* the port range ends are valid */
  const gchar *ok[] = { "[server]\nport=1\n", "[server]\nport=65535\n" };
  const gint expect[] = { 1, 65535 };
  for (guint i = 0; i < G_N_ELEMENTS (ok); i++) {
    g_autofree gchar *path = write_conf (ok[i]);
    g_autoptr (KanyanConfig) c = config_new_defaults ();
    g_autoptr (GError) error = NULL;
    g_assert_true (config_load_file (c, path, &error));
    g_assert_no_error (error);
    g_assert_cmpint (c->port, ==, expect[i]);
    g_unlink (path);
  }
}

static void
test_bad_files (void)
{
  const gchar *bad[] = {
    "[server]\nport=0\n", "[server]\nport=70000\n", "[server]\nport=65536\n", "[server]\nport=-1\n",
    "[server]\nport=abc\n", "[server]\nport=\n", "[server]\nport=80 80\n",
    "[server]\ntls=perhaps\n", "[media]\nviewer_answer_timeout_s=soon\n", "[invites]\nvalid_days=7d\n",
    "not a key file", "[server\nport=9000\n",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree gchar *path = write_conf (bad[i]);
    g_autoptr (KanyanConfig) cfg = config_new_defaults ();
    g_autoptr (GError) error = NULL;
    if (config_load_file (cfg, path, &error))
      g_error ("accepted a bad file: %s", bad[i]);
    g_assert_nonnull (error);
    g_assert_true (error->domain == G_KEY_FILE_ERROR);
    g_assert_cmpstr (error->message, !=, "");
    g_unlink (path);
  }
  /* the port refusal says which setting is wrong */
  g_autofree gchar *path = write_conf ("[server]\nport=70000\n");
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_autoptr (GError) error = NULL;
  g_assert_false (config_load_file (cfg, path, &error));
  g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error->message, "port"));
  g_unlink (path);
}

static void
test_missing_file (void)
{
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_autoptr (GError) error = NULL;
  g_assert_false (config_load_file (cfg, "/nonexistent/kanyan.conf", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_cmpint (cfg->port, ==, 8443);   /* untouched */
  g_assert_cmpstr (cfg->data_dir, ==, "data");
}

/* issue 12: the limits on what a stranger can make the server hold */
static void
test_limits (void)
{
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_assert_cmpint (cfg->request_timeout_s, ==, 30);
  g_assert_cmpint (cfg->ws_join_timeout_s, ==, 20);
  g_assert_cmpint (cfg->ws_ping_interval_s, ==, 30);
  g_assert_cmpint (cfg->max_ws_per_ip, ==, 64);
  g_assert_cmpint (cfg->max_ws_per_account, ==, 8);
  g_assert_cmpint (cfg->max_participants_per_case, ==, 32);
  g_assert_cmpint (cfg->publisher_connect_timeout_s, ==, 30);
  g_autofree gchar *path = write_conf ("[server]\nrequest_timeout_s=3\nws_join_timeout_s=2\nws_ping_interval_s=5\n"
                                       "max_ws_per_ip=10\nmax_ws_per_account=2\nmax_participants_per_case=4\n"
                                       "[media]\npublisher_connect_timeout_s=7\n");
  g_autoptr (GError) error = NULL;
  g_assert_true (config_load_file (cfg, path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cfg->request_timeout_s, ==, 3);
  g_assert_cmpint (cfg->ws_join_timeout_s, ==, 2);
  g_assert_cmpint (cfg->ws_ping_interval_s, ==, 5);
  g_assert_cmpint (cfg->max_ws_per_ip, ==, 10);
  g_assert_cmpint (cfg->max_ws_per_account, ==, 2);
  g_assert_cmpint (cfg->max_participants_per_case, ==, 4);
  g_assert_cmpint (cfg->publisher_connect_timeout_s, ==, 7);
  g_unlink (path);
  g_autofree gchar *bad = write_conf ("[server]\nmax_ws_per_ip=lots\n");
  g_assert_false (config_load_file (cfg, bad, &error));
  g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
  g_unlink (bad);
}

static void
test_public_url (void)
{
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_autofree gchar *https = config_public_url (cfg);
  g_assert_cmpstr (https, ==, "https://localhost:8443");
  cfg->tls = FALSE;
  cfg->port = 8080;
  g_autofree gchar *http = config_public_url (cfg);
  g_assert_cmpstr (http, ==, "http://localhost:8080");
  cfg->public_url = g_strdup ("");                  /* empty means unset */
  g_autofree gchar *empty = config_public_url (cfg);
  g_assert_cmpstr (empty, ==, "http://localhost:8080");

  g_autofree gchar *path = write_conf ("[server]\npublic_url=https://kanyan.example.org:7443\nport=9000\n");
  g_assert_true (config_load_file (cfg, path, NULL));
  g_autofree gchar *set = config_public_url (cfg);
  g_assert_cmpstr (set, ==, "https://kanyan.example.org:7443");   /* as given, whatever port/tls say */
  g_assert_true (set != cfg->public_url);                          /* a copy the caller frees */
  g_unlink (path);
}

/* [media] favour, min_bitrate_kbps and start_bitrate_kbps: the phone's bitrate follows the
 * slowest reviewer unless the recording is favoured, and starts where the answer says (0: the
 * browser's own); a wrong word or an absurd rate is refused with its key named */
static void
test_uplink (void)
{
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_assert_false (cfg->favour_recording);
  g_assert_cmpint (cfg->min_bitrate_kbps, ==, 150);
  g_assert_cmpint (cfg->start_bitrate_kbps, ==, 1000);
  g_autofree gchar *good = write_conf ("[media]\nfavour=recording\nmin_bitrate_kbps=300\nstart_bitrate_kbps=0\n");
  g_autoptr (GError) error = NULL;
  g_assert_true (config_load_file (cfg, good, &error));
  g_assert_no_error (error);
  g_assert_true (cfg->favour_recording);
  g_assert_cmpint (cfg->min_bitrate_kbps, ==, 300);
  g_assert_cmpint (cfg->start_bitrate_kbps, ==, 0);
  const gchar *bad[] = { "[media]\nfavour=video\n", "[media]\nmin_bitrate_kbps=5\n", "[media]\nstart_bitrate_kbps=-1\n",
                         "[media]\nstart_bitrate_kbps=20\n" };
  const gchar *named[] = { "favour", "min_bitrate_kbps", "start_bitrate_kbps", "start_bitrate_kbps" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (KanyanConfig) other = config_new_defaults ();
    g_autofree gchar *path = write_conf (bad[i]);
    g_autoptr (GError) err = NULL;
    g_assert_false (config_load_file (other, path, &err));
    g_assert_nonnull (err);
    g_assert_nonnull (strstr (err->message, named[i]));
    g_unlink (path);
  }
  g_unlink (good);
}

/* SIGHUP: the reloadable keys change, the others stay as started; a file that does not load
 * changes nothing */
static void
test_reload (void)
{
  g_autofree gchar *path = write_conf ("[server]\nport=9000\n[invites]\nvalid_days=3\n");
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_autoptr (GError) error = NULL;
  g_assert_true (config_load_file (cfg, path, &error));
  cfg->config_file = g_strdup (path);
  g_assert_true (g_file_set_contents (path, "[server]\nport=9100\n[invites]\nvalid_days=5\n"
                                      "[calendar]\nholidays=2027-01-01\n[archive]\nretention_days=30\nmin_free_mb=500\n",
                                      -1, NULL));
  g_autofree gchar *said = config_reload (cfg, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (said, "reloaded"));
  g_assert_cmpint (cfg->invite_days, ==, 5);
  g_assert_cmpint (cfg->retention_days, ==, 30);
  g_assert_cmpint (cfg->min_free_mb, ==, 500);
  g_assert_cmpstr (cfg->holidays[0], ==, "2027-01-01");
  g_assert_cmpint (cfg->port, ==, 9000);   /* a restart takes the port */
  g_assert_true (g_file_set_contents (path, "[invites]\nvalid_days=seven\n[calendar]\nholidays=\n", -1, NULL));
  g_autofree gchar *refused = config_reload (cfg, &error);
  g_assert_null (refused);
  g_assert_nonnull (error);
  g_assert_cmpint (cfg->invite_days, ==, 5);
  g_assert_cmpstr (cfg->holidays[0], ==, "2027-01-01");
  g_unlink (path);
}

/* issue 19: [metrics] token and bind; a bind that is not HOST:PORT is refused, naming the key */
static void
test_metrics (void)
{
  g_autoptr (KanyanConfig) defaults = config_new_defaults ();
  g_assert_null (defaults->metrics_token);
  g_assert_null (defaults->metrics_bind);
  const gchar *good[][2] = { { "127.0.0.1:9464", "127.0.0.1" }, { "[::1]:9464", "::1" }, { "localhost:1", "localhost" } };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
    g_autofree gchar *text = g_strdup_printf ("[metrics]\ntoken=t0k\nbind=%s\n", good[i][0]);
    g_autofree gchar *path = write_conf (text);
    g_autoptr (KanyanConfig) cfg = config_new_defaults ();
    g_autoptr (GError) error = NULL;
    g_assert_true (config_load_file (cfg, path, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (cfg->metrics_token, ==, "t0k");
    g_assert_cmpstr (cfg->metrics_bind, ==, good[i][0]);
    g_autofree gchar *host = NULL;
    gint port = 0;
    g_assert_true (http_parse_address (cfg->metrics_bind, &host, &port, NULL));
    g_assert_cmpstr (host, ==, good[i][1]);
    g_assert_cmpint (port, ==, i == 2 ? 1 : 9464);
    g_unlink (path);
  }
  const gchar *bad[] = { "9464", ":9464", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:94x",
                         "::1:9464", "[::1:9464", "[]:9464" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree gchar *text = g_strdup_printf ("[metrics]\nbind=%s\n", bad[i]);
    g_autofree gchar *path = write_conf (text);
    g_autoptr (KanyanConfig) cfg = config_new_defaults ();
    g_autoptr (GError) error = NULL;
    if (config_load_file (cfg, path, &error))
      g_error ("accepted [metrics] bind=%s", bad[i]);
    g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
    g_assert_nonnull (strstr (error->message, "[metrics] bind"));
    g_unlink (path);
  }
  /* empty values: no token, no separate listener */
  g_autofree gchar *path = write_conf ("[metrics]\ntoken=\nbind=\n");
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_assert_true (config_load_file (cfg, path, NULL));
  g_assert_null (cfg->metrics_token);
  g_assert_null (cfg->metrics_bind);
  g_unlink (path);
}

/* issue 16: [bureau] timezone (an IANA name; unset: the server's own zone, by name) and
 * language (zh-CN or en, what the PDF report is written in) */
static void
test_bureau (void)
{
  g_autoptr (KanyanConfig) defaults = config_new_defaults ();
  g_assert_null (defaults->timezone);
  g_assert_cmpstr (defaults->language, ==, "zh-CN");
  const gchar *local = config_timezone (defaults);
  g_assert_nonnull (local);
  g_autoptr (GTimeZone) tz = g_time_zone_new_identifier (local);
  g_assert_nonnull (tz);   /* a name a page's Intl and the PDF both take */
  g_assert_false (defaults->waiting_room_always);   /* a booked case's page waits, by default */
  g_autofree gchar *path = write_conf ("[bureau]\ntimezone=Asia/Shanghai\nlanguage=en\nwaiting_room = always\n");
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_assert_true (config_load_file (cfg, path, NULL));
  g_assert_cmpstr (config_timezone (cfg), ==, "Asia/Shanghai");
  g_assert_cmpstr (cfg->language, ==, "en");
  g_assert_true (cfg->waiting_room_always);
  g_unlink (path);
  const gchar *bad[] = { "[bureau]\ntimezone=Mars/Olympus\n", "[bureau]\nlanguage=fr\n", "[bureau]\nwaiting_room=sometimes\n" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree gchar *p = write_conf (bad[i]);
    g_autoptr (KanyanConfig) c = config_new_defaults ();
    g_autoptr (GError) error = NULL;
    if (config_load_file (c, p, &error))
      g_error ("accepted %s", bad[i]);
    g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
    g_assert_nonnull (strstr (error->message, "[bureau]"));
    g_unlink (p);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/defaults", test_defaults);
  g_test_add_func ("/config/file-overrides", test_file_overrides);
  g_test_add_func ("/config/layering", test_layering);
  g_test_add_func ("/config/bad-files", test_bad_files);
  g_test_add_func ("/config/missing-file", test_missing_file);
  g_test_add_func ("/config/public-url", test_public_url);
  g_test_add_func ("/config/limits", test_limits);
  g_test_add_func ("/config/uplink", test_uplink);
  g_test_add_func ("/config/reload", test_reload);
  g_test_add_func ("/config/metrics", test_metrics);
  g_test_add_func ("/config/bureau", test_bureau);
  return g_test_run ();
}

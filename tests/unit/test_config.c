/* test_config.c — embedded defaults, the GKeyFile layer and its validation. */
#include "app.h"
#include <glib/gstdio.h>

static gchar *
write_conf (const gchar *text)
{
  gchar *path = NULL;
  gint fd = g_file_open_tmp ("kanyan-XXXXXX.conf", &path, NULL);
  g_assert_cmpint (fd, >=, 0);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  close (fd);
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
  g_assert_cmpint (cfg->invite_days, ==, 7);
  g_autofree gchar *url = config_public_url (cfg);
  g_assert_cmpstr (url, ==, "https://localhost:8443");
}

static void
test_file_overrides (void)
{
  g_autofree gchar *path = write_conf ("[server]\nport=9000\ntls=false\npublic_url=https://x.example:9000\n"
                                       "[media]\nice_addresses=10.0.0.1;10.0.0.2\nviewer_answer_timeout_s=5\n"
                                       "[invites]\nvalid_days=3\n");
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_autoptr (GError) error = NULL;
  g_assert_true (config_load_file (cfg, path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cfg->port, ==, 9000);
  g_assert_false (cfg->tls);
  g_assert_cmpuint (g_strv_length (cfg->ice_addresses), ==, 2);
  g_assert_cmpstr (cfg->ice_addresses[1], ==, "10.0.0.2");
  g_assert_cmpint (cfg->viewer_answer_timeout_s, ==, 5);
  g_assert_cmpint (cfg->invite_days, ==, 3);
  g_autofree gchar *url = config_public_url (cfg);
  g_assert_cmpstr (url, ==, "https://x.example:9000");
  g_unlink (path);
}

static void
test_bad_files (void)
{
  const gchar *bad[] = { "[server]\nport=0\n", "[server]\nport=70000\n", "[server]\nport=abc\n",
                         "[server]\ntls=perhaps\n", "not a key file" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree gchar *path = write_conf (bad[i]);
    g_autoptr (KanyanConfig) cfg = config_new_defaults ();
    g_autoptr (GError) error = NULL;
    g_assert_false (config_load_file (cfg, path, &error));
    g_assert_nonnull (error);
    g_unlink (path);
  }
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  g_autoptr (GError) error = NULL;
  g_assert_false (config_load_file (cfg, "/nonexistent/kanyan.conf", &error));
  g_assert_nonnull (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/defaults", test_defaults);
  g_test_add_func ("/config/file-overrides", test_file_overrides);
  g_test_add_func ("/config/bad-files", test_bad_files);
  return g_test_run ();
}

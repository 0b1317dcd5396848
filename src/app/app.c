/* app.c — the application context and the composition root: opens the database, runs the
 * HTTP server on the GLib main loop with the routes and the WebSocket endpoint wired here,
 * registers the domain's port to live inspections (room_register_port), holds the registry of
 * live rooms (live/rooms.c fills it), and shuts down cleanly on SIGINT or SIGTERM (recordings
 * closed first); SIGHUP reloads what can change under live inspections (app_reload). */
#include "app/app.h"
#include <gst/gst.h>
#include "archive/retention.h"
#include "store/db.h"
#include "web/http.h"
#include "live/room.h"
#include "live/rooms.h"
#include "web/whip.h"
#include "web/whep.h"
#include "web/short_link.h"
#include "web/api.h"
#include "web/media_http.h"
#include "web/signaling.h"
#include "web/metrics_http.h"
#include "archive/recordings.h"
#include "archive/webhooks.h"
#include "core/errors.h"
#include "app/service.h"
#include <glib-unix.h>
#include <glib/gstdio.h>

#define SHUTDOWN_GRACE_MS 5000

KanyanApp *
app_new (KanyanConfig *config, GError **error)
{
  if (g_mkdir_with_parents (config->data_dir, 0750) != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot create the data directory %s", config->data_dir);
    return NULL;
  }
  g_autofree gchar *db_path = g_build_filename (config->data_dir, "kanyan.db", NULL);
  sqlite3 *db = db_open (db_path, error);
  if (!db)
    return NULL;
  KanyanApp *app = g_new0 (KanyanApp, 1);
  app->config = config;
  app->db = db;
  app->rooms = rooms_new ();   /* live/rooms.c keeps it */
  app->whip_resources = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, whip_resource_free);
  app->whep_resources = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, whep_resource_free);
  room_register_port (app);   /* the domain tells live inspections through it */
  return app;
}

/* what the server answers besides web/'s files: the REST API, WHIP ingest, archived media
 * (docs/api.md, docs/protocol.md, docs/media.md); the WebSocket /ws is signaling.c's */
static const HttpRoute routes[] = {
  { "/api/",   TRUE,  api_handle, api_body_limit },   /* a photo's body is larger (api_photos.c) */
  { "/whip/",  TRUE,  whip_handle },
  { "/whip",   FALSE, whip_handle },
  { "/whep/",  TRUE,  whep_handle },
  { "/whep",   FALSE, whep_handle },
  { "/media/", TRUE,  media_http_handle },
  { "/i/",     TRUE,  short_link_handle },   /* an invite's short code (booking) */
  { "/metrics", FALSE, metrics_http_handle },   /* 404 here when [metrics] bind serves it (below) */
};

/* [metrics] bind's listener: nothing but the metrics (docs/metrics.md) */
static const HttpRoute metrics_routes[] = {
  { "/metrics", FALSE, metrics_http_handle },
};

typedef struct { KanyanApp *app; gint64 deadline; } Shutdown;

/* main loop: quit once every recording is closed, or the grace period is over */
static gboolean
shutdown_poll (gpointer data)
{
  Shutdown *sd = data;
  GHashTableIter iter;
  gpointer value;
  gboolean busy = FALSE;
  g_hash_table_iter_init (&iter, sd->app->rooms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    busy |= room_busy (value);
  busy |= recordings_busy (sd->app);
  if (busy && g_get_monotonic_time () < sd->deadline)
    return G_SOURCE_CONTINUE;
  g_main_loop_quit (sd->app->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer data)
{
  KanyanApp *app = data;
  if (app->stopping)
    return G_SOURCE_CONTINUE;
  app->stopping = TRUE;
  g_message ("stopping: closing recordings");
  service_stopping ();
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, app->rooms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    room_shutdown (value);
  Shutdown *sd = g_new0 (Shutdown, 1);
  sd->app = app;
  sd->deadline = g_get_monotonic_time () + SHUTDOWN_GRACE_MS * 1000;
  g_timeout_add_full (G_PRIORITY_DEFAULT, 50, shutdown_poll, sd, g_free);
  return G_SOURCE_CONTINUE;
}

/* main loop, SIGHUP: the settings file's reloadable part (config_reload) and the TLS certificate
 * at the paths the server started with (http_reload_tls). Nobody is disconnected: open
 * connections keep the certificate they were made with, live inspections go on. */
static gboolean
on_hup (gpointer data)
{
  KanyanApp *app = data;
  if (app->stopping)
    return G_SOURCE_CONTINUE;
  service_reloading ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *settings = config_reload (app->config, &error);
  if (settings) {
    g_message ("reload: %s", settings);
    webhooks_start (app);   /* endpoints named for the first time; a running sender reads the new list */
  }
  else
    g_warning ("reload: the settings stay as they were: %s", error->message);
  g_clear_error (&error);
  gboolean tls = app->config->tls && http_reload_tls (app->http, &error);
  if (tls)
    g_message ("reload: TLS certificate read again; new connections get it, open ones keep theirs");
  else if (error)
    g_warning ("reload: the TLS certificate stays as it was: %s", error->message);
  service_reloaded (settings && (tls || !app->config->tls || !error) ? "reloaded" : "reload failed: see the log");
  return G_SOURCE_CONTINUE;
}

/* worker thread: the DTLS plugin makes its one RSA key and certificate the first time a DTLS
 * element is created — about half a second of CPU that would otherwise stall the main loop
 * inside the first WHIP request or join (bench/README.md, the profile). */
static gpointer
dtls_prewarm (gpointer data)
{
  GstElement *dec = gst_element_factory_make ("dtlsdec", NULL);
  if (dec)
    gst_object_unref (gst_object_ref_sink (dec));
  return NULL;
}

gboolean
app_serve (KanyanApp *app, GError **error)
{
  if (g_mkdir_with_parents (app->config->recordings_dir, 0750) != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot create the recordings directory %s",
                 app->config->recordings_dir);
    return FALSE;
  }
  store_recordings_mark_interrupted (app->db);
  recordings_check_space (app->config);   /* under the floor: said once, clearly; serving goes on */
  app->dtls_prewarm = g_thread_new ("dtls-prewarm", dtls_prewarm, NULL);
  app->loop = g_main_loop_new (NULL, FALSE);
  recordings_finalize_leftovers (app);
  app->http = http_start (app, routes, G_N_ELEMENTS (routes), &signaling_websocket, error);
  if (!app->http)
    return FALSE;
  if (app->config->metrics_bind) {
    if (!http_listen_extra (app->http, app->config->metrics_bind, metrics_routes, G_N_ELEMENTS (metrics_routes), error)) {
      http_stop (app->http);   /* as when the public port is taken: nothing is left listening at exit */
      app->http = NULL;
      return FALSE;
    }
    g_message ("metrics on http://%s/metrics", app->config->metrics_bind);
  }
  retention_schedule (app);
  webhooks_start (app);   /* what an earlier run left pending goes out first */
  guint sigint = g_unix_signal_add (SIGINT, on_signal, app);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, app);
  guint sighup = g_unix_signal_add (SIGHUP, on_hup, app);
  g_message ("kanyan %s listening on %s://%s:%d/", KANYAN_VERSION, app->config->tls ? "https" : "http",
             app->config->bind_address ? app->config->bind_address : "0.0.0.0", app->config->port);
  service_ready (app);   /* READY=1 only now that the server listens; the watchdog from here on */
  g_main_loop_run (app->loop);
  service_stop ();
  webhooks_stop (app);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_source_remove (sighup);
  g_hash_table_remove_all (app->rooms);            /* rooms first: they close WHIP transports */
  g_hash_table_remove_all (app->whip_resources);
  g_hash_table_remove_all (app->whep_resources);
  return TRUE;
}

void
app_free (KanyanApp *app)
{
  if (!app)
    return;
  /* a start that failed right away (a port taken) exits while the key is still being made:
   * exit() tearing OpenSSL down under that thread crashed */
  if (app->dtls_prewarm)
    g_thread_join (app->dtls_prewarm);
  if (app->rooms)
    g_hash_table_unref (app->rooms);
  if (app->whip_resources)
    g_hash_table_unref (app->whip_resources);
  if (app->whep_resources)
    g_hash_table_unref (app->whep_resources);
  http_stop (app->http);
  if (app->loop)
    g_main_loop_unref (app->loop);
  db_close (app->db);
  g_free (app);
}

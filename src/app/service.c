/* service.c — the systemd side of `kanyan serve` (service.h): sd_notify from libsystemd, never
 * a hand-written protocol. The watchdog ping is a GLib timeout on the main loop, so it proves
 * that the loop which serves requests and signaling still turns. Touches nothing else. */
#include "app/service.h"
#include <systemd/sd-daemon.h>

static guint watchdog_source;

/* main loop */
static gboolean
watchdog_ping (gpointer data)
{
  sd_notify (0, "WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

void
service_ready (KanyanApp *app)
{
  g_autofree gchar *status = g_strdup_printf ("READY=1\nSTATUS=listening on %s://%s:%d/",
                                              app->config->tls ? "https" : "http",
                                              app->config->bind_address ? app->config->bind_address : "0.0.0.0",
                                              app->config->port);
  if (sd_notify (0, status) > 0)
    g_info ("told the service manager: ready");
  uint64_t usec = 0;
  if (sd_watchdog_enabled (0, &usec) > 0 && usec > 0 && !watchdog_source) {
    guint ms = (guint) MAX (usec / 2000, 1);
    sd_notify (0, "WATCHDOG=1");
    watchdog_source = g_timeout_add (ms, watchdog_ping, NULL);
    g_info ("watchdog: pinging the service manager every %u ms", ms);
  }
}

void
service_reloading (void)
{
  sd_notify (0, "RELOADING=1");
}

void
service_reloaded (const gchar *status)
{
  g_autofree gchar *text = g_strdup_printf ("READY=1\nSTATUS=%s", status);
  sd_notify (0, text);
}

void
service_stopping (void)
{
  sd_notify (0, "STOPPING=1\nSTATUS=stopping: closing recordings");
}

void
service_stop (void)
{
  if (watchdog_source)
    g_source_remove (watchdog_source);
  watchdog_source = 0;
}

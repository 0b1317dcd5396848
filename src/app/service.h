/* service.h — running under systemd (Type=notify): readiness, the watchdog, reloading and
 * stopping told to the service manager through libsystemd's sd_notify. Without NOTIFY_SOCKET
 * (not started by systemd) every call does nothing. */
#pragma once
#include "app/app.h"

/* main loop, once the server listens: READY=1 and, when the manager asked for a watchdog
 * (WATCHDOG_USEC), WATCHDOG=1 from the main loop every half period from now on — a main loop
 * that stalls stops them, and systemd restarts the service */
void service_ready (KanyanApp *app);
void service_reloading (void);              /* RELOADING=1 (SIGHUP), then service_reloaded */
void service_reloaded (const gchar *status);   /* READY=1 and STATUS= */
void service_stopping (void);               /* STOPPING=1 */
void service_stop (void);                   /* main loop: no more watchdog pings */

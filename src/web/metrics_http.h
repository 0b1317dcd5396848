/* metrics_http.h — GET /metrics in the Prometheus text format (docs/metrics.md): the route's
 * handler, wired by app.c on the public listener or on [metrics] bind's. Main loop. */
#pragma once
#include "web/http.h"

void metrics_http_handle (KanyanApp *app, HttpExchange *ex);

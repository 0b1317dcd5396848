/* api.h — the JSON REST API under /api/ (docs/api.md). */
#pragma once
#include "app/app.h"
#include "web/http.h"

void api_handle (KanyanApp *app, HttpExchange *ex);
/* the HttpRoute.max_body of /api/: [photos] max_bytes for the photo upload, else the default */
gsize api_body_limit (KanyanApp *app, const gchar *path);

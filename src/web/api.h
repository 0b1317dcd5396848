/* api.h — the JSON REST API under /api/ (docs/api.md). */
#pragma once
#include "app/app.h"
#include "web/http.h"

void api_handle (KanyanApp *app, HttpExchange *ex);

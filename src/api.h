/* api.h — the JSON REST API under /api/ (docs/api.md). */
#pragma once
#include "app.h"
#include "http.h"

void api_handle (KanyanApp *app, HttpExchange *ex);

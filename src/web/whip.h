/* whip.h — WHIP ingest (RFC 9725): an encoder publishes to a case as its applicant. */
#pragma once
#include "app/app.h"
#include "web/http.h"

void whip_handle (KanyanApp *app, HttpExchange *ex);
void whip_resource_free (gpointer resource);   /* for app->whip_resources */

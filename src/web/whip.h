/* whip.h — WHIP ingest (RFC 9725): an encoder publishes to a case as its applicant. */
#pragma once
#include "app/app.h"
#include "web/http.h"

void whip_handle (KanyanApp *app, HttpExchange *ex);
void whip_resource_free (gpointer resource);   /* for app->whip_resources */
/* main loop: 201 with the answer, its Location (/PROTOCOL/REF/ID) and, as RFC 9725 §4.6 says,
 * the ICE servers with a TURN credential of the resource's own as Link headers — WHIP's
 * answer, and WHEP's (protocol "whip" or "whep") */
void whip_respond_created (HttpExchange *ex, const KanyanConfig *cfg, const gchar *protocol,
                           const gchar *case_ref, const gchar *id, const gchar *sdp);

/* whep.h — WHEP egress (the WebRTC-HTTP Egress Protocol): a third-party player watches a
 * case's live inspection with a viewing token (docs/whep.md). */
#pragma once
#include "app/app.h"
#include "web/http.h"

void whep_handle (KanyanApp *app, HttpExchange *ex);
void whep_resource_free (gpointer resource);   /* for app->whep_resources */
/* the token was revoked: the players it let in are let go (their resources are gone); how many */
guint whep_end_token (KanyanApp *app, const gchar *case_ref, gint64 case_id, gint64 token_id);

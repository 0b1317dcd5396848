/* http_auth.h — who is asking, from an HTTP request: the HTTP-facing half of auth.h (the
 * identities and the policy stay in review/auth.c, which knows nothing of requests). */
#pragma once
#include "review/auth.h"
#include "web/http.h"

/* The token of an `Authorization: Bearer TOKEN` header (pointing into the header), or NULL. */
const gchar *http_exchange_bearer (HttpExchange *ex);
/* From a request: the session cookie and an `Authorization: Bearer` invite token. */
Identity *auth_identify (KanyanApp *app, HttpExchange *ex);

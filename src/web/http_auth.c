/* http_auth.c — an Identity from a request's Cookie and Authorization headers. Reads
 * headers only; auth.c decides what the identity may do. */
#include "web/http_auth.h"

const gchar *
http_exchange_bearer (HttpExchange *ex)
{
  const gchar *auth = http_exchange_header (ex, "authorization");
  if (!auth || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0 || !auth[7])
    return NULL;
  return auth + 7;
}

Identity *
auth_identify (KanyanApp *app, HttpExchange *ex)
{
  Identity *id = auth_identify_cookie (app, http_exchange_header (ex, "cookie"));
  const gchar *bearer = http_exchange_bearer (ex);
  if (bearer)
    id->invite_token = g_strdup (bearer);
  return id;
}

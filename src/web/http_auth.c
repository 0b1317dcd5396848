/* http_auth.c — an Identity from a request's Cookie and Authorization headers. Reads
 * headers only; auth.c decides what the identity may do. */
#include "web/http_auth.h"

Identity *
auth_identify (KanyanApp *app, HttpExchange *ex)
{
  Identity *id = auth_identify_cookie (app, http_exchange_header (ex, "cookie"));
  const gchar *bearer = http_exchange_header (ex, "authorization");
  if (bearer && g_ascii_strncasecmp (bearer, "Bearer ", 7) == 0 && bearer[7])
    id->invite_token = g_strdup (bearer + 7);
  return id;
}

/* short_link.h — GET /i/{CODE}: an invite's short code opens (302) to the invite's own link.
 * Guessing is limited per source address. */
#pragma once
#include "web/http.h"

#define SHORT_LINK_BURST      10      /* failed codes an address may try at once … */
#define SHORT_LINK_REFILL_MS  6000    /* … and one more every 6 s */

void short_link_handle (KanyanApp *app, HttpExchange *ex);

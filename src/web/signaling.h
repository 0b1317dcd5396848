/* signaling.h — one WebSocket connection's conversation: protocol messages in, room calls out. */
#pragma once
#include "app/app.h"
#include "web/http.h"

/* the /ws endpoint for http_start (app.c): one conversation per socket; the cookie is the
 * upgrade request's Cookie header (a reviewer's session); refused frames are answered with a
 * protocol error message (docs/protocol.md) */
extern const HttpWebSocket signaling_websocket;

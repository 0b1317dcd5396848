/* signaling.h — one WebSocket connection's conversation: protocol messages in, room calls out. */
#pragma once
#include "app/app.h"
#include "web/http.h"

typedef struct _Signaling Signaling;

/* cookie: the upgrade request's Cookie header (a reviewer's session), or NULL */
Signaling *signaling_new (KanyanApp *app, WsConn *conn, const gchar *cookie);
void       signaling_receive (Signaling *sig, const gchar *data, gsize len);
void       signaling_reject_too_large (Signaling *sig);
void       signaling_reject_binary (Signaling *sig);
void       signaling_reject_rate_limited (Signaling *sig);
gboolean   signaling_joined (Signaling *sig);  /* has joined a case (and not been let go of) */
void       signaling_free (Signaling *sig);    /* the socket closed */

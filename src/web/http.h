/* http.h — the HTTP(S) and WebSocket server on libwebsockets, running on the GLib loop.
 * Serves web/ as static files, hands /api/, /whip/ and /media/ requests to their handlers as
 * HttpExchange objects, and WebSocket connections on /ws to signaling.c as WsConn. */
#pragma once
#include "app/app.h"
#include <json-glib/json-glib.h>

#define HTTP_MAX_BODY   65536
#define WS_MAX_MESSAGE  65536

typedef struct _HttpExchange HttpExchange;
typedef struct _WsConn WsConn;

KanyanHttp *http_start (KanyanApp *app, GError **error);
void        http_stop (KanyanHttp *http);
gint        http_port (KanyanHttp *http);

/* one request/response; may be answered later (refcounted; the socket may close first) */
HttpExchange *http_exchange_ref (HttpExchange *ex);
void          http_exchange_unref (HttpExchange *ex);
const gchar  *http_exchange_method (HttpExchange *ex);
const gchar  *http_exchange_path (HttpExchange *ex);
const gchar  *http_exchange_query (HttpExchange *ex, const gchar *name);
const gchar  *http_exchange_header (HttpExchange *ex, const gchar *name);  /* "authorization", "content-type", "origin", "host" */
GBytes       *http_exchange_body (HttpExchange *ex);
gboolean      http_exchange_body_too_large (HttpExchange *ex);
gboolean      http_exchange_is_open (HttpExchange *ex);
const gchar  *http_exchange_peer (HttpExchange *ex);   /* the client's IP address, as the TCP connection shows it */
void          http_exchange_add_header (HttpExchange *ex, const gchar *name, const gchar *value);
void          http_exchange_respond (HttpExchange *ex, guint status, const gchar *content_type, GBytes *body);
/* the body is [offset, offset + length) of fd, read in chunks as the socket drains (HEAD: not
 * read); takes fd and closes it when the body is sent or the connection closes */
void          http_exchange_respond_file (HttpExchange *ex, guint status, const gchar *content_type, gint fd,
                                          goffset offset, goffset length);
void          http_exchange_respond_json (HttpExchange *ex, guint status, JsonNode *node);
void          http_exchange_respond_error (HttpExchange *ex, const GError *error);
void          http_exchange_respond_code (HttpExchange *ex, gint code, const gchar *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HttpExchange, http_exchange_unref)

/* a WebSocket connection */
void ws_conn_send (WsConn *conn, const gchar *text);
void ws_conn_close (WsConn *conn);   /* after what is queued has been sent */
/* count this connection against its account's cap ([server] max_ws_per_account) until it
 * closes; FALSE (too_many_connections) when the account has that many open already */
gboolean ws_conn_hold_account (WsConn *conn, const gchar *account, GError **error);

/* http.h — the HTTP(S) and WebSocket server on libwebsockets, running on the GLib loop.
 * Serves web/ as static files and hands the rest to what its callers registered (app.c wires
 * them): requests to the handler of their route as HttpExchange objects, WebSocket connections
 * to one endpoint's conversation as WsConn. Knows no route, API or protocol itself. */
#pragma once
#include "app/app.h"
#include <json-glib/json-glib.h>

#define HTTP_MAX_BODY   65536

typedef struct _HttpExchange HttpExchange;
typedef struct _WsConn WsConn;

/* A route: requests whose path is `path` (or, with prefix, begins with it) go to handle
 * (main loop). The first route that matches wins; a path no route takes is a file under web/
 * when its first segment is no route's, else 404. */
typedef void (*HttpHandler) (KanyanApp *app, HttpExchange *ex);
typedef struct {
  const gchar *path;      /* "/api/", "/whip" */
  gboolean     prefix;
  HttpHandler  handle;
  /* NULL: bodies up to HTTP_MAX_BODY. Else the most a request to `path` may send (more than
   * HTTP_MAX_BODY only for the paths that need it: a photo); a body over a raised limit is not
   * refused here but handed on empty with http_exchange_body_too_large(), for the handler's own error */
  gsize      (*max_body) (KanyanApp *app, const gchar *path);
} HttpRoute;

/* The WebSocket endpoint: one conversation (session) per connection. Every call on the
 * main loop; refuse() tells the client why a frame or the connection is refused (the
 * endpoint's own error message), after which http.c may close the socket. */
typedef struct {
  const gchar *path;        /* "/ws": other upgrade paths are refused */
  gsize        max_message; /* a longer message is refused (TOO_LARGE), not buffered */
  gpointer   (*open) (KanyanApp *app, WsConn *conn, const gchar *cookie);   /* cookie: may be NULL */
  void       (*receive) (gpointer session, const gchar *data, gsize len);
  void       (*refuse) (gpointer session, gint code, const gchar *message);
  gboolean   (*joined) (gpointer session);   /* past the join timeout only joined sockets stay */
  void       (*close) (gpointer session);    /* the socket closed */
} HttpWebSocket;

/* routes and ws must outlive the server (static tables) */
KanyanHttp *http_start (KanyanApp *app, const HttpRoute *routes, guint n_routes, const HttpWebSocket *ws,
                        GError **error);
void        http_stop (KanyanHttp *http);
/* A second, plain-HTTP listener on address ("127.0.0.1:9464", "[::1]:9464") that answers only
 * these routes (no files under web/, no WebSocket): a libwebsockets vhost on the same context
 * and main loop. routes must outlive the server. */
/* "HOST:PORT" ("[V6]:PORT") into host (allocated) and port; FALSE (G_KEY_FILE_ERROR) otherwise */
gboolean    http_parse_address (const gchar *address, gchar **host, gint *port, GError **error);
gboolean    http_listen_extra (KanyanHttp *http, const gchar *address, const HttpRoute *routes, guint n_routes,
                               GError **error);
gint        http_port (KanyanHttp *http);
/* main loop (SIGHUP): the certificate and key files read again, at the paths the server started
 * with; new TLS connections get them, open ones (live inspections) keep theirs. FALSE (and the
 * old certificate kept) when the new pair does not load; TRUE and nothing done without TLS. */
gboolean    http_reload_tls (KanyanHttp *http, GError **error);

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
gboolean      http_exchange_on_extra_listener (HttpExchange *ex);   /* came in on http_listen_extra's */
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

/* http_private.h — what the files of the HTTP server (http.c, http_exchange.c, http_ws.c)
 * share: the server, exchange and WebSocket structs, their limits, and the calls lws's one
 * protocol callback (http.c) makes on the other two. Only src/web/http*.c include it;
 * everyone else goes through http.h. Main loop. */
#pragma once
#include "web/http.h"
#include <libwebsockets.h>

#define WS_MAX_QUEUE 512
#define WS_MAX_QUEUE_BYTES (1 << 20)   /* a client that does not read is closed, not buffered for */
#define BODY_CHUNK   16384
#define FILE_CHUNK   65536     /* read from a file body per writable callback */
#define WS_RATE_PER_S   50.0     /* sustained messages per second per connection */
#define WS_RATE_BURST  200.0     /* a burst of ICE candidates fits */

struct _KanyanHttp {
  KanyanApp *app;
  struct lws_context *ctx;
  const HttpRoute *routes;       /* the caller's, static */
  guint  n_routes;
  const HttpWebSocket *ws;       /* the caller's, static */
  struct lws_http_mount *mounts; /* one per route's first segment, then "/" (web/) */
  GPtrArray *mountpoints;        /* their names */
  struct lws_protocol_vhost_options headers[6];
  guint  fd_limit;               /* connections lws may hold (the rest of RLIMIT_NOFILE is reserved) */
  GHashTable *ws_per_ip;         /* address -> open WebSockets (GUINT_TO_POINTER) */
  GHashTable *ws_per_account;    /* username -> open joined WebSockets */
  gint64 last_limit_log;         /* monotonic µs: "near the connection limit" said at most once a minute */
  gint64 last_lws_log;           /* monotonic µs: lws's own errors at most once a second */
  guint  lws_log_suppressed;
  gchar *web_dir;
  gchar *cert, *key;
  const gchar **route_names;     /* routes[i]'s name for the metrics: its path without slashes, interned */
  /* a second listener (http_listen_extra): plain HTTP, only its own routes, no files, no WebSocket */
  struct lws_vhost *extra_vhost;
  const HttpRoute *extra_routes;
  guint  n_extra;
  const gchar **extra_names;
  struct lws_http_mount extra_mount;
  gchar *extra_iface;
};

struct _HttpExchange {
  gatomicrefcount ref;
  struct lws *wsi;               /* NULL once the connection is gone */
  KanyanHttp *http;
  gchar      *method, *path;
  GHashTable *query;
  GHashTable *headers;
  GByteArray *body;
  gboolean    body_too_large;
  gsize       max_body;          /* HTTP_MAX_BODY, or what the route allows this path (HttpRoute.max_body) */
  gboolean    dispatched;
  gboolean    extra;             /* arrived on the second listener (http_listen_extra) */
  const gchar *route;            /* the route table's name once routed (interned), for the metrics */
  gchar      *peer;              /* the client's address as the TCP connection shows it */
  guint       deadline;          /* the whole request must have arrived by then */
  gboolean    expired;           /* it did not: the connection is dropped at its next chunk */
  /* response */
  gboolean    responded, headers_sent;
  guint       status;
  gchar      *content_type;
  GPtrArray  *extra_headers;     /* "name:", "value" pairs */
  GBytes     *response;
  gint        body_fd;           /* >= 0: the body is [body_offset, +body_length) of this file */
  goffset     body_offset, body_length;
  gsize       sent;
};

struct _WsConn {
  struct lws *wsi;
  KanyanHttp *http;
  GQueue      out;               /* of gchar* */
  gsize       out_bytes;         /* queued in out */
  GByteArray *rx;
  gboolean    rx_too_large;
  gboolean    closing;
  gpointer    session;           /* the endpoint's conversation (http->ws) */
  gdouble     tokens;            /* rate limit: a token bucket */
  gint64      tokens_at;
  gint64      last_rate_error;
  gchar      *ip;                /* counted in ws_per_ip while open */
  gchar      *account;           /* counted in ws_per_account once joined */
  guint       join_timer;        /* closes the socket if it has not joined by then */
  guint       ping_timer;        /* every ws_ping_interval_s: ping a silent socket, hang up a dead one */
  gint64      last_rx;           /* monotonic µs of the last frame from the client (a pong included) */
  gboolean    ping_due;
};

typedef struct {
  HttpExchange *ex;
  WsConn       *ws;
} SessionData;

/* http_exchange.c: requests and responses */
gchar *http_copy_token (struct lws *wsi, gint token);   /* a header lws parsed, or NULL */
void http_exchange_clear_deadline (HttpExchange *ex);
void http_exchange_close_body (HttpExchange *ex);
void http_exchange_dispatch (KanyanHttp *http, HttpExchange *ex);
/* the most the route of ex's path lets it send (HttpRoute.max_body; HTTP_MAX_BODY by default) */
gsize http_exchange_body_limit (KanyanHttp *http, HttpExchange *ex);
HttpExchange *http_exchange_new (KanyanHttp *http, struct lws *wsi);
gint http_exchange_write (HttpExchange *ex);
gboolean http_on_request_deadline (gpointer data);

/* http_ws.c: WebSocket connections */
void http_count_add (GHashTable *table, const gchar *key, gint delta);   /* ws_per_ip, ws_per_account */
guint http_count_get (GHashTable *table, const gchar *key);
gboolean http_on_join_timeout (gpointer data);
void http_ws_conn_free (WsConn *conn);
gboolean http_ws_origin_allowed (struct lws *wsi, KanyanHttp *http);
gboolean http_ws_ping_tick (gpointer data);
void http_ws_receive (WsConn *conn, const void *in, gsize len);
gint http_ws_write (WsConn *conn);

/* http.c — libwebsockets on the GLib main loop: TLS, static files from web/ (lws file mount,
 * which refuses paths out of its root), routing by the route table its caller gives (app.c:
 * /api/, /whip/, /media/), bodies capped at HTTP_MAX_BODY, and the one WebSocket endpoint
 * (app.c: /ws, signaling.c) with a bounded send queue. A response body is either in memory
 * (GBytes) or a range of an open file, read one chunk per writable callback so a large file
 * never sits in memory.
 * Bounds what a stranger can make it hold: a whole request must arrive within
 * request_timeout_s; a WebSocket that does not join a case within ws_join_timeout_s is
 * closed, a silent one is pinged and hung up when it answers no ping; WebSockets are capped per address and per
 * account; lws accepts only as many connections as leave a reserve of the fd limit for
 * media and files (it stops polling the listening socket instead of spinning on EMFILE).
 * Parses nothing itself: lws parses HTTP, json-glib parses JSON. Every lws callback runs
 * on the main loop. */
#include "web/http.h"
#include "core/errors.h"
#include "core/tls.h"
#include <libwebsockets.h>
#include <errno.h>
#include <unistd.h>
#include <sys/resource.h>

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
  gboolean    dispatched;
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

/* ---- exchanges ------------------------------------------------------------------------ */

HttpExchange *
http_exchange_ref (HttpExchange *ex)
{
  g_atomic_ref_count_inc (&ex->ref);
  return ex;
}

static void
exchange_close_body (HttpExchange *ex)
{
  if (ex->body_fd >= 0) {
    close (ex->body_fd);
    ex->body_fd = -1;
  }
}

void
http_exchange_unref (HttpExchange *ex)
{
  if (!ex || !g_atomic_ref_count_dec (&ex->ref))
    return;
  exchange_close_body (ex);
  g_free (ex->method);
  g_free (ex->path);
  g_hash_table_unref (ex->query);
  g_hash_table_unref (ex->headers);
  g_byte_array_unref (ex->body);
  g_free (ex->content_type);
  g_free (ex->peer);
  g_ptr_array_unref (ex->extra_headers);
  if (ex->response)
    g_bytes_unref (ex->response);
  g_free (ex);
}

const gchar *http_exchange_method (HttpExchange *ex) { return ex->method; }
const gchar *http_exchange_path (HttpExchange *ex) { return ex->path; }
gboolean http_exchange_is_open (HttpExchange *ex) { return ex->wsi != NULL && !ex->responded; }
gboolean http_exchange_body_too_large (HttpExchange *ex) { return ex->body_too_large; }
const gchar *http_exchange_peer (HttpExchange *ex) { return ex->peer; }

const gchar *
http_exchange_query (HttpExchange *ex, const gchar *name)
{
  return g_hash_table_lookup (ex->query, name);
}

const gchar *
http_exchange_header (HttpExchange *ex, const gchar *name)
{
  return g_hash_table_lookup (ex->headers, name);
}

GBytes *
http_exchange_body (HttpExchange *ex)
{
  return g_bytes_new (ex->body->data, ex->body->len);
}

void
http_exchange_add_header (HttpExchange *ex, const gchar *name, const gchar *value)
{
  g_ptr_array_add (ex->extra_headers, g_strdup_printf ("%s:", name));
  g_ptr_array_add (ex->extra_headers, g_strdup (value));
}

void
http_exchange_respond (HttpExchange *ex, guint status, const gchar *content_type, GBytes *body)
{
  if (ex->responded)
    return;
  ex->responded = TRUE;
  ex->status = status;
  ex->content_type = g_strdup (content_type ? content_type : "text/plain");
  ex->response = body ? g_bytes_ref (body) : g_bytes_new_static ("", 0);
  if (ex->wsi)
    lws_callback_on_writable (ex->wsi);
}

void
http_exchange_respond_file (HttpExchange *ex, guint status, const gchar *content_type, gint fd,
                            goffset offset, goffset length)
{
  if (ex->responded) {
    close (fd);
    return;
  }
  ex->body_fd = fd;
  ex->body_offset = offset;
  ex->body_length = length;
  http_exchange_respond (ex, status, content_type, NULL);
}

void
http_exchange_respond_json (HttpExchange *ex, guint status, JsonNode *node)
{
  gchar *text = json_to_string (node, FALSE);
  g_autoptr (GBytes) body = g_bytes_new_take (text, strlen (text));
  http_exchange_respond (ex, status, "application/json", body);
}

void
http_exchange_respond_code (HttpExchange *ex, gint code, const gchar *message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, kanyan_error_code (code));
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  http_exchange_respond_json (ex, kanyan_error_http_status (code), root);
}

void
http_exchange_respond_error (HttpExchange *ex, const GError *error)
{
  gint code = error->domain == KANYAN_ERROR ? error->code : KANYAN_ERROR_INTERNAL;
  http_exchange_respond_code (ex, code, error->message);
}

static const struct { gint token; const gchar *method; } method_tokens[] = {
  { WSI_TOKEN_GET_URI, "GET" }, { WSI_TOKEN_POST_URI, "POST" }, { WSI_TOKEN_PUT_URI, "PUT" },
  { WSI_TOKEN_PATCH_URI, "PATCH" }, { WSI_TOKEN_DELETE_URI, "DELETE" }, { WSI_TOKEN_OPTIONS_URI, "OPTIONS" },
  { WSI_TOKEN_HEAD_URI, "HEAD" },
};

static const struct { gint token; const gchar *name; } header_tokens[] = {
  { WSI_TOKEN_HTTP_AUTHORIZATION, "authorization" }, { WSI_TOKEN_HTTP_CONTENT_TYPE, "content-type" },
  { WSI_TOKEN_ORIGIN, "origin" }, { WSI_TOKEN_HOST, "host" }, { WSI_TOKEN_HTTP_COOKIE, "cookie" },
  { WSI_TOKEN_HTTP_CONTENT_LENGTH, "content-length" }, { WSI_TOKEN_HTTP_RANGE, "range" },
};

static gchar *
copy_token (struct lws *wsi, gint token)
{
  gint len = lws_hdr_total_length (wsi, token);
  if (len <= 0)
    return NULL;
  gchar *buf = g_malloc (len + 1);
  if (lws_hdr_copy (wsi, buf, len + 1, token) < 0) {
    g_free (buf);
    return NULL;
  }
  return buf;
}

static HttpExchange *
exchange_new (KanyanHttp *http, struct lws *wsi)
{
  HttpExchange *ex = g_new0 (HttpExchange, 1);
  g_atomic_ref_count_init (&ex->ref);
  ex->wsi = wsi;
  ex->http = http;
  ex->body_fd = -1;
  ex->body = g_byte_array_new ();
  ex->extra_headers = g_ptr_array_new_with_free_func (g_free);
  ex->query = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  ex->headers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  gchar peer[64] = "";
  lws_get_peer_simple (wsi, peer, sizeof peer);
  /* an IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d */
  ex->peer = g_strdup (g_str_has_prefix (peer, "::ffff:") && strchr (peer, '.') ? peer + 7 : peer);
  for (guint i = 0; i < G_N_ELEMENTS (method_tokens) && !ex->method; i++) {
    gchar *uri = copy_token (wsi, method_tokens[i].token);
    if (uri) {
      ex->method = g_strdup (method_tokens[i].method);
      ex->path = uri;
    }
  }
  for (guint i = 0; i < G_N_ELEMENTS (header_tokens); i++) {
    gchar *value = copy_token (wsi, header_tokens[i].token);
    if (value)
      g_hash_table_insert (ex->headers, (gpointer) header_tokens[i].name, value);
  }
  /* the query string: lws splits it into fragments "name=value", already url-decoded */
  gchar frag[1024];
  for (gint n = 0; lws_hdr_copy_fragment (wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, n) > 0; n++) {
    gchar *eq = strchr (frag, '=');
    if (eq) {
      *eq = '\0';
      g_hash_table_replace (ex->query, g_strdup (frag), g_strdup (eq + 1));
    }
  }
  return ex;
}

static void
exchange_clear_deadline (HttpExchange *ex)
{
  if (ex->deadline) {
    guint id = ex->deadline;
    ex->deadline = 0;
    g_source_remove (id);   /* drops the timer's reference: ex may be gone after this */
  }
}

/* main loop: the body did not arrive in time (a slow sender holds a socket); drop the
 * connection — lws restarts its own timeout on every chunk, so it would never expire */
static gboolean
on_request_deadline (gpointer data)
{
  HttpExchange *ex = data;
  ex->deadline = 0;
  if (!ex->dispatched && ex->wsi) {
    g_debug ("http: %s %s: the request did not arrive within %d s; dropped", ex->method, ex->path,
             ex->http->app->config->request_timeout_s);
    /* a sender that trickles is dropped at its next chunk (HTTP_BODY), one that went silent
     * by lws's own timeout, shortened to a second */
    ex->expired = TRUE;
    lws_set_timeout (ex->wsi, PENDING_TIMEOUT_HTTP_CONTENT, 1);
  }
  return G_SOURCE_REMOVE;
}

static void
exchange_dispatch (KanyanHttp *http, HttpExchange *ex)
{
  if (ex->dispatched)
    return;
  ex->dispatched = TRUE;
  if (ex->deadline) {
    g_source_remove (ex->deadline);
    ex->deadline = 0;
  }
  if (ex->body_too_large) {
    http_exchange_respond_code (ex, KANYAN_ERROR_TOO_LARGE, "the request body is over 64 KiB");
    return;
  }
  for (guint i = 0; i < http->n_routes; i++) {
    const HttpRoute *r = &http->routes[i];
    if (r->prefix ? g_str_has_prefix (ex->path, r->path) : g_strcmp0 (ex->path, r->path) == 0) {
      r->handle (http->app, ex);
      return;
    }
  }
  http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such resource");
}

/* One chunk of a file body; lws buffers what the socket does not take and asks for more only
 * once it has drained, so at most one chunk per connection is in memory. -1 closes. */
static gint
exchange_write_file (HttpExchange *ex)
{
  struct lws *wsi = ex->wsi;
  gsize n = (gsize) MIN ((guint64) (ex->body_length - (goffset) ex->sent), (guint64) FILE_CHUNK);
  g_autofree guchar *buf = g_malloc (LWS_PRE + n);
  gsize got = 0;
  while (got < n) {
    gssize r = pread (ex->body_fd, buf + LWS_PRE + got, n - got, ex->body_offset + (goffset) (ex->sent + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {   /* the file shrank or failed under us: the promised length cannot be kept */
      g_warning ("http: reading a file body of %s failed: %s", ex->path, r < 0 ? g_strerror (errno) : "short file");
      exchange_close_body (ex);
      return -1;
    }
    got += (gsize) r;
  }
  gboolean final = (goffset) (ex->sent + n) >= ex->body_length;
  if (lws_write (wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (gint) n) {
    exchange_close_body (ex);
    return -1;
  }
  ex->sent += n;
  if (!final) {
    lws_callback_on_writable (wsi);
    return 0;
  }
  exchange_close_body (ex);
  return lws_http_transaction_completed (wsi) ? -1 : 0;
}

/* returns -1 to close the connection */
static gint
exchange_write (HttpExchange *ex)
{
  struct lws *wsi = ex->wsi;
  if (!ex->responded)
    return 0;
  if (!ex->headers_sent) {
    guchar buf[LWS_PRE + 4096];
    guchar *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    guint64 len = ex->body_fd >= 0 ? (guint64) ex->body_length : g_bytes_get_size (ex->response);
    if (lws_add_http_common_headers (wsi, ex->status, ex->content_type, len, &p, end))
      return -1;
    for (guint i = 0; i + 1 < ex->extra_headers->len; i += 2) {
      const gchar *name = g_ptr_array_index (ex->extra_headers, i);
      const gchar *value = g_ptr_array_index (ex->extra_headers, i + 1);
      if (lws_add_http_header_by_name (wsi, (const guchar *) name, (const guchar *) value,
                                       (gint) strlen (value), &p, end))
        return -1;
    }
    if (lws_add_http_header_by_name (wsi, (const guchar *) "cache-control:", (const guchar *) "no-store", 8, &p, end) ||
        lws_finalize_write_http_header (wsi, start, &p, end))
      return -1;
    ex->headers_sent = TRUE;
    if (len > 0 && g_strcmp0 (ex->method, "HEAD") != 0) {
      lws_callback_on_writable (wsi);
      return 0;
    }
    exchange_close_body (ex);
    return lws_http_transaction_completed (wsi) ? -1 : 0;
  }
  if (ex->body_fd >= 0)
    return exchange_write_file (ex);
  gsize total = g_bytes_get_size (ex->response);
  gsize n = MIN (total - ex->sent, (gsize) BODY_CHUNK);
  g_autofree guchar *buf = g_malloc (LWS_PRE + n);
  memcpy (buf + LWS_PRE, (const guchar *) g_bytes_get_data (ex->response, NULL) + ex->sent, n);
  gboolean final = ex->sent + n >= total;
  if (lws_write (wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (gint) n)
    return -1;
  ex->sent += n;
  if (!final) {
    lws_callback_on_writable (wsi);
    return 0;
  }
  return lws_http_transaction_completed (wsi) ? -1 : 0;
}

/* ---- WebSocket ------------------------------------------------------------------------- */

void
ws_conn_send (WsConn *conn, const gchar *text)
{
  if (conn->closing)
    return;
  gsize len = strlen (text);
  if (g_queue_get_length (&conn->out) >= WS_MAX_QUEUE || conn->out_bytes + len > WS_MAX_QUEUE_BYTES) {
    g_warning ("websocket: a client does not read its messages; closing it");
    g_queue_clear_full (&conn->out, g_free);   /* what it did not read is not kept for it */
    conn->out_bytes = 0;
    ws_conn_close (conn);
    return;
  }
  g_queue_push_tail (&conn->out, g_strdup (text));
  conn->out_bytes += len;
  lws_callback_on_writable (conn->wsi);
}

void
ws_conn_close (WsConn *conn)
{
  conn->closing = TRUE;
  lws_callback_on_writable (conn->wsi);
}

static gint
ws_write (WsConn *conn)
{
  if (conn->ping_due) {
    guchar ping[LWS_PRE + 1];
    ping[LWS_PRE] = 'k';   /* seen here: lws 4.1 gave no RECEIVE_PONG for an empty pong */
    conn->ping_due = FALSE;
    if (lws_write (conn->wsi, ping + LWS_PRE, 1, LWS_WRITE_PING) < 0)
      return -1;
    if (!g_queue_is_empty (&conn->out) || conn->closing)
      lws_callback_on_writable (conn->wsi);
    return 0;
  }
  gchar *text = g_queue_pop_head (&conn->out);
  if (text) {
    gsize len = strlen (text);
    conn->out_bytes -= len;
    g_autofree guchar *buf = g_malloc (LWS_PRE + len);
    memcpy (buf + LWS_PRE, text, len);
    g_free (text);
    if (lws_write (conn->wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT) < (gint) len)
      return -1;
    if (!g_queue_is_empty (&conn->out) || conn->closing)
      lws_callback_on_writable (conn->wsi);
    return 0;
  }
  if (conn->closing) {
    lws_close_reason (conn->wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
    return -1;
  }
  return 0;
}

static gboolean
ws_take_token (WsConn *conn)
{
  gint64 now = g_get_monotonic_time ();
  conn->tokens = MIN (WS_RATE_BURST, conn->tokens + (now - conn->tokens_at) * WS_RATE_PER_S / G_USEC_PER_SEC);
  conn->tokens_at = now;
  if (conn->tokens < 1.0)
    return FALSE;
  conn->tokens -= 1.0;
  return TRUE;
}

/* The WebSocket handshake: a browser page of another origin may not open the socket
 * (it would ride on the user's cookies). Clients that send no Origin are not browsers. */
static gboolean
ws_origin_allowed (struct lws *wsi, KanyanHttp *http)
{
  g_autofree gchar *origin = copy_token (wsi, WSI_TOKEN_ORIGIN);
  g_autofree gchar *host = copy_token (wsi, WSI_TOKEN_HOST);
  if (!origin)
    return TRUE;
  g_autoptr (GUri) uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  if (!uri || !g_uri_get_host (uri))
    return FALSE;
  g_autofree gchar *origin_host = g_uri_get_port (uri) > 0
      ? g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri)) : g_strdup (g_uri_get_host (uri));
  if (host && g_ascii_strcasecmp (origin_host, host) == 0)
    return TRUE;
  g_autofree gchar *public_url = config_public_url (http->app->config);
  g_autoptr (GUri) public = g_uri_parse (public_url, G_URI_FLAGS_NONE, NULL);
  return public && g_strcmp0 (g_uri_get_scheme (public), g_uri_get_scheme (uri)) == 0 &&
         g_ascii_strcasecmp (g_uri_get_host (public), g_uri_get_host (uri)) == 0 &&
         g_uri_get_port (public) == g_uri_get_port (uri);
}

static void
ws_receive (WsConn *conn, const void *in, gsize len)
{
  conn->last_rx = g_get_monotonic_time ();
  if (!conn->rx_too_large) {
    if (conn->rx->len + len > conn->http->ws->max_message) {
      conn->rx_too_large = TRUE;
      g_byte_array_set_size (conn->rx, 0);
    } else {
      g_byte_array_append (conn->rx, in, len);
    }
  }
  if (!lws_is_final_fragment (conn->wsi) || lws_remaining_packet_payload (conn->wsi) > 0)
    return;
  const HttpWebSocket *ws = conn->http->ws;
  if (!ws_take_token (conn)) {
    gint64 now = g_get_monotonic_time ();
    if (now - conn->last_rate_error > G_USEC_PER_SEC) {   /* say it once a second, not per message */
      conn->last_rate_error = now;
      g_autofree gchar *msg = g_strdup_printf ("too many messages: at most %.0f a second; messages were dropped",
                                               WS_RATE_PER_S);
      ws->refuse (conn->session, KANYAN_ERROR_RATE_LIMITED, msg);
    }
  } else if (conn->rx_too_large) {
    g_autofree gchar *msg = g_strdup_printf ("messages are limited to %" G_GSIZE_FORMAT " bytes", ws->max_message);
    ws->refuse (conn->session, KANYAN_ERROR_TOO_LARGE, msg);
  } else if (lws_frame_is_binary (conn->wsi))
    ws->refuse (conn->session, KANYAN_ERROR_BAD_JSON, "binary frames are not part of the protocol");
  else
    ws->receive (conn->session, (const gchar *) conn->rx->data, conn->rx->len);
  g_byte_array_set_size (conn->rx, 0);
  conn->rx_too_large = FALSE;
}

static guint
count_get (GHashTable *table, const gchar *key)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (table, key));
}

static void
count_add (GHashTable *table, const gchar *key, gint delta)
{
  guint n = count_get (table, key) + delta;
  if (n == 0)
    g_hash_table_remove (table, key);
  else
    g_hash_table_replace (table, g_strdup (key), GUINT_TO_POINTER (n));
}

gboolean
ws_conn_hold_account (WsConn *conn, const gchar *account, GError **error)
{
  KanyanHttp *http = conn->http;
  if (conn->account)
    return TRUE;
  gint max = MAX (http->app->config->max_ws_per_account, 1);
  if (count_get (http->ws_per_account, account) >= (guint) max) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_TOO_MANY_CONNECTIONS,
                 "this account has %d live connections open already; close one first", max);
    return FALSE;
  }
  conn->account = g_strdup (account);
  count_add (http->ws_per_account, account, 1);
  return TRUE;
}

/* main loop: a socket silent for a ping interval is pinged; one silent for two (it answered no
 * ping: the client is gone without a FIN, or does not read) is hung up by lws's timeout, which
 * works even when nothing can be written to it */
static gboolean
ws_ping_tick (gpointer data)
{
  WsConn *conn = data;
  gint64 interval = (gint64) MAX (conn->http->app->config->ws_ping_interval_s, 1) * G_USEC_PER_SEC;
  gint64 silent = g_get_monotonic_time () - conn->last_rx;
  if (silent >= 2 * interval) {
    g_debug ("websocket: no answer to a ping; hung up");
    conn->ping_timer = 0;
    lws_set_timeout (conn->wsi, PENDING_TIMEOUT_USER_OK, 1);
    return G_SOURCE_REMOVE;
  }
  if (silent >= interval - G_USEC_PER_SEC / 10) {
    conn->ping_due = TRUE;
    lws_callback_on_writable (conn->wsi);
  }
  return G_SOURCE_CONTINUE;
}

/* main loop: a socket that has not joined a case by now is closed */
static gboolean
on_join_timeout (gpointer data)
{
  WsConn *conn = data;
  conn->join_timer = 0;
  if (!conn->http->ws->joined (conn->session)) {
    g_autofree gchar *msg = g_strdup_printf ("no case joined within %d s", conn->http->app->config->ws_join_timeout_s);
    conn->http->ws->refuse (conn->session, KANYAN_ERROR_TIMEOUT, msg);
    ws_conn_close (conn);
  }
  return G_SOURCE_REMOVE;
}

static void
ws_conn_free (WsConn *conn)
{
  if (conn->join_timer)
    g_source_remove (conn->join_timer);
  if (conn->ping_timer)
    g_source_remove (conn->ping_timer);
  if (conn->ip)
    count_add (conn->http->ws_per_ip, conn->ip, -1);
  if (conn->account)
    count_add (conn->http->ws_per_account, conn->account, -1);
  g_free (conn->ip);
  g_free (conn->account);
  conn->http->ws->close (conn->session);
  g_queue_clear_full (&conn->out, g_free);
  g_byte_array_unref (conn->rx);
  g_free (conn);
}

/* ---- the one protocol ------------------------------------------------------------------- */

static gint
kanyan_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
  KanyanHttp *http = lws_context_user (lws_get_context (wsi));
  if (reason == LWS_CALLBACK_FILTER_NETWORK_CONNECTION) {   /* user: the accept's arguments */
    const struct lws_filter_network_conn_args *args = user;
    gint64 now = g_get_monotonic_time ();
    /* fds are handed out lowest first: a high one means lws's share is nearly used up */
    if (args && (guint) args->accept_fd + 16 >= http->fd_limit && now - http->last_limit_log > 60 * G_USEC_PER_SEC) {
      http->last_limit_log = now;
      g_warning ("http: near the connection limit (%u of the fd limit); new connections wait until "
                 "others close (said once a minute)", http->fd_limit);
    }
    return 0;
  }
  SessionData *sd = user;
  /* a connection closed before its first request (a bare connect-and-close) still gets
   * CLOSED_HTTP, with no session data */
  if (!sd && reason != LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION)
    return lws_callback_http_dummy (wsi, reason, user, in, len);
  switch (reason) {
    case LWS_CALLBACK_HTTP: {
      if (sd->ex) {   /* the previous request of a kept-alive connection */
        exchange_clear_deadline (sd->ex);
        sd->ex->wsi = NULL;
        exchange_close_body (sd->ex);
        http_exchange_unref (sd->ex);
      }
      sd->ex = exchange_new (http, wsi);
      if (!sd->ex->method) {
        http_exchange_respond_code (sd->ex, KANYAN_ERROR_METHOD_NOT_ALLOWED, "method not supported");
        return 0;
      }
      const gchar *clen = http_exchange_header (sd->ex, "content-length");
      gboolean has_body = clen && g_ascii_strtoull (clen, NULL, 10) > 0;
      if (clen && g_ascii_strtoull (clen, NULL, 10) > HTTP_MAX_BODY) {
        sd->ex->body_too_large = TRUE;
        exchange_dispatch (http, sd->ex);
        return 0;
      }
      if (!has_body)
        exchange_dispatch (http, sd->ex);
      else
        sd->ex->deadline = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, MAX (http->app->config->request_timeout_s, 1),
                                                       on_request_deadline, http_exchange_ref (sd->ex),
                                                       (GDestroyNotify) http_exchange_unref);
      return 0;
    }
    case LWS_CALLBACK_HTTP_BODY:
      if (sd->ex && sd->ex->expired)
        return -1;
      if (sd->ex && !sd->ex->dispatched) {
        if (sd->ex->body->len + len > HTTP_MAX_BODY)
          sd->ex->body_too_large = TRUE;
        else
          g_byte_array_append (sd->ex->body, in, len);
      }
      return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      if (sd->ex)
        exchange_dispatch (http, sd->ex);
      return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
      return sd->ex ? exchange_write (sd->ex) : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
      if (sd->ex) {
        exchange_clear_deadline (sd->ex);
        sd->ex->wsi = NULL;
        exchange_close_body (sd->ex);   /* a handler may still hold a ref; the file goes now */
        http_exchange_unref (sd->ex);
        sd->ex = NULL;
      }
      return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
      if (!ws_origin_allowed (wsi, http)) {
        g_message ("websocket: refused a connection from another origin");
        return 1;
      }
      return 0;
    case LWS_CALLBACK_ESTABLISHED: {
      g_autofree gchar *uri = copy_token (wsi, WSI_TOKEN_GET_URI);
      if (!http->ws || g_strcmp0 (uri, http->ws->path) != 0)
        return -1;
      WsConn *conn = g_new0 (WsConn, 1);
      conn->wsi = wsi;
      conn->http = http;
      conn->rx = g_byte_array_new ();
      g_queue_init (&conn->out);
      g_autofree gchar *cookie = copy_token (wsi, WSI_TOKEN_HTTP_COOKIE);
      conn->session = http->ws->open (http->app, conn, cookie);
      conn->tokens = WS_RATE_BURST;
      conn->tokens_at = g_get_monotonic_time ();
      sd->ws = conn;
      gchar ip[64] = "";
      lws_get_peer_simple (wsi, ip, sizeof ip);
      gint max_ip = MAX (http->app->config->max_ws_per_ip, 1);
      if (count_get (http->ws_per_ip, ip) >= (guint) max_ip) {
        g_autofree gchar *msg = g_strdup_printf ("%d WebSockets are open from this address already", max_ip);
        http->ws->refuse (conn->session, KANYAN_ERROR_TOO_MANY_CONNECTIONS, msg);
        ws_conn_close (conn);
        return 0;
      }
      conn->ip = g_strdup (ip);
      count_add (http->ws_per_ip, ip, 1);
      conn->join_timer = g_timeout_add_seconds (MAX (http->app->config->ws_join_timeout_s, 1), on_join_timeout, conn);
      conn->last_rx = g_get_monotonic_time ();
      conn->ping_timer = g_timeout_add_seconds (MAX (http->app->config->ws_ping_interval_s, 1), ws_ping_tick, conn);
      return 0;
    }
    case LWS_CALLBACK_RECEIVE:
      if (sd->ws)
        ws_receive (sd->ws, in, len);
      return 0;
    case LWS_CALLBACK_RECEIVE_PONG:
      if (sd->ws)
        sd->ws->last_rx = g_get_monotonic_time ();
      return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return sd->ws ? ws_write (sd->ws) : 0;
    case LWS_CALLBACK_CLOSED:
      if (sd->ws) {
        ws_conn_free (sd->ws);
        sd->ws = NULL;
      }
      return 0;
    default:
      return lws_callback_http_dummy (wsi, reason, user, in, len);
  }
}

static const struct lws_protocols protocols[] = {
  { "kanyan", kanyan_callback, sizeof (SessionData), 16384, 0, NULL, 0 },
  { NULL, NULL, 0, 0, 0, NULL, 0 },
};

static KanyanHttp *log_http;   /* the one server, for the log's rate limit */

/* lws's errors, at most one a second (at the fd limit lws could log every failed accept) */
static void
http_log (int level, const char *line)
{
  g_autofree gchar *trimmed = g_strstrip (g_strdup (line));
  if (!(level & LLL_ERR)) {
    g_debug ("lws: %s", trimmed);
    return;
  }
  gint64 now = g_get_monotonic_time ();
  if (log_http && now - log_http->last_lws_log < G_USEC_PER_SEC) {
    log_http->lws_log_suppressed++;
    return;
  }
  if (log_http && log_http->lws_log_suppressed) {
    g_warning ("lws: %s (and %u more lws errors in the last moments)", trimmed, log_http->lws_log_suppressed);
    log_http->lws_log_suppressed = 0;
  } else {
    g_warning ("lws: %s", trimmed);
  }
  if (log_http)
    log_http->last_lws_log = now;
}

KanyanHttp *
http_start (KanyanApp *app, const HttpRoute *routes, guint n_routes, const HttpWebSocket *ws, GError **error)
{
  KanyanConfig *cfg = app->config;
  KanyanHttp *http = g_new0 (KanyanHttp, 1);
  http->app = app;
  http->routes = routes;
  http->n_routes = n_routes;
  http->ws = ws;
  http->web_dir = g_canonicalize_filename (cfg->web_dir, NULL);
  http->ws_per_ip = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  http->ws_per_account = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  log_http = http;
  if (cfg->tls) {
    if (!tls_ensure_certificate (cfg, &http->cert, &http->key, error)) {
      http_stop (http);
      return NULL;
    }
  }
  lws_set_log_level (LLL_ERR | LLL_WARN, http_log);

  static const struct lws_protocol_vhost_options header_values[] = {
    { NULL, NULL, "content-security-policy:",
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
      "media-src 'self' blob:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; "
      "frame-ancestors 'none'" },
    { NULL, NULL, "x-content-type-options:", "nosniff" },
    { NULL, NULL, "referrer-policy:", "no-referrer" },
    { NULL, NULL, "x-frame-options:", "DENY" },
    /* only under TLS: browsers then refuse plain HTTP to this host for a year */
    { NULL, NULL, "strict-transport-security:", "max-age=31536000" },
  };
  guint n_headers = G_N_ELEMENTS (header_values) - (cfg->tls ? 0 : 1);
  for (guint i = 0; i < n_headers; i++) {
    http->headers[i] = header_values[i];
    http->headers[i].next = i + 1 < n_headers ? &http->headers[i + 1] : NULL;
  }

  /* the routes' first segments (/api, /whip, /media) go to the callback; everything else is
   * a file under web/ */
  http->mountpoints = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n_routes; i++) {
    const gchar *slash = strchr (routes[i].path + 1, '/');
    gchar *mp = slash ? g_strndup (routes[i].path, slash - routes[i].path) : g_strdup (routes[i].path);
    gboolean seen = FALSE;
    for (guint j = 0; j < http->mountpoints->len && !seen; j++)
      seen = g_strcmp0 (g_ptr_array_index (http->mountpoints, j), mp) == 0;
    if (seen)
      g_free (mp);
    else
      g_ptr_array_add (http->mountpoints, mp);
  }
  guint n_mounts = http->mountpoints->len;
  http->mounts = g_new0 (struct lws_http_mount, n_mounts + 1);
  for (guint i = 0; i < n_mounts; i++) {
    const gchar *mp = g_ptr_array_index (http->mountpoints, i);
    http->mounts[i] = (struct lws_http_mount) {
      .mount_next = &http->mounts[i + 1], .mountpoint = mp, .origin = "kanyan",
      .origin_protocol = LWSMPRO_CALLBACK, .mountpoint_len = (unsigned char) strlen (mp) };
  }
  http->mounts[n_mounts] = (struct lws_http_mount) {
    .mount_next = NULL, .mountpoint = "/", .origin = http->web_dir, .def = "index.html",
    .origin_protocol = LWSMPRO_FILE, .mountpoint_len = 1 };

  struct lws_context_creation_info info;
  memset (&info, 0, sizeof info);
  void *foreign_loops[] = { app->loop };
  info.port = cfg->port;
  info.iface = cfg->bind_address;
  info.protocols = protocols;
  info.mounts = &http->mounts[0];
  info.headers = &http->headers[0];
  info.user = http;
  info.foreign_loops = foreign_loops;
  info.options = LWS_SERVER_OPTION_GLIB | LWS_SERVER_OPTION_VALIDATE_UTF8;
  info.max_http_header_data = 4096;
  info.timeout_secs = 30;
  /* No retry_and_idle_policy: lws applies it to every connection, and an HTTP/1 connection
   * cannot be pinged, so a long download to a client that sends nothing would be hung up.
   * WebSockets are pinged by ws_ping_tick instead. */
  /* lws stops accepting (stops polling the listening socket) at its limit; keep a quarter of
   * the process's fds for webrtcbins, recordings and the database, so accept() never meets
   * EMFILE (which made lws spin and log every attempt) */
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 && rl.rlim_max > rl.rlim_cur) {
    /* the soft limit is often 1024 under a hard one far above: take what we may (up to 65536),
     * so that media has room besides the connections */
    rl.rlim_cur = MIN (rl.rlim_max, (rlim_t) 65536);
    if (setrlimit (RLIMIT_NOFILE, &rl) != 0)
      g_debug ("http: cannot raise the fd limit: %s", g_strerror (errno));
  }
  guint64 nofile = getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? rl.rlim_cur : 65536;
  nofile = MIN (nofile, (guint64) 1 << 20);
  guint64 reserve = MAX (nofile / 4, (guint64) 32);
  http->fd_limit = (guint) (nofile > reserve + 32 ? nofile - reserve : 32);
  info.fd_limit_per_thread = http->fd_limit;
  info.alpn = "http/1.1";
  if (cfg->tls) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = http->cert;
    info.ssl_private_key_filepath = http->key;
  }
  http->ctx = lws_create_context (&info);
  if (!http->ctx) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL,
                 "cannot listen on port %d (in use, or the libwebsockets GLib event library is missing)", cfg->port);
    http_stop (http);
    return NULL;
  }
  return http;
}

gint
http_port (KanyanHttp *http)
{
  return http->app->config->port;
}

void
http_stop (KanyanHttp *http)
{
  if (!http)
    return;
  if (http->ctx)
    lws_context_destroy (http->ctx);
  if (log_http == http)
    log_http = NULL;
  if (http->ws_per_ip)
    g_hash_table_unref (http->ws_per_ip);
  if (http->ws_per_account)
    g_hash_table_unref (http->ws_per_account);
  g_free (http->mounts);
  if (http->mountpoints)
    g_ptr_array_unref (http->mountpoints);
  g_free (http->web_dir);
  g_free (http->cert);
  g_free (http->key);
  g_free (http);
}

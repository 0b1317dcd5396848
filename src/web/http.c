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
 * on the main loop. Requests and responses: http_exchange.c; WebSocket connections:
 * http_ws.c (http_private.h); here: the lws context, its mounts and headers, the fd
 * limit, the log, and the one protocol callback that hands lws's events to the two; and an
 * optional second listener (http_listen_extra, a second lws vhost: [metrics] bind) that answers
 * only its own routes. WebSocket connections opened and closed are counted (core/metrics.h). */
#include "web/http_private.h"
#include "core/errors.h"
#include "core/tls.h"
#include "core/metrics.h"
#include <errno.h>
#include <unistd.h>
#include <sys/resource.h>

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
        http_exchange_clear_deadline (sd->ex);
        sd->ex->wsi = NULL;
        http_exchange_close_body (sd->ex);
        http_exchange_unref (sd->ex);
      }
      sd->ex = http_exchange_new (http, wsi);
      sd->ex->extra = http->extra_vhost && lws_get_vhost (wsi) == http->extra_vhost;
      if (!sd->ex->method) {
        http_exchange_respond_code (sd->ex, KANYAN_ERROR_METHOD_NOT_ALLOWED, "method not supported");
        return 0;
      }
      const gchar *clen = http_exchange_header (sd->ex, "content-length");
      gboolean has_body = clen && g_ascii_strtoull (clen, NULL, 10) > 0;
      sd->ex->max_body = http_exchange_body_limit (http, sd->ex);
      if (clen && g_ascii_strtoull (clen, NULL, 10) > sd->ex->max_body) {
        sd->ex->body_too_large = TRUE;
        http_exchange_dispatch (http, sd->ex);
        return 0;
      }
      if (!has_body)
        http_exchange_dispatch (http, sd->ex);
      else
        sd->ex->deadline = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, MAX (http->app->config->request_timeout_s, 1),
                                                       http_on_request_deadline, http_exchange_ref (sd->ex),
                                                       (GDestroyNotify) http_exchange_unref);
      return 0;
    }
    case LWS_CALLBACK_HTTP_BODY:
      if (sd->ex && sd->ex->expired)
        return -1;
      if (sd->ex && !sd->ex->dispatched) {
        if (sd->ex->body->len + len > sd->ex->max_body)
          sd->ex->body_too_large = TRUE;
        else
          g_byte_array_append (sd->ex->body, in, len);
      }
      return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      if (sd->ex)
        http_exchange_dispatch (http, sd->ex);
      return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
      return sd->ex ? http_exchange_write (sd->ex) : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
      if (sd->ex) {
        http_exchange_clear_deadline (sd->ex);
        sd->ex->wsi = NULL;
        http_exchange_close_body (sd->ex);   /* a handler may still hold a ref; the file goes now */
        http_exchange_unref (sd->ex);
        sd->ex = NULL;
      }
      return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
      if (http->extra_vhost && lws_get_vhost (wsi) == http->extra_vhost)
        return 1;   /* the second listener takes no WebSocket */
      if (!http_ws_origin_allowed (wsi, http)) {
        g_message ("websocket: refused a connection from another origin");
        return 1;
      }
      return 0;
    case LWS_CALLBACK_ESTABLISHED: {
      g_autofree gchar *uri = http_copy_token (wsi, WSI_TOKEN_GET_URI);
      if (!http->ws || g_strcmp0 (uri, http->ws->path) != 0)
        return -1;
      WsConn *conn = g_new0 (WsConn, 1);
      conn->wsi = wsi;
      conn->http = http;
      conn->rx = g_byte_array_new ();
      g_queue_init (&conn->out);
      g_autofree gchar *cookie = http_copy_token (wsi, WSI_TOKEN_HTTP_COOKIE);
      conn->session = http->ws->open (http->app, conn, cookie);
      metrics_ws_opened ();   /* its CLOSED below says closed, whatever happens next */
      conn->tokens = WS_RATE_BURST;
      conn->tokens_at = g_get_monotonic_time ();
      sd->ws = conn;
      gchar ip[64] = "";
      lws_get_peer_simple (wsi, ip, sizeof ip);
      gint max_ip = MAX (http->app->config->max_ws_per_ip, 1);
      if (http_count_get (http->ws_per_ip, ip) >= (guint) max_ip) {
        g_autofree gchar *msg = g_strdup_printf ("%d WebSockets are open from this address already", max_ip);
        http->ws->refuse (conn->session, KANYAN_ERROR_TOO_MANY_CONNECTIONS, msg);
        ws_conn_close (conn);
        return 0;
      }
      conn->ip = g_strdup (ip);
      http_count_add (http->ws_per_ip, ip, 1);
      conn->join_timer = g_timeout_add_seconds (MAX (http->app->config->ws_join_timeout_s, 1), http_on_join_timeout, conn);
      conn->last_rx = g_get_monotonic_time ();
      conn->ping_timer = g_timeout_add_seconds (MAX (http->app->config->ws_ping_interval_s, 1), http_ws_ping_tick, conn);
      return 0;
    }
    case LWS_CALLBACK_RECEIVE:
      if (sd->ws)
        http_ws_receive (sd->ws, in, len);
      return 0;
    case LWS_CALLBACK_RECEIVE_PONG:
      if (sd->ws)
        sd->ws->last_rx = g_get_monotonic_time ();
      return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return sd->ws ? http_ws_write (sd->ws) : 0;
    case LWS_CALLBACK_CLOSED:
      if (sd->ws) {
        http_ws_conn_free (sd->ws);
        sd->ws = NULL;
        metrics_ws_closed ();
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

/* a route's name for the metrics: its path without slashes ("/api/" and "/whip" → "api",
 * "whip"; never a request's own path), interned: kept for the life of the process */
static const gchar **
route_names (const HttpRoute *routes, guint n)
{
  const gchar **names = g_new0 (const gchar *, n + 1);
  for (guint i = 0; i < n; i++) {
    g_autofree gchar *name = g_strdup (routes[i].path);
    g_strdelimit (name, "/", ' ');
    names[i] = g_intern_string (g_strstrip (name));
  }
  return names;
}

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
  http->route_names = route_names (routes, n_routes);
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
   * WebSockets are pinged by http_ws_ping_tick instead. */
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

gboolean
http_parse_address (const gchar *address, gchar **host, gint *port, GError **error)
{
  const gchar *colon = address ? strrchr (address, ':') : NULL;
  gchar *end = NULL;
  guint64 n = colon ? g_ascii_strtoull (colon + 1, &end, 10) : 0;
  gboolean bracketed = address && address[0] == '[';
  if (!colon || colon == address || !end || *end || colon[1] == '\0' || n == 0 || n > 65535 ||
      (bracketed && colon[-1] != ']') || (bracketed && colon - address < 3) ||
      (!bracketed && memchr (address, ':', colon - address))) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                 "'%s' is not HOST:PORT (e.g. 127.0.0.1:9464, [::1]:9464)", address ? address : "");
    return FALSE;
  }
  if (host)
    *host = bracketed ? g_strndup (address + 1, colon - address - 2) : g_strndup (address, colon - address);
  if (port)
    *port = (gint) n;
  return TRUE;
}

gboolean
http_listen_extra (KanyanHttp *http, const gchar *address, const HttpRoute *routes, guint n_routes, GError **error)
{
  gint port = 0;
  g_free (http->extra_iface);
  http->extra_iface = NULL;
  if (!http_parse_address (address, &http->extra_iface, &port, error))
    return FALSE;
  http->extra_routes = routes;
  http->n_extra = n_routes;
  g_free (http->extra_names);
  http->extra_names = route_names (routes, n_routes);
  /* every path goes to the callback, which answers only these routes (404 for the rest) */
  http->extra_mount = (struct lws_http_mount) {
    .mountpoint = "/", .origin = "kanyan", .origin_protocol = LWSMPRO_CALLBACK, .mountpoint_len = 1 };
  struct lws_context_creation_info info;
  memset (&info, 0, sizeof info);
  info.port = port;
  info.iface = http->extra_iface;
  info.protocols = protocols;
  info.mounts = &http->extra_mount;
  info.vhost_name = "extra";
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
  info.timeout_secs = 30;
  http->extra_vhost = lws_create_vhost (http->ctx, &info);
  if (!http->extra_vhost) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot listen on %s (in use, or not an address of this host)",
                 address);
    return FALSE;
  }
  return TRUE;
}

gint
http_port (KanyanHttp *http)
{
  return http->app->config->port;
}

gboolean
http_reload_tls (KanyanHttp *http, GError **error)
{
  if (!http || !http->cert)
    return TRUE;
  if (!tls_check_pair (http->cert, http->key, error))
    return FALSE;
  /* libwebsockets 4.1: every vhost started with these paths loads them into its SSL_CTX again */
  lws_tls_cert_updated (http->ctx, http->cert, http->key, NULL, 0, NULL, 0);
  return TRUE;
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
  g_free (http->route_names);
  g_free (http->extra_names);
  g_free (http->extra_iface);
  g_free (http->web_dir);
  g_free (http->cert);
  g_free (http->key);
  g_free (http);
}

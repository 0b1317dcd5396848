/* http_ws.c — one WebSocket connection (WsConn) for the endpoint its caller registered: a
 * bounded send queue (a client that does not read is closed), frames reassembled up to the
 * endpoint's max_message, a token-bucket rate limit, the origin check, the caps per address
 * and per account, the join timeout and the ping of a silent socket. Never touches HTTP
 * requests (http_exchange.c) or the lws context (http.c). Main loop. */
#include "web/http_private.h"
#include "core/errors.h"

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

gint
http_ws_write (WsConn *conn)
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
gboolean
http_ws_origin_allowed (struct lws *wsi, KanyanHttp *http)
{
  g_autofree gchar *origin = http_copy_token (wsi, WSI_TOKEN_ORIGIN);
  g_autofree gchar *host = http_copy_token (wsi, WSI_TOKEN_HOST);
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

void
http_ws_receive (WsConn *conn, const void *in, gsize len)
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

guint
http_count_get (GHashTable *table, const gchar *key)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (table, key));
}

void
http_count_add (GHashTable *table, const gchar *key, gint delta)
{
  guint n = http_count_get (table, key) + delta;
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
  if (http_count_get (http->ws_per_account, account) >= (guint) max) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_TOO_MANY_CONNECTIONS,
                 "this account has %d live connections open already; close one first", max);
    return FALSE;
  }
  conn->account = g_strdup (account);
  http_count_add (http->ws_per_account, account, 1);
  return TRUE;
}

/* main loop: a socket silent for a ping interval is pinged; one silent for two (it answered no
 * ping: the client is gone without a FIN, or does not read) is hung up by lws's timeout, which
 * works even when nothing can be written to it */
gboolean
http_ws_ping_tick (gpointer data)
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
gboolean
http_on_join_timeout (gpointer data)
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

void
http_ws_conn_free (WsConn *conn)
{
  if (conn->join_timer)
    g_source_remove (conn->join_timer);
  if (conn->ping_timer)
    g_source_remove (conn->ping_timer);
  if (conn->ip)
    http_count_add (conn->http->ws_per_ip, conn->ip, -1);
  if (conn->account)
    http_count_add (conn->http->ws_per_account, conn->account, -1);
  g_free (conn->ip);
  g_free (conn->account);
  conn->http->ws->close (conn->session);
  g_queue_clear_full (&conn->out, g_free);
  g_byte_array_unref (conn->rx);
  g_free (conn);
}

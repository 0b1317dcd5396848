/* http_exchange.c — one HTTP request and its response (HttpExchange): the request's method,
 * path, query, headers and body as lws parsed them, the deadline by which the whole request
 * must have arrived (request_timeout_s), dispatch to the route table's handler, and the
 * response written as the socket drains — a body in memory (GBytes) or a range of an open
 * file, one chunk per writable callback so a large file never sits in memory; each answer
 * counted by its route's name and status (core/metrics.h). Never touches
 * WebSockets (http_ws.c) or the lws context (http.c). Main loop. */
#include "web/http_private.h"
#include "core/errors.h"
#include "core/metrics.h"
#include <errno.h>
#include <unistd.h>

/* ---- exchanges ------------------------------------------------------------------------ */

HttpExchange *
http_exchange_ref (HttpExchange *ex)
{
  g_atomic_ref_count_inc (&ex->ref);
  return ex;
}

void
http_exchange_close_body (HttpExchange *ex)
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
  http_exchange_close_body (ex);
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
gboolean http_exchange_on_extra_listener (HttpExchange *ex) { return ex->extra; }

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
  metrics_http_request (ex->route ? ex->route : "none", status);
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

gchar *
http_copy_token (struct lws *wsi, gint token)
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

HttpExchange *
http_exchange_new (KanyanHttp *http, struct lws *wsi)
{
  HttpExchange *ex = g_new0 (HttpExchange, 1);
  g_atomic_ref_count_init (&ex->ref);
  ex->wsi = wsi;
  ex->http = http;
  ex->body_fd = -1;
  ex->body = g_byte_array_new ();
  ex->max_body = HTTP_MAX_BODY;
  ex->extra_headers = g_ptr_array_new_with_free_func (g_free);
  ex->query = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  ex->headers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  gchar peer[64] = "";
  lws_get_peer_simple (wsi, peer, sizeof peer);
  /* an IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d */
  ex->peer = g_strdup (g_str_has_prefix (peer, "::ffff:") && strchr (peer, '.') ? peer + 7 : peer);
  for (guint i = 0; i < G_N_ELEMENTS (method_tokens) && !ex->method; i++) {
    gchar *uri = http_copy_token (wsi, method_tokens[i].token);
    if (uri) {
      ex->method = g_strdup (method_tokens[i].method);
      ex->path = uri;
    }
  }
  for (guint i = 0; i < G_N_ELEMENTS (header_tokens); i++) {
    gchar *value = http_copy_token (wsi, header_tokens[i].token);
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

void
http_exchange_clear_deadline (HttpExchange *ex)
{
  if (ex->deadline) {
    guint id = ex->deadline;
    ex->deadline = 0;
    g_source_remove (id);   /* drops the timer's reference: ex may be gone after this */
  }
}

/* main loop: the body did not arrive in time (a slow sender holds a socket); drop the
 * connection — lws restarts its own timeout on every chunk, so it would never expire */
gboolean
http_on_request_deadline (gpointer data)
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

static const HttpRoute *
route_of (KanyanHttp *http, HttpExchange *ex, guint *index)
{
  const HttpRoute *routes = ex->extra ? http->extra_routes : http->routes;
  guint n_routes = ex->extra ? http->n_extra : http->n_routes;
  for (guint i = 0; ex->path && i < n_routes; i++) {
    const HttpRoute *r = &routes[i];
    if (r->prefix ? g_str_has_prefix (ex->path, r->path) : g_strcmp0 (ex->path, r->path) == 0) {
      *index = i;
      return r;
    }
  }
  return NULL;
}

gsize
http_exchange_body_limit (KanyanHttp *http, HttpExchange *ex)
{
  guint i = 0;
  const HttpRoute *r = route_of (http, ex, &i);
  gsize limit = r && r->max_body ? r->max_body (http->app, ex->path) : 0;
  return limit ? limit : HTTP_MAX_BODY;
}

void
http_exchange_dispatch (KanyanHttp *http, HttpExchange *ex)
{
  if (ex->dispatched)
    return;
  ex->dispatched = TRUE;
  if (ex->deadline) {
    g_source_remove (ex->deadline);
    ex->deadline = 0;
  }
  if (ex->body_too_large && ex->max_body <= HTTP_MAX_BODY) {   /* a raised limit: the handler says why */
    http_exchange_respond_code (ex, KANYAN_ERROR_TOO_LARGE, "the request body is over 64 KiB");
    return;
  }
  guint i = 0;
  const HttpRoute *r = route_of (http, ex, &i);
  if (!r) {
    http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such resource");
    return;
  }
  ex->route = ex->extra ? http->extra_names[i] : http->route_names[i];
  r->handle (http->app, ex);
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
      http_exchange_close_body (ex);
      return -1;
    }
    got += (gsize) r;
  }
  gboolean final = (goffset) (ex->sent + n) >= ex->body_length;
  if (lws_write (wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (gint) n) {
    http_exchange_close_body (ex);
    return -1;
  }
  ex->sent += n;
  if (!final) {
    lws_callback_on_writable (wsi);
    return 0;
  }
  http_exchange_close_body (ex);
  return lws_http_transaction_completed (wsi) ? -1 : 0;
}

/* returns -1 to close the connection */
gint
http_exchange_write (HttpExchange *ex)
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
    http_exchange_close_body (ex);
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

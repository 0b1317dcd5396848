/* config.c — settings: embedded defaults, then a GKeyFile ([server], [media], [invites],
 * [calendar], [ice], [bureau]), then command-line flags (main.c applies those). Reads files; never writes any. */
#include "app/app.h"
#include "review/calendar.h"
#include "media/ice_servers.h"
#include "web/http.h"

KanyanConfig *
config_new_defaults (void)
{
  KanyanConfig *cfg = g_new0 (KanyanConfig, 1);
  cfg->data_dir = g_strdup ("data");
  cfg->recordings_dir = g_strdup ("recordings");
  cfg->web_dir = g_strdup ("web");
  cfg->pipelines_dir = g_strdup ("pipelines");
  cfg->port = 8443;
  cfg->tls = TRUE;
  cfg->jitter_latency_ms = 100;
  cfg->viewer_answer_timeout_s = 15;
  cfg->publisher_connect_timeout_s = 30;
  cfg->request_timeout_s = 30;
  cfg->ws_join_timeout_s = 20;
  cfg->ws_ping_interval_s = 30;
  cfg->max_ws_per_ip = 64;
  cfg->max_ws_per_account = 8;
  cfg->max_participants_per_case = 32;
  cfg->room_linger_s = 30;
  cfg->invite_days = 7;
  cfg->notice_ack_days = 3;
  cfg->retention_days = 3650;   /* ten years after the decision, unless configured */
  cfg->min_free_mb = 64;        /* stop recording before the volume (often the database's too) is full */
  cfg->turn_ttl_s = 4 * 3600;   /* longer than any live inspection; a rejoin gets a new one */
  cfg->webhook_retry_base_ms = 5000;      /* 5 s, 10 s, 20 s, … */
  cfg->webhook_retry_cap_ms = 3600 * 1000;  /* at most an hour between tries */
  cfg->webhook_max_attempts = 12;
  cfg->webhook_timeout_s = 15;
  cfg->keep_private = TRUE;
  cfg->ice_tcp = TRUE;          /* a phone on a network that drops UDP still connects directly */
  cfg->min_bitrate_kbps = 150;
  cfg->start_bitrate_kbps = 1000;   /* a phone's 720p starts at 720p, not at 180p (Chromium's 300) */
  cfg->audio_first_kbps = 100;
  cfg->language = g_strdup ("zh-CN");
  cfg->photo_max_bytes = 16 * 1024 * 1024;   /* a 12-megapixel phone JPEG is 3-8 MB */
  cfg->photo_request_ttl_s = 600;
  return cfg;
}

static void
replace_string (gchar **slot, GKeyFile *kf, const gchar *group, const gchar *key)
{
  gchar *value = g_key_file_get_string (kf, group, key, NULL);
  if (value) {
    g_free (*slot);
    *slot = value;
  }
}

static gboolean
replace_int (gint *slot, GKeyFile *kf, const gchar *group, const gchar *key, GError **error)
{
  if (!g_key_file_has_key (kf, group, key, NULL))
    return TRUE;
  /* g_key_file_get_integer() accepts "80 80" as 80; parse the whole value strictly instead. */
  g_autofree gchar *text = g_key_file_get_value (kf, group, key, NULL);
  gint64 value = 0;
  if (!text || !g_ascii_string_to_signed (g_strstrip (text), 10, G_MININT, G_MAXINT, &value, NULL)) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                 "[%s] %s: \"%s\" is not a whole number", group, key, text ? text : "");
    return FALSE;
  }
  *slot = (gint) value;
  return TRUE;
}

/* [webhooks] endpoints = a;b, retry_base_ms, retry_cap_ms, max_attempts, timeout_s; and per
 * endpoint [webhook:NAME] url (http or https) and secret (the HMAC key, never logged) */
static gboolean
load_webhooks (KanyanConfig *cfg, GKeyFile *kf, GError **error)
{
  if (!replace_int (&cfg->webhook_retry_base_ms, kf, "webhooks", "retry_base_ms", error) ||
      !replace_int (&cfg->webhook_retry_cap_ms, kf, "webhooks", "retry_cap_ms", error) ||
      !replace_int (&cfg->webhook_max_attempts, kf, "webhooks", "max_attempts", error) ||
      !replace_int (&cfg->webhook_timeout_s, kf, "webhooks", "timeout_s", error))
    return FALSE;
  if (cfg->webhook_retry_base_ms < 1 || cfg->webhook_retry_cap_ms < cfg->webhook_retry_base_ms ||
      cfg->webhook_max_attempts < 1 || cfg->webhook_timeout_s < 1) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                 "[webhooks] retry_base_ms, max_attempts and timeout_s must be at least 1, retry_cap_ms at least "
                 "retry_base_ms");
    return FALSE;
  }
  g_auto (GStrv) names = g_key_file_get_string_list (kf, "webhooks", "endpoints", NULL, NULL);
  g_autoptr (GPtrArray) n = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  g_autoptr (GPtrArray) u = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  g_autoptr (GPtrArray) k = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  for (guint i = 0; names && names[i]; i++) {
    const gchar *name = g_strstrip (names[i]);
    if (!*name)
      continue;
    g_autofree gchar *group = g_strdup_printf ("webhook:%s", name);
    g_autofree gchar *url = g_key_file_get_string (kf, group, "url", NULL);
    g_autofree gchar *secret = g_key_file_get_string (kf, group, "secret", NULL);
    if (!url || !(g_str_has_prefix (url, "http://") || g_str_has_prefix (url, "https://"))) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[%s] url: '%s' is not an http:// or https:// URL", group, url ? url : "");
      return FALSE;
    }
    if (!secret || strlen (secret) < 16) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[%s] secret: missing or shorter than 16 characters", group);
      return FALSE;
    }
    g_ptr_array_add (n, g_strdup (name));
    g_ptr_array_add (u, g_steal_pointer (&url));
    g_ptr_array_add (k, g_steal_pointer (&secret));
  }
  g_strfreev (cfg->webhook_names);
  g_strfreev (cfg->webhook_urls);
  g_strfreev (cfg->webhook_secrets);
  cfg->webhook_names = (gchar **) g_ptr_array_free (g_steal_pointer (&n), FALSE);
  cfg->webhook_urls = (gchar **) g_ptr_array_free (g_steal_pointer (&u), FALSE);
  cfg->webhook_secrets = (gchar **) g_ptr_array_free (g_steal_pointer (&k), FALSE);
  return TRUE;
}

gboolean
config_load_file (KanyanConfig *cfg, const gchar *path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error))
    return FALSE;
  replace_string (&cfg->data_dir, kf, "server", "data_dir");
  replace_string (&cfg->recordings_dir, kf, "server", "recordings_dir");
  replace_string (&cfg->web_dir, kf, "server", "web_dir");
  replace_string (&cfg->pipelines_dir, kf, "server", "pipelines_dir");
  replace_string (&cfg->bind_address, kf, "server", "bind_address");
  replace_string (&cfg->tls_cert, kf, "server", "tls_cert");
  replace_string (&cfg->tls_key, kf, "server", "tls_key");
  replace_string (&cfg->public_url, kf, "server", "public_url");
  if (!replace_int (&cfg->port, kf, "server", "port", error) ||
      !replace_int (&cfg->request_timeout_s, kf, "server", "request_timeout_s", error) ||
      !replace_int (&cfg->ws_join_timeout_s, kf, "server", "ws_join_timeout_s", error) ||
      !replace_int (&cfg->ws_ping_interval_s, kf, "server", "ws_ping_interval_s", error) ||
      !replace_int (&cfg->max_ws_per_ip, kf, "server", "max_ws_per_ip", error) ||
      !replace_int (&cfg->max_ws_per_account, kf, "server", "max_ws_per_account", error) ||
      !replace_int (&cfg->max_participants_per_case, kf, "server", "max_participants_per_case", error))
    return FALSE;
  if (g_key_file_has_key (kf, "server", "tls", NULL)) {
    GError *local = NULL;
    gboolean tls = g_key_file_get_boolean (kf, "server", "tls", &local);
    if (local) {
      g_propagate_prefixed_error (error, local, "[server] tls: ");
      return FALSE;
    }
    cfg->tls = tls;
  }
  if (g_key_file_has_key (kf, "media", "ice_addresses", NULL)) {
    g_strfreev (cfg->ice_addresses);
    cfg->ice_addresses = g_key_file_get_string_list (kf, "media", "ice_addresses", NULL, NULL);
  }
  for (guint i = 0; i < 2; i++) {
    const gchar *key = i == 0 ? "holidays" : "workdays";
    gchar ***slot = i == 0 ? &cfg->holidays : &cfg->workdays;
    if (!g_key_file_has_key (kf, "calendar", key, NULL))
      continue;
    g_auto (GStrv) dates = g_key_file_get_string_list (kf, "calendar", key, NULL, NULL);
    g_autoptr (WorkCalendar) check = calendar_new ((const gchar *const *) dates, NULL, error);
    if (!check) {
      g_prefix_error (error, "[calendar] %s: ", key);
      return FALSE;
    }
    g_strfreev (*slot);
    *slot = g_steal_pointer (&dates);
  }
  if (!replace_int (&cfg->ice_port_min, kf, "media", "ice_port_min", error) ||
      !replace_int (&cfg->ice_port_max, kf, "media", "ice_port_max", error) ||
      !replace_int (&cfg->jitter_latency_ms, kf, "media", "jitter_latency_ms", error) ||
      !replace_int (&cfg->viewer_answer_timeout_s, kf, "media", "viewer_answer_timeout_s", error) ||
      !replace_int (&cfg->publisher_connect_timeout_s, kf, "media", "publisher_connect_timeout_s", error) ||
      !replace_int (&cfg->room_linger_s, kf, "media", "room_linger_s", error) ||
      !replace_int (&cfg->invite_days, kf, "invites", "valid_days", error) ||
      !replace_int (&cfg->notice_ack_days, kf, "bureau", "notice_ack_days", error) ||
      !replace_int (&cfg->retention_days, kf, "archive", "retention_days", error) ||
      !replace_int (&cfg->min_free_mb, kf, "archive", "min_free_mb", error) ||
      !replace_int (&cfg->photo_max_bytes, kf, "photos", "max_bytes", error) ||
      !replace_int (&cfg->photo_request_ttl_s, kf, "photos", "request_ttl_s", error))
    return FALSE;
  if (g_key_file_has_key (kf, "bureau", "waiting_room", NULL)) {
    g_autofree gchar *mode = g_key_file_get_string (kf, "bureau", "waiting_room", NULL);
    g_strstrip (mode);
    if (g_strcmp0 (mode, "booked") != 0 && g_strcmp0 (mode, "always") != 0) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[bureau] waiting_room must be 'booked' or 'always', not '%s'", mode);
      return FALSE;
    }
    cfg->waiting_room_always = g_strcmp0 (mode, "always") == 0;
  }
  if (cfg->photo_max_bytes < 1024 || cfg->photo_request_ttl_s < 1) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                 "[photos] max_bytes must be at least 1024 and request_ttl_s at least 1");
    return FALSE;
  }
  for (guint i = 0; i < 3; i++) {
    const gchar *key = i == 0 ? "stun_servers" : i == 1 ? "turn_servers" : "public_addresses";
    gchar ***slot = i == 0 ? &cfg->stun_servers : i == 1 ? &cfg->turn_servers : &cfg->public_addresses;
    if (!g_key_file_has_key (kf, "ice", key, NULL))
      continue;
    g_strfreev (*slot);
    *slot = g_key_file_get_string_list (kf, "ice", key, NULL, NULL);
  }
  replace_string (&cfg->turn_username, kf, "ice", "turn_username");
  replace_string (&cfg->turn_password, kf, "ice", "turn_password");
  replace_string (&cfg->turn_secret, kf, "ice", "turn_secret");
  if (!replace_int (&cfg->turn_ttl_s, kf, "ice", "turn_ttl_s", error))
    return FALSE;
  if (g_key_file_has_key (kf, "ice", "keep_private", NULL)) {
    GError *local = NULL;
    gboolean keep = g_key_file_get_boolean (kf, "ice", "keep_private", &local);
    if (local) {
      g_propagate_prefixed_error (error, local, "[ice] keep_private: ");
      return FALSE;
    }
    cfg->keep_private = keep;
  }
  if (g_key_file_has_key (kf, "ice", "tcp", NULL)) {
    GError *local = NULL;
    gboolean tcp = g_key_file_get_boolean (kf, "ice", "tcp", &local);
    if (local) {
      g_propagate_prefixed_error (error, local, "[ice] tcp: ");
      return FALSE;
    }
    cfg->ice_tcp = tcp;
  }
  if (g_key_file_has_key (kf, "media", "favour", NULL)) {
    g_autofree gchar *favour = g_key_file_get_string (kf, "media", "favour", NULL);
    if (g_strcmp0 (favour, "live") != 0 && g_strcmp0 (favour, "recording") != 0) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[media] favour: '%s' is neither live nor recording", favour ? favour : "");
      return FALSE;
    }
    cfg->favour_recording = g_strcmp0 (favour, "recording") == 0;
  }
  if (!replace_int (&cfg->min_bitrate_kbps, kf, "media", "min_bitrate_kbps", error) ||
      !replace_int (&cfg->start_bitrate_kbps, kf, "media", "start_bitrate_kbps", error) ||
      !replace_int (&cfg->audio_first_kbps, kf, "media", "audio_first_kbps", error))
    return FALSE;
  if (cfg->start_bitrate_kbps != 0 && (cfg->start_bitrate_kbps < 30 || cfg->start_bitrate_kbps > 100000)) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                 "[media] start_bitrate_kbps: %d is neither 0 nor between 30 and 100000", cfg->start_bitrate_kbps);
    return FALSE;
  }
  if (cfg->min_bitrate_kbps < 30 || cfg->min_bitrate_kbps > 100000) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                 "[media] min_bitrate_kbps: %d is not between 30 and 100000", cfg->min_bitrate_kbps);
    return FALSE;
  }
  if (!load_webhooks (cfg, kf, error))
    return FALSE;
  if (!ice_servers_check_config (cfg, error))
    return FALSE;
  replace_string (&cfg->metrics_token, kf, "metrics", "token");
  replace_string (&cfg->metrics_bind, kf, "metrics", "bind");
  if (cfg->metrics_token && !*cfg->metrics_token)
    g_clear_pointer (&cfg->metrics_token, g_free);   /* "token =": no token */
  if (cfg->metrics_bind && !*cfg->metrics_bind)
    g_clear_pointer (&cfg->metrics_bind, g_free);
  g_autoptr (GError) bad_bind = NULL;
  if (cfg->metrics_bind && !http_parse_address (cfg->metrics_bind, NULL, NULL, &bad_bind)) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "[metrics] bind: %s", bad_bind->message);
    return FALSE;
  }
  replace_string (&cfg->timezone, kf, "bureau", "timezone");
  if (cfg->timezone && !*cfg->timezone)
    g_clear_pointer (&cfg->timezone, g_free);   /* "timezone =": the server's own */
  if (cfg->timezone) {
    GTimeZone *tz = g_time_zone_new_identifier (cfg->timezone);
    if (!tz) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[bureau] timezone: '%s' is not a time zone name (like Asia/Shanghai)", cfg->timezone);
      return FALSE;
    }
    g_time_zone_unref (tz);
  }
  replace_string (&cfg->language, kf, "bureau", "language");
  if (g_strcmp0 (cfg->language, "zh-CN") != 0 && g_strcmp0 (cfg->language, "en") != 0) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                 "[bureau] language: '%s' is neither zh-CN nor en", cfg->language ? cfg->language : "");
    return FALSE;
  }
  if (cfg->port <= 0 || cfg->port > 65535) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                 "[server] port: %d is not a TCP port", cfg->port);
    return FALSE;
  }
  return TRUE;
}

gchar *
config_reload (KanyanConfig *cfg, GError **error)
{
  if (!cfg->config_file)
    return g_strdup ("no settings file (--config): nothing to read again");
  g_autoptr (KanyanConfig) fresh = config_new_defaults ();
  if (!config_load_file (fresh, cfg->config_file, error))
    return NULL;
  GStrv swap = cfg->holidays;
  cfg->holidays = fresh->holidays;
  fresh->holidays = swap;
  swap = cfg->workdays;
  cfg->workdays = fresh->workdays;
  fresh->workdays = swap;
  cfg->invite_days = fresh->invite_days;
  cfg->notice_ack_days = fresh->notice_ack_days;
  cfg->waiting_room_always = fresh->waiting_room_always;
  cfg->retention_days = fresh->retention_days;
  cfg->min_free_mb = fresh->min_free_mb;
  /* the webhook list: the sender reads it at each pass; what is queued for an endpoint no longer
   * named waits (pending) until the name comes back */
  swap = cfg->webhook_names;
  cfg->webhook_names = fresh->webhook_names;
  fresh->webhook_names = swap;
  swap = cfg->webhook_urls;
  cfg->webhook_urls = fresh->webhook_urls;
  fresh->webhook_urls = swap;
  swap = cfg->webhook_secrets;
  cfg->webhook_secrets = fresh->webhook_secrets;
  fresh->webhook_secrets = swap;
  cfg->webhook_retry_base_ms = fresh->webhook_retry_base_ms;
  cfg->webhook_retry_cap_ms = fresh->webhook_retry_cap_ms;
  cfg->webhook_max_attempts = fresh->webhook_max_attempts;
  gboolean moved = g_strcmp0 (fresh->tls_cert, cfg->tls_cert) != 0 || g_strcmp0 (fresh->tls_key, cfg->tls_key) != 0;
  return g_strdup_printf ("%s reloaded: [calendar], [invites] valid_days, [archive] retention_days and min_free_mb, [webhooks]%s",
                          cfg->config_file, moved ? "; [server] tls_cert/tls_key name other files now, which only a "
                          "restart takes (a reload reads the files the server started with again)" : "");
}

gchar *
config_public_url (const KanyanConfig *cfg)
{
  if (cfg->public_url && *cfg->public_url)
    return g_strdup (cfg->public_url);
  return g_strdup_printf ("%s://localhost:%d", cfg->tls ? "https" : "http", cfg->port);
}

const gchar *
config_timezone (const KanyanConfig *cfg)
{
  if (cfg->timezone)
    return cfg->timezone;
  /* the local zone's name: $TZ, else what /etc/localtime names (GLib resolves it once) */
  static gchar *local = NULL;
  if (g_once_init_enter (&local)) {
    GTimeZone *tz = g_time_zone_new_local ();
    const gchar *name = g_time_zone_get_identifier (tz);
    gchar *value = g_strdup (name && *name && *name != ':' && *name != '/' ? name : "UTC");
    g_time_zone_unref (tz);
    g_once_init_leave (&local, value);
  }
  return local;
}

/* one g_free per owned field, like every free function of a row or a parsed message here: kept
 * per struct (a generic freer would hide which fields each struct owns) */
void
config_free (KanyanConfig *cfg)
{
  if (!cfg)
    return;
  g_free (cfg->config_file);
  g_free (cfg->data_dir);
  g_free (cfg->recordings_dir);
  g_free (cfg->web_dir);
  g_free (cfg->pipelines_dir);
  g_free (cfg->bind_address);
  g_free (cfg->tls_cert);
  g_free (cfg->tls_key);
  g_free (cfg->public_url);
  g_strfreev (cfg->ice_addresses);
  g_strfreev (cfg->holidays);
  g_strfreev (cfg->workdays);
  g_strfreev (cfg->stun_servers);
  g_strfreev (cfg->turn_servers);
  g_free (cfg->turn_username);
  g_free (cfg->turn_password);
  g_free (cfg->turn_secret);
  g_strfreev (cfg->public_addresses);
  g_free (cfg->metrics_token);
  g_free (cfg->metrics_bind);
  g_strfreev (cfg->webhook_names);
  g_strfreev (cfg->webhook_urls);
  g_strfreev (cfg->webhook_secrets);
  g_free (cfg->timezone);
  g_free (cfg->language);
  g_free (cfg);
}

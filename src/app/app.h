/* app.h — the one application context (KanyanApp) passed explicitly everywhere,
 * and the settings it carries. Owns nothing itself: app.c creates and frees it. */
#pragma once
#include <glib.h>
#include <sqlite3.h>

typedef struct _KanyanHttp KanyanHttp;
typedef struct _Room Room;
typedef struct _LivePort LivePort;

typedef struct {
  gchar   *config_file;     /* the settings file it was read from (SIGHUP reads it again); NULL: none */
  gchar   *data_dir;        /* SQLite database, TLS certificate */
  gchar   *recordings_dir;  /* media root */
  gchar   *web_dir;         /* static pages */
  gchar   *pipelines_dir;   /* GStreamer pipeline descriptions */
  gchar   *bind_address;    /* HTTP listen address, NULL = all */
  gint     port;
  gboolean tls;
  gchar   *tls_cert;        /* NULL = self-signed in data_dir */
  gchar   *tls_key;
  gchar   *public_url;      /* base of invite links; NULL = derived from port/tls */
  gchar  **ice_addresses;   /* local addresses ICE gathers on; NULL = all */
  gint     ice_port_min, ice_port_max;
  gint     jitter_latency_ms;
  gint     viewer_answer_timeout_s;
  gint     publisher_connect_timeout_s; /* a WHIP publisher whose ICE does not connect in time is dropped */
  gint     room_linger_s;     /* an empty live inspection waits this long for its applicant to come back */
  gint     invite_days;
  gboolean waiting_room_always; /* [bureau] waiting_room = always: every case's page waits, not only a booked one's */
  gint     notice_ack_days;   /* [bureau] notice_ack_days: a notice unacknowledged this many working days is flagged */
  gchar  **holidays;          /* [calendar] holidays: weekdays that are not working days */
  gchar  **workdays;          /* [calendar] workdays: weekend days that are (调休) */
  gint     retention_days;    /* [archive] retention_days: media kept this long after the decision; 0 = forever */
  gint     min_free_mb;       /* [archive] min_free_mb: recording stops (an alert, "disk_full") when the
                               * recordings volume has less free, and starts again above it */
  gint     request_timeout_s;   /* [server] a whole HTTP request (headers and body) must arrive within this */
  gint     ws_join_timeout_s;   /* [server] a WebSocket that has not joined a case by then is closed */
  gint     ws_ping_interval_s;  /* [server] a silent WebSocket is pinged after this; hung up after twice it */
  gint     max_ws_per_ip;       /* [server] open WebSockets from one address */
  gint     max_ws_per_account;  /* [server] live connections of one reviewer account */
  gint     max_participants_per_case; /* [server] people in one live inspection */
  gboolean demo;              /* serve --demo: show the demo logins on the login page (make run) */
  /* [ice] (ice_servers.c turns these into each peer's ICE servers) */
  gchar  **stun_servers;      /* "stun:host[:port]" URIs */
  gchar  **turn_servers;      /* "turn:" / "turns:" URIs, optionally "?transport=udp|tcp" */
  gchar   *turn_username;     /* static TURN credentials … */
  gchar   *turn_password;
  gchar   *turn_secret;       /* … or coturn's use-auth-secret shared secret (wins over static) */
  gint     turn_ttl_s;        /* lifetime of a credential computed from turn_secret */
  gchar  **public_addresses;  /* 1:1 NAT: "PUBLIC" or "PRIVATE=PUBLIC" per entry */
  gboolean keep_private;      /* with public_addresses: advertise the private host candidate too */
  gboolean ice_tcp;           /* passive ICE-TCP host candidates (ports from [media] ice_port_min..max, TCP) */
  /* [media] the phone's bitrate follows the slowest reviewer (uplink_cap.c) unless favour =
   * recording; never asked below min_bitrate_kbps */
  gboolean favour_recording;
  gint     min_bitrate_kbps;
  gint     start_bitrate_kbps; /* [media] what a browser publisher starts at (the answer says so); 0: its own */
  gint     audio_first_kbps;  /* [media] the applicant's page sends sound first, the picture at its
                               * lowest, while its uplink estimate stays under this */
  gchar   *metrics_token;     /* [metrics] token: GET /metrics wants "Authorization: Bearer" it; NULL: open */
  gchar   *metrics_bind;      /* [metrics] bind: "127.0.0.1:9464" serves /metrics there instead of publicly */
  /* [webhooks] endpoints = NAME;… each with a [webhook:NAME] url and secret (webhooks.c) */
  gchar  **webhook_names;
  gchar  **webhook_urls;      /* parallel to webhook_names */
  gchar  **webhook_secrets;
  gint     webhook_retry_base_ms; /* first retry after this; doubled each time … */
  gint     webhook_retry_cap_ms;  /* … up to this */
  gint     webhook_max_attempts;  /* then the delivery is dead (an admin may retry it) */
  gint     webhook_timeout_s;     /* one POST */
  /* [bureau] how the bureau's pages and reports speak */
  gchar   *timezone;          /* IANA zone ("Asia/Shanghai") times are shown in; NULL: the server's local zone */
  gchar   *language;          /* "zh-CN" or "en": what the PDF report is written in unless asked otherwise */
  /* [photos] photo-grade evidence (review/photos.c) */
  gint     photo_max_bytes;     /* a photo larger than this is refused (photo_too_large) */
  gint     photo_request_ttl_s; /* a reviewer's request for a photo can be answered this long */
} KanyanConfig;

typedef struct {
  KanyanConfig *config;
  sqlite3      *db;
  GMainLoop    *loop;
  KanyanHttp   *http;
  GHashTable   *rooms;      /* case ref (gchar*) -> Room*, live inspections in progress (live/rooms.c) */
  guint         next_peer_id;
  gboolean      stopping;
  guint         pending_archives;  /* segments being finalized on worker threads */
  GHashTable   *whip_resources; /* resource id -> WhipResource*, owned by whip.c */
  GHashTable   *whep_resources; /* resource id -> WhepResource*, owned by whep.c */
  const LivePort *live_port;    /* how the domain reaches live inspections (review/live_port.h) */
  GThread      *dtls_prewarm;   /* joined before the process exits: OpenSSL must outlive it */
  gpointer      webhooks;     /* the outbox's sender, owned by archive/webhooks.c */
} KanyanApp;

/* config.c */
KanyanConfig *config_new_defaults (void);
gboolean      config_load_file (KanyanConfig *cfg, const gchar *path, GError **error);
void          config_free (KanyanConfig *cfg);
gchar        *config_public_url (const KanyanConfig *cfg);
/* [bureau] timezone, or the name of the server's local zone (never NULL; "UTC" when it has none) */
const gchar  *config_timezone (const KanyanConfig *cfg);
/* SIGHUP: reads config_file again over the defaults and, when it loads whole, takes over what a
 * running server may change: [calendar] holidays and workdays, [invites] valid_days, [archive]
 * retention_days and min_free_mb, [webhooks] (but timeout_s). Returns what it did, in words; NULL and error (nothing
 * changed) when the file does not load. Everything else needs a restart. */
gchar        *config_reload (KanyanConfig *cfg, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KanyanConfig, config_free)

/* app.c */
KanyanApp *app_new (KanyanConfig *config, GError **error);   /* opens the database */
gboolean   app_serve (KanyanApp *app, GError **error);       /* runs until SIGINT/SIGTERM */
void       app_free (KanyanApp *app);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KanyanApp, app_free)

#define KANYAN_VERSION "0.1.0"

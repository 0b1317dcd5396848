/* main.c — the command line: `kanyan serve`, `kanyan case add|list`, `kanyan backup|restore`…. Parses options with
 * GOption, layers config file then flags over the defaults, and hands over to app.c. */
#include "app/app.h"
#include "store/db.h"
#include "review/cases.h"
#include "web/qr.h"
#include "archive/archive.h"
#include "review/audit.h"
#include "review/users.h"
#include "media/ice_servers.h"
#include "media/media_debug.h"
#include "archive/retention.h"
#include "archive/export.h"
#include "archive/backup.h"
#include "app/journal.h"
#include "app/cli_slots.h"
#include "app/crash.h"
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <locale.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "core/errors.h"
#include "archive/signing.h"
#include "review/login_guard.h"
#include "review/watch.h"
#include "review/serialize.h"
#include "core/json_out.h"

#define FIRST_ADMIN_FILE "admin-password.txt"

typedef struct {
  gchar   *config_file;
  gchar   *data_dir;
  gchar   *recordings_dir;
  gchar   *web_dir;
  gchar   *pipelines_dir;
  gchar   *public_url;
  gchar   *bind;
  gchar  **ice_addresses;
  gchar  **stun_servers;
  gchar  **turn_servers;
  gchar  **public_addresses;
  gint     port;
  gboolean no_tls;
} CommonOptions;

static GOptionEntry *
common_entries (CommonOptions *o)
{
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &o->config_file, "Settings file (GKeyFile)", "FILE" },
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &o->data_dir, "Database and certificate directory (default ./data)", "DIR" },
    { "recordings", 'r', 0, G_OPTION_ARG_FILENAME, &o->recordings_dir, "Recordings root (default ./recordings)", "DIR" },
    { "web-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->web_dir, "Static pages (default ./web)", "DIR" },
    { "pipelines-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->pipelines_dir, "Pipeline descriptions (default ./pipelines)", "DIR" },
    { "public-url", 0, 0, G_OPTION_ARG_STRING, &o->public_url, "Base URL of invite links, e.g. https://192.168.1.5:8443", "URL" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &o->port, "HTTP(S) port (default 8443)", "N" },
    { "bind", 0, 0, G_OPTION_ARG_STRING, &o->bind, "Listen address (default all)", "ADDR" },
    { "ice-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->ice_addresses, "Local address ICE gathers on (repeatable; default all)", "ADDR" },
    { "stun-server", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->stun_servers, "STUN server URI, e.g. stun:stun.example.org:3478 (repeatable; [ice] stun_servers)", "URI" },
    { "turn-server", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->turn_servers, "TURN server URI, e.g. turn:turn.example.org:3478?transport=udp (repeatable; credentials in [ice])", "URI" },
    { "public-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->public_addresses, "1:1 NAT: public address advertised for host candidates, PUBLIC or PRIVATE=PUBLIC (repeatable)", "ADDR" },
    { "no-tls", 0, 0, G_OPTION_ARG_NONE, &o->no_tls, "Plain HTTP (tests, or behind a TLS proxy)", NULL },
    { NULL },
  };
  return g_memdup2 (entries, sizeof entries);
}

static void
replace (gchar **slot, gchar *value)
{
  if (value) {
    g_free (*slot);
    *slot = g_strdup (value);
  }
}

static KanyanConfig *
build_config (CommonOptions *o, GError **error)
{
  g_autoptr (KanyanConfig) cfg = config_new_defaults ();
  if (o->config_file && !config_load_file (cfg, o->config_file, error))
    return NULL;
  replace (&cfg->config_file, o->config_file);
  replace (&cfg->data_dir, o->data_dir);
  replace (&cfg->recordings_dir, o->recordings_dir);
  replace (&cfg->web_dir, o->web_dir);
  replace (&cfg->pipelines_dir, o->pipelines_dir);
  replace (&cfg->public_url, o->public_url);
  replace (&cfg->bind_address, o->bind);
  if (o->ice_addresses) {
    g_strfreev (cfg->ice_addresses);
    cfg->ice_addresses = g_strdupv (o->ice_addresses);
  }
  struct { gchar **from; gchar ***to; } lists[] = {
    { o->stun_servers, &cfg->stun_servers }, { o->turn_servers, &cfg->turn_servers },
    { o->public_addresses, &cfg->public_addresses },
  };
  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    if (lists[i].from) {
      g_strfreev (*lists[i].to);
      *lists[i].to = g_strdupv (lists[i].from);
    }
  if (!ice_servers_check_config (cfg, error))
    return NULL;
  if (o->port)
    cfg->port = o->port;
  if (o->no_tls)
    cfg->tls = FALSE;
  return g_steal_pointer (&cfg);
}

static gboolean
parse (int *argc, char ***argv, const gchar *usage, const gchar *summary, CommonOptions *o,
       GOptionEntry *extra, GError **error)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (usage);
  g_option_context_set_summary (ctx, summary);
  g_autofree GOptionEntry *common = common_entries (o);
  g_option_context_add_main_entries (ctx, common, NULL);
  if (extra)
    g_option_context_add_main_entries (ctx, extra, NULL);
  return g_option_context_parse (ctx, argc, argv, error);
}

/* First start: one admin. Its password goes to a file only its owner can read (mode 0600) in
 * the data directory, never to stdout, which a service manager keeps in its journal. */
static gboolean
create_first_admin (KanyanApp *app, GError **error)
{
  g_autofree gchar *password = users_random_password ();
  g_autofree gchar *path = g_build_filename (app->config->data_dir, FIRST_ADMIN_FILE, NULL);
  g_autofree gchar *text = g_strdup_printf ("username: admin\npassword: %s\n", password);
  g_unlink (path);   /* a stale one from an earlier database */
  gint fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  gboolean written = fd >= 0 && write (fd, text, strlen (text)) == (gssize) strlen (text) && fsync (fd) == 0;
  if (fd >= 0)
    close (fd);
  sodium_memzero (text, strlen (text));
  if (!written) {
    g_unlink (path);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot write %s: %s", path, g_strerror (errno));
    return FALSE;
  }
  g_autoptr (User) admin = users_add (app->db, "admin", password, "admin", "", error);
  if (!admin) {
    g_unlink (path);
    return FALSE;
  }
  audit_note (app->db, "serve", "user.created", "", "username", "admin", "role", "admin", NULL);
  g_print ("First start: created the account 'admin'; its one-time password is in %s (mode 0600).\n"
           "Sign in, change it (kanyan user passwd -u admin) and delete that file.\n", path);
  return TRUE;
}

static int
cmd_serve (int argc, char **argv)
{
  CommonOptions o = { 0 };
  g_autoptr (GError) error = NULL;
  crash_report_install ();   /* a backtrace in the log if it dies of a fatal signal */
  journal_install ();   /* under systemd: the journal, with KANYAN_CASE_REF / KANYAN_PEER fields */
  gst_init (&argc, &argv);
  media_debug_init ();   /* GST_DEBUG=kanyan-relay:6 … (media/media_debug.h) */
  if (!parse (&argc, &argv, "- run the server", "Serves the pages, the API, WebSocket signaling and WHIP.", &o, NULL, &error)) {
    g_printerr ("kanyan serve: %s\n", error->message);
    return 2;
  }
  KanyanConfig *cfg = build_config (&o, &error);
  if (!cfg) {
    g_printerr ("kanyan serve: %s\n", error->message);
    return 2;
  }
  g_autoptr (KanyanApp) app = app_new (cfg, &error);
  if (app && users_count (app->db) == 0 && !create_first_admin (app, &error)) {
    g_printerr ("kanyan serve: %s\n", error->message);
    return 1;
  }
  g_autofree gchar *public_key = app ? signing_public_hex (cfg->data_dir, &error) : NULL;   /* made on first start */
  if (app && !public_key) {
    g_printerr ("kanyan serve: %s\n", error->message);
    return 1;
  }
  if (public_key)
    g_message ("bundles are signed with the Ed25519 key %s", public_key);
  gboolean served = app && app_serve (app, &error);
  if (app)
    login_guard_flush (app->db);   /* the failed logins still being counted */
  if (!served) {
    g_printerr ("kanyan serve: %s\n", error->message);
    config_free (cfg);
    return 1;
  }
  config_free (cfg);
  return 0;
}

static int
cmd_case (int argc, char **argv)
{
  CommonOptions o = { 0 };
  gchar *ref = NULL, *type = NULL, *owner = NULL, *applicant = NULL, *phone = NULL, *address = NULL, *site = NULL;
  gchar **co_reviewers = NULL, *out = NULL, *ttl = NULL, *at = NULL;
  gboolean json = FALSE, qr = FALSE;
  gint minutes = 0;
  GOptionEntry extra[] = {
    { "ref", 0, 0, G_OPTION_ARG_STRING, &ref, "Case reference (add, invite, revoke, assign)", "REF" },
    { "type", 0, 0, G_OPTION_ARG_STRING, &type, "Case type key: fuel-retail, food-business (add)", "KEY" },
    { "owner", 0, 0, G_OPTION_ARG_STRING, &owner, "The owning reviewer's username (add, assign)", "USER" },
    { "co-reviewer", 0, 0, G_OPTION_ARG_STRING_ARRAY, &co_reviewers, "A co-reviewer's username; repeatable (add, assign)", "USER" },
    { "applicant", 0, 0, G_OPTION_ARG_STRING, &applicant, "The applicant's name (add)", "NAME" },
    { "phone", 0, 0, G_OPTION_ARG_STRING, &phone, "The applicant's phone (add)", "PHONE" },
    { "address", 0, 0, G_OPTION_ARG_STRING, &address, "The site's address (add)", "TEXT" },
    { "site", 0, 0, G_OPTION_ARG_STRING, &site, "The site's coordinates (add)", "LAT,LON" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Where to write the bundle (export)", "FILE.zip" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "qr", 0, 0, G_OPTION_ARG_NONE, &qr, "Also print the invite as a QR code (add, invite)", NULL },
    { "ttl", 0, 0, G_OPTION_ARG_STRING, &ttl, "How long the viewing token lives: 2h, 90m, 1h30m (watch-token; default 2h)", "TIME" },
    { "at", 0, 0, G_OPTION_ARG_STRING, &at, "When the slot begins, the bureau's time (slot add)", "\"YYYY-MM-DD HH:MM\"" },
    { "minutes", 0, 0, G_OPTION_ARG_INT, &minutes, "How long the slot lasts (slot add; default 30)", "N" },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  if (!parse (&argc, &argv, "add|invite|revoke|assign|export|watch-token|list - manage cases",
              "add: creates a case and prints its applicant invite.\ninvite: issues a new invite for a case.\n"
              "assign: sets the owner (--owner) and adds co-reviewers (--co-reviewer).\n"
              "export: writes the case as one ZIP bundle (report, recordings, stills, audit entries).\n"
              "revoke: revokes every live invite of a case (a connected applicant stays until it leaves).\n"
              "watch-token: issues a WHEP viewing token for the case's live inspection (--ttl, docs/whep.md).\n"
              "slot add|list: offers an inspection slot (--at, --minutes) or lists the case's slots.\n"
              "list: lists the cases.", &o, extra, &error)) {
    g_printerr ("kanyan case: %s\n", error->message);
    return 2;
  }
  const gchar *verb = argc > 1 ? argv[1] : NULL;
  if (g_strcmp0 (verb, "add") != 0 && g_strcmp0 (verb, "list") != 0 && g_strcmp0 (verb, "invite") != 0 &&
      g_strcmp0 (verb, "revoke") != 0 && g_strcmp0 (verb, "assign") != 0 && g_strcmp0 (verb, "export") != 0 &&
      g_strcmp0 (verb, "watch-token") != 0 && g_strcmp0 (verb, "slot") != 0) {
    g_printerr ("kanyan case: say 'add', 'invite', 'revoke', 'assign', 'export', 'watch-token' or 'list' (see --help)\n");
    return 2;
  }
  g_autoptr (KanyanConfig) cfg = build_config (&o, &error);
  g_autoptr (KanyanApp) app = cfg ? app_new (cfg, &error) : NULL;
  if (!app) {
    g_printerr ("kanyan case: %s\n", error->message);
    return 1;
  }
  if (g_strcmp0 (verb, "list") == 0) {
    g_autoptr (GPtrArray) rows = store_case_list (app->db);
    for (guint i = 0; i < rows->len; i++) {
      CaseRow *row = g_ptr_array_index (rows, i);
      g_print ("%s\t%s\t%s\t%s\t%s\n", row->ref, row->type_key, row->status, *row->owner ? row->owner : "-",
               row->deadline_on);
    }
    return 0;
  }
  if (g_strcmp0 (verb, "slot") == 0)
    return cli_case_slot (app, argc > 2 ? argv[2] : NULL, ref, at, minutes, json);
  if (g_strcmp0 (verb, "revoke") == 0) {
    g_autoptr (CaseRow) row = ref ? store_case_get (app->db, ref, &error) : NULL;
    if (!row) {
      g_printerr ("kanyan case revoke: %s\n", error ? error->message : "--ref is required");
      return error ? 1 : 2;
    }
    g_print ("%d invite(s) of case %s revoked\n", cases_revoke_invites (app->db, "cli", row), row->ref);
    return 0;
  }
  if (g_strcmp0 (verb, "watch-token") == 0) {
    gint64 ttl_s = ttl ? watch_ttl_parse (ttl) : WATCH_TTL_DEFAULT_S;
    if (ttl_s < 1) {
      g_printerr ("kanyan case watch-token: --ttl takes a time up to 24h, e.g. 2h, 90m, 1h30m\n");
      return 2;
    }
    g_autoptr (CaseRow) row = ref ? store_case_get (app->db, ref, &error) : NULL;
    g_autoptr (WatchToken) t = row ? watch_token_issue (app->db, "cli", row, ttl_s, &error) : NULL;
    if (!t) {
      g_printerr ("kanyan case watch-token: %s\n", error ? error->message : "--ref is required");
      return error ? 1 : 2;
    }
    if (json) {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      watch_token_to_json (b, t, row);
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      g_autofree gchar *text = json_to_string (root, FALSE);
      g_print ("%s\n", text);
    } else {
      g_print ("viewing token %" G_GINT64_FORMAT " for case %s (WHEP: POST /whep/%s)\ntoken: %s\n", t->id, row->ref,
               row->ref, t->token);
    }
    return 0;
  }
  if (g_strcmp0 (verb, "export") == 0) {
    g_autoptr (CaseRow) row = ref && out ? store_case_get (app->db, ref, &error) : NULL;
    if (!row || !export_case_bundle (app, row, "cli", out, &error)) {
      g_printerr ("kanyan case export: %s\n", error ? error->message : "--ref and --out are required");
      return error ? 1 : 2;
    }
    g_print ("case %s exported to %s\n", row->ref, out);
    return 0;
  }
  if (g_strcmp0 (verb, "assign") == 0) {
    g_autoptr (CaseRow) row = ref ? store_case_get (app->db, ref, &error) : NULL;
    if (!row || (owner && !cases_assign (app->db, "cli", row, owner, &error)))
      goto assign_failed;
    for (gchar **u = co_reviewers; u && *u; u++)
      if (!cases_add_reviewer (app->db, "cli", row, *u, &error))
        goto assign_failed;
    g_print ("case %s assigned\n", row->ref);
    return 0;
assign_failed:
    g_printerr ("kanyan case assign: %s\n", error ? error->message : "--ref is required");
    return error ? 1 : 2;
  }
  gboolean adding = g_strcmp0 (verb, "add") == 0;
  if (!ref || (adding && !type)) {
    g_printerr (adding ? "kanyan case add: --ref and --type are required\n" : "kanyan case invite: --ref is required\n");
    return 2;
  }
  CaseFacts facts = { .ref = ref, .type_key = type, .applicant_name = applicant, .applicant_phone = phone,
                      .site_address = address };
  if (site && sscanf (site, "%lf,%lf", &facts.site_lat, &facts.site_lon) != 2) {
    g_printerr ("kanyan case add: --site takes LAT,LON in degrees, e.g. 31.2304,121.4737\n");
    return 2;
  }
  facts.has_site = site != NULL;
  g_autoptr (CaseRow) row = adding ? cases_create (app->db, cfg, "cli", &facts, owner, &error)
                                   : store_case_get (app->db, ref, &error);
  for (gchar **u = co_reviewers; row && adding && u && *u; u++)
    if (!cases_add_reviewer (app->db, "cli", row, *u, &error))
      g_clear_pointer (&row, case_row_free);
  g_autoptr (Invite) invite = row ? cases_issue_invite (app->db, "cli", cfg, row, &error) : NULL;
  if (!invite) {
    g_printerr ("kanyan case add: %s\n", error->message);
    return 1;
  }
  if (json) {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    json_builder_begin_object (b);
    case_members (b, row, CASE_JSON_TYPE, NULL);
    json_out_str (b, "invite_url", invite->url);
    json_out_str (b, "token", invite->token);
    json_out_int (b, "expires_at", invite->expires_at);
    json_out_str (b, "short_code", invite->short_code);
    json_out_str (b, "short_url", invite->short_url);
    json_builder_end_object (b);
    g_autoptr (JsonNode) root = json_builder_get_root (b);
    g_autofree gchar *text = json_to_string (root, FALSE);
    g_print ("%s\n", text);
  } else {
    g_print ("case %s (%s)%s\ninvite URL: %s\nshort link: %s\ntoken: %s\n", row->ref, row->type_title_en,
             adding ? " created" : "", invite->url, invite->short_url, invite->token);
  }
  if (qr) {
    g_autofree gchar *art = qr_terminal (invite->url);
    if (art) {   /* UTF-8 as it is: g_print would turn it into '?' under a C locale */
      fflush (stdout);
      fputs (art, stdout);
    }
  }
  return 0;
}

static void
print_purge (const gchar *kind, const gchar *case_ref, const gchar *path, gpointer data)
{
  g_print ("%s%s\t%s\t%s\n", (const gchar *) data, kind, case_ref, path);
}

static int
cmd_archive_purge (int argc, char **argv)
{
  CommonOptions o = { 0 };
  gboolean dry_run = FALSE;
  GOptionEntry extra[] = {
    { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run, "Only list what would be deleted", NULL },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  if (!parse (&argc, &argv, "purge - delete media past its retention period",
              "Deletes the recordings and evidence stills of cases finally decided (approved, or rejected\n"
              "with a countersignature) more than [archive] retention_days ago. Each deletion is an audit\n"
              "entry; the rows and hashes stay, so the audit chain still verifies. The server also does this\n"
              "once a day.", &o, extra, &error)) {
    g_printerr ("kanyan archive purge: %s\n", error->message);
    return 2;
  }
  g_autoptr (KanyanConfig) cfg = build_config (&o, &error);
  g_autoptr (KanyanApp) app = cfg ? app_new (cfg, &error) : NULL;
  if (!app) {
    g_printerr ("kanyan archive purge: %s\n", error->message);
    return 1;
  }
  guint n = retention_purge (app->db, cfg, "cli", dry_run, print_purge, dry_run ? "would delete " : "deleted ");
  g_print ("%u file(s) %s (retention: %d days after the decision)\n", n, dry_run ? "listed" : "deleted",
           cfg->retention_days);
  return 0;
}

static int
cmd_archive (int argc, char **argv)
{
  if (argc > 1 && g_strcmp0 (argv[1], "purge") == 0)
    return cmd_archive_purge (argc, argv);
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object per file", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("finalize FILE… - archive recording segments");
  g_option_context_set_summary (ctx, "finalize: remuxes Matroska segments into seekable archives (MP4 for H.264,\n"
                                "WebM for VP8) without transcoding, salvaging what a crash left readable;\n"
                                "the source is deleted once its archive reads back whole.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc < 3 || g_strcmp0 (argv[1], "finalize") != 0) {
    g_printerr ("kanyan archive: %s\n", error ? error->message : "say 'finalize FILE…' (see --help)");
    return 2;
  }
  int status = 0;
  for (int i = 2; i < argc; i++) {
    g_autoptr (GError) file_error = NULL;
    g_autoptr (ArchiveResult) r = archive_finalize_file (argv[i], &file_error);
    if (!r) {
      g_printerr ("kanyan archive: %s\n", file_error->message);
      status = 1;
      continue;
    }
    if (json) {   /* a JSON builder, never printf: a file name may hold a quote */
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_out_str (b, "source", argv[i]);
      json_out_bool (b, "empty", r->empty);
      json_out_str (b, "archive", r->archive_path);
      json_out_str (b, "sha256", r->sha256);
      json_out_int (b, "bytes", r->bytes);
      json_out_int (b, "duration_ms", r->duration_ms);
      json_out_int (b, "packets", r->packets);
      json_out_bool (b, "salvaged", r->salvaged);
      json_builder_end_object (b);
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      g_autofree gchar *text = json_to_string (root, FALSE);
      g_print ("%s\n", text);
    }
    else if (r->empty)
      g_print ("%s: no media, removed\n", argv[i]);
    else
      g_print ("%s -> %s (%" G_GINT64_FORMAT " ms, %u packets%s) sha256 %s\n", argv[i], r->archive_path,
               r->duration_ms, r->packets, r->salvaged ? ", salvaged" : "", r->sha256);
  }
  return status;
}

static int
cmd_audit (int argc, char **argv)
{
  CommonOptions o = { 0 };
  gchar *ref = NULL, *bundle = NULL, *pubkey = NULL;
  GOptionEntry extra[] = {
    { "case", 0, 0, G_OPTION_ARG_STRING, &ref, "Only this case's entries", "REF" },
    { "bundle", 0, 0, G_OPTION_ARG_FILENAME, &bundle, "Verify an exported case bundle (no database needed)", "FILE.zip" },
    { "pubkey", 0, 0, G_OPTION_ARG_STRING, &pubkey, "The issuing server's public key (`kanyan audit pubkey` there), "
      "or a file holding it (verify --bundle)", "KEY" },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  if (!parse (&argc, &argv, "verify|list|pubkey - the audit log",
              "verify: recomputes the hash chain; names the first entry that does not match (exit 1).\n"
              "verify --bundle FILE [--pubkey KEY]: checks an exported bundle on any machine: the manifest's\n"
              "Ed25519 signature (by KEY when given), every file listed with its SHA-256 and nothing else,\n"
              "the audit entries as an unbroken chain between the signed first and last entries, and each\n"
              "file is the one the audit log recorded (exit 1 naming what is wrong).\n"
              "pubkey: prints this server's public signing key (made on first use, kept in the data dir).\n"
              "list: prints the entries.", &o, extra, &error)) {
    g_printerr ("kanyan audit: %s\n", error->message);
    return 2;
  }
  const gchar *verb = argc > 1 ? argv[1] : NULL;
  if (g_strcmp0 (verb, "verify") != 0 && g_strcmp0 (verb, "list") != 0 && g_strcmp0 (verb, "pubkey") != 0) {
    g_printerr ("kanyan audit: say 'verify', 'list' or 'pubkey' (see --help)\n");
    return 2;
  }
  if (bundle && g_strcmp0 (verb, "verify") == 0) {
    g_autofree gchar *key_text = NULL;
    if (pubkey && !signing_public_key_valid (pubkey) && g_file_get_contents (pubkey, &key_text, NULL, NULL))
      pubkey = g_strstrip (key_text);   /* a file holding the key */
    if (!export_verify_bundle (bundle, pubkey, stdout, &error)) {
      g_print ("bundle %s FAILS verification: %s\n", bundle, error->message);
      return 1;
    }
    g_print ("bundle %s verifies\n", bundle);
    return 0;
  }
  if (g_strcmp0 (verb, "pubkey") == 0) {
    g_autoptr (KanyanConfig) cfg = build_config (&o, &error);
    g_autofree gchar *key = cfg ? signing_public_hex (cfg->data_dir, &error) : NULL;
    if (!key) {
      g_printerr ("kanyan audit pubkey: %s\n", error->message);
      return 1;
    }
    g_print ("%s\n", key);
    return 0;
  }
  g_autoptr (KanyanConfig) cfg = build_config (&o, &error);
  g_autoptr (KanyanApp) app = cfg ? app_new (cfg, &error) : NULL;
  if (!app) {
    g_printerr ("kanyan audit: %s\n", error->message);
    return 1;
  }
  if (g_strcmp0 (verb, "list") == 0) {
    audit_print (app->db, ref, stdout);
    return 0;
  }
  gint64 bad = 0, checked = 0;
  if (!audit_verify (app->db, ref, &bad, &checked, &error)) {
    if (error) {
      g_printerr ("kanyan audit: %s\n", error->message);
      return 1;
    }
    g_print ("audit chain BROKEN at entry %" G_GINT64_FORMAT ": its content or link does not match its hash\n", bad);
    return 1;
  }
  g_print ("audit chain intact: %" G_GINT64_FORMAT " entries%s%s\n", checked, ref ? " of case " : "", ref ? ref : "");
  return 0;
}

static int
cmd_user (int argc, char **argv)
{
  CommonOptions o = { 0 };
  gchar *username = NULL, *role = NULL, *department = NULL;
  gboolean from_stdin = FALSE;
  GOptionEntry extra[] = {
    { "username", 'u', 0, G_OPTION_ARG_STRING, &username, "The account (add, passwd, disable)", "NAME" },
    { "role", 0, 0, G_OPTION_ARG_STRING, &role, "admin, reviewer, lead, auditor or clerk (add)", "ROLE" },
    { "department", 0, 0, G_OPTION_ARG_STRING, &department, "The reviewer's department (add)", "NAME" },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &from_stdin, "Read the password from standard input "
      "(otherwise a random one is made and printed once)", NULL },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  if (!parse (&argc, &argv, "add|passwd|list|disable - accounts",
              "Passwords are stored as Argon2id hashes; a disabled account's sessions end at once.", &o, extra, &error)) {
    g_printerr ("kanyan user: %s\n", error->message);
    return 2;
  }
  /* the verb check and the app opening have the shape of cmd_case's: each command names its own
   * verbs and says its own name in its messages */
  const gchar *verb = argc > 1 ? argv[1] : "";
  gboolean needs_name = g_strcmp0 (verb, "list") != 0;
  if ((g_strcmp0 (verb, "add") != 0 && g_strcmp0 (verb, "passwd") != 0 && g_strcmp0 (verb, "list") != 0 &&
       g_strcmp0 (verb, "disable") != 0) || (needs_name && !username)) {
    g_printerr ("kanyan user: say add|passwd|list|disable, with --username (see --help)\n");
    return 2;
  }
  g_autoptr (KanyanConfig) cfg = build_config (&o, &error);
  g_autoptr (KanyanApp) app = cfg ? app_new (cfg, &error) : NULL;
  if (!app) {
    g_printerr ("kanyan user: %s\n", error->message);
    return 1;
  }
  if (g_strcmp0 (verb, "list") == 0) {
    g_autoptr (GPtrArray) users = users_list (app->db);
    for (guint i = 0; i < users->len; i++) {
      User *u = g_ptr_array_index (users, i);
      g_print ("%s\t%s\t%s\t%s\n", u->username, u->role, u->department, u->disabled ? "disabled" : "active");
    }
    return 0;
  }
  if (g_strcmp0 (verb, "disable") == 0) {
    if (!users_disable (app->db, username, &error)) {
      g_printerr ("kanyan user disable: %s\n", error->message);
      return 1;
    }
    audit_note (app->db, "cli", "user.disabled", "", "username", username, NULL);
    return 0;
  }
  g_autofree gchar *password = NULL;
  if (from_stdin) {
    gchar line[512];
    if (!fgets (line, sizeof line, stdin)) {
      g_printerr ("kanyan user: no password on standard input\n");
      return 2;
    }
    password = g_strdup (g_strchomp (line));
  } else {
    password = users_random_password ();
  }
  gboolean ok;
  if (g_strcmp0 (verb, "add") == 0) {
    g_autoptr (User) user = users_add (app->db, username, password, role, department, &error);
    ok = user != NULL;
    if (ok)
      audit_note (app->db, "cli", "user.added", "", "username", username, "role", role, NULL);
  } else {
    ok = users_set_password (app->db, username, password, &error);
    if (ok)
      audit_note (app->db, "cli", "user.password_changed", "", "username", username, NULL);
  }
  if (!ok) {
    g_printerr ("kanyan user %s: %s\n", verb, error->message);
    return 1;
  }
  if (!from_stdin)   /* shown once, on the operator's terminal, never logged */
    g_print ("password for %s: %s\n", username, password);
  return 0;
}

/* `kanyan backup --out DIR` / `kanyan restore --from DIR [--force]` (archive/backup.c) */
static int
cmd_backup (int argc, char **argv, gboolean restoring)
{
  CommonOptions o = { 0 };
  gchar *dir = NULL;
  gboolean force = FALSE;
  GOptionEntry backup_extra[] = {
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &dir, "The backup directory (new or empty; made mode 0700)", "DIR" },
    { NULL },
  };
  GOptionEntry restore_extra[] = {
    { "from", 0, 0, G_OPTION_ARG_FILENAME, &dir, "A directory `kanyan backup` wrote", "DIR" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Write over a data or recordings directory that is not empty", NULL },
    { NULL },
  };
  const gchar *name = restoring ? "kanyan restore" : "kanyan backup";
  g_autoptr (GError) error = NULL;
  if (!parse (&argc, &argv, restoring ? "--from DIR - put a backup back" : "--out DIR - a consistent copy of everything",
              restoring ? "Checks the backup first (the manifest, every file's SHA-256 against it and against the\n"
                          "database copy) and writes nothing if anything is wrong; then fills the data and\n"
                          "recordings directories (--data-dir, --recordings or --config), which must be empty unless\n"
                          "--force, and verifies the audit chain. Stop the server on them first."
                        : "Copies the database with SQLite's online backup API (the server may be running, inspections\n"
                          "go on), then the archives, stills and unarchived segments it refers to and the data\n"
                          "directory's keys, each with its SHA-256 in DIR/manifest.json (docs/deploy.md).",
              &o, restoring ? restore_extra : backup_extra, &error)) {
    g_printerr ("%s: %s\n", name, error->message);
    return 2;
  }
  if (!dir) {
    g_printerr ("%s: %s is required (see --help)\n", name, restoring ? "--from" : "--out");
    return 2;
  }
  g_autoptr (KanyanConfig) cfg = build_config (&o, &error);
  BackupSummary sum = { 0 };
  if (!cfg || !(restoring ? backup_restore (cfg, dir, force, &sum, &error) : backup_create (cfg, dir, &sum, &error))) {
    g_printerr ("%s: %s\n", name, error->message);
    return 1;
  }
  if (restoring)
    g_print ("restored %s into %s and %s: the database, %u file(s), %" G_GINT64_FORMAT " bytes; "
             "audit chain intact: %" G_GINT64_FORMAT " entries\n", dir, cfg->data_dir, cfg->recordings_dir, sum.files,
             sum.bytes, sum.audit_entries);
  else
    g_print ("backup written to %s: the database, %u file(s) (%u unarchived segment(s)), %" G_GINT64_FORMAT " bytes\n",
             dir, sum.files, sum.segments, sum.bytes);
  return 0;
}

/* GLib 2.74 (Debian 12) keeps freed slice blocks (every GstBuffer, event and list node) in a
 * cache per thread, and an inspection has ~35 threads: 1.3 MB of 6–7 MB per inspection
 * (bench/README.md, "Levers"). G_SLICE=always-malloc hands them to malloc instead. GLib reads it
 * in its constructor, before main, so `serve` runs itself again once with it set. An operator's
 * own G_SLICE wins; GLib ≥ 2.76 has no slice cache. If the exec fails the server runs as it is. */
static void
serve_with_malloc_slices (char **argv)
{
  if (g_getenv ("G_SLICE") || glib_check_version (2, 76, 0) == NULL)
    return;
  /* the binary's own path, not /proc/self/exe: the process is named after it (ps, journald's _COMM) */
  g_autofree gchar *self = g_file_read_link ("/proc/self/exe", NULL);
  if (!self)
    return;
  g_setenv ("G_SLICE", "always-malloc", TRUE);
  execv (self, argv);
  g_printerr ("kanyan serve: could not re-execute with G_SLICE=always-malloc (%s); going on\n", g_strerror (errno));
}

int
main (int argc, char **argv)
{
  if (argc > 1 && g_strcmp0 (argv[1], "serve") == 0)
    serve_with_malloc_slices (argv);
  /* arguments are UTF-8 (an applicant's name, an address in Chinese), also under the C locale
   * of a service or a container, where GOption would refuse them */
  setlocale (LC_ALL, "");
  if (!g_get_charset (NULL))
    setlocale (LC_CTYPE, "C.UTF-8");
  if (sodium_init () < 0) {
    g_printerr ("kanyan: libsodium does not initialise\n");
    return 1;
  }
  const gchar *command = argc > 1 ? argv[1] : NULL;
  if (g_strcmp0 (command, "serve") == 0)
    return cmd_serve (argc - 1, argv + 1);
  if (g_strcmp0 (command, "case") == 0)
    return cmd_case (argc - 1, argv + 1);
  if (g_strcmp0 (command, "archive") == 0)
    return cmd_archive (argc - 1, argv + 1);
  if (g_strcmp0 (command, "audit") == 0)
    return cmd_audit (argc - 1, argv + 1);
  if (g_strcmp0 (command, "user") == 0)
    return cmd_user (argc - 1, argv + 1);
  if (g_strcmp0 (command, "backup") == 0 || g_strcmp0 (command, "restore") == 0)
    return cmd_backup (argc - 1, argv + 1, g_strcmp0 (command, "restore") == 0);
  FILE *out = command && (g_strcmp0 (command, "--help") == 0 || g_strcmp0 (command, "-h") == 0) ? stdout : stderr;
  fprintf (out, "Usage: kanyan COMMAND [OPTIONS]\n\n"
                "Kanyan — remote video inspection and review server.\n\n"
                "Commands:\n"
                "  serve       run the server (HTTPS, API, signaling, WHIP)\n"
                "  case add    create a case and print its applicant invite\n"
                "  case invite issue a new applicant invite for a case\n"
                "  case revoke revoke every invite of a case\n"
                "  case list   list the cases\n"
                "  case slot add --ref REF --at \"YYYY-MM-DD HH:MM\" [--minutes 30]  offer an inspection slot\n"
                "  archive finalize FILE…  remux recording segments into seekable archives\n"
                "  archive purge [--dry-run]  delete media past its retention period\n"
                "  case export --ref REF --out FILE.zip  the case as one verifiable bundle\n"
                "  audit verify [--case REF]  recompute the audit log's hash chain\n"
                "  audit verify --bundle FILE.zip [--pubkey KEY]  verify an exported bundle (no database needed)\n"
                "  audit pubkey               print the public key that signs exported bundles\n"
                "  audit list [--case REF]    print the audit log\n"
                "  user add|passwd|list|disable  accounts (admin, reviewer, lead, auditor, clerk)\n"
                "  backup --out DIR           a consistent copy while the server runs (database, media, keys)\n"
                "  restore --from DIR [--force]  put a backup back, every file checked\n\n"
                "Each command takes --help.\n");
  return out == stdout ? 0 : 2;
}

/* media_http.c — GET and HEAD /media/recordings/{id} and /media/stills/{id}: an archived recording served from its
 * file with byte ranges (docs/media.md). Owns the Range parser (pure), the check that an
 * archive path resolves inside the recordings root, and the recording.accessed audit entry.
 * Never touches rooms, GStreamer or SQL (store_sessions.c has the query), and never holds a
 * whole file in memory: http.c reads the open file one chunk per writable callback.
 * Runs on the GLib main loop (every lws callback does). */
#include "web/media_http.h"
#include "review/auth.h"
#include "web/http_auth.h"
#include "review/audit.h"
#include "store/db.h"
#include "core/errors.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the Range header (pure) ------------------------------------------------------------ */

static const gchar *
skip_ows (const gchar *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* digits → a number, saturating at G_MAXUINT64; FALSE when there is no digit */
static gboolean
parse_digits (const gchar **pp, guint64 *out)
{
  const gchar *p = *pp;
  guint64 v = 0;
  if (!g_ascii_isdigit (*p))
    return FALSE;
  for (; g_ascii_isdigit (*p); p++) {
    guint d = (guint) (*p - '0');
    v = v > (G_MAXUINT64 - d) / 10 ? G_MAXUINT64 : v * 10 + d;
  }
  *pp = p;
  *out = v;
  return TRUE;
}

typedef enum { SPEC_BAD, SPEC_UNSATISFIABLE, SPEC_OK } SpecResult;

/* one byte-range-spec or suffix-byte-range-spec, [p, stop) with no surrounding blanks */
static SpecResult
parse_spec (const gchar *p, const gchar *stop, guint64 size, guint64 *start, guint64 *end)
{
  guint64 first = 0, last = 0;
  gboolean has_first = parse_digits (&p, &first);
  if (p >= stop || *p != '-')
    return SPEC_BAD;
  p++;
  gboolean has_last = p < stop && parse_digits (&p, &last);
  if (p != stop || (!has_first && !has_last))
    return SPEC_BAD;
  if (!has_first) {                        /* -n: the last n bytes */
    if (last == 0 || size == 0)
      return SPEC_UNSATISFIABLE;
    *start = size - MIN (last, size);
    *end = size - 1;
    return SPEC_OK;
  }
  if (has_last && last < first)
    return SPEC_BAD;
  if (first >= size)
    return SPEC_UNSATISFIABLE;
  *start = first;
  *end = has_last ? MIN (last, size - 1) : size - 1;
  return SPEC_OK;
}

MediaRange
media_parse_range (const gchar *header, guint64 size, guint64 *start, guint64 *end)
{
  guint64 whole_end = size ? size - 1 : 0;
  if (!header) {
    *start = 0;
    *end = whole_end;
    return MEDIA_RANGE_NONE;
  }
  const gchar *p = skip_ows (header);
  if (g_ascii_strncasecmp (p, "bytes", 5) != 0)
    return MEDIA_RANGE_MALFORMED;
  p = skip_ows (p + 5);
  if (*p != '=')
    return MEDIA_RANGE_MALFORMED;
  p++;
  guint specs = 0, satisfiable = 0;
  guint64 s0 = 0, e0 = 0;
  while (TRUE) {                           /* a comma-separated list; empty elements are allowed */
    p = skip_ows (p);
    const gchar *stop = p;
    while (*stop && *stop != ',' && *stop != ' ' && *stop != '\t')
      stop++;
    if (stop > p) {
      guint64 s = 0, e = 0;
      SpecResult r = parse_spec (p, stop, size, &s, &e);
      if (r == SPEC_BAD)
        return MEDIA_RANGE_MALFORMED;
      specs++;
      if (r == SPEC_OK && satisfiable++ == 0) {
        s0 = s;
        e0 = e;
      }
    }
    p = skip_ows (stop);
    if (!*p)
      break;
    if (*p != ',')
      return MEDIA_RANGE_MALFORMED;
    p++;
  }
  if (specs == 0)
    return MEDIA_RANGE_MALFORMED;
  if (satisfiable == 0)
    return MEDIA_RANGE_UNSATISFIABLE;
  if (specs > 1) {
    *start = 0;
    *end = whole_end;
    return MEDIA_RANGE_MULTI;
  }
  *start = s0;
  *end = e0;
  return MEDIA_RANGE_ONE;
}

const gchar *
media_content_type (const gchar *path)
{
  if (g_str_has_suffix (path, ".mp4"))
    return "video/mp4";
  if (g_str_has_suffix (path, ".webm"))
    return "video/webm";
  if (g_str_has_suffix (path, ".mkv"))
    return "video/x-matroska";
  if (g_str_has_suffix (path, ".jpg"))
    return "image/jpeg";
  if (g_str_has_suffix (path, ".png"))   /* a photo the phone sent as PNG (api_photos.c) */
    return "image/png";
  return "application/octet-stream";
}

/* ---- the file ---------------------------------------------------------------------------- */

static gboolean
path_inside (const gchar *root, const gchar *path)
{
  if (g_strcmp0 (root, "/") == 0)
    return path[0] == '/';
  gsize n = strlen (root);
  return strncmp (path, root, n) == 0 && path[n] == '/';
}

/* Opens an archive for reading only if it is a regular file whose real path (symlinks
 * resolved) lies inside the recordings root. The opened descriptor's own path is checked
 * again (/proc/self/fd), so swapping a directory for a symlink between the check and the
 * open is caught too. Returns the fd, or -1 with NOT_FOUND; the reason goes to the log. */
static gint
open_archive (const gchar *root, const gchar *archive_path, gint64 recording_id, goffset *size, GError **error)
{
  g_autofree gchar *real_root = realpath (root, NULL);
  g_autofree gchar *real = realpath (archive_path, NULL);
  const gchar *why = NULL;
  gint fd = -1, err = real_root && real ? 0 : errno;
  if (!real_root)
    why = "the recordings directory cannot be resolved";
  else if (!real)
    why = "the archive file cannot be resolved";
  else if (!path_inside (real_root, real))
    why = "the archive path resolves outside the recordings directory";
  else if ((fd = open (real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY)) < 0) {
    err = errno;
    why = "the archive file cannot be opened";
  }
  if (fd >= 0) {
    struct stat st;
    g_autofree gchar *proc = g_strdup_printf ("/proc/self/fd/%d", fd);
    g_autofree gchar *opened = g_file_read_link (proc, NULL);
    if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
      why = "the archive is not a regular file";
    else if (opened && g_strcmp0 (opened, real) != 0)
      why = "the archive path changed while it was opened";
    else
      *size = st.st_size;
    if (why) {
      close (fd);
      fd = -1;
    }
  }
  if (fd < 0) {
    g_warning ("media: recording %" G_GINT64_FORMAT " (%s): %s%s%s", recording_id, archive_path, why,
               err ? ": " : "", err ? g_strerror (err) : "");
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "the recording's archive is not available");
  }
  return fd;
}

/* ---- the route --------------------------------------------------------------------------- */

/* An applicant's invite token reads the case's one-time notice, and the notice lists the
 * stills of its failed items: those stills, and no other media, are theirs to see. A wrong
 * token and an unknown still get the same 401, so a token learns nothing of other cases. */
static gboolean
applicant_may_see_still (KanyanApp *app, HttpExchange *ex, const Identity *id, const StillRow *still)
{
  g_autoptr (CaseRow) row = still ? store_case_get (app->db, still->case_ref, NULL) : NULL;
  if (!row || !auth_allows (app, id, ABILITY_READ_INVITE_VIEW, row)) {
    http_exchange_respond_code (ex, KANYAN_ERROR_BAD_TOKEN, "the invite link is wrong, expired or revoked");
    return FALSE;
  }
  if (!store_still_in_notice (app->db, row->id, still->id)) {
    http_exchange_respond_code (ex, KANYAN_ERROR_FORBIDDEN, "an invite shows only the stills of its one-time notice");
    return FALSE;
  }
  return TRUE;
}

static gint64
parse_id (const gchar *text)
{
  gint64 id = 0;
  if (!*text || strlen (text) > 18)
    return 0;
  for (const gchar *p = text; *p; p++) {
    if (!g_ascii_isdigit (*p))
      return 0;
    id = id * 10 + (*p - '0');
  }
  return id;
}

/* what: "recording" or "still"; path NULL when there is nothing to serve (yet) */
static void
serve_media (KanyanApp *app, HttpExchange *ex, const Identity *id, Ability ability, const gchar *what,
             gint64 media_id, const gchar *case_ref, const gchar *path, gboolean purged)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CaseRow) row = store_case_get (app->db, case_ref, &error);
  if (!row) {
    http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such recording");
    return;
  }
  if (!auth_check (app, id, ability, row, &error)) {
    http_exchange_respond_error (ex, error);
    return;
  }
  /* only now, to someone who may read the case's media, say what state the recording is in */
  if (purged) {
    http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "the file was deleted after its retention period");
    return;
  }
  if (!path) {
    http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "the recording has no archive (yet)");
    return;
  }
  goffset size = 0;
  gint fd = open_archive (app->config->recordings_dir, path, media_id, &size, &error);
  if (fd < 0) {
    http_exchange_respond_error (ex, error);
    return;
  }

  guint64 start = 0, end = 0;
  MediaRange kind = media_parse_range (http_exchange_header (ex, "range"), (guint64) size, &start, &end);
  http_exchange_add_header (ex, "accept-ranges", "bytes");
  if (kind == MEDIA_RANGE_UNSATISFIABLE || kind == MEDIA_RANGE_MALFORMED) {
    close (fd);
    g_autofree gchar *cr = g_strdup_printf ("bytes */%" G_GUINT64_FORMAT, (guint64) size);
    http_exchange_add_header (ex, "content-range", cr);
    http_exchange_respond_code (ex, KANYAN_ERROR_RANGE_NOT_SATISFIABLE,
                                kind == MEDIA_RANGE_MALFORMED ? "the Range header is not bytes=first-last, first- or -suffix"
                                                              : "the range lies outside the file");
    return;
  }

  guint status = 200;
  g_autofree gchar *served = g_strdup ("all");
  goffset length = size;
  if (kind == MEDIA_RANGE_ONE) {
    status = 206;
    length = (goffset) (end - start + 1);
    g_autofree gchar *cr = g_strdup_printf ("bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
                                            start, end, (guint64) size);
    http_exchange_add_header (ex, "content-range", cr);
    g_free (served);
    served = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, start, end);
  } else {
    start = 0;   /* NONE, and MULTI: several ranges are answered with the whole file */
  }
  g_autofree gchar *media_text = g_strdup_printf ("%" G_GINT64_FORMAT, media_id);
  g_autofree gchar *action = g_strdup_printf ("%s.accessed", what);
  gboolean head = g_strcmp0 (http_exchange_method (ex), "HEAD") == 0;
  /* once per request: who watched what, when; a HEAD says so (its first key ends the list when this is a GET) */
  audit_note (app->db, auth_actor (id), action, case_ref, what, media_text, "range", served,
              head ? "method" : NULL, "HEAD", NULL);
  http_exchange_respond_file (ex, status, media_content_type (path), fd, (goffset) start, length);
}

void
media_http_handle (KanyanApp *app, HttpExchange *ex)
{
  const gchar *method = http_exchange_method (ex);
  const gchar *path = http_exchange_path (ex);
  const gchar *prefix = g_str_has_prefix (path, "/media/stills/") ? "/media/stills/" : "/media/recordings/";
  if (!g_str_has_prefix (path, prefix)) {
    http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such resource");
    return;
  }
  if (g_strcmp0 (method, "GET") != 0 && g_strcmp0 (method, "HEAD") != 0) {
    http_exchange_add_header (ex, "allow", "GET, HEAD");
    http_exchange_respond_code (ex, KANYAN_ERROR_METHOD_NOT_ALLOWED, "recordings are read with GET or HEAD");
    return;
  }
  g_autoptr (Identity) id = auth_identify (app, ex);
  gboolean still_route = g_str_equal (prefix, "/media/stills/");
  if (!id->user && !(still_route && id->invite_token)) {   /* 401 before any lookup: nobody learns which ids exist */
    http_exchange_respond_code (ex, KANYAN_ERROR_UNAUTHENTICATED, "log in first (or the session expired)");
    return;
  }
  gint64 media_id = parse_id (path + strlen (prefix));
  if (still_route) {
    g_autoptr (StillRow) still = media_id > 0 ? store_still_get (app->db, media_id) : NULL;
    if (!id->user && !applicant_may_see_still (app, ex, id, still))
      return;
    if (!still)
      http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such still");
    else
      serve_media (app, ex, id, id->user ? ABILITY_READ_MEDIA : ABILITY_READ_INVITE_VIEW, "still", still->id,
                   still->case_ref, still->path, still->purged_at != 0);
    return;
  }
  g_autofree gchar *case_ref = NULL;
  RecordingRow *rec = media_id > 0 ? store_recording_get (app->db, media_id, &case_ref) : NULL;
  if (!rec) {
    http_exchange_respond_code (ex, KANYAN_ERROR_NOT_FOUND, "no such recording");
    return;
  }
  gboolean ready = rec->archive_path && (g_strcmp0 (rec->archive_state, "archived") == 0 ||
                                         g_strcmp0 (rec->archive_state, "salvaged") == 0);
  serve_media (app, ex, id, ABILITY_READ_MEDIA, "recording", rec->id, case_ref, ready ? rec->archive_path : NULL, rec->purged_at != 0);
  recording_row_free (rec);
}

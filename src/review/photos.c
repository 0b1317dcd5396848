/* photos.c — photo-grade evidence (issue 18): a reviewer's request for a photograph of an item,
 * and the phone's answer turned into a still with source "photo". A request is one use, for one
 * case and live inspection, expires after [photos] request_ttl_s, and is keyed by a random key
 * that only the applicant's page receives (its SHA-256 is stored). A photo that comes without a
 * valid request is refused and nothing is kept. Never touches rooms (the message to the phone
 * goes through the caller's deliver; reviewers hear of the photo through live_port.h) nor HTTP. */
#include "review/photos.h"
#include "review/stills.h"
#include "review/live_port.h"
#include "review/audit.h"
#include "review/serialize.h"
#include "review/workflow.h"
#include "store/store_photos.h"
#include "core/errors.h"
#include <glib/gstdio.h>
#include <sodium.h>

static guint
be16 (const guint8 *p)
{
  return (guint) p[0] << 8 | p[1];
}

static guint32
be32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

/* the first frame header (SOFn) of a JPEG: its width and height; FALSE when the markers end first */
static gboolean
jpeg_size (const guint8 *d, gsize len, gint *width, gint *height)
{
  gsize i = 2;
  while (i + 4 <= len) {
    if (d[i] != 0xFF)
      return FALSE;
    guint8 m = d[i + 1];
    if (m == 0xFF) {   /* fill bytes */
      i++;
      continue;
    }
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {   /* markers without a length */
      i += 2;
      continue;
    }
    guint seg = be16 (d + i + 2);
    if (seg < 2)
      return FALSE;
    gboolean sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
    if (sof) {
      if (i + 9 > len)
        return FALSE;
      *height = (gint) be16 (d + i + 5);
      *width = (gint) be16 (d + i + 7);
      return *width > 0 && *height > 0;
    }
    if (m == 0xDA || m == 0xD9)   /* scan data or the end before any frame header */
      return FALSE;
    i += 2 + seg;
  }
  return FALSE;
}

const gchar *
photos_sniff (const guint8 *d, gsize len, gint *width, gint *height)
{
  static const guint8 png_sig[8] = { 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A };
  *width = *height = 0;
  if (len >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) {
    jpeg_size (d, len, width, height);
    return "image/jpeg";
  }
  if (len >= 24 && memcmp (d, png_sig, 8) == 0 && memcmp (d + 12, "IHDR", 4) == 0) {
    guint32 w = be32 (d + 16), h = be32 (d + 20);
    if (w > 0 && h > 0 && w <= G_MAXINT && h <= G_MAXINT) {
      *width = (gint) w;
      *height = (gint) h;
    }
    return "image/png";
  }
  /* ISO-BMFF with a HEIF brand: what an iPhone's camera writes by default */
  static const gchar *const heif_brands[] = { "heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs",
                                              "mif1", "msf1", "avif" };
  if (len >= 12 && memcmp (d + 4, "ftyp", 4) == 0)
    for (guint i = 0; i < G_N_ELEMENTS (heif_brands); i++)
      if (memcmp (d + 8, heif_brands[i], 4) == 0)
        return "image/heic";
  return NULL;
}

static gchar *
key_hash (const gchar *key)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);
}

gint64
photos_request (KanyanApp *app, const gchar *actor, const CaseRow *row, gint item, PhotosDeliver deliver,
                gpointer data, GError **error)
{
  if (!workflow_check_open (row, error))
    return 0;
  LiveInspection live;
  if (!live_find (app, row->ref, &live)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "case %s has no live inspection now: a photo is "
                 "asked of the applicant's phone while it is connected", row->ref);
    return 0;
  }
  g_autoptr (GPtrArray) items = store_case_items (app->db, row->id);
  if (item < 1 || (guint) item > items->len) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'item' must be 1 to %u", items->len);
    return 0;
  }
  guint8 raw[24];
  gchar key[sodium_base64_ENCODED_LEN (24, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  randombytes_buf (raw, sizeof raw);
  sodium_bin2base64 (key, sizeof key, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero (raw, sizeof raw);
  g_autofree gchar *hash = key_hash (key);
  gint64 expires_at = db_now_ms () + (gint64) MAX (app->config->photo_request_ttl_s, 1) * 1000;
  if (!db_durable_begin (app->db, error))
    return 0;
  gint64 id = store_photo_request_add (app->db, row->id, live.session_id, item, actor, expires_at, hash);
  g_autofree gchar *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  g_autofree gchar *item_text = g_strdup_printf ("%d", item);
  if (id)
    audit_note (app->db, actor, "photo.requested", row->ref, "request", id_text, "item", item_text, NULL);
  /* the page's message goes out inside the transaction: no page, no request */
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "photo_request");
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, id);
  json_builder_set_member_name (b, "item");
  json_builder_add_int_value (b, item);
  json_builder_set_member_name (b, "key");
  json_builder_add_string_value (b, key);
  json_builder_set_member_name (b, "expires_at");
  json_builder_add_int_value (b, expires_at);
  json_builder_set_member_name (b, "max_bytes");
  json_builder_add_int_value (b, app->config->photo_max_bytes);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *text = json_to_string (root, FALSE);
  sodium_memzero (key, sizeof key);
  gboolean delivered = id && deliver (data, text);
  if (!db_durable_end (app->db, delivered, error) || !delivered) {
    if (!delivered && error && !*error)
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, id ? "the applicant's page is not connected "
                   "(a WHIP publisher cannot take photos): ask again once it is" : "the request could not be recorded");
    return 0;
  }
  return id;
}

/* the request, checked for this case and key; NULL and the error the phone is told */
static PhotoRequestRow *
check_request (KanyanApp *app, const CaseRow *row, gint64 request_id, const gchar *key, GError **error)
{
  g_autoptr (PhotoRequestRow) req = request_id > 0 ? store_photo_request_get (app->db, request_id) : NULL;
  g_autofree gchar *hash = key ? key_hash (key) : NULL;
  if (!req || req->case_id != row->id || !hash || strlen (hash) != strlen (req->key_hash) ||
      sodium_memcmp (hash, req->key_hash, strlen (hash)) != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_PHOTO_NOT_REQUESTED, "no reviewer asked this page for that photo: "
                 "a photo is sent only in answer to a request, with its id and key");
    return NULL;
  }
  if (req->fulfilled_at) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_PHOTO_REQUEST_USED, "request %" G_GINT64_FORMAT " was answered "
                 "already (still %" G_GINT64_FORMAT "): each request takes one photo", req->id, req->still_id);
    return NULL;
  }
  if (db_now_ms () > req->expires_at) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_PHOTO_REQUEST_EXPIRED, "request %" G_GINT64_FORMAT " has expired: "
                 "the reviewer may ask again", req->id);
    return NULL;
  }
  return g_steal_pointer (&req);
}

/* the session's last location, when the photo came without one */
static void
session_geo (KanyanApp *app, const CaseRow *row, gint64 session_id, PhotoGeo *out)
{
  g_autoptr (GPtrArray) sessions = store_sessions_of_case (app->db, row->id);
  for (guint i = 0; i < sessions->len; i++) {
    const SessionRow *s = g_ptr_array_index (sessions, i);
    if (s->id == session_id && s->has_geo)
      *out = (PhotoGeo) { TRUE, s->geo_lat, s->geo_lon, s->geo_accuracy_m };
  }
}

StillRow *
photos_receive (KanyanApp *app, const CaseRow *row, gint64 request_id, const gchar *key, GBytes *image,
                gboolean too_large, const PhotoGeo *geo, GError **error)
{
  if (!workflow_check_open (row, error))
    return NULL;
  g_autoptr (PhotoRequestRow) req = check_request (app, row, request_id, key, error);
  if (!req)
    return NULL;
  gsize len = 0;
  const guint8 *data = image ? g_bytes_get_data (image, &len) : NULL;
  if (too_large || len > (gsize) app->config->photo_max_bytes) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_PHOTO_TOO_LARGE, "the photo is over %d bytes ([photos] max_bytes)",
                 app->config->photo_max_bytes);
    return NULL;
  }
  gint width = 0, height = 0;
  const gchar *type = data ? photos_sniff (data, len, &width, &height) : NULL;
  if (g_strcmp0 (type, "image/heic") == 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_PHOTO_TYPE_REFUSED, "HEIC/HEIF photos are not accepted: send it "
                 "as JPEG or PNG");
    return NULL;
  }
  if (!type || width <= 0 || height <= 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_PHOTO_TYPE_REFUSED, "the photo must be a JPEG or PNG image%s",
                 type ? " with a readable size" : "");
    return NULL;
  }
  g_autofree gchar *session = g_strdup_printf ("session-%" G_GINT64_FORMAT, req->session_id);
  g_autofree gchar *name = g_strdup_printf ("photo-item%02d-req%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT ".%s", req->item,
                                            req->id, db_now_ms (), g_str_equal (type, "image/png") ? "png" : "jpg");
  g_autofree gchar *dir = g_build_filename (app->config->recordings_dir, row->ref, session, NULL);
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  if (g_mkdir_with_parents (dir, 0750) != 0 || !g_file_set_contents (path, (const gchar *) data, len, NULL)) {
    g_warning ("case %s: a photo cannot be written to %s", row->ref, path);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the photo could not be written");
    return NULL;
  }
  g_autofree gchar *sha = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, image);
  PhotoGeo where = geo && geo->has ? *geo : (PhotoGeo) { FALSE, 0, 0, 0 };
  if (!where.has)
    session_geo (app, row, req->session_id, &where);
  PhotoStill p = { .case_id = row->id, .session_id = req->session_id, .request_id = req->id, .bytes = (gint64) len,
                   .item = req->item, .width = width, .height = height, .path = path, .sha256 = sha,
                   .by_user = "applicant", .has_geo = where.has, .lat = where.lat, .lon = where.lon,
                   .accuracy_m = where.accuracy_m };
  /* the still, the request used up and the audit entry with the hash: one durable transaction */
  gboolean ok = db_durable_begin (app->db, NULL);
  gint64 id = ok ? store_photo_still_add (app->db, &p) : 0;
  gboolean fulfilled = id && store_photo_request_fulfil (app->db, req->id, id);
  if (fulfilled) {
    g_autofree gchar *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
    g_autofree gchar *req_text = g_strdup_printf ("%" G_GINT64_FORMAT, req->id);
    g_autofree gchar *item_text = g_strdup_printf ("%d", req->item);
    g_autofree gchar *bytes_text = g_strdup_printf ("%" G_GSIZE_FORMAT, len);
    g_autofree gchar *size_text = g_strdup_printf ("%dx%d", width, height);
    gchar lat[G_ASCII_DTOSTR_BUF_SIZE], lon[G_ASCII_DTOSTR_BUF_SIZE], acc[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd (lat, sizeof lat, "%.6f", where.lat);
    g_ascii_formatd (lon, sizeof lon, "%.6f", where.lon);
    g_ascii_formatd (acc, sizeof acc, "%.0f", where.accuracy_m);
    g_autofree gchar *where_text = where.has ? g_strdup_printf ("%s,%s ±%s m", lat, lon, acc) : g_strdup ("unknown");
    audit_note (app->db, "applicant", "photo.captured", row->ref, "still", id_text, "request", req_text, "item",
                item_text, "sha256", sha, "bytes", bytes_text, "pixels", size_text, "where", where_text,
                "type", type, NULL);
  }
  g_autoptr (StillRow) still = ok && db_durable_end (app->db, fulfilled, NULL) && fulfilled
      ? store_still_get (app->db, id) : NULL;
  if (!still) {
    g_unlink (path);
    if (ok && id && !fulfilled)   /* answered meanwhile (a second upload of the same request) */
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_PHOTO_REQUEST_USED, "request %" G_GINT64_FORMAT " was answered "
                   "already: each request takes one photo", req->id);
    else
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the photo could not be recorded");
    return NULL;
  }
  stills_announce (app, row->ref, still);
  return g_steal_pointer (&still);
}

/* photos.h — photo-grade evidence: a reviewer asks the applicant's phone for a photograph of an
 * item (a one-use request with a random key), the phone uploads it, and it becomes a still of
 * the item with source "photo" — hashed, located, audited, shown like any still. Main loop. */
#pragma once
#include "app/app.h"
#include "store/db.h"

/* hands the `photo_request` message (JSON text) to the applicant's page; FALSE: no page to take it */
typedef gboolean (*PhotosDeliver) (gpointer data, const gchar *json);

/* The request's id (0 and error when it cannot be made: case closed, no live inspection, bad
 * item, or deliver said no page is there — nothing is kept then). Audited as photo.requested. */
gint64 photos_request (KanyanApp *app, const gchar *actor, const CaseRow *row, gint item, PhotosDeliver deliver,
                       gpointer data, GError **error);

typedef struct {
  gboolean has;
  gdouble  lat, lon, accuracy_m;
} PhotoGeo;

/* What the phone sent for request_id with its key: checked (the request is this case's, the
 * key is its key, unused, not expired; the body is at most [photos] max_bytes, a JPEG or PNG
 * by its first bytes — HEIC and anything else refused), written beside the session's stills,
 * hashed (SHA-256) and recorded with its request, pixels and location (geo, or else the
 * session's last), audited as photo.captured, and told to the reviewers as a `still`. Refused:
 * NULL and a photo_* (or case_closed) error, and nothing stored or used up. */
StillRow *photos_receive (KanyanApp *app, const CaseRow *row, gint64 request_id, const gchar *key, GBytes *image,
                          gboolean too_large, const PhotoGeo *geo, GError **error);

/* "image/jpeg", "image/png", "image/heic" (refused) or NULL, by the first bytes; width and
 * height from the JPEG frame header or the PNG IHDR (0 when not found) */
const gchar *photos_sniff (const guint8 *data, gsize len, gint *width, gint *height);

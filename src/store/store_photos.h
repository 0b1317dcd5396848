/* store_photos.h — the photo_requests table (migration 17) and a photo's still row: a
 * reviewer's request for a photograph of an item, its one-use key (hashed), and the still
 * that fulfilled it. SQL only; the rules are review/photos.c's. Main loop. */
#pragma once
#include "store/db.h"

typedef struct {
  gint64 id, case_id, session_id, requested_at, expires_at, fulfilled_at, still_id;
  gint   item;
  gchar *requested_by, *key_hash, *case_ref;
} PhotoRequestRow;
void photo_request_row_free (PhotoRequestRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PhotoRequestRow, photo_request_row_free)

/* the new request's id, 0 on failure */
gint64           store_photo_request_add (sqlite3 *db, gint64 case_id, gint64 session_id, gint item,
                                          const gchar *by_user, gint64 expires_at, const gchar *key_hash);
PhotoRequestRow *store_photo_request_get (sqlite3 *db, gint64 request_id);   /* NULL: none */
/* marks it fulfilled by still_id; FALSE when it was fulfilled already (or is gone) */
gboolean         store_photo_request_fulfil (sqlite3 *db, gint64 request_id, gint64 still_id);

typedef struct {
  gint64       case_id, session_id, request_id, bytes;
  gint         item, width, height;
  const gchar *path, *sha256, *by_user;
  gboolean     has_geo;
  gdouble      lat, lon, accuracy_m;
} PhotoStill;
/* a still row with source 'photo'; its id, 0 on failure */
gint64           store_photo_still_add (sqlite3 *db, const PhotoStill *p);

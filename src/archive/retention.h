/* retention.h — deleting media past its retention period after the case's decision. */
#pragma once
#include "app/app.h"

/* deletes (or with dry_run only lists) the recordings and stills of cases finally decided more
 * than cfg->retention_days ago; each deletion is an audit entry. Returns how many files went (or would go). */
guint retention_purge (sqlite3 *db, const KanyanConfig *cfg, const gchar *actor, gboolean dry_run,
                       void (*report) (const gchar *kind, const gchar *case_ref, const gchar *path, gpointer data),
                       gpointer data);
/* serve: once a day (and once shortly after start) */
guint retention_schedule (KanyanApp *app);

/* recordings.h — what happens to a recording segment once its file is closed: it is
 * finalized into an archive off the main loop and the result is stored. */
#pragma once
#include "app/app.h"

void     recordings_finalize (KanyanApp *app, gint64 recording_id, const gchar *path);
void     recordings_finalize_leftovers (KanyanApp *app);   /* start-up: what a stop or crash left */
gboolean recordings_busy (KanyanApp *app);
/* free space on the recordings volume, in MiB (G_MAXINT64 when it cannot be read) */
gint64   recordings_free_mb (const KanyanConfig *cfg);
/* start-up: says clearly, once, when the volume is under [archive] min_free_mb (nothing is
 * recorded until space is freed; live inspections work); FALSE then */
gboolean recordings_check_space (const KanyanConfig *cfg);

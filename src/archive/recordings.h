/* recordings.h — what happens to a recording segment once its file is closed: it is
 * finalized into an archive off the main loop and the result is stored. */
#pragma once
#include "app/app.h"

void     recordings_finalize (KanyanApp *app, gint64 recording_id, const gchar *path);
void     recordings_finalize_leftovers (KanyanApp *app);   /* start-up: what a stop or crash left */
gboolean recordings_busy (KanyanApp *app);

/* stills.h — evidence stills of a case: capture from the live video into a hashed JPEG beside
 * the recordings, list them, and keep a drawing on each as a separate layer. Main loop. */
#pragma once
#include "app/app.h"
#include "store/db.h"
#include <json-glib/json-glib.h>

/* the stored still (its row), or NULL and the error */
typedef void (*StillsReply) (gpointer data, const StillRow *still, const GError *error);

/* FALSE (and no reply) when it cannot start: no live video, bad item */
gboolean stills_capture (KanyanApp *app, const gchar *actor, const CaseRow *row, gint item, StillsReply reply,
                         gpointer data, GError **error);
/* a stored still (a frame of the video, or a photo the phone sent) to every reviewer of the
 * case's live inspection, as a `still` message; nothing when no inspection is live */
void     stills_announce (KanyanApp *app, const gchar *case_ref, const StillRow *still);
/* shapes: validated by bodies_parse_annotation(); replaces the still's drawing layer */
gboolean stills_annotate (KanyanApp *app, const gchar *actor, const CaseRow *row, gint64 still_id, JsonNode *shapes,
                          GError **error);

/* still.h — one evidence still taken from the live video: the next keyframe, decoded once,
 * encoded as a JPEG (pipelines/still.ini). Main loop only. */
#pragma once
#include "media/relay.h"

typedef struct _StillCapture StillCapture;

/* main loop: the JPEG (NULL and a message on failure). The capture frees itself after. */
typedef void (*StillDone) (gpointer data, GBytes *jpeg, const gchar *error_message);

StillCapture *still_capture_start (Relay *relay, const KanyanConfig *cfg, StillDone done, gpointer data,
                                   GError **error);
/* the relay is going away: drop the branch now; `done` is never called */
void          still_capture_cancel (StillCapture *cap);

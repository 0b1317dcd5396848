/* rooms.h — the registry of live inspections in progress: one Room per case reference. The
 * table lives in the application context (app->rooms, made by rooms_new); this module is the
 * only one that adds or removes its rooms. Entry points find a case's room here; a room drops
 * itself here when it closes. Main loop. */
#pragma once
#include "app/app.h"
#include <glib.h>

GHashTable *rooms_new (void);                                    /* case ref -> Room*, owning */
Room       *rooms_get (KanyanApp *app, const gchar *case_ref);   /* NULL when not live */
/* the case's room, opened (from the case's row) when there is none; NULL and error when the
 * case is unknown or the room cannot start */
Room       *rooms_ensure (KanyanApp *app, const gchar *case_ref, GError **error);
void        rooms_drop (KanyanApp *app, Room *room);             /* frees it */

/* room_metrics.c — counts the open live inspections and their participants by role for
 * GET /metrics (web/metrics_http.c), from the rooms the application keeps. Main loop (the
 * scrape's handler); reads the rooms, changes nothing. */
#include "live/room_metrics.h"
#include "live/room_private.h"

void
room_metrics_count (KanyanApp *app, RoomCounts *out)
{
  memset (out, 0, sizeof *out);
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init (&iter, app->rooms);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Room *room = value;
    out->live_inspections++;
    if (room->media_flowing)
      out->media_flowing++;
    for (guint i = 0; i < room->participants->len; i++) {
      Participant *p = g_ptr_array_index (room->participants, i);
      if (p->role == ROLE_APPLICANT)
        out->applicants++;
      else if (p->role == ROLE_WATCHER)
        out->watchers++;
      else
        out->reviewers++;
    }
  }
}

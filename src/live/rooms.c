/* rooms.c — the registry of live inspections (rooms.h): finds, opens and drops a case's room
 * in the table the application holds. Owns the table's entries; never looks inside a room
 * beyond room.h. Main loop. */
#include "live/rooms.h"
#include "live/room.h"
#include "store/db.h"

GHashTable *
rooms_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) room_free);
}

Room *
rooms_get (KanyanApp *app, const gchar *case_ref)
{
  return g_hash_table_lookup (app->rooms, case_ref);
}

Room *
rooms_ensure (KanyanApp *app, const gchar *case_ref, GError **error)
{
  Room *room = rooms_get (app, case_ref);
  if (room)
    return room;
  g_autoptr (CaseRow) row = store_case_get (app->db, case_ref, error);
  if (!row)
    return NULL;
  room = room_new (app, row, error);
  if (room)
    g_hash_table_insert (app->rooms, g_strdup (case_ref), room);
  return room;
}

void
rooms_drop (KanyanApp *app, Room *room)
{
  g_info ("case %s: live inspection closed", room_case_ref (room));
  g_hash_table_remove (app->rooms, room_case_ref (room));
}

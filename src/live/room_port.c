/* room_port.c — the review domain's port to live inspections (review/live_port.h),
 * implemented on rooms: each call finds the case's room by its reference and uses room.h's
 * calls only. Registered once at start-up (app.c). Main loop. */
#include "live/room.h"
#include "review/live_port.h"
#include "core/errors.h"

static gboolean
port_find (KanyanApp *app, const gchar *case_ref, LiveInspection *out)
{
  Room *room = rooms_get (app, case_ref);
  if (room && out) {
    out->session_id = room_session_id (room);
    out->media_ms = room_media_ms (room);
    g_strlcpy (out->challenge, room_challenge (room), sizeof out->challenge);
  }
  return room != NULL;
}

static void
port_notify (KanyanApp *app, const gchar *case_ref, const gchar *json, gboolean reviewers_only)
{
  Room *room = rooms_get (app, case_ref);
  if (room)
    room_broadcast (room, json, reviewers_only);
}

static gboolean
port_capture_still (KanyanApp *app, const gchar *case_ref, LiveStillDone done, gpointer data, GError **error)
{
  Room *room = rooms_get (app, case_ref);
  if (!room) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "case %s has no live inspection now", case_ref);
    return FALSE;
  }
  return room_capture_still (room, done, data, error);
}

static void
port_end (KanyanApp *app, const gchar *case_ref, const gchar *reason)
{
  Room *room = rooms_get (app, case_ref);
  if (room)
    room_end (room, reason);
}

static gboolean
port_next_session (KanyanApp *app, const gchar *case_ref, GError **error)
{
  Room *room = rooms_get (app, case_ref);
  if (!room) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "case %s has no live inspection now", case_ref);
    return FALSE;
  }
  return room_next_session (room, error);
}

static const LivePort room_port = {
  port_find, port_notify, port_capture_still, port_end, port_next_session,
};

void
room_register_port (KanyanApp *app)
{
  live_port_register (app, &room_port);
}

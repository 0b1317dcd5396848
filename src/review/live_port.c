/* live_port.c — the domain's calls into a live inspection, through the port the live layer
 * registered (live_port.h). Owns nothing but the dispatch; a missing port means "not live". */
#include "review/live_port.h"
#include "core/errors.h"

void
live_port_register (KanyanApp *app, const LivePort *port)
{
  app->live_port = port;
}

gboolean
live_find (KanyanApp *app, const gchar *case_ref, LiveInspection *out)
{
  return app->live_port && app->live_port->find (app, case_ref, out);
}

void
live_notify (KanyanApp *app, const gchar *case_ref, const gchar *json, gboolean reviewers_only)
{
  if (app->live_port)
    app->live_port->notify (app, case_ref, json, reviewers_only);
}

gboolean
live_capture_still (KanyanApp *app, const gchar *case_ref, LiveStillDone done, gpointer data, GError **error)
{
  if (app->live_port)
    return app->live_port->capture_still (app, case_ref, done, data, error);
  g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "case %s has no live inspection now", case_ref);
  return FALSE;
}

void
live_end (KanyanApp *app, const gchar *case_ref, const gchar *reason)
{
  if (app->live_port)
    app->live_port->end (app, case_ref, reason);
}

gboolean
live_next_session (KanyanApp *app, const gchar *case_ref, GError **error)
{
  if (app->live_port)
    return app->live_port->next_session (app, case_ref, error);
  g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "case %s has no live inspection now", case_ref);
  return FALSE;
}

/* cli_slots.h — `kanyan case slot add|list`: booking from the command line. */
#pragma once
#include "app/app.h"

/* sub: "add" (ref, at, minutes) or "list" (ref); the exit status */
int cli_case_slot (KanyanApp *app, const gchar *sub, const gchar *ref, const gchar *at, gint minutes, gboolean json);

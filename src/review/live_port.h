/* live_port.h — what the review domain asks of a live inspection in progress, without
 * knowing rooms: whether a case is live (its session, media time and challenge), telling its
 * participants a protocol message, an evidence still, ending it, and going on in a new
 * session after a notice. The live layer implements it and registers it at start-up
 * (room_register_port, called by app.c); the domain never includes live/. Main loop only.
 * Without a registered port (a tool, a unit test) no case is live and messages go nowhere. */
#pragma once
#include "app/app.h"

typedef struct {
  gint64 session_id;
  gint64 media_ms;        /* ms into the session's recording; -1 before any media */
  gchar  challenge[5];    /* the 4-digit on-site challenge */
} LiveInspection;

/* an evidence still: the JPEG and its media time, or NULL and a message (main loop) */
typedef void (*LiveStillDone) (gpointer data, GBytes *jpeg, gint64 media_ms, const gchar *error_message);

struct _LivePort {
  gboolean (*find) (KanyanApp *app, const gchar *case_ref, LiveInspection *out);
  void     (*notify) (KanyanApp *app, const gchar *case_ref, const gchar *json, gboolean reviewers_only);
  gboolean (*capture_still) (KanyanApp *app, const gchar *case_ref, LiveStillDone done, gpointer data,
                             GError **error);
  void     (*end) (KanyanApp *app, const gchar *case_ref, const gchar *reason);
  gboolean (*next_session) (KanyanApp *app, const gchar *case_ref, GError **error);
};

void     live_port_register (KanyanApp *app, const LivePort *port);
/* FALSE when the case has no live inspection now; out may be NULL */
gboolean live_find (KanyanApp *app, const gchar *case_ref, LiveInspection *out);
/* one protocol message (JSON text) to everyone in the case's live inspection, or its reviewers */
void     live_notify (KanyanApp *app, const gchar *case_ref, const gchar *json, gboolean reviewers_only);
/* FALSE (and no call) when the case is not live or no video flows */
gboolean live_capture_still (KanyanApp *app, const gchar *case_ref, LiveStillDone done, gpointer data,
                             GError **error);
/* every participant gets {"type":"bye","reason":reason} and the live inspection ends at once */
void     live_end (KanyanApp *app, const gchar *case_ref, const gchar *reason);
/* a notice froze this live inspection's marks: it goes on in a new session */
gboolean live_next_session (KanyanApp *app, const gchar *case_ref, GError **error);

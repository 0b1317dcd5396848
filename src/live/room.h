/* room.h — one live inspection in progress: who is in it (one applicant, any number of
 * reviewers), the applicant's media state, the relay and the current recording segment.
 * Entry points (signaling.c, whip.c) talk to a room through these calls only. Main loop. */
#pragma once
#include "app/app.h"
#include "store/db.h"
#include "live/rooms.h"   /* finding a case's room */
#include <json-glib/json-glib.h>

/* ROLE_WATCHER: a WHEP viewer (receive-only, no protocol messages, no talk-back) */
typedef enum { ROLE_APPLICANT, ROLE_REVIEWER, ROLE_WATCHER } ParticipantRole;
typedef struct _Participant Participant;

/* How the room reaches a participant's connection. */
typedef struct {
  void (*send) (gpointer transport, const gchar *json);    /* one protocol message */
  void (*close) (gpointer transport);                      /* the room let go of it: close it */
  /* Optional, typed, for a transport that speaks no protocol (WHIP): when set, the applicant's
   * SDP answer and an error come here as values instead of as messages through send(). */
  void (*answer) (gpointer transport, const gchar *sdp);
  void (*error) (gpointer transport, gint code, const gchar *message);
} ParticipantTransport;

/* At start-up: the review domain reaches rooms through its port (review/live_port.h,
 * room_port.c). */
void         room_register_port (KanyanApp *app);
Room        *room_new (KanyanApp *app, const CaseRow *row, GError **error);
void         room_free (Room *room);
const gchar *room_case_ref (Room *room);
gint64       room_session_id (Room *room);
gboolean     room_is_live (Room *room);           /* an applicant's media is flowing */
const gchar *room_challenge (Room *room);         /* the 4-digit on-site challenge of this session */
/* why recording stopped ("disk_full", "write_failed") and since when (ms), or NULL while it records */
const gchar *room_recording_stopped (Room *room, gint64 *since_ms);
/* ms into the session's recording (since its first segment began); -1 before any media */
gint64       room_media_ms (Room *room);
/* An evidence still of the live video: done (main loop) gets the JPEG and the media time, or
 * NULL and a message. FALSE (and no call) when no video flows. */
typedef struct _RoomStill RoomStill;
typedef void (*RoomStillDone) (gpointer data, GBytes *jpeg, gint64 media_ms, const gchar *error_message);
gboolean     room_capture_still (Room *room, RoomStillDone done, gpointer data, GError **error);
/* one protocol message to everyone in the room (or only its reviewers) */
void         room_broadcast (Room *room, const gchar *json, gboolean reviewers_only);
/* one protocol message to the applicant's page alone: FALSE when no page is joined (nobody,
 * or a WHIP publisher, which has no message channel) */
gboolean     room_send_applicant (Room *room, const gchar *json);
guint        room_participant_count (Room *room);
gint64       room_waiting_since (Room *room);      /* ms since its applicant waits to be admitted; 0: nobody */

/* The reviewer's hands on the phone's camera (room_camera.c, docs/protocol.md): a reviewer's
 * `camera` command to the applicant's page (wrong_role, bad_field, missing_field,
 * applicant_absent), the page's `camera_result` (not_found for no such waiting command) and
 * its `camera_caps`; each checked strictly, audited, and told to the reviewers. */
gboolean     room_camera_command (Room *room, Participant *p, JsonObject *msg, GError **error);
gboolean     room_camera_result (Room *room, Participant *p, JsonObject *msg, GError **error);
gboolean     room_camera_caps (Room *room, Participant *p, JsonObject *msg, GError **error);

/* whip: the applicant wants one complete answer (with candidates) instead of trickle. */
Participant *room_join (Room *room, ParticipantRole role, const gchar *name, gboolean whip,
                        const ParticipantTransport *transport, gpointer transport_data);
/* An applicant's page that asked to wait (join "wait": true): when the case has a booked slot
 * and no reviewer is in, it waits (no offer accepted: not_admitted) until a reviewer admits
 * it; otherwise (or once admitted in this live inspection) it is joined as room_join would.
 * Its `joined` says which. */
Participant *room_join_waiting (Room *room, const gchar *name, const ParticipantTransport *transport,
                                gpointer transport_data);
/* A reviewer (`by`) admits the waiting applicant: its page is told {"type":"admitted"} and sends
 * its offer; the case becomes "inspecting"; audited. wrong_role for anyone else, nobody_waiting
 * when no applicant waits; TRUE and nothing more when it was admitted already. */
gboolean     room_admit (Room *room, Participant *by, GError **error);
/* The transport is gone (socket closed, WHIP DELETE). May free the room. */
void         room_leave (Room *room, Participant *participant);
const gchar *participant_id (Participant *participant);
ParticipantRole participant_role (Participant *participant);

gboolean room_applicant_offer (Room *room, Participant *p, const gchar *sdp, gsize len, GError **error);
/* A WHEP watcher's offer (joined with whip TRUE): the complete answer comes to its transport's
 * answer(); bad_sdp, not_live on error. */
gboolean room_watcher_offer (Room *room, Participant *p, const gchar *sdp, gsize len, GError **error);
/* The applicant's page says its uplink is too weak for video ("audio_first": sound first, the
 * picture at its lowest) or strong again ("full"): reviewers are told, the audit log notes it. */
gboolean room_applicant_link_mode (Room *room, Participant *p, const gchar *mode, GError **error);
gboolean room_reviewer_answer (Room *room, Participant *p, const gchar *pc, const gchar *sdp, GError **error);
gboolean room_add_ice (Room *room, Participant *p, const gchar *pc, guint mline, const gchar *candidate,
                       GError **error);

/* A final decision or a revocation: every participant gets {"type":"bye","reason":reason} and
 * is let go (WHIP publishers too), the segment is closed, and the room goes at once (no
 * linger): `room` may be freed on return. */
void     room_end (Room *room, const gchar *reason);
/* The applicant alone is let go with a typed bye (its invite was revoked). */
void     room_end_applicant (Room *room, const gchar *reason);
/* A notice quoted this live inspection's marks: close it and go on in a new one (new session
 * row, the recording continues in the new session's directory), told as {"type":"session"}. */
gboolean room_next_session (Room *room, GError **error);

/* Server shutdown: end the recording segment now; room_busy() until its file is closed. */
void     room_shutdown (Room *room);
gboolean room_busy (Room *room);

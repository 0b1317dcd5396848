/* room_private.h — what the files of one live inspection (room.c, room_peers.c,
 * room_recording.c) share: the Room and Participant structs and the calls they make on each
 * other. Only src/live/room*.c include it; everyone else goes through room.h. Main loop. */
#pragma once
#include "live/room.h"
#include "live/reach.h"
#include "media/relay.h"
#include "media/recorder.h"
#include "media/link_stats.h"
#include <json-glib/json-glib.h>

typedef struct _RoomCamera RoomCamera;

struct _Participant {
  Room           *room;
  gchar          *id;
  ParticipantRole role;
  gchar          *name;
  gboolean        whip;
  const ParticipantTransport *transport;
  gpointer        transport_data;
  gint64          db_id;
  WebrtcPeer     *peer;          /* applicant: the publisher peer (owned by the relay) */
  RelayViewer    *viewer;        /* reviewer: its viewer (owned by the relay) */
  gchar          *pc;            /* reviewer: id of the current peer connection */
  guint           pc_serial;
  guint           answer_timeout; /* reviewer: its answer; WHIP applicant: its ICE connection */
  gchar          *ice_local;     /* the selected candidate pair ("host/udp"…), once connected */
  gchar          *ice_remote;
};

struct _Room {
  KanyanApp  *app;
  gchar      *case_ref;
  gint64      case_id;
  gint64      session_id;
  Relay      *relay;
  GPtrArray  *participants;      /* of Participant* */
  Participant *applicant;
  gboolean    media_flowing;
  gboolean    media_lost;        /* the applicant's media stopped while it was there: "reconnecting" */
  Recorder   *recorder;
  gint64      recording_id;
  gint        segment_seq;
  guint       pending_recorders; /* segments still finishing */
  GPtrArray  *finishing;         /* of SegmentDone*: those segments (room_free lets go of them) */
  guint       linger;            /* empty: waiting for someone to come back */
  gboolean    closing;
  GPtrArray  *stills;            /* of RoomStill*: captures in progress */
  gchar       challenge[5];      /* 4 random digits the applicant shows on paper (on-site proof) */
  gint64      first_media_ms;    /* wall clock when the session's first segment began; 0 before */
  guint       revocation_check;  /* what another process or the clock revoked (room_end, below) */
  gint64      segment_started_us;/* monotonic: when the current segment began */
  const gchar *recording_stopped;/* why recording stopped on a write failure ("disk_full"…); NULL: fine */
  gboolean    audio_first;       /* the applicant's page sends sound first (its uplink is too weak for video) */
  gint64      recording_stopped_at;  /* ms, when it did */
  guint       recording_retry;   /* timer: start a segment again (after a write failure or a fast restart) */
  guint       space_check;       /* timer: the recordings volume's free space against the floor */
  guint       recording_confirm; /* timer: a resumed segment has run long enough to call it resumed */
  guint       retry_delay_s;     /* the back-off, doubled on each failure */
  RoomReach  *reach;             /* candidate kinds offered, no media REACH_MEDIA_WAIT_S after an offer */
  LinkStats  *applicant_link;    /* the applicant's link quality, sampled every second */
  guint       link_timer;
  gchar      *applicant_name;    /* the case's applicant name, read when the applicant joins ("" unknown) */
  RoomCamera *camera;            /* camera commands waiting for the phone, its capabilities (room_camera.c) */
  gint64      waiting_since;     /* ms: the applicant's page waits to be admitted since then; 0: nobody waits */
  gboolean    admitted;          /* a reviewer admitted the applicant: its pages no longer wait (room_waiting.c) */
};
extern const gchar *room_role_names[];   /* by ParticipantRole: "applicant", "reviewer", "watcher" */

/* room_camera.c: the phone's camera steered by reviewers */
void room_camera_greet (Room *room, Participant *reviewer);   /* the phone's capabilities, to one who joined */
void room_camera_free (Room *room);

/* room.c: membership */
void room_remove (Room *room, Participant *p, gint error_code, const gchar *message);

/* room_peers.c: protocol messages, reachability, link quality, peers' events, viewers */
void         room_send_builder (Participant *p, JsonBuilder *b);   /* closes the object and sends it */
JsonBuilder *room_message_begin (const gchar *type);              /* {"type":type, … still open */
void         room_send_error (Participant *p, gint code, const gchar *message);
const gchar *room_applicant_state (Room *room);
void         room_broadcast_state (Room *room);
void         room_broadcast_participants (Room *room);
void         room_send_ice_pair (Participant *to, Participant *about);
void         room_send_reach (Participant *to, Room *room);
void         room_on_reach_stalled (gpointer owner);
void         room_on_applicant_link (gpointer owner, const LinkQuality *q);
gboolean     room_on_link_timer (gpointer data);
extern const WebrtcPeerEvents room_peer_events;
gboolean     room_on_answer_timeout (gpointer data);
void         room_viewer_drop (Participant *p);
void         room_viewer_offer (Room *room, Participant *p);

/* room_waiting.c: the waiting room (an applicant page that joined with "wait": true) */
/* whether a page that asked to wait does: a booked case, no reviewer in (one there admits it
 * at once: audited), not admitted yet */
gboolean     room_waiting_applies (Room *room);
void         room_waiting_begin (Room *room, gint64 kept_since);   /* audited once per wait */
void         room_waiting_end (Room *room);                      /* the waiting applicant left */
void         room_add_state_fields (JsonBuilder *b, Room *room); /* a `state` message's members */
gint64       room_booked_slot_at (Room *room);                   /* ms, or 0: no booking to come */

/* room_recording.c: segments, the free-space floor, write failures */
gboolean     room_start_recording (Room *room);   /* whether a segment started */
void         room_stop_recording (Room *room);
void         room_send_recording_state (Participant *p, Room *room);
void         room_send_link_mode (Participant *p, Room *room);
void         room_on_branch_event (gpointer owner, const gchar *what);
void         room_on_media_flowing (gpointer owner, gboolean flowing);
void         room_forget_finishing (Room *room);

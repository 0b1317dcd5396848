/* reach.h — what one live inspection knows about its applicant's reachability (issue 13): the
 * kinds of ICE candidates ("host/udp", "srflx/udp", "relay/udp", "host/tcp"…) each side offered
 * during the applicant's current attempt to connect (one attempt spans the page's reconnects),
 * and whether its media came within REACH_MEDIA_WAIT_S of the attempt's first offer; and the
 * text of the `reach` and `ice_pair` messages.
 * Bookkeeping and message text only: room.c sends, records and audits. Main loop only. */
#pragma once
#include <glib.h>

/* the applicant's media has this long to flow after its offer before everyone is told */
#define REACH_MEDIA_WAIT_S 15

typedef struct _RoomReach RoomReach;
/* main loop: REACH_MEDIA_WAIT_S passed since the attempt's first offer and no media came (the
 * applicant may be between two of its reconnects just then) */
typedef void (*RoomReachStalled) (gpointer owner);

RoomReach *room_reach_new (RoomReachStalled stalled, gpointer owner);
void       room_reach_free (RoomReach *reach);
/* A new connection: add the kinds of the offer, and start the wait unless media already flows
 * or the attempt already waits. A new attempt (media flowed, or the applicant was away longer
 * than the wait) forgets the kinds first. TRUE: this attempt has already stalled (a reconnect
 * after the `reach` message: the caller repeats it to the applicant's new connection). */
gboolean   room_reach_offer (RoomReach *reach, const gchar *sdp, gsize len, gboolean media_flowing);
/* the applicant's connection closed: its attempt goes on if it comes back within the wait */
void       room_reach_applicant_left (RoomReach *reach);
void       room_reach_applicant_candidate (RoomReach *reach, const gchar *candidate);
void       room_reach_server_candidate (RoomReach *reach, const gchar *candidate);
/* media flows, or the room ends: no wait, not stalled, no kinds */
void       room_reach_stop (RoomReach *reach);
gboolean   room_reach_stalled (RoomReach *reach);
/* "host/udp srflx/udp", or "none": for the log and the audit entry */
gchar     *room_reach_applicant_text (RoomReach *reach);
gchar     *room_reach_server_text (RoomReach *reach);
/* {"type":"reach","state":"no_media","after_s":15,"peer":…,"applicant_candidates":[…],
 * "server_candidates":[…]} */
gchar     *room_reach_message (RoomReach *reach, const gchar *applicant_peer);
/* {"type":"ice_pair","peer":…,"role":…,"local":"host/tcp","remote":"prflx/tcp"} */
gchar     *room_reach_pair_message (const gchar *peer, const gchar *role, const gchar *local, const gchar *remote);

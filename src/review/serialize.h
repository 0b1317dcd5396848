/* serialize.h — the one JSON shape of each row type, for every REST route, live message and
 * export that sends that row (json-glib builders). A field a page or test reads is here once;
 * adding one here adds it everywhere the row goes. Pure: reads rows, writes the builder. */
#pragma once
#include "store/db.h"
#include "review/users.h"
#include <json-glib/json-glib.h>

/* {id, session, item, result, note, by, at, media_ms (null before any media)} */
void mark_to_json (JsonBuilder *b, const MarkRow *m);
/* the members of a required item: position (1-based), title_en, title_zh, guidance, department;
 * item is a gchar*[4] of the store (en, zh, guidance, department). item_to_json wraps them in an
 * object; callers that add members of their own (may_mark, mark) open the object themselves. */
void item_members (JsonBuilder *b, guint position, gchar **item);
void item_to_json (JsonBuilder *b, guint position, gchar **item);
/* {id, case, session, kind, reason, by, at, state, countersigned_by (null when none), countersign_note} */
void decision_to_json (JsonBuilder *b, const DecisionRow *d);
/* {id, item, session, sha256, bytes, media_ms, at, by, url, annotation (the drawing, or null)} */
void still_to_json (JsonBuilder *b, const StillRow *s);
/* the members of an account: username, role, department */
void user_members (JsonBuilder *b, const User *u);
/* a live inspection of the case `row`: {id, started_at, ended_at, challenge, challenge_seen_by,
 * location: {lat, lon, accuracy_m, distance_m (from the case's site; null without one)} or null},
 * and with peers (of ParticipantRow; NULL: left out) "peers": [{peer, role, name, joined_at,
 * ice: {server, peer, at} — the candidate pair its connection selected (issue 13) — or null}] */
void session_to_json (JsonBuilder *b, const SessionRow *s, const CaseRow *row, GPtrArray *peers);
/* a recording segment: {id, session, seq, started_at, ended_at, media_started_at, duration_ms,
 * video_codec, archive_state (purged, or the archive's state), sha256, url (null when no file
 * is there)}, and with gaps (of GapRow; NULL: left out) its stretches without video */
void recording_to_json (JsonBuilder *b, const RecordingRow *r, GArray *gaps);
/* great-circle distance between two points, metres */
gdouble serialize_distance_m (gdouble lat1, gdouble lon1, gdouble lat2, gdouble lon2);

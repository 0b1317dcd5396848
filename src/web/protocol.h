/* protocol.h — the signaling messages (docs/protocol.md) as a C value: parsed and validated
 * from one WebSocket text frame. Pure: no sockets, no rooms; fuzzed and unit-tested. */
#pragma once
#include <glib.h>
#include <json-glib/json-glib.h>

#define WS_MAX_MESSAGE  65536   /* one message (a WebSocket text frame), an SDP in it included */

typedef enum {
  MSG_JOIN, MSG_OFFER, MSG_ANSWER, MSG_ICE, MSG_LEAVE, MSG_PING, MSG_LINK_MODE,
  MSG_CAMERA, MSG_CAMERA_RESULT, MSG_CAMERA_CAPS,
  MSG_ADMIT,
} MessageType;

typedef struct {
  MessageType type;
  gchar  *id;          /* the client's correlation id, re-serialised as JSON text; NULL if none */
  gchar  *case_ref;    /* join, admit */
  gchar  *role;        /* join: "applicant" | "reviewer" */
  gchar  *token;       /* join (applicant) */
  gchar  *name;        /* join (optional) */
  gchar  *sdp;         /* offer, answer */
  gchar  *pc;          /* answer, ice (reviewer) */
  gchar  *candidate;   /* ice; "" = end of candidates */
  guint   mline;       /* ice */
  gchar  *mode;        /* link_mode: "audio_first" | "full" */
  JsonNode *body;      /* camera, camera_result, camera_caps: the whole object, its members checked by
                        * the room (room_camera.c: they depend on the action and the phone's state) */
  gboolean wait;       /* join (applicant): its page waits in the waiting room until admitted */
} ProtocolMessage;

ProtocolMessage *protocol_parse (const gchar *data, gsize len, gchar **id_out, GError **error);
void             protocol_message_free (ProtocolMessage *msg);
/* {"type":"error","code":…,"message":…[,"id":…]} */
gchar           *protocol_error_json (gint code, const gchar *message, const gchar *id_json);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProtocolMessage, protocol_message_free)

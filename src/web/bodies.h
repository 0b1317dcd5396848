/* bodies.h — the JSON bodies of the REST API as C values: parsed and validated without any
 * state (no database, no sockets), so they are unit-tested and fuzzed (tests/fuzz/fuzz_bodies.c).
 * Strings are borrowed from the JsonObject; keep its parser alive while using them. */
#pragma once
#include <glib.h>
#include <json-glib/json-glib.h>
#include "store/db.h"

#define BODY_NOTE_MAX    2000   /* characters */
#define BODY_REASON_MAX  4000
#define BODY_SHAPES_MAX  50

/* the request body as a JSON object: BAD_JSON for anything else (not UTF-8, not JSON, not an
 * object); BAD_FIELD when a string holds the character U+0000 (see bodies_json_refuse_nul) */
JsonObject *bodies_parse_object (JsonParser *parser, const gchar *data, gsize len, GError **error);

/* On JSON text the parser has accepted: FALSE with BAD_FIELD (naming the member) when any
 * string, member names included, holds an escaped U+0000, which json-glib's NUL-terminated
 * strings would silently cut short. Signaling messages are checked with it too (protocol.c). */
gboolean bodies_json_refuse_nul (const gchar *data, gsize len, GError **error);

typedef struct { const gchar *username, *password; } LoginBody;
gboolean bodies_parse_login (JsonObject *obj, LoginBody *out, GError **error);

typedef struct {
  const gchar *ref, *type_key, *owner, *applicant_name, *applicant_phone, *site_address;
  gboolean has_site;
  gdouble site_lat, site_lon;
} CaseBody;
gboolean bodies_parse_case (JsonObject *obj, CaseBody *out, GError **error);

typedef struct { const gchar *owner; GPtrArray *co_reviewers; /* of const gchar*, owned by out */ } AssignBody;
gboolean bodies_parse_assign (JsonObject *obj, AssignBody *out, GError **error);

typedef struct { gint item; const gchar *result, *note; } MarkBody;   /* item not yet checked against the case */
gboolean bodies_parse_mark (JsonObject *obj, MarkBody *out, GError **error);

typedef struct { const gchar *kind, *reason; } DecisionBody;
gboolean bodies_parse_decision (JsonObject *obj, DecisionBody *out, GError **error);

typedef struct { gint64 decision; gboolean sign; const gchar *note; } CountersignBody;
gboolean bodies_parse_countersign (JsonObject *obj, CountersignBody *out, GError **error);

typedef struct { gdouble lat, lon, accuracy; } GeoBody;
gboolean bodies_parse_geo (JsonObject *obj, GeoBody *out, GError **error);

typedef struct { gint item; } StillBody;
gboolean bodies_parse_still (JsonObject *obj, StillBody *out, GError **error);

/* {username, role, department?} */
typedef struct { const gchar *username, *role, *department; } UserBody;
gboolean bodies_parse_user (JsonObject *obj, UserBody *out, GError **error);

/* {key, title_en, title_zh, time_limit_days, items?: [{title_en, title_zh, guidance?}]}; when
 * editing, key comes from the URL (key_from_url) and items may be left out. out->items is owned
 * by the caller (g_array_unref), its strings borrowed. */
gboolean bodies_parse_case_type (JsonObject *obj, const gchar *key_from_url, CaseTypeDef *out, GError **error);

/* {still, shapes: [{kind: arrow|circle|box, x1, y1, x2, y2}]} in 0…1 image coordinates */
typedef struct { gint64 still; JsonNode *shapes; } AnnotationBody;
gboolean bodies_parse_annotation (JsonObject *obj, AnnotationBody *out, GError **error);

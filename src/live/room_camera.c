/* room_camera.c — the reviewer's hands on the phone's camera (issue 18, docs/protocol.md): a
 * reviewer's `camera` command (switch camera, torch, zoom, focus at a point, "point here") is
 * checked strictly, audited, numbered and sent to the applicant's page alone; the page's
 * `camera_result` is matched to its command, audited and told to the reviewers; its
 * `camera_caps` (what its camera can do) is kept, audited when it changes and told to the
 * reviewers, those who join later too. A command the page does not answer within
 * CAMERA_ANSWER_S is audited and told as `timeout`, so every command has its outcome in the
 * audit log. Owns the room's pending commands and last capabilities; never touches media.
 * Main loop. */
#include "live/room_private.h"
#include "review/audit.h"
#include "core/errors.h"
#include <math.h>

#define CAMERA_ANSWER_S    10    /* the phone answers a command within this, or it timed out */
#define CAMERA_MAX_PENDING 16    /* commands waiting for the phone's answer, per room */
#define ZOOM_MAX           1000.0

typedef struct {
  RoomCamera *camera;
  gchar      *request;   /* "c1", "c2", … : this room's number for it */
  gchar      *action;
  gchar      *by;        /* the reviewer's account name */
  guint       timer;
} Pending;

struct _RoomCamera {
  Room       *room;
  GHashTable *pending;   /* request -> Pending* */
  guint       serial;
  JsonNode   *caps;      /* the phone's last `camera_caps`, as told to reviewers; NULL before */
  gchar      *caps_text; /* its JSON text, to audit a change once */
  gchar      *caps_peer; /* the applicant connection that told them (a new one tells its own) */
};

static const gchar *const actions[] = { "facing", "torch", "zoom", "focus", "point", NULL };
static const gchar *const reasons[] = { "unsupported", "failed", "out_of_range", "busy", NULL };

static void
pending_free (gpointer data)
{
  Pending *p = data;
  if (p->timer)
    g_source_remove (p->timer);
  g_free (p->request);
  g_free (p->action);
  g_free (p->by);
  g_free (p);
}

static RoomCamera *
camera_of (Room *room)
{
  if (!room->camera) {
    room->camera = g_new0 (RoomCamera, 1);
    room->camera->room = room;
    room->camera->pending = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, pending_free);
  }
  return room->camera;
}

void
room_camera_free (Room *room)
{
  RoomCamera *camera = g_steal_pointer (&room->camera);
  if (!camera)
    return;
  g_hash_table_unref (camera->pending);   /* unanswered at the end: the inspection's end says why */
  if (camera->caps)
    json_node_unref (camera->caps);
  g_free (camera->caps_text);
  g_free (camera->caps_peer);
  g_free (camera);
}

/* ---- strict reading of a message's members --------------------------------------------- */

static gboolean
bad_field (GError **error, const gchar *format, const gchar *name)
{
  g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, format, name);
  return FALSE;
}

/* only `allowed` members (and type, id) may appear: a misspelt field is an error, not ignored */
static gboolean
only_members (JsonObject *obj, const gchar *const *allowed, GError **error)
{
  g_autoptr (GList) names = json_object_get_members (obj);
  for (GList *l = names; l; l = l->next) {
    const gchar *name = l->data;
    if (g_strcmp0 (name, "type") == 0 || g_strcmp0 (name, "id") == 0 || g_strv_contains (allowed, name))
      continue;
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'%.64s' does not belong in this message", name);
    return FALSE;
  }
  return TRUE;
}

static gboolean
is_number (JsonNode *node)
{
  return node && JSON_NODE_HOLDS_VALUE (node) &&
         (json_node_get_value_type (node) == G_TYPE_INT64 || json_node_get_value_type (node) == G_TYPE_DOUBLE);
}

static gboolean
is_bool (JsonNode *node)
{
  return node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN;
}

static gboolean
is_string (JsonNode *node)
{
  return node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

/* a required number in [min, max] */
static gboolean
get_number (JsonObject *obj, const gchar *name, gdouble min, gdouble max, gdouble *out, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);
  if (!node) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "'%s' is required", name);
    return FALSE;
  }
  if (!is_number (node))
    return bad_field (error, "'%s' must be a number", name);
  *out = json_node_get_double (node);
  if (!isfinite (*out) || *out < min || *out > max) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'%s' must be from %g to %g", name, min, max);
    return FALSE;
  }
  return TRUE;
}

static gchar *
number_text (gdouble value)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.6g", value));   /* the same in every locale */
}

/* a value as audit text: a string as is, a boolean as true/false, a number in C notation */
static gchar *
value_text (JsonNode *node)
{
  if (is_string (node))
    return g_strdup (json_node_get_string (node));
  if (is_bool (node))
    return g_strdup (json_node_get_boolean (node) ? "true" : "false");
  if (is_number (node))
    return number_text (json_node_get_double (node));
  return NULL;
}

static gchar *
actor_of (Participant *p)
{
  return g_strdup_printf ("%s:%s", room_role_names[p->role], p->id);
}

/* ---- a command, from a reviewer --------------------------------------------------------- */

/* The command's members, checked against its action: facing (value "user" | "environment"),
 * torch (value true | false), zoom (value a number in (0, ZOOM_MAX]), focus and point (x, y in
 * [0, 1], normalised to the video frame the reviewer sees: 0,0 its top left corner). */
static gboolean
check_command (JsonObject *obj, const gchar **action_out, GError **error)
{
  JsonNode *action = json_object_get_member (obj, "action");
  if (!action) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "'action' is required");
    return FALSE;
  }
  if (!is_string (action) || !g_strv_contains (actions, json_node_get_string (action)))
    return bad_field (error, "'%s' must be facing, torch, zoom, focus or point", "action");
  const gchar *a = json_node_get_string (action);
  *action_out = a;
  if (g_str_equal (a, "focus") || g_str_equal (a, "point")) {
    static const gchar *const members[] = { "action", "x", "y", NULL };
    gdouble x, y;
    return only_members (obj, members, error) && get_number (obj, "x", 0, 1, &x, error) &&
           get_number (obj, "y", 0, 1, &y, error);
  }
  static const gchar *const members[] = { "action", "value", NULL };
  if (!only_members (obj, members, error))
    return FALSE;
  JsonNode *value = json_object_get_member (obj, "value");
  if (!value) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "'value' is required");
    return FALSE;
  }
  if (g_str_equal (a, "facing") &&
      (!is_string (value) || (g_strcmp0 (json_node_get_string (value), "user") != 0 &&
                              g_strcmp0 (json_node_get_string (value), "environment") != 0)))
    return bad_field (error, "'%s' must be \"user\" or \"environment\"", "value");
  if (g_str_equal (a, "torch") && !is_bool (value))
    return bad_field (error, "'%s' must be true or false", "value");
  if (g_str_equal (a, "zoom")) {
    gdouble zoom;
    if (!get_number (obj, "value", 0, ZOOM_MAX, &zoom, error))
      return FALSE;
    if (zoom <= 0)
      return bad_field (error, "'%s' must be more than 0", "value");
  }
  return TRUE;
}

/* the phone's answer did not come in time: the command's outcome is `timeout` */
static void tell_result (RoomCamera *camera, Pending *pending, gboolean ok, const gchar *reason,
                         JsonNode *value, const gchar *actor);

static gboolean
on_timeout (gpointer data)
{
  Pending *pending = data;
  pending->timer = 0;
  tell_result (pending->camera, pending, FALSE, "timeout", NULL, "server");
  return G_SOURCE_REMOVE;
}

gboolean
room_camera_command (Room *room, Participant *p, JsonObject *obj, GError **error)
{
  if (p->role != ROLE_REVIEWER) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_WRONG_ROLE, "only a reviewer steers the phone's camera");
    return FALSE;
  }
  const gchar *action = NULL;
  if (!check_command (obj, &action, error))
    return FALSE;
  if (!room->applicant || room->applicant->whip) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_APPLICANT_ABSENT,
                 room->applicant ? "the applicant publishes from an encoder (WHIP): it has no page to steer"
                                 : "the applicant's page is not connected");
    return FALSE;
  }
  RoomCamera *camera = camera_of (room);
  if (g_hash_table_size (camera->pending) >= CAMERA_MAX_PENDING) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_RATE_LIMITED,
                 "%d camera commands are still waiting for the phone's answer", CAMERA_MAX_PENDING);
    return FALSE;
  }
  Pending *pending = g_new0 (Pending, 1);
  pending->camera = camera;
  pending->request = g_strdup_printf ("c%u", ++camera->serial);
  pending->action = g_strdup (action);
  pending->by = g_strdup (p->name);
  g_hash_table_insert (camera->pending, pending->request, pending);
  pending->timer = g_timeout_add_seconds (CAMERA_ANSWER_S, on_timeout, pending);

  /* to the phone: the command as checked, with the room's number for it */
  g_autoptr (JsonBuilder) b = room_message_begin ("camera");
  json_builder_set_member_name (b, "request");
  json_builder_add_string_value (b, pending->request);
  json_builder_set_member_name (b, "action");
  json_builder_add_string_value (b, action);
  g_autofree gchar *x = NULL, *y = NULL, *value = NULL;
  if (json_object_has_member (obj, "x")) {
    x = number_text (json_object_get_double_member (obj, "x"));
    y = number_text (json_object_get_double_member (obj, "y"));
    json_builder_set_member_name (b, "x");
    json_builder_add_double_value (b, json_object_get_double_member (obj, "x"));
    json_builder_set_member_name (b, "y");
    json_builder_add_double_value (b, json_object_get_double_member (obj, "y"));
  } else {
    JsonNode *v = json_object_get_member (obj, "value");
    value = value_text (v);
    json_builder_set_member_name (b, "value");
    json_builder_add_value (b, json_node_copy (v));
  }
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *text = json_to_string (root, FALSE);

  g_autofree gchar *actor = actor_of (p);
  if (x)
    audit_note (room->app->db, actor, "camera.command", room->case_ref, "request", pending->request,
                "action", action, "by", p->name, "x", x, "y", y, NULL);
  else
    audit_note (room->app->db, actor, "camera.command", room->case_ref, "request", pending->request,
                "action", action, "by", p->name, "value", value, NULL);
  room_send_applicant (room, text);
  return TRUE;
}

/* ---- the phone's answer ------------------------------------------------------------------ */

/* audited, told to every reviewer: {type: camera_result, request, action, by, ok, reason?, value?};
 * the command is done */
static void
tell_result (RoomCamera *camera, Pending *pending, gboolean ok, const gchar *reason, JsonNode *value,
             const gchar *actor)
{
  Room *room = camera->room;
  g_autofree gchar *value_str = value ? value_text (value) : NULL;
  /* audit_note's list ends at its first NULL key: the optional members as their own pair */
  const gchar *extra_key = reason ? "reason" : value_str ? "value" : NULL;
  audit_note (room->app->db, actor, "camera.result", room->case_ref, "request", pending->request,
              "action", pending->action, "ok", ok ? "true" : "false", extra_key, reason ? reason : value_str, NULL);
  g_autoptr (JsonBuilder) b = room_message_begin ("camera_result");
  json_builder_set_member_name (b, "request");
  json_builder_add_string_value (b, pending->request);
  json_builder_set_member_name (b, "action");
  json_builder_add_string_value (b, pending->action);
  json_builder_set_member_name (b, "by");
  json_builder_add_string_value (b, pending->by);
  json_builder_set_member_name (b, "ok");
  json_builder_add_boolean_value (b, ok);
  if (reason) {
    json_builder_set_member_name (b, "reason");
    json_builder_add_string_value (b, reason);
  }
  if (value) {
    json_builder_set_member_name (b, "value");
    json_builder_add_value (b, json_node_copy (value));
  }
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *text = json_to_string (root, FALSE);
  g_hash_table_remove (camera->pending, pending->request);   /* frees pending */
  room_broadcast (room, text, TRUE);
}

/* {request, ok, reason? (unsupported | failed | out_of_range | busy; required when not ok),
 * value? (what was applied: a string of at most 32 bytes, a boolean or a number)} */
gboolean
room_camera_result (Room *room, Participant *p, JsonObject *obj, GError **error)
{
  if (p->role != ROLE_APPLICANT) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_WRONG_ROLE, "only the applicant's page answers camera commands");
    return FALSE;
  }
  static const gchar *const members[] = { "request", "ok", "reason", "value", NULL };
  if (!only_members (obj, members, error))
    return FALSE;
  JsonNode *request = json_object_get_member (obj, "request");
  JsonNode *ok = json_object_get_member (obj, "ok");
  JsonNode *reason = json_object_get_member (obj, "reason");
  JsonNode *value = json_object_get_member (obj, "value");
  if (!request || !ok) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "'%s' is required", request ? "ok" : "request");
    return FALSE;
  }
  if (!is_string (request) || strlen (json_node_get_string (request)) > 16)
    return bad_field (error, "'%s' must be the command's request (a short string)", "request");
  if (!is_bool (ok))
    return bad_field (error, "'%s' must be true or false", "ok");
  gboolean done = json_node_get_boolean (ok);
  if (reason && (!is_string (reason) || !g_strv_contains (reasons, json_node_get_string (reason))))
    return bad_field (error, "'%s' must be unsupported, failed, out_of_range or busy", "reason");
  if (!done && !reason) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "'reason' is required when 'ok' is false");
    return FALSE;
  }
  if (done && reason)
    return bad_field (error, "'%s' belongs only to a command that was not done", "reason");
  if (value && !(is_bool (value) || (is_number (value) && isfinite (json_node_get_double (value))) ||
                 (is_string (value) && strlen (json_node_get_string (value)) <= 32)))
    return bad_field (error, "'%s' must be a boolean, a number or a short string", "value");
  RoomCamera *camera = camera_of (room);
  Pending *pending = g_hash_table_lookup (camera->pending, json_node_get_string (request));
  if (!pending) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "no camera command '%.16s' waits for an answer",
                 json_node_get_string (request));
    return FALSE;
  }
  g_autofree gchar *actor = actor_of (p);
  tell_result (camera, pending, done, reason ? json_node_get_string (reason) : NULL, value, actor);
  return TRUE;
}

/* ---- what the phone's camera can do ------------------------------------------------------ */

static void
send_caps (Participant *to, RoomCamera *camera)
{
  g_autoptr (JsonBuilder) b = room_message_begin ("camera_caps");
  JsonObject *caps = json_node_get_object (camera->caps);
  g_autoptr (GList) names = json_object_get_members (caps);
  for (GList *l = names; l; l = l->next) {
    json_builder_set_member_name (b, l->data);
    json_builder_add_value (b, json_node_copy (json_object_get_member (caps, l->data)));
  }
  room_send_builder (to, b);
}

/* {facing, torch, focus: booleans; zoom: {min, max, step, value} or null} */
gboolean
room_camera_caps (Room *room, Participant *p, JsonObject *obj, GError **error)
{
  if (p->role != ROLE_APPLICANT) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_WRONG_ROLE, "only the applicant's page tells what its camera can do");
    return FALSE;
  }
  static const gchar *const members[] = { "facing", "torch", "focus", "zoom", NULL };
  if (!only_members (obj, members, error))
    return FALSE;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  for (guint i = 0; i < 3; i++) {
    JsonNode *node = json_object_get_member (obj, members[i]);
    if (!node) {
      g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_MISSING_FIELD, "'%s' is required", members[i]);
      return FALSE;
    }
    if (!is_bool (node))
      return bad_field (error, "'%s' must be true or false", members[i]);
    json_builder_set_member_name (b, members[i]);
    json_builder_add_boolean_value (b, json_node_get_boolean (node));
  }
  JsonNode *zoom = json_object_get_member (obj, "zoom");
  json_builder_set_member_name (b, "zoom");
  if (!zoom || JSON_NODE_HOLDS_NULL (zoom))
    json_builder_add_null_value (b);
  else if (!JSON_NODE_HOLDS_OBJECT (zoom))
    return bad_field (error, "'%s' must be {min, max, step, value} or null", "zoom");
  else {
    JsonObject *z = json_node_get_object (zoom);
    static const gchar *const zoom_members[] = { "min", "max", "step", "value", NULL };
    gdouble n[4];
    if (!only_members (z, zoom_members, error))
      return FALSE;
    json_builder_begin_object (b);
    for (guint i = 0; i < 4; i++) {
      if (!get_number (z, zoom_members[i], 0, ZOOM_MAX, &n[i], error))
        return FALSE;
      json_builder_set_member_name (b, zoom_members[i]);
      json_builder_add_double_value (b, n[i]);
    }
    if (n[0] > n[1])
      return bad_field (error, "'%s': min is more than max", "zoom");
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  RoomCamera *camera = camera_of (room);
  g_autoptr (JsonNode) caps = json_builder_get_root (b);
  g_autofree gchar *text = json_to_string (caps, FALSE);
  if (g_strcmp0 (text, camera->caps_text) != 0) {   /* audited once per change */
    g_autofree gchar *actor = actor_of (p);
    audit_note (room->app->db, actor, "camera.capabilities", room->case_ref, "capabilities", text, NULL);
    g_free (camera->caps_text);
    camera->caps_text = g_strdup (text);
  }
  if (camera->caps)
    json_node_unref (camera->caps);
  camera->caps = g_steal_pointer (&caps);
  g_free (camera->caps_peer);
  camera->caps_peer = g_strdup (p->id);
  for (guint i = 0; i < room->participants->len; i++) {
    Participant *r = g_ptr_array_index (room->participants, i);
    if (r->role == ROLE_REVIEWER)
      send_caps (r, camera);
  }
  return TRUE;
}

/* a reviewer who joins while the applicant's page is there hears what its camera can do (as
 * that connection told it: a page that came back since tells its own once streaming) */
void
room_camera_greet (Room *room, Participant *reviewer)
{
  if (room->camera && room->camera->caps && room->applicant && !room->applicant->whip &&
      g_strcmp0 (room->camera->caps_peer, room->applicant->id) == 0)
    send_caps (reviewer, room->camera);
}

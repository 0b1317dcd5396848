/* reach.c — the reachability bookkeeping of one live inspection (reach.h): candidate kinds per
 * side of the applicant's connection, the REACH_MEDIA_WAIT_S timer, and the `reach` /
 * `ice_pair` messages built with json-glib. Never sends, records or audits (room.c does). */
#include "live/reach.h"
#include "media/ice_servers.h"
#include <json-glib/json-glib.h>

struct _RoomReach {
  GPtrArray       *applicant_kinds;
  GPtrArray       *server_kinds;
  guint            wait;         /* timer: REACH_MEDIA_WAIT_S after the attempt's first offer */
  gboolean         stalled;      /* connected on signaling, and no media came in that time */
  gint64           left_at;      /* monotonic µs the applicant left mid-attempt; 0: it is here */
  RoomReachStalled on_stalled;
  gpointer         owner;
};

RoomReach *
room_reach_new (RoomReachStalled stalled, gpointer owner)
{
  RoomReach *reach = g_new0 (RoomReach, 1);
  reach->applicant_kinds = g_ptr_array_new_with_free_func (g_free);
  reach->server_kinds = g_ptr_array_new_with_free_func (g_free);
  reach->on_stalled = stalled;
  reach->owner = owner;
  return reach;
}

void
room_reach_stop (RoomReach *reach)
{
  if (reach->wait) {
    g_source_remove (reach->wait);
    reach->wait = 0;
  }
  reach->stalled = FALSE;
  reach->left_at = 0;
  g_ptr_array_set_size (reach->applicant_kinds, 0);
  g_ptr_array_set_size (reach->server_kinds, 0);
}

void
room_reach_applicant_left (RoomReach *reach)
{
  reach->left_at = g_get_monotonic_time ();
}

void
room_reach_free (RoomReach *reach)
{
  if (!reach)
    return;
  room_reach_stop (reach);
  g_ptr_array_unref (reach->applicant_kinds);
  g_ptr_array_unref (reach->server_kinds);
  g_free (reach);
}

static void
kinds_add (GPtrArray *kinds, gchar *kind_take)
{
  if (!kind_take || g_ptr_array_find_with_equal_func (kinds, kind_take, g_str_equal, NULL))
    g_free (kind_take);
  else
    g_ptr_array_add (kinds, kind_take);
}

/* main loop */
static gboolean
on_wait_over (gpointer data)
{
  RoomReach *reach = data;
  reach->wait = 0;
  reach->stalled = TRUE;
  reach->on_stalled (reach->owner);
  return G_SOURCE_REMOVE;
}

gboolean
room_reach_offer (RoomReach *reach, const gchar *sdp, gsize len, gboolean media_flowing)
{
  /* a phone whose ICE fails reconnects every few seconds: one attempt spans its reconnects, so
   * the wait is not restarted by each of them; away longer than the wait, it starts afresh */
  if (media_flowing || (reach->left_at && g_get_monotonic_time () - reach->left_at > REACH_MEDIA_WAIT_S * G_USEC_PER_SEC))
    room_reach_stop (reach);
  reach->left_at = 0;
  g_autofree gchar *text = g_strndup (sdp, len);
  g_auto (GStrv) kinds = ice_candidate_kinds_of_sdp (text);
  for (gchar **k = kinds; *k; k++)
    kinds_add (reach->applicant_kinds, g_strdup (*k));
  if (!media_flowing && !reach->stalled && !reach->wait)
    reach->wait = g_timeout_add_seconds (REACH_MEDIA_WAIT_S, on_wait_over, reach);
  return reach->stalled;
}

void
room_reach_applicant_candidate (RoomReach *reach, const gchar *candidate)
{
  kinds_add (reach->applicant_kinds, ice_candidate_kind (candidate));
}

void
room_reach_server_candidate (RoomReach *reach, const gchar *candidate)
{
  kinds_add (reach->server_kinds, ice_candidate_kind (candidate));
}

gboolean
room_reach_stalled (RoomReach *reach)
{
  return reach->stalled;
}

static gchar *
kinds_text (GPtrArray *kinds)
{
  if (kinds->len == 0)
    return g_strdup ("none");
  GString *out = g_string_new (NULL);
  for (guint i = 0; i < kinds->len; i++)
    g_string_append_printf (out, "%s%s", i ? " " : "", (const gchar *) g_ptr_array_index (kinds, i));
  return g_string_free (out, FALSE);
}

gchar *room_reach_applicant_text (RoomReach *reach) { return kinds_text (reach->applicant_kinds); }
gchar *room_reach_server_text (RoomReach *reach) { return kinds_text (reach->server_kinds); }

static void
add_kinds (JsonBuilder *b, const gchar *member, GPtrArray *kinds)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; i < kinds->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (kinds, i));
  json_builder_end_array (b);
}

static void
add_string (JsonBuilder *b, const gchar *member, const gchar *value)
{
  json_builder_set_member_name (b, member);
  json_builder_add_string_value (b, value ? value : "");
}

static gchar *
builder_text (JsonBuilder *b)
{
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

gchar *
room_reach_message (RoomReach *reach, const gchar *applicant_peer)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "type", "reach");
  add_string (b, "state", "no_media");
  json_builder_set_member_name (b, "after_s");
  json_builder_add_int_value (b, REACH_MEDIA_WAIT_S);
  add_string (b, "peer", applicant_peer);
  add_kinds (b, "applicant_candidates", reach->applicant_kinds);
  add_kinds (b, "server_candidates", reach->server_kinds);
  return builder_text (b);
}

gchar *
room_reach_pair_message (const gchar *peer, const gchar *role, const gchar *local, const gchar *remote)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "type", "ice_pair");
  add_string (b, "peer", peer);
  add_string (b, "role", role);
  add_string (b, "local", local);
  add_string (b, "remote", remote);
  return builder_text (b);
}

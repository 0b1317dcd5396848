/* stills.c — evidence stills (取证截图). Asks the room for one decoded keyframe, writes it as
 * a JPEG next to the session's recording, hashes it (SHA-256), records it and tells every
 * reviewer. A drawing on a still is kept as JSON beside it; the image file never changes.
 * Never touches GStreamer or rooms itself: the live inspection is reached through live_port.h. */
#include "review/stills.h"
#include "review/live_port.h"
#include "review/audit.h"
#include "review/serialize.h"
#include "core/errors.h"
#include "review/workflow.h"
#include <glib/gstdio.h>

typedef struct {
  KanyanApp  *app;
  gchar      *actor, *case_ref;
  gint64      case_id, session_id;
  gint        item;
  StillsReply reply;
  gpointer    data;
} Pending;

static void
pending_free (Pending *p)
{
  g_free (p->actor);
  g_free (p->case_ref);
  g_free (p);
}

static void
fail (Pending *p, gint code, const gchar *message)
{
  g_autoptr (GError) error = g_error_new_literal (KANYAN_ERROR, code, message);
  p->reply (p->data, NULL, error);
  pending_free (p);
}

/* main loop: the room's capture ended */
static void
on_jpeg (gpointer data, GBytes *jpeg, gint64 media_ms, const gchar *error_message)
{
  Pending *p = data;
  if (!jpeg) {
    fail (p, KANYAN_ERROR_TIMEOUT, error_message ? error_message : "no still");
    return;
  }
  g_autofree gchar *session = g_strdup_printf ("session-%" G_GINT64_FORMAT, p->session_id);
  g_autofree gchar *name = g_strdup_printf ("still-item%02d-%" G_GINT64_FORMAT ".jpg", p->item, db_now_ms ());
  g_autofree gchar *dir = g_build_filename (p->app->config->recordings_dir, p->case_ref, session, NULL);
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  gsize len = 0;
  const gchar *bytes = g_bytes_get_data (jpeg, &len);
  g_autoptr (GError) error = NULL;
  if (g_mkdir_with_parents (dir, 0750) != 0 || !g_file_set_contents (path, bytes, len, &error)) {
    g_warning ("case %s: a still cannot be written to %s", p->case_ref, path);
    fail (p, KANYAN_ERROR_INTERNAL, "the still could not be written");
    return;
  }
  g_autofree gchar *sha = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, jpeg);
  /* the still's row and its audit entry: one durable transaction (answered means kept) */
  gboolean ok = db_durable_begin (p->app->db, NULL);
  gint64 id = ok ? store_still_add (p->app->db, p->case_id, p->session_id, p->item, path, sha, (gint64) len,
                                    media_ms, p->actor) : 0;
  g_autofree gchar *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  g_autofree gchar *item_text = g_strdup_printf ("%d", p->item);
  g_autofree gchar *media_text = g_strdup_printf ("%" G_GINT64_FORMAT, media_ms);
  if (id)
    audit_note (p->app->db, p->actor, "still.captured", p->case_ref, "still", id_text, "item", item_text, "sha256", sha,
                "media_ms", media_text, NULL);
  g_autoptr (StillRow) still = ok && db_durable_end (p->app->db, id != 0, NULL) && id
      ? store_still_get (p->app->db, id) : NULL;
  if (!still) {
    fail (p, KANYAN_ERROR_INTERNAL, "the still could not be recorded");
    return;
  }
  stills_announce (p->app, p->case_ref, still);
  p->reply (p->data, still, NULL);
  pending_free (p);
}

void
stills_announce (KanyanApp *app, const gchar *case_ref, const StillRow *still)
{
  if (!live_find (app, case_ref, NULL))
    return;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "still");
  json_builder_set_member_name (b, "still");
  still_to_json (b, still);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *text = json_to_string (root, FALSE);
  live_notify (app, case_ref, text, TRUE);
}

gboolean
stills_capture (KanyanApp *app, const gchar *actor, const CaseRow *row, gint item, StillsReply reply, gpointer data,
                GError **error)
{
  if (!workflow_check_open (row, error))   /* a closed case's record is final */
    return FALSE;
  LiveInspection live;
  if (!live_find (app, row->ref, &live)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "case %s has no live inspection now", row->ref);
    return FALSE;
  }
  g_autoptr (GPtrArray) items = store_case_items (app->db, row->id);
  if (item < 1 || (guint) item > items->len) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "'item' must be 1 to %u", items->len);
    return FALSE;
  }
  Pending *p = g_new0 (Pending, 1);
  p->app = app;
  p->actor = g_strdup (actor);
  p->case_ref = g_strdup (row->ref);
  p->case_id = row->id;
  p->session_id = live.session_id;
  p->item = item;
  p->reply = reply;
  p->data = data;
  if (!live_capture_still (app, row->ref, on_jpeg, p, error)) {
    pending_free (p);
    return FALSE;
  }
  return TRUE;
}

gboolean
stills_annotate (KanyanApp *app, const gchar *actor, const CaseRow *row, gint64 still_id, JsonNode *shapes,
                 GError **error)
{
  if (!workflow_check_open (row, error))
    return FALSE;
  g_autoptr (StillRow) still = store_still_get (app->db, still_id);
  if (!still || still->case_id != row->id) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "case %s has no still %" G_GINT64_FORMAT, row->ref, still_id);
    return FALSE;
  }
  g_autofree gchar *text = json_to_string (shapes, FALSE);
  if (!db_durable_begin (app->db, error))
    return FALSE;
  store_still_annotate (app->db, still_id, text, actor);
  g_autofree gchar *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, still_id);
  g_autofree gchar *count = g_strdup_printf ("%u", JSON_NODE_HOLDS_ARRAY (shapes) ? json_array_get_length (json_node_get_array (shapes)) : 0);
  audit_note (app->db, actor, "still.annotated", row->ref, "still", id_text, "shapes", count, NULL);
  return db_durable_end (app->db, TRUE, error);
}

/* cli_slots.c — `kanyan case slot add --ref REF --at "2026-12-10 14:30" [--minutes 30]` offers a
 * slot (as "cli", held by the case's owner; the same rules and audit as the REST route), and
 * `kanyan case slot list --ref REF` prints the case's slots. Prints; the rules are review/slots.c's. */
#include "app/cli_slots.h"
#include "review/slots.h"
#include "core/errors.h"

static void
print_slot (const SlotRow *s, gboolean json)
{
  if (json) {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    slot_to_json (b, s, TRUE);
    g_autoptr (JsonNode) root = json_builder_get_root (b);
    g_autofree gchar *text = json_to_string (root, FALSE);
    g_print ("%s\n", text);
    return;
  }
  g_autoptr (GDateTime) u = g_date_time_new_from_unix_utc (s->starts_at / 1000);
  g_autoptr (GDateTime) t = g_date_time_to_local (u);
  g_autofree gchar *when = g_date_time_format (t, "%Y-%m-%d %H:%M %z");
  g_print ("%" G_GINT64_FORMAT "\t%s\t%s\t%" G_GINT64_FORMAT " min\t%s\t%s\n", s->id, s->case_ref, when,
           (s->ends_at - s->starts_at) / 60000, s->state, s->reviewer);
}

int
cli_case_slot (KanyanApp *app, const gchar *sub, const gchar *ref, const gchar *at, gint minutes, gboolean json)
{
  g_autoptr (GError) error = NULL;
  gboolean adding = g_strcmp0 (sub, "add") == 0;
  if (!adding && g_strcmp0 (sub, "list") != 0) {
    g_printerr ("kanyan case slot: say 'add' or 'list'\n");
    return 2;
  }
  if (!ref || (adding && !at)) {
    g_printerr (adding ? "kanyan case slot add: --ref and --at are required\n" : "kanyan case slot list: --ref is required\n");
    return 2;
  }
  g_autoptr (CaseRow) row = store_case_get (app->db, ref, &error);
  if (!row) {
    g_printerr ("kanyan case slot: %s\n", error->message);
    return 1;
  }
  if (!adding) {
    g_autoptr (GPtrArray) slots = store_slots_of_case (app->db, row->id);
    for (guint i = 0; i < slots->len; i++)
      print_slot (g_ptr_array_index (slots, i), json);
    return 0;
  }
  gint64 start = 0;
  g_autoptr (SlotRow) s = NULL;
  if (slots_parse_time (at, NULL, &start, &error))
    s = slots_offer (app->db, app->config, "cli", row, start, minutes > 0 ? minutes : SLOT_MINUTES_DEFAULT, &error);
  if (!s) {
    g_printerr ("kanyan case slot add: %s (%s)\n", error->message, kanyan_error_code (error->code));
    return 1;
  }
  print_slot (s, json);
  return 0;
}

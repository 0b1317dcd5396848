/* audit.c — the hashing and verification of the audit chain (its SQL is store_audit.c). A row's hash is the
 * SHA-256 of its canonical content: id, time, actor, action, case and detail, each
 * length-prefixed so no two contents collide, followed by the previous row's hash. */
#include "review/audit.h"
#include "store/db.h"
#include "store/store_audit.h"
#include "core/errors.h"
#include <json-glib/json-glib.h>

#define GENESIS AUDIT_GENESIS

static void
put_field (GChecksum *sum, const gchar *value)
{
  const gchar *v = value ? value : "";
  gchar len[32];
  g_snprintf (len, sizeof len, "%zu:", strlen (v));
  g_checksum_update (sum, (const guchar *) len, -1);
  g_checksum_update (sum, (const guchar *) v, -1);
  g_checksum_update (sum, (const guchar *) "\n", 1);
}

gchar *
audit_row_hash (gint64 id, gint64 at, const gchar *actor, const gchar *action, const gchar *case_ref,
                const gchar *detail, const gchar *prev_hash)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree gchar *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  g_autofree gchar *at_text = g_strdup_printf ("%" G_GINT64_FORMAT, at);
  put_field (sum, "kanyan-audit-v1");
  put_field (sum, id_text);
  put_field (sum, at_text);
  put_field (sum, actor);
  put_field (sum, action);
  put_field (sum, case_ref);
  put_field (sum, detail);
  put_field (sum, prev_hash);
  return g_strdup (g_checksum_get_string (sum));
}

static AuditListener listener;
static gpointer      listener_data;

void
audit_set_listener (AuditListener fn, gpointer data)
{
  listener = fn;
  listener_data = data;
}

gint64
audit_append (sqlite3 *db, const gchar *actor, const gchar *action, const gchar *case_ref,
              const gchar *detail_json, GError **error)
{
  const gchar *detail = detail_json ? detail_json : "{}";
  gint64 id = store_audit_append (db, db_now_ms (), actor, action, case_ref, detail, audit_row_hash, error);
  if (id && listener)
    listener (listener_data);
  return id;
}

typedef struct {
  const gchar *case_ref;
  gint64      *bad_id, *checked;
  gchar       *expected_prev;
  gint64       expected_id;
} Verify;

static void
verify_row (const AuditEntry *e, gpointer data)
{
  Verify *v = data;
  g_autofree gchar *hash = audit_row_hash (e->id, e->at, e->actor, e->action, e->case_ref, e->detail, e->prev_hash);
  gboolean counts = !v->case_ref || g_strcmp0 (v->case_ref, e->case_ref) == 0;
  /* a row is bad if its content changed, its link changed, or a row before it vanished */
  gboolean good = g_strcmp0 (hash, e->hash) == 0 && g_strcmp0 (e->prev_hash, v->expected_prev) == 0 &&
                  e->id == v->expected_id;
  if (counts)
    (*v->checked)++;
  if (!good && counts && !*v->bad_id)
    *v->bad_id = e->id;
  g_free (v->expected_prev);
  v->expected_prev = g_strdup (e->hash);
  v->expected_id = e->id + 1;
}

gboolean
audit_verify (sqlite3 *db, const gchar *case_ref, gint64 *bad_id, gint64 *checked, GError **error)
{
  *bad_id = 0;
  *checked = 0;
  Verify v = { case_ref, bad_id, checked, g_strdup (GENESIS), 1 };
  gboolean read = store_audit_foreach (db, NULL, verify_row, &v, error);   /* every row: the chain is one */
  g_free (v.expected_prev);
  return read && *bad_id == 0;
}

void
audit_note (sqlite3 *db, const gchar *actor, const gchar *action, const gchar *case_ref, const gchar *first_key, ...)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  va_list args;
  va_start (args, first_key);
  for (const gchar *key = first_key; key; key = va_arg (args, const gchar *)) {
    const gchar *value = va_arg (args, const gchar *);
    json_builder_set_member_name (b, key);
    json_builder_add_string_value (b, value ? value : "");
  }
  va_end (args);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *detail = json_to_string (root, FALSE);
  g_autoptr (GError) error = NULL;
  if (!audit_append (db, actor, action, case_ref, detail, &error))
    g_warning ("%s", error->message);
}

static void
print_row (const AuditEntry *e, gpointer out)
{
  fprintf (out, "%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%s\t%s\t%s\t%s\t%.16s\n", e->id, e->at, e->actor, e->action,
           e->case_ref, e->detail, e->hash);
}

void
audit_print (sqlite3 *db, const gchar *case_ref, FILE *out)
{
  store_audit_foreach (db, case_ref, print_row, out, NULL);
}

static void
copy_row (const AuditEntry *e, gpointer rows)
{
  AuditEntry *copy = g_new0 (AuditEntry, 1);
  copy->id = e->id;
  copy->at = e->at;
  copy->actor = g_strdup (e->actor);
  copy->action = g_strdup (e->action);
  copy->case_ref = g_strdup (e->case_ref);
  copy->detail = g_strdup (e->detail);
  copy->prev_hash = g_strdup (e->prev_hash);
  copy->hash = g_strdup (e->hash);
  g_ptr_array_add (rows, copy);
}

GPtrArray *
audit_entries (sqlite3 *db, const gchar *case_ref)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) audit_entry_free);
  store_audit_foreach (db, case_ref, copy_row, rows, NULL);
  return rows;
}

/* journal.c — a GLib log writer (journal.h) that hands each message to GLib's own journald
 * writer with one field more, read from the message's lead ("case REF:", "peer NAME:"). It
 * filters as GLib's default writer does (G_MESSAGES_DEBUG) and falls back to it when the
 * journal refuses. Changes no message and no call site. */
#include "app/journal.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

gboolean
journal_field_of (const gchar *message, const gchar **key, gchar **value)
{
  static const struct { const gchar *lead, *key; } leads[] = {
    { "case ", "KANYAN_CASE_REF" }, { "peer ", "KANYAN_PEER" },
  };
  for (guint i = 0; message && i < G_N_ELEMENTS (leads); i++) {
    if (!g_str_has_prefix (message, leads[i].lead))
      continue;
    const gchar *start = message + strlen (leads[i].lead);
    const gchar *colon = strchr (start, ':');
    if (!colon || colon == start)
      return FALSE;
    for (const gchar *p = start; p < colon; p++)
      if (g_ascii_isspace (*p))
        return FALSE;   /* "case REF:" names one word; "case of …: …" is prose */
    *key = leads[i].key;
    *value = g_strndup (start, colon - start);
    return TRUE;
  }
  return FALSE;
}

/* any thread that logs */
static GLogWriterOutput
write_to_journal (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  const gchar *domain = NULL, *message = NULL;
  for (gsize i = 0; i < n_fields; i++) {
    if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;
    else if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
      message = fields[i].value;
  }
  if (g_log_writer_default_would_drop (level, domain))
    return G_LOG_WRITER_HANDLED;
  const gchar *key = NULL;
  g_autofree gchar *value = NULL;
  GLogWriterOutput out;
  if (journal_field_of (message, &key, &value)) {
    g_autofree GLogField *more = g_new (GLogField, n_fields + 1);
    memcpy (more, fields, n_fields * sizeof *fields);
    more[n_fields] = (GLogField) { key, value, -1 };
    out = g_log_writer_journald (level, more, n_fields + 1, data);
  } else {
    out = g_log_writer_journald (level, fields, n_fields, data);
  }
  return out == G_LOG_WRITER_HANDLED ? out : g_log_writer_default (level, fields, n_fields, data);
}

void
journal_install (void)
{
  if (g_log_writer_is_journald (fileno (stderr)))
    g_log_set_writer_func (write_to_journal, NULL, NULL);
}

/* journal.h — the server's log in the systemd journal with fields to search by: a message
 * that begins "case REF:" (the log's convention) carries KANYAN_CASE_REF=REF, one that begins
 * "peer NAME:" carries KANYAN_PEER=NAME (`journalctl -u kanyan KANYAN_CASE_REF=F-2027-001`).
 * Only when standard error is the journal; otherwise GLib's default writer, as before. */
#pragma once
#include <glib.h>

/* main thread, before anything logs: installs the writer when stderr is the journal */
void     journal_install (void);
/* pure: the field a message's lead names; *key is "KANYAN_CASE_REF" or "KANYAN_PEER" and
 * *value a new string, or FALSE when the message begins with neither */
gboolean journal_field_of (const gchar *message, const gchar **key, gchar **value);

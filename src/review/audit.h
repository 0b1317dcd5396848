/* audit.h — the append-only audit log: every event of a case (created, invite issued,
 * joined, left, recording started/ended/archived, …) as a row whose SHA-256 covers its
 * content and the previous row's hash. SQLite triggers refuse UPDATE and DELETE. */
#pragma once
#include <glib.h>
#include <sqlite3.h>
#include <stdio.h>
#include "store/store_audit.h"

/* detail_json: a JSON object as text (NULL = "{}"). Returns the new row id, 0 on failure. */
gint64   audit_append (sqlite3 *db, const gchar *actor, const gchar *action, const gchar *case_ref,
                       const gchar *detail_json, GError **error);
/* Recomputes the chain. TRUE when intact; otherwise *bad_id names the first row that does
 * not match (only rows of case_ref count when it is given). *checked = rows checked. */
gboolean audit_verify (sqlite3 *db, const gchar *case_ref, gint64 *bad_id, gint64 *checked, GError **error);
/* Convenience: detail from key/value string pairs (NULL-terminated); failures are logged. */
void     audit_note (sqlite3 *db, const gchar *actor, const gchar *action, const gchar *case_ref,
                     const gchar *first_key, ...) G_GNUC_NULL_TERMINATED;
/* AuditEntry (a row) and audit_entry_free() are store_audit.h's */
GPtrArray *audit_entries (sqlite3 *db, const gchar *case_ref);   /* of AuditEntry*, oldest first */
/* One line per entry (id, time, actor, action, case, detail, hash prefix), tab-separated. */
void     audit_print (sqlite3 *db, const gchar *case_ref, FILE *out);
gchar   *audit_row_hash (gint64 id, gint64 at, const gchar *actor, const gchar *action, const gchar *case_ref,
                         const gchar *detail, const gchar *prev_hash);
/* Called (main loop) after every appended row, e.g. to wake the webhook outbox; the row may
 * still be inside the caller's transaction, so the listener only schedules work. One listener. */
typedef void (*AuditListener) (gpointer data);
void     audit_set_listener (AuditListener listener, gpointer data);

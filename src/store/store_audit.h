/* store_audit.h — SQL of the audit log (table audit_log): append at the chain's tip in one
 * transaction, read rows in order. The row's hash is computed by the caller (audit.c owns
 * the chain's rules); the store only keeps rows and their order. */
#pragma once
#include <glib.h>
#include <sqlite3.h>

/* the prev_hash of the first row */
#define AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

typedef struct {
  gint64 id, at;
  gchar *actor, *action, *case_ref, *detail, *prev_hash, *hash;
} AuditEntry;
void audit_entry_free (AuditEntry *e);

/* the hash of a row from its content and the previous row's hash */
typedef gchar *(*StoreAuditHash) (gint64 id, gint64 at, const gchar *actor, const gchar *action,
                                  const gchar *case_ref, const gchar *detail, const gchar *prev_hash);
/* Appends after the tip (IMMEDIATE, unless the caller's transaction is open): id = tip + 1,
 * prev_hash = the tip's hash (AUDIT_GENESIS first), hash = hash (…). Returns the id, 0 on failure. */
gint64 store_audit_append (sqlite3 *db, gint64 at, const gchar *actor, const gchar *action, const gchar *case_ref,
                           const gchar *detail, StoreAuditHash hash, GError **error);
/* each row (only case_ref's when given), by id; the entry is borrowed for the call. FALSE
 * (and error) when the log cannot be read. */
typedef void (*StoreAuditRow) (const AuditEntry *e, gpointer data);
gboolean store_audit_foreach (sqlite3 *db, const gchar *case_ref, StoreAuditRow row, gpointer data, GError **error);
/* the chain's length (its last id, as ids have no gaps); -1 when the log cannot be read */
gint64 store_audit_length (sqlite3 *db);

/* store_short_codes.h — the short codes of invites (schema 16, booking): per code its hash (to
 * find it) and the invite's token sealed under a key only the code gives (review/short_code.c). */
#pragma once
#include <glib.h>
#include <sqlite3.h>

/* the invite row the token was issued as; 0 when none */
gint64   store_invite_id_of_token (sqlite3 *db, const gchar *token);
/* CONFLICT when the code's hash is taken already (the caller draws another code) */
gboolean store_invite_code_add (sqlite3 *db, gint64 invite_id, const gchar *code_hash, const gchar *sealed,
                                GError **error);
/* the code of a live invite (neither revoked nor expired): its case's reference and the sealed
 * token; FALSE for an unknown code or an invite that ended */
gboolean store_invite_code_find (sqlite3 *db, const gchar *code_hash, gchar **case_ref, gchar **sealed);

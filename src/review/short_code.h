/* short_code.h — invite links short enough for an SMS: /i/7K3QXZ. Six characters of Crockford's
 * base32 (digits and letters without I L O U), drawn with libsodium, read case-insensitively
 * (O as 0, I and L as 1, hyphens and spaces ignored). A code is worth its invite: it opens to
 * the invite's own link, and ends when the invite is revoked or expires. */
#pragma once
#include "app/app.h"
#include <sqlite3.h>

#define SHORT_CODE_LEN 6
extern const gchar short_code_alphabet[33];   /* "0123456789ABCDEFGHJKMNPQRSTVWXYZ" */

void     short_code_new (gchar out[SHORT_CODE_LEN + 1]);
/* the canonical code (upper case, aliases resolved) of what a person typed; FALSE when it is
 * not one (wrong length, a character outside the alphabet, U) */
gboolean short_code_parse (const gchar *text, gchar out[SHORT_CODE_LEN + 1]);
/* what is stored: a keyed hash to find the code by, and the token sealed with a key derived
 * from the code (only a holder of the code opens it) */
gchar   *short_code_hash (const gchar *code);
gchar   *short_code_seal (const gchar *code, const gchar *token);
gchar   *short_code_open (const gchar *code, const gchar *sealed);   /* NULL when it does not open */

/* a new code for the invite issued as `token` (kept as its hash and the sealed token) */
gchar   *short_code_issue (sqlite3 *db, const gchar *token, GError **error);
/* the invite's full link and its case for a typed code; NOT_FOUND for an unknown, malformed,
 * revoked or expired one */
gboolean short_code_resolve (sqlite3 *db, const KanyanConfig *cfg, const gchar *text, gchar **url, gchar **case_ref,
                             GError **error);
gchar   *short_code_url (const KanyanConfig *cfg, const gchar *code);   /* {public url}/i/CODE */

/* short_code.c — short codes of invites: drawing, reading, sealing the invite's token under
 * the code, issuing and resolving. Holds no code beyond the call that makes it; the store
 * keeps only hashes and sealed tokens (store_short_codes.c). Never answers HTTP nor limits
 * guessing (web/short_link.c does). */
#include "review/short_code.h"
#include "review/cases.h"
#include "store/store_short_codes.h"
#include "core/errors.h"
#include <sodium.h>

const gchar short_code_alphabet[33] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* domain separation of the two uses of a code (generichash keys: 16..64 bytes) */
static const guchar LOOKUP_KEY[] = "kanyan invite short code: lookup";
static const guchar SEAL_KEY[] = "kanyan invite short code: sealing";

void
short_code_new (gchar out[SHORT_CODE_LEN + 1])
{
  for (guint i = 0; i < SHORT_CODE_LEN; i++)
    out[i] = short_code_alphabet[randombytes_uniform (32)];
  out[SHORT_CODE_LEN] = '\0';
}

gboolean
short_code_parse (const gchar *text, gchar out[SHORT_CODE_LEN + 1])
{
  guint n = 0;
  for (const gchar *p = text; p && *p; p++) {
    gchar c = g_ascii_toupper (*p);
    if (c == '-' || c == ' ')
      continue;
    if (c == 'O')
      c = '0';
    else if (c == 'I' || c == 'L')
      c = '1';
    if (!c || !strchr (short_code_alphabet, c) || n == SHORT_CODE_LEN)
      return FALSE;
    out[n++] = c;
  }
  out[n] = '\0';
  return n == SHORT_CODE_LEN;
}

static void
derive (const guchar *key, gsize key_len, const gchar *code, guchar out[32])
{
  crypto_generichash (out, 32, (const guchar *) code, strlen (code), key, key_len);
}

gchar *
short_code_hash (const gchar *code)
{
  guchar h[32];
  derive (LOOKUP_KEY, sizeof LOOKUP_KEY - 1, code, h);
  gchar hex[65];
  sodium_bin2hex (hex, sizeof hex, h, sizeof h);
  return g_strdup (hex);
}

gchar *
short_code_seal (const gchar *code, const gchar *token)
{
  guchar key[crypto_secretbox_KEYBYTES];
  derive (SEAL_KEY, sizeof SEAL_KEY - 1, code, key);
  gsize len = strlen (token);
  gsize total = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
  g_autofree guchar *box = g_malloc (total);
  randombytes_buf (box, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy (box + crypto_secretbox_NONCEBYTES, (const guchar *) token, len, box, key);
  sodium_memzero (key, sizeof key);
  gsize b64_len = sodium_base64_ENCODED_LEN (total, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  gchar *out = g_malloc (b64_len);
  sodium_bin2base64 (out, b64_len, box, total, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return out;
}

gchar *
short_code_open (const gchar *code, const gchar *sealed)
{
  gsize max = strlen (sealed);
  g_autofree guchar *box = g_malloc (max + 1);
  gsize total = 0;
  if (sodium_base642bin (box, max + 1, sealed, max, NULL, &total, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      total < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    return NULL;
  guchar key[crypto_secretbox_KEYBYTES];
  derive (SEAL_KEY, sizeof SEAL_KEY - 1, code, key);
  gsize len = total - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
  gchar *token = g_malloc0 (len + 1);
  gint rc = crypto_secretbox_open_easy ((guchar *) token, box + crypto_secretbox_NONCEBYTES,
                                        total - crypto_secretbox_NONCEBYTES, box, key);
  sodium_memzero (key, sizeof key);
  if (rc != 0) {
    g_free (token);
    return NULL;
  }
  return token;
}

gchar *
short_code_issue (sqlite3 *db, const gchar *token, GError **error)
{
  gint64 invite_id = store_invite_id_of_token (db, token);
  if (!invite_id) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "no invite for that token");
    return NULL;
  }
  for (guint attempt = 0; attempt < 8; attempt++) {   /* 2^30 codes: a clash is rare, eight in a row never */
    gchar code[SHORT_CODE_LEN + 1];
    short_code_new (code);
    g_autofree gchar *hash = short_code_hash (code);
    g_autofree gchar *sealed = short_code_seal (code, token);
    g_autoptr (GError) local = NULL;
    if (store_invite_code_add (db, invite_id, hash, sealed, &local))
      return g_strdup (code);
    if (local->code != KANYAN_ERROR_CONFLICT) {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  }
  g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "no free short code found");
  return NULL;
}

gboolean
short_code_resolve (sqlite3 *db, const KanyanConfig *cfg, const gchar *text, gchar **url, gchar **case_ref,
                    GError **error)
{
  gchar code[SHORT_CODE_LEN + 1];
  g_autofree gchar *ref = NULL, *sealed = NULL, *token = NULL;
  if (!short_code_parse (text, code)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "no such invite code");
    return FALSE;
  }
  g_autofree gchar *hash = short_code_hash (code);
  if (!store_invite_code_find (db, hash, &ref, &sealed) || !(token = short_code_open (code, sealed))) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_NOT_FOUND, "no such invite code (or its invite ended)");
    return FALSE;
  }
  *url = cases_invite_url (cfg, ref, token);
  if (case_ref)
    *case_ref = g_steal_pointer (&ref);
  return TRUE;
}

gchar *
short_code_url (const KanyanConfig *cfg, const gchar *code)
{
  g_autofree gchar *base = config_public_url (cfg);
  return g_strdup_printf ("%s/i/%s", base, code);
}

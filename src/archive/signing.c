/* signing.c — the Ed25519 key pair in <data dir>/signing.key: one line, the 32-byte seed in
 * hex, written once with mode 0600 (a temporary file linked into place, so two processes
 * starting at the same time end up with the same key). Never logs or returns the seed.
 * Called from any thread; holds no state. */
#include "archive/signing.h"
#include "core/errors.h"
#include <sodium.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

G_STATIC_ASSERT (crypto_sign_SEEDBYTES == 32);

static gboolean
read_seed (const gchar *path, guint8 seed[crypto_sign_SEEDBYTES], GError **error)
{
  gchar text[2 * crypto_sign_SEEDBYTES + 2] = { 0 };
  gint fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  gssize n = fd >= 0 ? read (fd, text, sizeof text - 1) : -1;
  if (fd >= 0)
    close (fd);
  gsize bin_len = 0;
  gboolean ok = n >= 2 * crypto_sign_SEEDBYTES &&
                sodium_hex2bin (seed, crypto_sign_SEEDBYTES, text, 2 * crypto_sign_SEEDBYTES, NULL, &bin_len, NULL) == 0 &&
                bin_len == crypto_sign_SEEDBYTES;
  sodium_memzero (text, sizeof text);
  if (!ok)
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "the signing key %s cannot be read", path);
  return ok;
}

static gboolean
create_seed (const gchar *data_dir, const gchar *path, GError **error)
{
  guint8 seed[crypto_sign_SEEDBYTES];
  gchar text[2 * crypto_sign_SEEDBYTES + 2];
  randombytes_buf (seed, sizeof seed);
  sodium_bin2hex (text, sizeof text - 1, seed, sizeof seed);
  strcat (text, "\n");
  sodium_memzero (seed, sizeof seed);
  g_autofree gchar *tmp = g_strdup_printf ("%s.%d.tmp", path, (gint) getpid ());
  g_unlink (tmp);
  gint fd = g_open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  gboolean ok = fd >= 0 && write (fd, text, strlen (text)) == (gssize) strlen (text) && fsync (fd) == 0;
  sodium_memzero (text, sizeof text);
  if (fd >= 0)
    close (fd);
  /* link, not rename: whoever comes second keeps the first one's key */
  if (ok && link (tmp, path) != 0 && errno != EEXIST)
    ok = FALSE;
  g_unlink (tmp);
  if (!ok) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot make the signing key %s: %s", path, g_strerror (errno));
    return FALSE;
  }
  gint dir = g_open (data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (dir >= 0) {
    fsync (dir);
    close (dir);
  }
  g_message ("made the signing key %s", path);
  return TRUE;
}

static gboolean
load_keypair (const gchar *data_dir, guint8 pk[crypto_sign_PUBLICKEYBYTES], guint8 sk[crypto_sign_SECRETKEYBYTES],
              GError **error)
{
  if (g_mkdir_with_parents (data_dir, 0750) != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot create the data directory %s", data_dir);
    return FALSE;
  }
  g_autofree gchar *path = g_build_filename (data_dir, SIGNING_KEY_FILE, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS) && !create_seed (data_dir, path, error))
    return FALSE;
  guint8 seed[crypto_sign_SEEDBYTES];
  if (!read_seed (path, seed, error))
    return FALSE;
  crypto_sign_seed_keypair (pk, sk, seed);
  sodium_memzero (seed, sizeof seed);
  return TRUE;
}

gchar *
signing_public_hex (const gchar *data_dir, GError **error)
{
  guint8 pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  if (!load_keypair (data_dir, pk, sk, error))
    return NULL;
  sodium_memzero (sk, sizeof sk);
  gchar hex[2 * crypto_sign_PUBLICKEYBYTES + 1];
  return g_strdup (sodium_bin2hex (hex, sizeof hex, pk, sizeof pk));
}

gchar *
signing_sign_hex (const gchar *data_dir, const guint8 *data, gsize len, GError **error)
{
  guint8 pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], sig[crypto_sign_BYTES];
  if (!load_keypair (data_dir, pk, sk, error))
    return NULL;
  crypto_sign_detached (sig, NULL, data, len, sk);
  sodium_memzero (sk, sizeof sk);
  gchar hex[2 * crypto_sign_BYTES + 1];
  return g_strdup (sodium_bin2hex (hex, sizeof hex, sig, sizeof sig));
}

static gboolean
from_hex (const gchar *hex, guint8 *out, gsize out_len)
{
  gsize n = 0;
  return hex && strlen (hex) == 2 * out_len && sodium_hex2bin (out, out_len, hex, strlen (hex), NULL, &n, NULL) == 0 &&
         n == out_len;
}

gboolean
signing_public_key_valid (const gchar *public_hex)
{
  guint8 pk[crypto_sign_PUBLICKEYBYTES];
  return from_hex (public_hex, pk, sizeof pk);
}

gboolean
signing_verify_hex (const gchar *public_hex, const guint8 *data, gsize len, const gchar *sig_hex)
{
  guint8 pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
  return from_hex (public_hex, pk, sizeof pk) && from_hex (sig_hex, sig, sizeof sig) &&
         crypto_sign_verify_detached (sig, data, len, pk) == 0;
}

/* signing.h — the server's Ed25519 signing key (libsodium crypto_sign): made on first use,
 * kept in the data directory (signing.key, mode 0600), used to sign export manifests. The
 * public key, as 64 hex digits, is what an auditor compares a bundle's signer against. */
#pragma once
#include <glib.h>

#define SIGNING_KEY_FILE "signing.key"

/* the public key as hex (made with the key pair if the data directory has none yet) */
gchar   *signing_public_hex (const gchar *data_dir, GError **error);
/* a detached signature over data, as hex */
gchar   *signing_sign_hex (const gchar *data_dir, const guint8 *data, gsize len, GError **error);
/* TRUE when sig_hex is public_hex's valid signature over data (no key file involved) */
gboolean signing_verify_hex (const gchar *public_hex, const guint8 *data, gsize len, const gchar *sig_hex);
/* TRUE for 64 hex digits */
gboolean signing_public_key_valid (const gchar *public_hex);

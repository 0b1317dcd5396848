/* tls.c — makes a self-signed P-256 certificate (OpenSSL) for localhost and this host's
 * name when no certificate is configured. Writes only data_dir/tls-{cert,key}.pem. */
#include "core/tls.h"
#include "core/errors.h"
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <glib/gstdio.h>

static gboolean
write_pem (const gchar *path, gboolean key, EVP_PKEY *pkey, X509 *cert)
{
  FILE *f = g_fopen (path, "w");
  if (!f)
    return FALSE;
  if (key)
    g_chmod (path, 0600);
  gboolean ok = key ? PEM_write_PrivateKey (f, pkey, NULL, NULL, 0, NULL, NULL) : PEM_write_X509 (f, cert);
  return fclose (f) == 0 && ok;
}

/* localhost, this host's name, and the host of the public URL (the LAN address under make run) */
static gchar *
subject_alt_names (const KanyanConfig *cfg)
{
  GString *san = g_string_new (NULL);
  g_string_printf (san, "DNS:localhost,DNS:%s,IP:127.0.0.1", g_get_host_name ());
  g_autoptr (GUri) uri = cfg->public_url ? g_uri_parse (cfg->public_url, G_URI_FLAGS_NONE, NULL) : NULL;
  const gchar *host = uri ? g_uri_get_host (uri) : NULL;
  if (host && *host && g_strcmp0 (host, "localhost") != 0 && g_strcmp0 (host, "127.0.0.1") != 0)
    g_string_append_printf (san, ",%s:%s", g_hostname_is_ip_address (host) ? "IP" : "DNS", host);
  return g_string_free (san, FALSE);
}

static gboolean
make_self_signed (const KanyanConfig *cfg, const gchar *cert_path, const gchar *key_path, GError **error)
{
  EVP_PKEY *pkey = EVP_EC_gen ("P-256");
  X509 *cert = X509_new ();
  g_autofree gchar *san = subject_alt_names (cfg);
  gboolean ok = FALSE;
  if (!pkey || !cert)
    goto out;
  X509_set_version (cert, 2);
  ASN1_INTEGER_set (X509_get_serialNumber (cert), (long) (g_get_real_time () / G_USEC_PER_SEC));
  X509_gmtime_adj (X509_getm_notBefore (cert), -3600);
  X509_gmtime_adj (X509_getm_notAfter (cert), 3650L * 24 * 3600);
  X509_set_pubkey (cert, pkey);
  X509_NAME *name = X509_get_subject_name (cert);
  X509_NAME_add_entry_by_txt (name, "O", MBSTRING_UTF8, (const guchar *) "Kanyan (self-signed)", -1, -1, 0);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const guchar *) "localhost", -1, -1, 0);
  X509_set_issuer_name (cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb (&ctx);
  X509V3_set_ctx (&ctx, cert, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid (NULL, &ctx, NID_subject_alt_name, san);
  if (ext) {
    X509_add_ext (cert, ext, -1);
    X509_EXTENSION_free (ext);
  }
  ok = X509_sign (cert, pkey, EVP_sha256 ()) > 0 && write_pem (key_path, TRUE, pkey, NULL) &&
       write_pem (cert_path, FALSE, NULL, cert);
out:
  if (!ok)
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot make a self-signed certificate in %s", cert_path);
  X509_free (cert);
  EVP_PKEY_free (pkey);
  return ok;
}

gboolean
tls_ensure_certificate (const KanyanConfig *cfg, gchar **cert_path, gchar **key_path, GError **error)
{
  if (cfg->tls_cert && cfg->tls_key) {
    *cert_path = g_strdup (cfg->tls_cert);
    *key_path = g_strdup (cfg->tls_key);
    return TRUE;
  }
  *cert_path = g_build_filename (cfg->data_dir, "tls-cert.pem", NULL);
  *key_path = g_build_filename (cfg->data_dir, "tls-key.pem", NULL);
  if (g_file_test (*cert_path, G_FILE_TEST_EXISTS) && g_file_test (*key_path, G_FILE_TEST_EXISTS))
    return TRUE;
  g_message ("making a self-signed certificate: %s", *cert_path);
  return make_self_signed (cfg, *cert_path, *key_path, error);
}

gboolean
tls_check_pair (const gchar *cert_path, const gchar *key_path, GError **error)
{
  FILE *cf = g_fopen (cert_path, "r");
  X509 *cert = cf ? PEM_read_X509 (cf, NULL, NULL, NULL) : NULL;
  FILE *kf = g_fopen (key_path, "r");
  EVP_PKEY *key = kf ? PEM_read_PrivateKey (kf, NULL, NULL, NULL) : NULL;
  const gchar *why = !cert ? "the certificate cannot be read" : !key ? "the private key cannot be read"
                   : X509_check_private_key (cert, key) != 1 ? "the private key is not the certificate's" : NULL;
  if (cf)
    fclose (cf);
  if (kf)
    fclose (kf);
  X509_free (cert);
  EVP_PKEY_free (key);
  if (why)
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "%s (%s, %s)", why, cert_path, key_path);
  return why == NULL;
}

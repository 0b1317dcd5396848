/* tls.h — the server's certificate: the configured one, or a self-signed one made once in
 * the data directory (phones open the camera only on a secure page). */
#pragma once
#include "app/app.h"

gboolean tls_ensure_certificate (const KanyanConfig *cfg, gchar **cert_path, gchar **key_path, GError **error);
/* the two PEM files read, and the key is the certificate's (a reload checks before it swaps) */
gboolean tls_check_pair (const gchar *cert_path, const gchar *key_path, GError **error);

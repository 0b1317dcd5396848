/* tls.h — the server's certificate: the configured one, or a self-signed one made once in
 * the data directory (phones open the camera only on a secure page). */
#pragma once
#include "app/app.h"

gboolean tls_ensure_certificate (const KanyanConfig *cfg, gchar **cert_path, gchar **key_path, GError **error);

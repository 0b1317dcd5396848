/* export.h — a case as one ZIP bundle (report, archives, stills, audit entries, manifest), and
 * its verification on any machine, with no database. */
#pragma once
#include "app/app.h"
#include "store/db.h"
#include <stdio.h>

/* writes the bundle to out_path (atomically: a temporary name, then renamed) */
gboolean export_case_bundle (KanyanApp *app, const CaseRow *row, const gchar *actor, const gchar *out_path,
                             GError **error);
/* TRUE when the manifest's Ed25519 signature verifies (with pubkey, 64 hex digits, or else the
 * key the manifest names), every member is listed with a matching SHA-256, the audit entries
 * form an unbroken chain between the signed first and last entries, and the media are the ones
 * the entries recorded; otherwise FALSE and an error naming what is wrong. Prints one line per
 * check to `out` when given. */
gboolean export_verify_bundle (const gchar *path, const gchar *pubkey, FILE *out, GError **error);

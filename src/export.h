/* export.h — a case as one ZIP bundle (report, archives, stills, audit entries, manifest), and
 * its verification on any machine, with no database. */
#pragma once
#include "app.h"
#include "db.h"
#include <stdio.h>

/* writes the bundle to out_path (atomically: a temporary name, then renamed) */
gboolean export_case_bundle (KanyanApp *app, const CaseRow *row, const gchar *actor, const gchar *out_path,
                             GError **error);
/* TRUE when every audit entry's hash, every file's SHA-256 and the hashes the entries recorded
 * agree; otherwise FALSE and an error naming the first entry or file that does not. Prints
 * one line per check to `out` when given. */
gboolean export_verify_bundle (const gchar *path, FILE *out, GError **error);

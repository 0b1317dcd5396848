/* seed.h — the demo case types (../shared/domain.md) every new database starts with. */
#pragma once
#include <glib.h>
#include <sqlite3.h>

gboolean seed_case_types (sqlite3 *db, GError **error);   /* idempotent */

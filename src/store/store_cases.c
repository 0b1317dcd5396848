/* store_cases.c — SQL for case types, cases and invites. Invite tokens are random
 * 256-bit values shown once; only their SHA-256 is stored. */
#include "store/db.h"
#include "core/errors.h"
#include <sodium.h>

void
case_row_free (CaseRow *row)
{
  if (!row)
    return;
  g_free (row->ref);
  g_free (row->type_key);
  g_free (row->type_title_en);
  g_free (row->type_title_zh);
  g_free (row->status);
  g_free (row->owner);
  g_free (row->department);
  g_free (row->applicant_name);
  g_free (row->applicant_phone);
  g_free (row->site_address);
  g_free (row->accepted_on);
  g_free (row->deadline_on);
  g_free (row);
}

gboolean
store_case_type_exists (sqlite3 *db, const gchar *key)
{
  sqlite3_stmt *st = NULL;
  gboolean found = FALSE;
  if (sqlite3_prepare_v2 (db, "SELECT 1 FROM case_types WHERE key = ?1", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, key, -1, SQLITE_TRANSIENT);
    found = sqlite3_step (st) == SQLITE_ROW;
  }
  sqlite3_finalize (st);
  return found;
}

gchar **
store_case_type_keys (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  GPtrArray *keys = g_ptr_array_new ();
  if (sqlite3_prepare_v2 (db, "SELECT key FROM case_types ORDER BY key", -1, &st, NULL) == SQLITE_OK)
    while (sqlite3_step (st) == SQLITE_ROW)
      g_ptr_array_add (keys, db_column_dup (st, 0, ""));
  sqlite3_finalize (st);
  g_ptr_array_add (keys, NULL);
  return (gchar **) g_ptr_array_free (keys, FALSE);
}

GPtrArray *
store_case_types (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  if (sqlite3_prepare_v2 (db, "SELECT t.key, t.title_en, t.title_zh, t.time_limit_days, "
                          "(SELECT count(*) FROM cases c WHERE c.type_id = t.id) FROM case_types t ORDER BY t.key",
                          -1, &st, NULL) == SQLITE_OK)
    while (sqlite3_step (st) == SQLITE_ROW) {
      gchar **row = g_new0 (gchar *, 6);
      for (gint i = 0; i < 5; i++)
        row[i] = db_column_dup (st, i, "");
      g_ptr_array_add (rows, row);
    }
  sqlite3_finalize (st);
  return rows;
}

/* the rows of a prepared, bound item query (title_en, title_zh, guidance, department) as
 * NULL-terminated string arrays; finalizes it */
static GPtrArray *
item_rows (sqlite3_stmt *st)
{
  GPtrArray *items = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  while (st && sqlite3_step (st) == SQLITE_ROW) {
    gchar **item = g_new0 (gchar *, 5);
    for (gint i = 0; i < 4; i++)
      item[i] = db_column_dup (st, i, "");
    g_ptr_array_add (items, item);
  }
  sqlite3_finalize (st);
  return items;
}

GPtrArray *
store_case_type_items (sqlite3 *db, const gchar *key)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT i.title_en, i.title_zh, i.guidance, i.department FROM case_type_items i "
                          "JOIN case_types t ON t.id = i.type_id WHERE t.key = ?1 ORDER BY i.position", -1, &st,
                          NULL) == SQLITE_OK)
    sqlite3_bind_text (st, 1, key, -1, SQLITE_TRANSIENT);
  return item_rows (st);
}

static gint64
type_case_count (sqlite3 *db, const gchar *key)
{
  sqlite3_stmt *st = NULL;
  gint64 n = 0;
  if (sqlite3_prepare_v2 (db, "SELECT count(*) FROM cases c JOIN case_types t ON t.id = c.type_id WHERE t.key = ?1",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, key, -1, SQLITE_TRANSIENT);
    if (sqlite3_step (st) == SQLITE_ROW)
      n = sqlite3_column_int64 (st, 0);
  }
  sqlite3_finalize (st);
  return n;
}

static gboolean
step_done (sqlite3_stmt *st)
{
  gint rc = sqlite3_step (st);
  sqlite3_finalize (st);
  return rc == SQLITE_DONE;
}

gboolean
store_case_type_save (sqlite3 *db, const CaseTypeDef *def, gboolean replace, GError **error)
{
  gboolean exists = store_case_type_exists (db, def->key);
  if (exists != replace) {
    g_set_error (error, KANYAN_ERROR, replace ? KANYAN_ERROR_NOT_FOUND : KANYAN_ERROR_CONFLICT,
                 replace ? "no case type '%s'" : "a case type '%s' exists already", def->key);
    return FALSE;
  }
  gint64 in_use = replace ? type_case_count (db, def->key) : 0;
  if (def->items && in_use > 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "%" G_GINT64_FORMAT " case(s) use '%s': its items cannot "
                 "change under them (their marks point at them); make a new type instead", in_use, def->key);
    return FALSE;
  }
  if (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "database busy");
    return FALSE;
  }
  sqlite3_stmt *st = NULL;
  gboolean ok = sqlite3_prepare_v2 (db, replace
      ? "UPDATE case_types SET title_en = ?2, title_zh = ?3, time_limit_days = ?4 WHERE key = ?1"
      : "INSERT INTO case_types (key, title_en, title_zh, time_limit_days) VALUES (?1, ?2, ?3, ?4)", -1, &st,
      NULL) == SQLITE_OK;
  if (ok) {
    sqlite3_bind_text (st, 1, def->key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 2, def->title_en, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 3, def->title_zh, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int (st, 4, def->time_limit_days);
    ok = step_done (st);
  }
  if (ok && def->items) {
    ok = sqlite3_prepare_v2 (db, "DELETE FROM case_type_items WHERE type_id = (SELECT id FROM case_types WHERE key = ?1)",
                             -1, &st, NULL) == SQLITE_OK;
    if (ok) {
      sqlite3_bind_text (st, 1, def->key, -1, SQLITE_TRANSIENT);
      ok = step_done (st);
    }
    for (guint i = 0; ok && i < def->items->len; i++) {
      const CaseTypeItemDef *item = &g_array_index (def->items, CaseTypeItemDef, i);
      ok = sqlite3_prepare_v2 (db, "INSERT INTO case_type_items (type_id, position, title_en, title_zh, guidance, department) "
                               "SELECT id, ?2, ?3, ?4, ?5, ?6 FROM case_types WHERE key = ?1", -1, &st, NULL) == SQLITE_OK;
      if (!ok)
        break;
      sqlite3_bind_text (st, 1, def->key, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int (st, 2, (gint) i + 1);
      sqlite3_bind_text (st, 3, item->title_en, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 4, item->title_zh, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 5, item->guidance ? item->guidance : "", -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (st, 6, item->department ? item->department : "", -1, SQLITE_TRANSIENT);
      ok = step_done (st);
    }
  }
  if (!ok || sqlite3_exec (db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "saving case type: %s", sqlite3_errmsg (db));
    sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
    return FALSE;
  }
  return TRUE;
}

#define CASE_SELECT \
  "SELECT c.id, c.ref, t.key, t.title_en, t.title_zh, c.status, c.created_at, c.owner_id, u.username, " \
  "c.department, c.applicant_name, c.applicant_phone, c.site_address, c.site_lat, c.site_lon, " \
  "c.accepted_on, c.deadline_on, t.time_limit_days " \
  "FROM cases c JOIN case_types t ON t.id = c.type_id LEFT JOIN users u ON u.id = c.owner_id "

static CaseRow *
case_row_from (sqlite3_stmt *st)
{
  CaseRow *row = g_new0 (CaseRow, 1);
  row->id = sqlite3_column_int64 (st, 0);
  row->ref = db_column_dup (st, 1, "");
  row->type_key = db_column_dup (st, 2, "");
  row->type_title_en = db_column_dup (st, 3, "");
  row->type_title_zh = db_column_dup (st, 4, "");
  row->status = db_column_dup (st, 5, "");
  row->created_at = sqlite3_column_int64 (st, 6);
  row->owner_id = sqlite3_column_int64 (st, 7);
  row->owner = db_column_dup (st, 8, "");
  row->department = db_column_dup (st, 9, "");
  row->applicant_name = db_column_dup (st, 10, "");
  row->applicant_phone = db_column_dup (st, 11, "");
  row->site_address = db_column_dup (st, 12, "");
  row->has_site = sqlite3_column_type (st, 13) != SQLITE_NULL && sqlite3_column_type (st, 14) != SQLITE_NULL;
  row->site_lat = sqlite3_column_double (st, 13);
  row->site_lon = sqlite3_column_double (st, 14);
  row->accepted_on = db_column_dup (st, 15, "");
  row->deadline_on = db_column_dup (st, 16, "");
  row->time_limit_days = sqlite3_column_int (st, 17);
  return row;
}

CaseRow *
store_case_get (sqlite3 *db, const gchar *ref, GError **error)
{
  sqlite3_stmt *st = NULL;
  CaseRow *row = NULL;
  if (sqlite3_prepare_v2 (db, CASE_SELECT "WHERE c.ref = ?1", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, ref, -1, SQLITE_TRANSIENT);
    if (sqlite3_step (st) == SQLITE_ROW)
      row = case_row_from (st);
  }
  sqlite3_finalize (st);
  if (!row)
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_UNKNOWN_CASE, "no case with reference '%s'", ref);
  return row;
}

GPtrArray *
store_case_list (sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) case_row_free);
  if (sqlite3_prepare_v2 (db, CASE_SELECT "ORDER BY c.deadline_on IS NULL, c.deadline_on, c.id", -1, &st, NULL) == SQLITE_OK)
    while (sqlite3_step (st) == SQLITE_ROW)
      g_ptr_array_add (rows, case_row_from (st));
  sqlite3_finalize (st);
  return rows;
}

GPtrArray *
store_case_items (sqlite3 *db, gint64 case_id)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT i.title_en, i.title_zh, i.guidance, i.department FROM case_type_items i "
                          "JOIN cases c ON c.type_id = i.type_id WHERE c.id = ?1 ORDER BY i.position",
                          -1, &st, NULL) == SQLITE_OK)
    sqlite3_bind_int64 (st, 1, case_id);
  return item_rows (st);
}

static gboolean
case_ref_is_valid (const gchar *ref)
{
  gsize len = strlen (ref);
  if (len == 0 || len > 64)
    return FALSE;
  for (const gchar *p = ref; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return ref[0] != '.';
}

gint
store_case_type_time_limit (sqlite3 *db, const gchar *type_key)
{
  sqlite3_stmt *st = NULL;
  gint days = -1;
  if (sqlite3_prepare_v2 (db, "SELECT time_limit_days FROM case_types WHERE key = ?1", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, type_key, -1, SQLITE_TRANSIENT);
    if (sqlite3_step (st) == SQLITE_ROW)
      days = sqlite3_column_int (st, 0);
  }
  sqlite3_finalize (st);
  return days;
}

CaseRow *
store_case_add (sqlite3 *db, const CaseFacts *f, GError **error)
{
  if (!case_ref_is_valid (f->ref)) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD,
                 "case reference '%s' must be 1–64 letters, digits, '-', '_' or '.'", f->ref);
    return NULL;
  }
  if (!store_case_type_exists (db, f->type_key)) {
    g_auto (GStrv) keys = store_case_type_keys (db);
    g_autofree gchar *known = g_strjoinv (", ", keys);
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_BAD_FIELD, "unknown case type '%s' (known: %s)",
                 f->type_key, known);
    return NULL;
  }
  sqlite3_stmt *st = NULL;
  gint rc = SQLITE_ERROR;
  if (sqlite3_prepare_v2 (db, "INSERT INTO cases (ref, type_id, created_at, owner_id, department, applicant_name, "
                          "applicant_phone, site_address, site_lat, site_lon, accepted_on, deadline_on) "
                          "SELECT ?1, id, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12 FROM case_types WHERE key = ?2",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text (st, 1, f->ref, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 2, f->type_key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 3, db_now_ms ());
    if (f->owner_id > 0)
      sqlite3_bind_int64 (st, 4, f->owner_id);
    sqlite3_bind_text (st, 5, f->department ? f->department : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 6, f->applicant_name ? f->applicant_name : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 7, f->applicant_phone ? f->applicant_phone : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 8, f->site_address ? f->site_address : "", -1, SQLITE_TRANSIENT);
    if (f->has_site) {
      sqlite3_bind_double (st, 9, f->site_lat);
      sqlite3_bind_double (st, 10, f->site_lon);
    }
    sqlite3_bind_text (st, 11, f->accepted_on, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 12, f->deadline_on, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step (st);
  }
  sqlite3_finalize (st);
  if (rc == SQLITE_CONSTRAINT) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_CONFLICT, "a case with reference '%s' already exists", f->ref);
    return NULL;
  }
  if (rc != SQLITE_DONE) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "adding case: %s", sqlite3_errmsg (db));
    return NULL;
  }
  return store_case_get (db, f->ref, error);
}

/* one statement with ?1, ?2 (integers) and ?3 (text, when given); its last step's code */
static gint
step_ids (sqlite3 *db, const gchar *sql, gint64 a, gint64 b, const gchar *text)
{
  sqlite3_stmt *st = NULL;
  gint rc = SQLITE_ERROR;
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, a);
    sqlite3_bind_int64 (st, 2, b);
    if (text)
      sqlite3_bind_text (st, 3, text, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step (st);
  }
  sqlite3_finalize (st);
  return rc;
}

static gboolean
exec_ids (sqlite3 *db, const gchar *sql, gint64 a, gint64 b, const gchar *text)
{
  gint rc = step_ids (db, sql, a, b, text);
  return rc == SQLITE_DONE || rc == SQLITE_ROW;
}

/* whether the query finds a row */
static gboolean
exists_ids (sqlite3 *db, const gchar *sql, gint64 a, gint64 b, const gchar *text)
{
  return step_ids (db, sql, a, b, text) == SQLITE_ROW;
}

gboolean
store_case_set_owner (sqlite3 *db, gint64 case_id, gint64 owner_id, const gchar *department)
{
  return exec_ids (db, "UPDATE cases SET owner_id = ?2, department = ?3 WHERE id = ?1", case_id, owner_id,
                   department ? department : "");
}

gboolean
store_case_add_reviewer (sqlite3 *db, gint64 case_id, gint64 user_id)
{
  return exec_ids (db, "INSERT OR IGNORE INTO case_reviewers (case_id, user_id) VALUES (?1, ?2)", case_id, user_id,
                   NULL);
}

gboolean
store_case_has_reviewer (sqlite3 *db, gint64 case_id, gint64 user_id)
{
  return exists_ids (db, "SELECT 1 FROM case_reviewers WHERE case_id = ?1 AND user_id = ?2", case_id, user_id, NULL);
}

gboolean
store_case_has_reviewer_of (sqlite3 *db, gint64 case_id, const gchar *department)
{
  return exists_ids (db, "SELECT 1 FROM case_reviewers r JOIN users u ON u.id = r.user_id WHERE r.case_id = ?1 "
                         "AND u.department = ?3 AND u.disabled_at IS NULL LIMIT 1", case_id, 0, department);
}

GPtrArray *
store_case_reviewers (sqlite3 *db, gint64 case_id)
{
  sqlite3_stmt *st = NULL;
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  if (sqlite3_prepare_v2 (db, "SELECT u.username FROM case_reviewers r JOIN users u ON u.id = r.user_id "
                          "WHERE r.case_id = ?1 ORDER BY u.username", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, case_id);
    while (sqlite3_step (st) == SQLITE_ROW)
      g_ptr_array_add (names, db_column_dup (st, 0, ""));
  }
  sqlite3_finalize (st);
  return names;
}

gboolean
store_case_set_status (sqlite3 *db, gint64 case_id, const gchar *status)
{
  return exec_ids (db, "UPDATE cases SET status = ?3 WHERE id = ?1", case_id, 0, status);
}

static gchar *
token_hash (const gchar *token)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
}

gchar *
store_invite_issue (sqlite3 *db, gint64 case_id, gint valid_days, GError **error)
{
  guint8 raw[32];
  gchar encoded[sodium_base64_ENCODED_LEN (32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  randombytes_buf (raw, sizeof raw);
  sodium_bin2base64 (encoded, sizeof encoded, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero (raw, sizeof raw);

  g_autofree gchar *hash = token_hash (encoded);
  gint64 now = db_now_ms ();
  sqlite3_stmt *st = NULL;
  gint rc = SQLITE_ERROR;
  if (sqlite3_prepare_v2 (db, "INSERT INTO invites (case_id, token_hash, created_at, expires_at) "
                          "VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, case_id);
    sqlite3_bind_text (st, 2, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 3, now);
    sqlite3_bind_int64 (st, 4, now + (gint64) valid_days * 24 * 3600 * 1000);
    rc = sqlite3_step (st);
  }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "issuing invite: %s", sqlite3_errmsg (db));
    return NULL;
  }
  return g_strdup (encoded);
}

gboolean
store_invite_check (sqlite3 *db, gint64 case_id, const gchar *token)
{
  if (!token || !*token || strlen (token) > 128)
    return FALSE;
  g_autofree gchar *hash = token_hash (token);
  sqlite3_stmt *st = NULL;
  gboolean ok = FALSE;
  if (sqlite3_prepare_v2 (db, "SELECT 1 FROM invites WHERE case_id = ?1 AND token_hash = ?2 "
                          "AND revoked_at IS NULL AND expires_at > ?3", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, case_id);
    sqlite3_bind_text (st, 2, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 3, db_now_ms ());
    ok = sqlite3_step (st) == SQLITE_ROW;
  }
  sqlite3_finalize (st);
  return ok;
}

gint
store_invites_revoke (sqlite3 *db, gint64 case_id)
{
  sqlite3_stmt *st = NULL;
  gint n = 0;
  if (sqlite3_prepare_v2 (db, "UPDATE invites SET revoked_at = ?2 WHERE case_id = ?1 AND revoked_at IS NULL "
                          "AND expires_at > ?2", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, case_id);
    sqlite3_bind_int64 (st, 2, db_now_ms ());
    if (sqlite3_step (st) == SQLITE_DONE)
      n = sqlite3_changes (db);
  }
  sqlite3_finalize (st);
  return n;
}

gboolean
store_invite_known (sqlite3 *db, gint64 case_id, const gchar *token)
{
  if (!token || !*token || strlen (token) > 128)
    return FALSE;
  g_autofree gchar *hash = token_hash (token);
  sqlite3_stmt *st = NULL;
  gboolean ok = FALSE;
  if (sqlite3_prepare_v2 (db, "SELECT 1 FROM invites WHERE case_id = ?1 AND token_hash = ?2", -1, &st,
                          NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, case_id);
    sqlite3_bind_text (st, 2, hash, -1, SQLITE_TRANSIENT);
    ok = sqlite3_step (st) == SQLITE_ROW;
  }
  sqlite3_finalize (st);
  return ok;
}

gboolean
store_invite_any_live (sqlite3 *db, gint64 case_id)
{
  sqlite3_stmt *st = NULL;
  gboolean ok = FALSE;
  if (sqlite3_prepare_v2 (db, "SELECT 1 FROM invites WHERE case_id = ?1 AND revoked_at IS NULL AND expires_at > ?2",
                          -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64 (st, 1, case_id);
    sqlite3_bind_int64 (st, 2, db_now_ms ());
    ok = sqlite3_step (st) == SQLITE_ROW;
  }
  sqlite3_finalize (st);
  return ok;
}

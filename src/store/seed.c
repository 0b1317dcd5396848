/* seed.c — the two demo case types of the field (fuel retail, food business) with their
 * required items, inserted once into a new database. Never changes existing rows. */
#include "store/seed.h"
#include "core/errors.h"

typedef struct { const gchar *en, *zh, *department; } SeedItem;   /* department NULL: the owner's */
typedef struct {
  const gchar *key, *title_en, *title_zh;
  gint time_limit_days;
  SeedItem items[10];
} SeedType;

static const SeedType seed_types[] = {
  { "fuel-retail", "Fuel retail station opening", "成品油零售经营批准", 10, {
    { "Site matches the application: gate and address plate visible", "场所与申请地址一致" },
    { "Underground tank area with leak prevention", "储油罐区及防渗措施" },
    { "Dispensers carry valid metrology seals", "加油机计量检定标志" },
    { "Fire equipment: extinguishers, fire blankets, sand", "消防器材配置", "fire" },
    { "Safety signs: no smoking, no open flame, engine off", "安全警示标志", "fire" },
    { "Vapour recovery installed", "油气回收装置" },
    { "Lightning and static protection", "防雷防静电设施" },
    { "Emergency shut-off reachable", "紧急切断装置" },
  } },
  { "food-business", "Food business licence", "食品经营许可", 10, {
    { "Premises and layout match the floor plan", "经营场所与布局" },
    { "Food storage off the floor, raw and cooked separated", "食品贮存设施" },
    { "Refrigeration at temperature, thermometer visible", "冷藏冷冻设备" },
    { "Hand-washing and disinfection facilities", "洗手消毒设施" },
    { "Pest control: screens, traps, sealed drains", "防鼠防虫设施" },
    { "Covered waste containers", "废弃物存放" },
    { "Staff health certificates displayed", "健康证明公示" },
  } },
};

gboolean
seed_case_types (sqlite3 *db, GError **error)
{
  sqlite3_stmt *type_st = NULL, *item_st = NULL;
  gboolean ok = FALSE;
  if (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    goto fail;
  if (sqlite3_prepare_v2 (db, "INSERT OR IGNORE INTO case_types (key, title_en, title_zh, time_limit_days)"
                          " VALUES (?1, ?2, ?3, ?4)", -1, &type_st, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (db, "INSERT OR IGNORE INTO case_type_items (type_id, position, title_en, title_zh, department)"
                          " SELECT id, ?2, ?3, ?4, ?5 FROM case_types WHERE key = ?1", -1, &item_st, NULL) != SQLITE_OK)
    goto fail;
  for (guint t = 0; t < G_N_ELEMENTS (seed_types); t++) {
    const SeedType *st = &seed_types[t];
    sqlite3_reset (type_st);
    sqlite3_bind_text (type_st, 1, st->key, -1, SQLITE_STATIC);
    sqlite3_bind_text (type_st, 2, st->title_en, -1, SQLITE_STATIC);
    sqlite3_bind_text (type_st, 3, st->title_zh, -1, SQLITE_STATIC);
    sqlite3_bind_int (type_st, 4, st->time_limit_days);
    if (sqlite3_step (type_st) != SQLITE_DONE)
      goto fail;
    if (sqlite3_changes (db) == 0)
      continue;   /* already there: never touch an existing type */
    for (gint i = 0; st->items[i].en; i++) {
      sqlite3_reset (item_st);
      sqlite3_bind_text (item_st, 1, st->key, -1, SQLITE_STATIC);
      sqlite3_bind_int (item_st, 2, i + 1);
      sqlite3_bind_text (item_st, 3, st->items[i].en, -1, SQLITE_STATIC);
      sqlite3_bind_text (item_st, 4, st->items[i].zh, -1, SQLITE_STATIC);
      sqlite3_bind_text (item_st, 5, st->items[i].department ? st->items[i].department : "", -1, SQLITE_STATIC);
      if (sqlite3_step (item_st) != SQLITE_DONE)
        goto fail;
    }
  }
  ok = sqlite3_exec (db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
fail:
  if (!ok) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "seeding case types: %s", sqlite3_errmsg (db));
    sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
  }
  sqlite3_finalize (type_st);
  sqlite3_finalize (item_st);
  return ok;
}

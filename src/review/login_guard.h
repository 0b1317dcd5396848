/* login_guard.h — who may try a password now. Back-off per (account, address) pair, so a
 * stranger elsewhere cannot lock a real user out, and a budget per address across all names
 * (unknown ones included); both decided and counted when the attempt starts. Failed and
 * refused logins reach the audit log aggregated: one row at the first of a window, then one
 * row with the count of the rest when the window ends. Main loop only. */
#pragma once
#include <glib.h>
#include <sqlite3.h>

#define LOGIN_PAIR_BASE_MS      250        /* a pair's delay after its first failure, doubling … */
#define LOGIN_PAIR_MAX_MS       30000      /* … up to this */
#define LOGIN_ADDR_BURST        10         /* failed logins an address may have at once … */
#define LOGIN_ADDR_REFILL_MS    6000       /* … and one more every 6 s (a success gives its token back) */
#define LOGIN_ADDR_IN_FLIGHT    4          /* password checks of one address at the same time */
#define LOGIN_AUDIT_WINDOW_MS   (60 * 1000)

/* TRUE: the attempt may go on, and is counted as started. FALSE: refused (RATE_LIMITED, with
 * *retry_after_ms), and the refusal is counted for the audit log. */
gboolean login_guard_begin (sqlite3 *db, const gchar *username, const gchar *address, gint64 *retry_after_ms,
                            GError **error);
/* the attempt begun is over: ok (the password matched an active account) or failed (reason: an
 * error code); a failure lengthens the pair's back-off and is audited (aggregated) */
void     login_guard_end (sqlite3 *db, const gchar *username, const gchar *address, gboolean ok, const gchar *reason);
/* the attempt begun never ran (the password queue was full): as if it had not started */
void     login_guard_cancel (const gchar *username, const gchar *address);
/* writes every aggregated row still open (at shutdown) */
void     login_guard_flush (sqlite3 *db);

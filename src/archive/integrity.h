/* integrity.h — a case's integrity check (the audit chain and each archive's and still's
 * SHA-256 recomputed) as a job on a worker thread, so hashing gigabytes never stalls the main
 * loop; while it runs its progress can be read, and its result once it is done. */
#pragma once
#include "app/app.h"
#include "store/db.h"
#include <json-glib/json-glib.h>

/* Main loop: starts the check of one case, or joins the one already running for it; the job's
 * id. The result is audited ("integrity.checked", by actor) when the job ends. */
guint     integrity_start (KanyanApp *app, const CaseRow *row, const gchar *actor);
/* Main loop: the job of that case as JSON, NULL when there is no such job (finished ones are
 * kept 10 minutes). Running: {job, running:true, started_at, files_done, files_total,
 * bytes_done, bytes_total}; done: {job, running:false, ok, chain:{ok, checked,
 * first_bad_entry}, files:[{kind, id, file, sha256, bytes, status}]}. */
JsonNode *integrity_status (guint job_id, const gchar *case_ref);

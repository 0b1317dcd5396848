/* integrity.c — the integrity check off the main loop. The main loop gathers what to check
 * (file paths, expected hashes, sizes); one GTask per case hashes the files on a thread of
 * its own at a lower CPU priority, with its own read-only SQLite connection for the audit
 * chain, and counts bytes as it goes; the result comes back to the main loop, which audits
 * it and keeps it for whoever asks (by job id) for JOB_KEEP_MS. A second start for the same
 * case joins the running check. The worker never writes the database. */
#include "archive/integrity.h"
#include "review/audit.h"
#include "core/errors.h"
#include "core/json_out.h"
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HASH_CHUNK  (1024 * 1024)
#define JOB_KEEP_MS (10 * 60 * 1000)
#define JOB_KEEP_MAX 64

typedef struct {
  gchar   *kind, *file, *path, *expected, *status;
  gint64   id, bytes;
  gboolean purged;
} FileCheck;

typedef struct {
  guint      id;
  KanyanApp *app;
  gchar     *case_ref, *db_path, *actor;
  GPtrArray *files;          /* of FileCheck*; worker fills status */
  gboolean   finished;       /* main loop */
  gint64     started_at, finished_at;
  gint64     bytes_total;
  guint      files_total;
  /* progress: written by the worker, read by the main loop, under lock */
  GMutex     lock;
  gint64     bytes_done;
  guint      files_done;
  /* results of the worker */
  gboolean   chain_ok;
  gint64     bad_id, checked;
  gchar     *chain_error;
} Job;

static GHashTable *running;   /* case ref -> Job* (owned by its GTask), main loop only */
static GHashTable *jobs;      /* id -> Job*, running or finished (owned here once finished) */
static guint next_id;

static void
file_check_free (FileCheck *f)
{
  g_free (f->kind);
  g_free (f->file);
  g_free (f->path);
  g_free (f->expected);
  g_free (f->status);
  g_free (f);
}

static void
job_free (Job *job)
{
  g_free (job->case_ref);
  g_free (job->db_path);
  g_free (job->actor);
  g_ptr_array_unref (job->files);
  g_mutex_clear (&job->lock);
  g_free (job->chain_error);
  g_free (job);
}

static void
add_file (Job *job, const gchar *kind, gint64 id, const gchar *path, const gchar *expected, gboolean purged)
{
  FileCheck *f = g_new0 (FileCheck, 1);
  f->kind = g_strdup (kind);
  f->id = id;
  f->path = g_strdup (path);
  f->file = path ? g_path_get_basename (path) : g_strdup ("");
  f->expected = g_strdup (expected ? expected : "");
  f->purged = purged;
  GStatBuf st;
  if (!purged && path && g_stat (path, &st) == 0)
    f->bytes = st.st_size;
  job->bytes_total += f->bytes;
  g_ptr_array_add (job->files, f);
}

/* worker thread: the SHA-256 of one file, counting progress */
static gchar *
hash_file (Job *job, const gchar *path)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, NULL);
  if (!in)
    return NULL;
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc (HASH_CHUNK);
  gssize n;
  while ((n = g_input_stream_read (G_INPUT_STREAM (in), buf, HASH_CHUNK, NULL, NULL)) > 0) {
    g_checksum_update (sum, buf, n);
    g_mutex_lock (&job->lock);
    job->bytes_done += n;
    g_mutex_unlock (&job->lock);
  }
  return n < 0 ? NULL : g_strdup (g_checksum_get_string (sum));
}

/* worker thread: touches only the Job (its progress under the lock) and its own connection */
static void
job_run (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *job = task_data;
#ifdef SYS_gettid
  /* this thread only: live traffic on the main loop wins the CPU over hashing */
  setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), 10);
#endif
  sqlite3 *db = db_open_readonly (job->db_path, NULL);
  if (db) {
    g_autoptr (GError) error = NULL;
    job->chain_ok = audit_verify (db, NULL, &job->bad_id, &job->checked, &error);
    if (error)
      job->chain_error = g_strdup (error->message);
  } else {
    job->chain_error = g_strdup_printf ("cannot open %s", job->db_path);
  }
  db_close (db);
  for (guint i = 0; i < job->files->len; i++) {
    FileCheck *f = g_ptr_array_index (job->files, i);
    g_autofree gchar *actual = NULL;
    if (f->purged)
      f->status = g_strdup ("purged");
    else if (!f->path || !g_file_test (f->path, G_FILE_TEST_EXISTS))
      f->status = g_strdup ("missing");
    else if (!(actual = hash_file (job, f->path)) || g_strcmp0 (actual, f->expected) != 0)
      f->status = g_strdup ("mismatch");
    else
      f->status = g_strdup ("ok");
    g_mutex_lock (&job->lock);
    job->files_done++;
    g_mutex_unlock (&job->lock);
  }
  g_task_return_boolean (task, TRUE);
}

static gpointer
job_thread (gpointer task)
{
  job_run (task, NULL, g_task_get_task_data (task), NULL);
  g_object_unref (task);
  return NULL;
}

static JsonNode *
job_result (Job *job)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_out_int (b, "job", job->id);
  json_out_bool (b, "running", FALSE);
  json_builder_set_member_name (b, "chain");
  json_builder_begin_object (b);
  json_out_bool (b, "ok", job->chain_ok);
  json_out_int (b, "checked", job->checked);
  json_builder_set_member_name (b, "first_bad_entry");
  if (job->bad_id)
    json_builder_add_int_value (b, job->bad_id);
  else
    json_builder_add_null_value (b);
  if (job->chain_error) {
    json_out_str (b, "error", job->chain_error);
  }
  json_builder_end_object (b);
  guint bad = 0;
  json_builder_set_member_name (b, "files");
  json_builder_begin_array (b);
  for (guint i = 0; i < job->files->len; i++) {
    FileCheck *f = g_ptr_array_index (job->files, i);
    if (g_strcmp0 (f->status, "ok") != 0 && !f->purged)
      bad++;
    json_builder_begin_object (b);
    json_out_str (b, "kind", f->kind);
    json_out_int (b, "id", f->id);
    json_out_str (b, "file", f->file);
    json_out_str (b, "sha256", f->expected);
    json_out_int (b, "bytes", f->bytes);
    json_out_str (b, "status", f->status);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_out_bool (b, "ok", job->chain_ok && bad == 0);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
forget_old (gint64 now)
{
  GHashTableIter iter;
  gpointer value;
  guint kept = 0;
  g_hash_table_iter_init (&iter, jobs);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Job *job = value;
    if (job->finished && (now - job->finished_at > JOB_KEEP_MS || kept >= JOB_KEEP_MAX))
      g_hash_table_iter_remove (&iter);
    else
      kept += job->finished;
  }
}

/* main loop: the worker is done; audit the result and keep it for whoever asks */
static void
job_finish (GObject *source, GAsyncResult *result, gpointer data)
{
  Job *job = data;   /* the task's data is a no-op reference: the job is owned by `jobs` from now on */
  job->finished = TRUE;
  job->finished_at = db_now_ms ();
  g_hash_table_remove (running, job->case_ref);
  guint bad = 0;
  for (guint i = 0; i < job->files->len; i++) {
    FileCheck *f = g_ptr_array_index (job->files, i);
    bad += g_strcmp0 (f->status, "ok") != 0 && !f->purged;
  }
  g_autofree gchar *summary = g_strdup_printf ("%s, %u file(s) not matching", job->chain_ok ? "chain intact" : "chain broken",
                                               bad);
  audit_note (job->app->db, job->actor, "integrity.checked", job->case_ref, "result", summary, NULL);
  forget_old (job->finished_at);
}

guint
integrity_start (KanyanApp *app, const CaseRow *row, const gchar *actor)
{
  if (!jobs) {
    running = g_hash_table_new (g_str_hash, g_str_equal);
    jobs = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) job_free);
  }
  Job *job = g_hash_table_lookup (running, row->ref);
  if (job)
    return job->id;
  job = g_new0 (Job, 1);
  g_mutex_init (&job->lock);
  job->id = ++next_id;
  job->app = app;
  job->actor = g_strdup (actor);
  job->case_ref = g_strdup (row->ref);
  job->db_path = g_build_filename (app->config->data_dir, "kanyan.db", NULL);
  job->files = g_ptr_array_new_with_free_func ((GDestroyNotify) file_check_free);
  job->started_at = db_now_ms ();
  g_autoptr (GPtrArray) recs = store_recordings_of_case (app->db, row->id);
  g_autoptr (GPtrArray) stills = store_stills_of_case (app->db, row->id);
  for (guint i = 0; i < recs->len; i++) {
    RecordingRow *r = g_ptr_array_index (recs, i);
    if (r->archive_sha256)
      add_file (job, "recording", r->id, r->archive_path, r->archive_sha256, r->purged_at != 0);
  }
  for (guint i = 0; i < stills->len; i++) {
    StillRow *s = g_ptr_array_index (stills, i);
    add_file (job, "still", s->id, s->path, s->sha256, FALSE);
  }
  job->files_total = job->files->len;
  g_hash_table_insert (running, job->case_ref, job);
  g_hash_table_insert (jobs, GUINT_TO_POINTER (job->id), job);
  GTask *task = g_task_new (NULL, NULL, job_finish, job);
  g_task_set_task_data (task, job, NULL);
  /* its own thread, not GTask's shared pool: it runs at a lower priority, which must not stay
   * with a pool thread, and may take minutes */
  g_thread_unref (g_thread_new ("integrity", job_thread, task));
  return job->id;
}

JsonNode *
integrity_status (guint job_id, const gchar *case_ref)
{
  Job *job = jobs ? g_hash_table_lookup (jobs, GUINT_TO_POINTER (job_id)) : NULL;
  if (!job || g_strcmp0 (job->case_ref, case_ref) != 0)
    return NULL;
  if (job->finished)
    return job_result (job);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_out_int (b, "job", job->id);
  json_out_bool (b, "running", TRUE);
  g_mutex_lock (&job->lock);
  gint64 bytes_done = job->bytes_done;
  guint files_done = job->files_done;
  g_mutex_unlock (&job->lock);
  json_out_int (b, "started_at", job->started_at);
  json_out_int (b, "files_done", files_done);
  json_out_int (b, "files_total", job->files_total);
  json_out_int (b, "bytes_done", MIN (bytes_done, job->bytes_total));
  json_out_int (b, "bytes_total", job->bytes_total);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

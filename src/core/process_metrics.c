/* process_metrics.c — process_* metrics from /proc/self/stat, /proc/stat (boot time),
 * /proc/self/fd and the fd limit, in the text format (core/metrics.h's helpers). A figure that
 * cannot be read is left out rather than reported as 0. Never touches anything else. */
#include "core/process_metrics.h"
#include "core/metrics.h"
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

/* the boot time, seconds since the epoch ("btime" of /proc/stat), or -1 */
static gint64
boot_time (void)
{
  g_autofree gchar *text = NULL;
  if (!g_file_get_contents ("/proc/stat", &text, NULL, NULL))
    return -1;
  const gchar *line = strstr (text, "\nbtime ");
  return line ? g_ascii_strtoll (line + 7, NULL, 10) : -1;
}

static gint
open_fds (void)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  if (!dir)
    return -1;
  gint n = 0;
  while (g_dir_read_name (dir))
    n++;
  g_dir_close (dir);
  return n - 1;   /* the directory's own fd, open while it is read */
}

void
process_metrics_render (GString *out)
{
  gdouble ticks = (gdouble) sysconf (_SC_CLK_TCK);
  g_autofree gchar *stat = NULL;
  const gchar *paren = NULL;
  if (g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL))
    paren = strrchr (stat, ')');   /* the command name may hold spaces and parentheses */
  g_auto (GStrv) f = paren ? g_strsplit (paren + 2, " ", 0) : NULL;
  /* f[0] is field 3 (state) of proc(5): field N is f[N - 3] */
  if (f && g_strv_length (f) >= 22 && ticks > 0) {
    gdouble cpu = (g_ascii_strtoull (f[14 - 3], NULL, 10) + g_ascii_strtoull (f[15 - 3], NULL, 10)) / ticks;
    metrics_text_family (out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
    metrics_text_sample (out, "process_cpu_seconds_total", cpu, NULL);
    metrics_text_family (out, "process_threads", "gauge", "Number of OS threads in the process.");
    metrics_text_sample (out, "process_threads", (gdouble) g_ascii_strtoull (f[20 - 3], NULL, 10), NULL);
    gint64 btime = boot_time ();
    if (btime > 0) {
      metrics_text_family (out, "process_start_time_seconds", "gauge",
                           "Start time of the process since unix epoch in seconds.");
      metrics_text_sample (out, "process_start_time_seconds",
                           btime + g_ascii_strtoull (f[22 - 3], NULL, 10) / ticks, NULL);
    }
    metrics_text_family (out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
    metrics_text_sample (out, "process_virtual_memory_bytes", (gdouble) g_ascii_strtoull (f[23 - 3], NULL, 10), NULL);
    metrics_text_family (out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    metrics_text_sample (out, "process_resident_memory_bytes",
                         (gdouble) g_ascii_strtoull (f[24 - 3], NULL, 10) * sysconf (_SC_PAGESIZE), NULL);
  }
  gint fds = open_fds ();
  if (fds >= 0) {
    metrics_text_family (out, "process_open_fds", "gauge", "Number of open file descriptors.");
    metrics_text_sample (out, "process_open_fds", fds, NULL);
  }
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0) {
    metrics_text_family (out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
    metrics_text_sample (out, "process_max_fds", rl.rlim_cur == RLIM_INFINITY ? 1048576.0 : (gdouble) rl.rlim_cur, NULL);
  }
}

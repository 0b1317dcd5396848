/* process_metrics.h — the standard process_* metrics of the Prometheus client libraries
 * (process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_open_fds, process_max_fds, process_start_time_seconds, process_threads), read from
 * /proc/self at scrape time. Any thread; nothing kept between calls. */
#pragma once
#include <glib.h>

void process_metrics_render (GString *out);

/* crash.h — a backtrace in the log when the server dies of a fatal signal (crash.c). */
#pragma once
#include <glib.h>

/* Main thread, once, before any other thread starts. */
void crash_report_install (void);

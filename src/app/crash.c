/* crash.c — the server's last words: on a fatal signal (a segfault, an abort from a failed
 * assertion or a GLib critical made fatal) it writes the signal and a backtrace to stderr, the
 * server's log, then dies of the same signal, so a service manager and a test see the same
 * exit as before. Owns only its signal handlers; never touches the application's state, never
 * allocates in the handler (backtrace() is loaded once at install time, see below). */
#include "app/crash.h"

#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

enum { CRASH_MAX_FRAMES = 64 };

static const struct {
  int sig;
  const char *name;
} crash_signals[] = {
  { SIGSEGV, "SIGSEGV (invalid memory access)" },
  { SIGBUS, "SIGBUS (bus error)" },
  { SIGILL, "SIGILL (illegal instruction)" },
  { SIGFPE, "SIGFPE (arithmetic error)" },
  { SIGABRT, "SIGABRT (abort: a failed assertion or a fatal GLib message, above)" },
};

static void
crash_write (const char *text)
{
  ssize_t unused = write (STDERR_FILENO, text, strlen (text));
  (void) unused;
}

/* Runs on whichever thread faulted (a streaming thread as often as the main loop). Only
 * async-signal-safe calls, plus backtrace(), whose first-call allocation install() forced. */
static void
crash_on_signal (int sig)
{
  void *frames[CRASH_MAX_FRAMES];
  crash_write ("kanyan: fatal signal ");
  for (gsize i = 0; i < G_N_ELEMENTS (crash_signals); i++)
    if (crash_signals[i].sig == sig)
      crash_write (crash_signals[i].name);
  crash_write ("; backtrace (addr2line -e build/kanyan resolves the offsets):\n");
  int n = backtrace (frames, CRASH_MAX_FRAMES);
  backtrace_symbols_fd (frames, n, STDERR_FILENO);
  signal (sig, SIG_DFL);
  raise (sig);
}

void
crash_report_install (void)
{
  void *warm[1];
  backtrace (warm, 1);   /* loads libgcc's unwinder now, not inside the handler */
  struct sigaction action = { .sa_handler = crash_on_signal, .sa_flags = SA_RESETHAND | SA_NODEFER };
  sigemptyset (&action.sa_mask);
  for (gsize i = 0; i < G_N_ELEMENTS (crash_signals); i++)
    sigaction (crash_signals[i].sig, &action, NULL);
}

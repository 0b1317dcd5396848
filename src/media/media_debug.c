/* media_debug.c — registers the media modules' debug categories once (media_debug.h). */
#include "media/media_debug.h"
#include <glib.h>

void
media_debug_init (void)
{
  static gsize done = 0;
  if (!g_once_init_enter (&done))
    return;
  peer_debug_init ();
  relay_debug_init ();
  ingest_debug_init ();
  viewer_debug_init ();
  recorder_debug_init ();
  still_debug_init ();
  segment_sync_debug_init ();
  uplink_cap_debug_init ();
  g_once_init_leave (&done, 1);
}

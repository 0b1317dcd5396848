/* archive.h — finalizing recording segments with libavformat: remux (no transcoding) into a
 * seekable archive — MP4 with the index at the front for H.264, WebM with cues for VP8 —
 * salvage what a crash left readable, read the result back, hash it. Only archive.c links
 * libavformat. */
#pragma once
#include <glib.h>
#include <gio/gio.h>

typedef struct {
  gchar   *archive_path;
  gchar   *sha256;
  gint64   bytes;
  gint64   duration_ms;     /* the media's own: first packet to the end of the last */
  gint64   shift_us;        /* the source's time that became the archive's 0 */
  gboolean shift_known;     /* FALSE when an archive left behind by a crash was picked up */
  gchar   *video_codec;     /* "h264", "vp8" or NULL */
  gchar   *audio_codec;
  guint    packets;
  gboolean salvaged;        /* the source ended in an unreadable part; the archive keeps what was whole */
  gboolean empty;           /* no media ever reached the source (a segment closed within its first
                             * second): no archive, the source is removed, every field above unset */
} ArchiveResult;

void archive_result_free (ArchiveResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ArchiveResult, archive_result_free)

/* Blocking: remux src into a sibling archive, verify it by reading it back, then delete src. */
ArchiveResult *archive_finalize_file (const gchar *src_path, GError **error);
/* The same on a worker thread; callback on the caller's main context. */
void           archive_finalize_async (const gchar *src_path, GAsyncReadyCallback callback, gpointer data);
ArchiveResult *archive_finalize_finish (GAsyncResult *result, GError **error);
gchar         *archive_sha256_file (const gchar *path, gint64 *bytes, GError **error);

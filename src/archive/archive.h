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

/* A segment is recorded in a file per track (recorder.c): the segment's own (the database names
 * it; the applicant's video) and beside it, for segment-001.mkv, segment-001.audio.mkv (the
 * applicant's audio) and segment-001.talk.mkv (the reviewers' talk-back mix). */
typedef enum {
  ARCHIVE_PART_VIDEO,   /* the segment's file itself */
  ARCHIVE_PART_AUDIO,
  ARCHIVE_PART_TALK,
  ARCHIVE_PART_COUNT
} ArchivePart;
gchar         *archive_part_path (const gchar *segment_path, ArchivePart part);
/* which part a file of a segment is, by its name (the segment's own: ARCHIVE_PART_VIDEO) */
ArchivePart    archive_part_of (const gchar *path);
/* Blocking: remux src and the parts beside it into a sibling archive, the packets of all in
 * time order, verify it by reading it back, then delete the sources. */
ArchiveResult *archive_finalize_file (const gchar *src_path, GError **error);
/* The same on a worker thread; callback on the caller's main context. */
void           archive_finalize_async (const gchar *src_path, GAsyncReadyCallback callback, gpointer data);
ArchiveResult *archive_finalize_finish (GAsyncResult *result, GError **error);
gchar         *archive_sha256_file (const gchar *path, gint64 *bytes, GError **error);

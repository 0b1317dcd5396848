/* archive.c — a closed (or crash-cut) Matroska segment becomes an archive file: packets are
 * copied as they are into MP4 (+faststart, index at the front) when the video is H.264, or
 * WebM (with cues) for VP8, the segment's files (one per track, recorder.c) interleaved by
 * time; reading a file stops at its first unreadable packet (salvage). Every
 * stream is shifted by the source's earliest timestamp, so the archive starts at 0 (the A/V
 * offsets kept); the shift is reported so the caller can tell the wall-clock time of the
 * archive's 0. The duration is the media's own (first to last packet end), not the
 * container's. The archive is opened again, its packets counted, and it is fsync'ed with its
 * directory before the source is deleted. */
#include "archive/archive.h"
#include "core/errors.h"
#include "core/metrics.h"
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

void
archive_result_free (ArchiveResult *r)
{
  if (!r)
    return;
  g_free (r->archive_path);
  g_free (r->sha256);
  g_free (r->video_codec);
  g_free (r->audio_codec);
  g_free (r);
}

static gboolean
av_failed (gint rc, const gchar *what, const gchar *path, GError **error)
{
  if (rc >= 0)
    return FALSE;
  gchar msg[AV_ERROR_MAX_STRING_SIZE] = "";
  av_strerror (rc, msg, sizeof msg);
  g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "%s %s: %s", what, path, msg);
  return TRUE;
}

gchar *
archive_sha256_file (const gchar *path, gint64 *bytes, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, error);
  if (!in)
    return NULL;
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 buf[65536];
  gssize n;
  gint64 total = 0;
  while ((n = g_input_stream_read (G_INPUT_STREAM (in), buf, sizeof buf, NULL, error)) > 0) {
    g_checksum_update (sum, buf, n);
    total += n;
  }
  if (n < 0)
    return NULL;
  if (bytes)
    *bytes = total;
  return g_strdup (g_checksum_get_string (sum));
}

gchar *
archive_part_path (const gchar *segment_path, ArchivePart part)
{
  static const gchar *const suffix[ARCHIVE_PART_COUNT] = {
    [ARCHIVE_PART_VIDEO] = NULL, [ARCHIVE_PART_AUDIO] = "audio", [ARCHIVE_PART_TALK] = "talk" };
  if (!suffix[part])
    return g_strdup (segment_path);
  g_autofree gchar *base = g_strndup (segment_path, strlen (segment_path) - (g_str_has_suffix (segment_path, ".mkv") ? 4 : 0));
  return g_strdup_printf ("%s.%s.mkv", base, suffix[part]);
}

ArchivePart
archive_part_of (const gchar *path)
{
  for (gint p = ARCHIVE_PART_VIDEO + 1; p < ARCHIVE_PART_COUNT; p++) {
    g_autofree gchar *suffix = archive_part_path ("", p);   /* ".audio.mkv", ".talk.mkv" */
    if (g_str_has_suffix (path, suffix))
      return p;
  }
  return ARCHIVE_PART_VIDEO;
}

/* Counts the packets of a file and reads its codecs and duration. */
static gboolean
archive_probe (const gchar *path, ArchiveResult *r, guint *packets, GError **error)
{
  AVFormatContext *in = NULL;
  if (av_failed (avformat_open_input (&in, path, NULL, NULL), "cannot open", path, error))
    return FALSE;
  gboolean ok = !av_failed (avformat_find_stream_info (in, NULL), "cannot read", path, error);
  if (ok) {
    for (guint i = 0; i < in->nb_streams; i++) {
      const AVCodecParameters *par = in->streams[i]->codecpar;
      gchar **slot = par->codec_type == AVMEDIA_TYPE_VIDEO ? &r->video_codec
                   : par->codec_type == AVMEDIA_TYPE_AUDIO ? &r->audio_codec : NULL;
      if (slot && !*slot)
        *slot = g_strdup (avcodec_get_name (par->codec_id));
    }
    /* the media's own span, from the packets: a container's duration may include a start
     * offset (libavformat adds start_time) or be missing after a crash */
    gint64 first = G_MAXINT64, end = G_MININT64;
    AVPacket *pkt = av_packet_alloc ();
    *packets = 0;
    while (av_read_frame (in, pkt) >= 0) {
      (*packets)++;
      if (pkt->stream_index < (gint) in->nb_streams && pkt->pts != AV_NOPTS_VALUE) {
        AVRational tb = in->streams[pkt->stream_index]->time_base;
        gint64 start = av_rescale_q (pkt->pts, tb, AV_TIME_BASE_Q);
        gint64 stop = av_rescale_q (pkt->pts + MAX (pkt->duration, 0), tb, AV_TIME_BASE_Q);
        first = MIN (first, start);
        end = MAX (end, stop);
      }
      av_packet_unref (pkt);
    }
    av_packet_free (&pkt);
    r->duration_ms = end > first ? (end - first) / 1000 : 0;
  }
  avformat_close_input (&in);
  return ok;
}

/* The earliest timestamp (pts or dts) of any audio or video packet, in AV_TIME_BASE units;
 * reading stops where the file does. G_MAXINT64 when there is none. */
static gint64
archive_earliest (const gchar *src)
{
  AVFormatContext *in = NULL;
  gint64 earliest = G_MAXINT64;
  if (avformat_open_input (&in, src, NULL, NULL) < 0)
    return earliest;
  if (avformat_find_stream_info (in, NULL) >= 0) {
    AVPacket *pkt = av_packet_alloc ();
    while (av_read_frame (in, pkt) >= 0) {
      if (pkt->stream_index < (gint) in->nb_streams && pkt->pts != AV_NOPTS_VALUE) {
        enum AVMediaType type = in->streams[pkt->stream_index]->codecpar->codec_type;
        AVRational tb = in->streams[pkt->stream_index]->time_base;
        gint64 ts = pkt->dts != AV_NOPTS_VALUE ? MIN (pkt->pts, pkt->dts) : pkt->pts;
        if (type == AVMEDIA_TYPE_VIDEO || type == AVMEDIA_TYPE_AUDIO)
          earliest = MIN (earliest, av_rescale_q_rnd (ts, tb, AV_TIME_BASE_Q, AV_ROUND_DOWN));
      }
      av_packet_unref (pkt);
    }
    av_packet_free (&pkt);
  }
  avformat_close_input (&in);
  return earliest;
}

/* The data and the name of a file reach the disk before its source is deleted. */
static gboolean
archive_fsync (const gchar *path, gboolean directory, GError **error)
{
  gint fd = g_open (path, (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0 || fsync (fd) != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot sync %s: %s", path, g_strerror (errno));
    if (fd >= 0)
      close (fd);
    return FALSE;
  }
  close (fd);
  return TRUE;
}

/* One source file of the archive: one of the segment's parts. */
typedef struct {
  const gchar     *path;
  AVFormatContext *ctx;
  gint            *map;       /* input stream -> archive stream, -1: not copied */
  AVPacket        *pkt;       /* the next packet to write, when pending */
  gboolean         pending;
  gboolean         done;
} RemuxInput;

static void
remux_input_clear (RemuxInput *in)
{
  av_packet_free (&in->pkt);
  avformat_close_input (&in->ctx);
  g_clear_pointer (&in->map, g_free);
}

/* The input's next packet of a copied stream into in->pkt, shifted so the archive starts at
 * 0 (every stream by the same amount: A/V offsets kept); done at its end or at an unreadable
 * part (salvage: what was whole is kept). */
static void
remux_input_next (RemuxInput *in, ArchiveResult *r, guint copied)
{
  while (!in->done && !in->pending) {
    gint rc = av_read_frame (in->ctx, in->pkt);
    if (rc < 0) {
      if (rc != AVERROR_EOF) {
        g_info ("%s: reading stopped after %u packets: %s", in->path, copied, av_err2str (rc));
        r->salvaged = TRUE;
      }
      in->done = TRUE;
      break;
    }
    gint target = in->pkt->stream_index < (gint) in->ctx->nb_streams ? in->map[in->pkt->stream_index] : -1;
    if (target < 0 || in->pkt->pts == AV_NOPTS_VALUE) {
      av_packet_unref (in->pkt);
      continue;
    }
    AVRational tb = in->ctx->streams[in->pkt->stream_index]->time_base;
    gint64 shift = av_rescale_q_rnd (r->shift_us, AV_TIME_BASE_Q, tb, AV_ROUND_DOWN);
    in->pkt->pts -= shift;
    if (in->pkt->dts != AV_NOPTS_VALUE)
      in->pkt->dts -= shift;
    in->pending = TRUE;
  }
}

/* the pending packet's decoding time, in AV_TIME_BASE units: the files are joined by it */
static gint64
remux_input_time (const RemuxInput *in)
{
  gint64 ts = in->pkt->dts != AV_NOPTS_VALUE ? in->pkt->dts : in->pkt->pts;
  return av_rescale_q (ts, in->ctx->streams[in->pkt->stream_index]->time_base, AV_TIME_BASE_Q);
}

/* sources[0], the segment's file, must open; a later one (a part beside it) that does not — a
 * muxer that never wrote its header — is left out */
static gboolean
archive_remux (const gchar *const *sources, guint n_sources, ArchiveResult *r, guint *copied, GError **error)
{
  const gchar *src = sources[0];
  RemuxInput inputs[ARCHIVE_PART_COUNT] = { { 0 } };
  guint n_inputs = 0;
  AVFormatContext *out = NULL;
  gboolean ok = FALSE, header_written = FALSE;
  AVDictionary *opts = NULL;
  g_autofree gchar *base = NULL, *tmp_path = NULL;
  g_return_val_if_fail (n_sources >= 1 && n_sources <= G_N_ELEMENTS (inputs), FALSE);
  r->shift_us = G_MAXINT64;
  for (guint i = 0; i < n_sources; i++)
    r->shift_us = MIN (r->shift_us, archive_earliest (sources[i]));
  if (r->shift_us == G_MAXINT64)
    r->shift_us = 0;
  for (guint i = 0; i < n_sources; i++) {
    RemuxInput *in = &inputs[n_inputs];
    in->path = sources[i];
    GError **err = i == 0 ? error : NULL;
    if (av_failed (avformat_open_input (&in->ctx, in->path, NULL, NULL), "cannot open", in->path, err) ||
        av_failed (avformat_find_stream_info (in->ctx, NULL), "cannot read", in->path, err)) {
      avformat_close_input (&in->ctx);
      if (i == 0)
        goto out;
      g_info ("%s: left out of the archive (no readable header)", in->path);
      continue;
    }
    in->pkt = av_packet_alloc ();
    n_inputs++;
  }
  gboolean h264 = FALSE;
  for (guint k = 0; k < n_inputs; k++)
    for (guint i = 0; i < inputs[k].ctx->nb_streams; i++)
      h264 |= inputs[k].ctx->streams[i]->codecpar->codec_id == AV_CODEC_ID_H264;
  const gchar *format = h264 ? "mp4" : "webm";
  base = g_strndup (src, strlen (src) - (g_str_has_suffix (src, ".mkv") ? 4 : 0));
  r->archive_path = g_strdup_printf ("%s.%s", base, h264 ? "mp4" : "webm");
  tmp_path = g_strdup_printf ("%s.part", r->archive_path);
  if (av_failed (avformat_alloc_output_context2 (&out, NULL, format, tmp_path), "cannot create", tmp_path, error))
    goto out;
  gint next = 0;
  for (guint k = 0; k < n_inputs; k++) {
    AVFormatContext *ctx = inputs[k].ctx;
    inputs[k].map = g_new (gint, ctx->nb_streams);
    for (guint i = 0; i < ctx->nb_streams; i++) {
      const AVCodecParameters *par = ctx->streams[i]->codecpar;
      inputs[k].map[i] = -1;
      if (par->codec_type != AVMEDIA_TYPE_VIDEO && par->codec_type != AVMEDIA_TYPE_AUDIO)
        continue;
      AVStream *os = avformat_new_stream (out, NULL);
      if (!os || avcodec_parameters_copy (os->codecpar, par) < 0)
        goto out;
      os->codecpar->codec_tag = 0;
      os->time_base = ctx->streams[i]->time_base;
      inputs[k].map[i] = next++;
    }
  }
  if (next == 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "%s has no audio or video", src);
    goto out;
  }
  if (av_failed (avio_open (&out->pb, tmp_path, AVIO_FLAG_WRITE), "cannot write", tmp_path, error))
    goto out;
  if (h264)
    av_dict_set (&opts, "movflags", "+faststart", 0);   /* the index goes to the front */
  if (av_failed (avformat_write_header (out, &opts), "cannot start", tmp_path, error))
    goto out;
  header_written = TRUE;
  for (;;) {
    /* the files in time order: the earliest pending packet of any goes next */
    RemuxInput *in = NULL;
    for (guint k = 0; k < n_inputs; k++) {
      remux_input_next (&inputs[k], r, *copied);
      if (inputs[k].pending && (!in || remux_input_time (&inputs[k]) < remux_input_time (in)))
        in = &inputs[k];
    }
    if (!in)
      break;
    AVPacket *pkt = in->pkt;
    gint target = in->map[pkt->stream_index];
    av_packet_rescale_ts (pkt, in->ctx->streams[pkt->stream_index]->time_base, out->streams[target]->time_base);
    pkt->stream_index = target;
    pkt->pos = -1;
    gint64 pts = pkt->pts, dts = pkt->dts;
    in->pending = FALSE;
    gint written = av_interleaved_write_frame (out, pkt);   /* takes the packet's data */
    if (written < 0) {
      /* a packet the muxer refuses (broken timestamps): keep the rest, and say which */
      if (!r->salvaged)
        g_info ("%s: %s stream %d packet pts %" G_GINT64_FORMAT " dts %" G_GINT64_FORMAT " (time base 1/%d) refused: %s",
                in->path, av_get_media_type_string (out->streams[target]->codecpar->codec_type), target, pts, dts,
                out->streams[target]->time_base.den, av_err2str (written));
      r->salvaged = TRUE;
      continue;
    }
    (*copied)++;
  }
  ok = !av_failed (av_write_trailer (out), "cannot finish", tmp_path, error);
  header_written = FALSE;
  if (ok && out->pb)
    avio_closep (&out->pb);
  if (ok && !archive_fsync (tmp_path, FALSE, error))
    ok = FALSE;
  if (ok && g_rename (tmp_path, r->archive_path) != 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL, "cannot rename %s", tmp_path);
    ok = FALSE;
  }
out:
  if (header_written)
    av_write_trailer (out);
  av_dict_free (&opts);
  if (out && out->pb)
    avio_closep (&out->pb);
  avformat_free_context (out);
  for (guint k = 0; k < G_N_ELEMENTS (inputs); k++)
    remux_input_clear (&inputs[k]);
  return ok;
}

/* A crash after the archive was renamed but before it was recorded: the source is gone,
 * its archive is whole (it was read back before the source was deleted). */
static gchar *
archive_left_behind (const gchar *src_path)
{
  g_autofree gchar *base = g_strndup (src_path, strlen (src_path) - (g_str_has_suffix (src_path, ".mkv") ? 4 : 0));
  for (const gchar *const *ext = (const gchar *const[]) { "mp4", "webm", NULL }; *ext; ext++) {
    gchar *path = g_strdup_printf ("%s.%s", base, *ext);
    if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
      return path;
    g_free (path);
  }
  return NULL;
}

/* A segment closed before any media reached it: the muxer wrote nothing (it starts once every
 * track has media), or only its header, which ends before a first packet (libavformat reads
 * EOF while opening it, or reads no packet). A file that cannot be read for another reason is
 * not "empty": it is refused and kept. */
static gboolean
archive_holds_no_media (const gchar *path)
{
  GStatBuf st;
  if (g_stat (path, &st) != 0)
    return FALSE;
  if (st.st_size == 0)
    return TRUE;
  AVFormatContext *in = NULL;
  gint rc = avformat_open_input (&in, path, NULL, NULL);
  if (rc >= 0)
    rc = avformat_find_stream_info (in, NULL);
  if (rc >= 0) {
    AVPacket *pkt = av_packet_alloc ();
    rc = av_read_frame (in, pkt);
    av_packet_free (&pkt);
  }
  avformat_close_input (&in);
  return rc == AVERROR_EOF;
}

ArchiveResult *
archive_finalize_file (const gchar *src_path, GError **error)
{
  g_autoptr (ArchiveResult) r = g_new0 (ArchiveResult, 1);
  guint copied = 0, read_back = 0;
  g_auto (GStrv) parts = g_new0 (gchar *, ARCHIVE_PART_COUNT + 1);
  for (gint p = 0; p < ARCHIVE_PART_COUNT; p++)
    parts[p] = archive_part_path (src_path, p);
  if (!g_file_test (src_path, G_FILE_TEST_EXISTS) && (r->archive_path = archive_left_behind (src_path))) {
    for (gint p = 0; p < ARCHIVE_PART_COUNT; p++)
      g_unlink (parts[p]);   /* a crash came between the deletions at the end */
    if (!archive_probe (r->archive_path, r, &r->packets, error))
      return NULL;
    r->sha256 = archive_sha256_file (r->archive_path, &r->bytes, error);
    return r->sha256 ? g_steal_pointer (&r) : NULL;
  }
  /* the parts beside it alone are no record: a segment without the applicant's picture is
   * empty (a muxer of all tracks, before, wrote nothing until the picture came) */
  if (archive_holds_no_media (src_path)) {
    for (gint p = 0; p < ARCHIVE_PART_COUNT; p++)
      g_unlink (parts[p]);
    r->empty = TRUE;
    return g_steal_pointer (&r);
  }
  const gchar *sources[ARCHIVE_PART_COUNT];
  guint n_sources = 0;
  for (gint p = 0; p < ARCHIVE_PART_COUNT; p++)
    if (p == ARCHIVE_PART_VIDEO || g_file_test (parts[p], G_FILE_TEST_IS_REGULAR))
      sources[n_sources++] = parts[p];
  if (!archive_remux (sources, n_sources, r, &copied, error))
    return NULL;
  if (!archive_probe (r->archive_path, r, &read_back, error))
    return NULL;
  if (read_back != copied || copied == 0) {
    g_set_error (error, KANYAN_ERROR, KANYAN_ERROR_INTERNAL,
                 "%s reads back %u packets of %u written: the source is kept", r->archive_path, read_back, copied);
    return NULL;
  }
  r->packets = copied;
  r->sha256 = archive_sha256_file (r->archive_path, &r->bytes, error);
  if (!r->sha256)
    return NULL;
  g_autofree gchar *dir = g_path_get_dirname (r->archive_path);
  if (!archive_fsync (dir, TRUE, error))   /* the rename itself is on disk */
    return NULL;
  r->shift_known = TRUE;
  /* only now: the archive is whole and verified. The segment's file first, so a crash before
   * the others are gone leaves an archive "left behind" (above), not a segment without them */
  for (gint p = 0; p < ARCHIVE_PART_COUNT; p++)
    g_unlink (parts[p]);
  return g_steal_pointer (&r);
}

/* a worker thread */
static void
finalize_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  GError *error = NULL;
  gint64 start = g_get_monotonic_time ();
  ArchiveResult *r = archive_finalize_file (data, &error);
  metrics_archive_duration ((g_get_monotonic_time () - start) / 1e6);
  if (r)
    g_task_return_pointer (task, r, (GDestroyNotify) archive_result_free);
  else
    g_task_return_error (task, error);
}

void
archive_finalize_async (const gchar *src_path, GAsyncReadyCallback callback, gpointer data)
{
  g_autoptr (GTask) task = g_task_new (NULL, NULL, callback, data);
  g_task_set_task_data (task, g_strdup (src_path), g_free);
  g_task_run_in_thread (task, finalize_thread);
}

ArchiveResult *
archive_finalize_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

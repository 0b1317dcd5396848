/* media_http.h — archived recordings over HTTP: GET/HEAD /media/recordings/{id} with byte
 * ranges, authorized per case (ABILITY_READ_MEDIA) and audited (docs/media.md). The Range
 * parser is a pure function, unit-tested in tests/unit/test_range.c. */
#pragma once
#include "app/app.h"
#include "web/http.h"

typedef enum {
  MEDIA_RANGE_NONE,            /* no Range header: the whole file (200); [0, size-1] */
  MEDIA_RANGE_ONE,             /* one satisfiable range: 206 with [*start, *end] (inclusive) */
  MEDIA_RANGE_MULTI,           /* several ranges, one at least satisfiable: answered whole (200) */
  MEDIA_RANGE_UNSATISFIABLE,   /* well-formed, but nothing of it lies in the file: 416 */
  MEDIA_RANGE_MALFORMED,       /* not `bytes=` with first-last / first- / -suffix specs: 416 */
} MediaRange;

/* Pure: header is the Range header's value (NULL: none), size the file's length. For ONE,
 * *start ≤ *end < size (inclusive bounds). For NONE and MULTI the whole file is meant:
 * *start = 0, *end = size - 1 (0 for an empty file). Otherwise they are left alone. */
MediaRange   media_parse_range (const gchar *header, guint64 size, guint64 *start, guint64 *end);
/* "video/mp4", "video/webm", "video/x-matroska" from the file name; application/octet-stream else */
const gchar *media_content_type (const gchar *path);
/* http.c routes every /media/ request here (main loop) */
void         media_http_handle (KanyanApp *app, HttpExchange *ex);

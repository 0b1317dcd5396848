/* room_metrics.h — what the metrics read of live inspections at scrape time: how many are
 * open and who is in them by role. Main loop. Counts only; never names a case or a peer. */
#pragma once
#include "live/room.h"

typedef struct {
  guint live_inspections;   /* rooms open (media flowing, waiting for it, or lingering) */
  guint media_flowing;      /* of those, the ones whose applicant's media flows now */
  guint applicants, reviewers, watchers;   /* watchers: WHEP players */
} RoomCounts;

void room_metrics_count (KanyanApp *app, RoomCounts *out);

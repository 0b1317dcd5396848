/* errors.h — the stable error codes of every API and signaling failure (docs/errors.md).
 * A GError in the KANYAN_ERROR domain carries one of these as its code. */
#pragma once
#include <glib.h>

typedef enum {
  KANYAN_ERROR_BAD_JSON,
  KANYAN_ERROR_TOO_LARGE,
  KANYAN_ERROR_UNKNOWN_TYPE,
  KANYAN_ERROR_MISSING_FIELD,
  KANYAN_ERROR_BAD_FIELD,
  KANYAN_ERROR_NOT_JOINED,
  KANYAN_ERROR_ALREADY_JOINED,
  KANYAN_ERROR_WRONG_ROLE,
  KANYAN_ERROR_UNKNOWN_CASE,
  KANYAN_ERROR_BAD_TOKEN,
  KANYAN_ERROR_BAD_SDP,
  KANYAN_ERROR_UNSUPPORTED_MEDIA_TYPE,
  KANYAN_ERROR_NOT_FOUND,
  KANYAN_ERROR_METHOD_NOT_ALLOWED,
  KANYAN_ERROR_TIMEOUT,
  KANYAN_ERROR_REPLACED,
  KANYAN_ERROR_CONFLICT,
  KANYAN_ERROR_RATE_LIMITED,
  KANYAN_ERROR_FORBIDDEN_ORIGIN,
  KANYAN_ERROR_FORBIDDEN,
  KANYAN_ERROR_UNAUTHENTICATED,
  KANYAN_ERROR_ILLEGAL_TRANSITION,
  KANYAN_ERROR_INTERNAL,
  KANYAN_ERROR_RANGE_NOT_SATISFIABLE,   /* a media Range outside the file, or malformed (416) */
  KANYAN_ERROR_NOT_YOUR_ITEM,           /* a co-reviewer marking another department's item (403) */
  KANYAN_ERROR_CASE_CLOSED,             /* the case is finally decided: no joins, publishes, marks, stills (409) */
  KANYAN_ERROR_LOGIN_QUEUE_FULL,        /* too many password checks at once: try again shortly (429) */
  KANYAN_ERROR_TOO_MANY_CONNECTIONS,    /* a cap on connections per address, account or case (429) */
  KANYAN_ERROR_METRICS_TOKEN,           /* GET /metrics without the [metrics] token as its bearer token (401) */
  KANYAN_ERROR_WATCH_TOKEN_EXPIRED,     /* a WHEP viewing token past its ttl (401) */
  KANYAN_ERROR_WATCH_TOKEN_REVOKED,     /* a WHEP viewing token revoked by a reviewer or lead (401) */
  KANYAN_ERROR_WATCH_TOKEN_WRONG_CASE,  /* a WHEP viewing token issued for another case (403) */
  KANYAN_ERROR_NOT_LIVE,                /* a WHEP viewer came while no applicant media flows (409) */
  KANYAN_ERROR_SLOT_CONFLICT,           /* booking: the reviewer has another slot at that time (409) */
  KANYAN_ERROR_NOT_WORKING_DAY,         /* booking: the slot falls on a weekend or holiday of the calendar (409) */
  KANYAN_ERROR_PHOTO_NOT_REQUESTED,     /* photos: an upload without a request of this case and its key (404) */
  KANYAN_ERROR_PHOTO_REQUEST_USED,      /* photos: the request was answered already (409) */
  KANYAN_ERROR_PHOTO_REQUEST_EXPIRED,   /* photos: the request is past [photos] request_ttl_s (409) */
  KANYAN_ERROR_PHOTO_TOO_LARGE,         /* photos: the photo is over [photos] max_bytes (413) */
  KANYAN_ERROR_PHOTO_TYPE_REFUSED,      /* photos: not a JPEG or PNG by its bytes (HEIC included) (415) */
  KANYAN_ERROR_NO_NOTICE,               /* an acknowledgement before any notice was issued to the applicant (409) */
  KANYAN_ERROR_ALREADY_ACKNOWLEDGED,    /* the notice has its acknowledgement already: one per notice (409) */
  KANYAN_ERROR_APPLICANT_ABSENT,        /* a camera command while no applicant page is joined to the live inspection (409) */
  KANYAN_ERROR_NOT_ADMITTED,            /* waiting room: the applicant's page offered media before a reviewer admitted it */
  KANYAN_ERROR_NOBODY_WAITING,          /* waiting room: `admit` while no applicant waits */
} KanyanError;

#define KANYAN_ERROR (kanyan_error_quark ())
GQuark       kanyan_error_quark (void);
const gchar *kanyan_error_code (gint code);     /* "bad_json", … */
guint        kanyan_error_http_status (gint code);

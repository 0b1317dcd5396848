/* errors.c — names and HTTP statuses of the stable error codes. Nothing else. */
#include "core/errors.h"

G_DEFINE_QUARK (kanyan-error-quark, kanyan_error)

static const struct { const gchar *code; guint status; } error_table[] = {
  [KANYAN_ERROR_BAD_JSON]               = { "bad_json", 400 },
  [KANYAN_ERROR_TOO_LARGE]              = { "too_large", 413 },
  [KANYAN_ERROR_UNKNOWN_TYPE]           = { "unknown_type", 400 },
  [KANYAN_ERROR_MISSING_FIELD]          = { "missing_field", 400 },
  [KANYAN_ERROR_BAD_FIELD]              = { "bad_field", 400 },
  [KANYAN_ERROR_NOT_JOINED]             = { "not_joined", 409 },
  [KANYAN_ERROR_ALREADY_JOINED]         = { "already_joined", 409 },
  [KANYAN_ERROR_WRONG_ROLE]             = { "wrong_role", 403 },
  [KANYAN_ERROR_UNKNOWN_CASE]           = { "unknown_case", 404 },
  [KANYAN_ERROR_BAD_TOKEN]              = { "bad_token", 401 },
  [KANYAN_ERROR_BAD_SDP]                = { "bad_sdp", 400 },
  [KANYAN_ERROR_UNSUPPORTED_MEDIA_TYPE] = { "unsupported_media_type", 415 },
  [KANYAN_ERROR_NOT_FOUND]              = { "not_found", 404 },
  [KANYAN_ERROR_METHOD_NOT_ALLOWED]     = { "method_not_allowed", 405 },
  [KANYAN_ERROR_TIMEOUT]                = { "timeout", 408 },
  [KANYAN_ERROR_REPLACED]               = { "replaced", 409 },
  [KANYAN_ERROR_CONFLICT]               = { "conflict", 409 },
  [KANYAN_ERROR_RATE_LIMITED]           = { "rate_limited", 429 },
  [KANYAN_ERROR_FORBIDDEN_ORIGIN]       = { "forbidden_origin", 403 },
  [KANYAN_ERROR_FORBIDDEN]              = { "forbidden", 403 },
  [KANYAN_ERROR_NOT_YOUR_ITEM]          = { "not_your_item", 403 },
  [KANYAN_ERROR_UNAUTHENTICATED]        = { "unauthenticated", 401 },
  [KANYAN_ERROR_ILLEGAL_TRANSITION]     = { "illegal_transition", 409 },
  [KANYAN_ERROR_INTERNAL]               = { "internal", 500 },
  [KANYAN_ERROR_RANGE_NOT_SATISFIABLE] = { "range_not_satisfiable", 416 },
  [KANYAN_ERROR_CASE_CLOSED]            = { "case_closed", 409 },
  [KANYAN_ERROR_LOGIN_QUEUE_FULL]       = { "login_queue_full", 429 },
  [KANYAN_ERROR_TOO_MANY_CONNECTIONS]  = { "too_many_connections", 429 },
  [KANYAN_ERROR_METRICS_TOKEN]         = { "metrics_token", 401 },
  [KANYAN_ERROR_WATCH_TOKEN_EXPIRED]   = { "watch_token_expired", 401 },
  [KANYAN_ERROR_WATCH_TOKEN_REVOKED]   = { "watch_token_revoked", 401 },
  [KANYAN_ERROR_WATCH_TOKEN_WRONG_CASE] = { "watch_token_wrong_case", 403 },
  [KANYAN_ERROR_NOT_LIVE]              = { "not_live", 409 },
  [KANYAN_ERROR_SLOT_CONFLICT]         = { "slot_conflict", 409 },
  [KANYAN_ERROR_NOT_WORKING_DAY]        = { "not_working_day", 409 },
  [KANYAN_ERROR_PHOTO_NOT_REQUESTED]   = { "photo_not_requested", 404 },
  [KANYAN_ERROR_PHOTO_REQUEST_USED]    = { "photo_request_used", 409 },
  [KANYAN_ERROR_PHOTO_REQUEST_EXPIRED] = { "photo_request_expired", 409 },
  [KANYAN_ERROR_PHOTO_TOO_LARGE]       = { "photo_too_large", 413 },
  [KANYAN_ERROR_PHOTO_TYPE_REFUSED]    = { "photo_type_refused", 415 },
  [KANYAN_ERROR_NO_NOTICE]              = { "no_notice", 409 },
  [KANYAN_ERROR_ALREADY_ACKNOWLEDGED]   = { "already_acknowledged", 409 },
  [KANYAN_ERROR_APPLICANT_ABSENT]       = { "applicant_absent", 409 },
  [KANYAN_ERROR_NOT_ADMITTED]           = { "not_admitted", 409 },
  [KANYAN_ERROR_NOBODY_WAITING]         = { "nobody_waiting", 409 },
};

const gchar *
kanyan_error_code (gint code)
{
  if (code < 0 || code >= (gint) G_N_ELEMENTS (error_table))
    return "internal";
  return error_table[code].code;
}

guint
kanyan_error_http_status (gint code)
{
  if (code < 0 || code >= (gint) G_N_ELEMENTS (error_table))
    return 500;
  return error_table[code].status;
}

/**
 * Every error code the API answers with, and its HTTP status (API.md §
 * Errors). The Worker's `ApiError` (workers/errors.ts) takes its status from
 * here; the OpenAPI document enumerates the codes of each status from here;
 * clients can switch on `ErrorCode`.
 */
import { z } from '@hono/zod-openapi';

export const ERROR_STATUS = {
  validation_failed: 400,
  invalid_json: 400,
  invalid_code: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  token_expired: 401,
  session_revoked: 401,
  forbidden: 403,
  not_member: 403,
  not_friends: 403,
  blocked: 403,
  edit_window_passed: 403,
  recall_window_passed: 403,
  /** Bots cannot befriend, be befriended, use /auth/*, or make bots and incoming webhooks. */
  not_for_bots: 403,
  not_found: 404,
  method_not_allowed: 405,
  username_taken: 409,
  email_taken: 409,
  conflict: 409,
  group_full: 409,
  gone: 409,
  already_friends: 409,
  duplicate_request: 409,
  blocked_by_you: 409,
  request_expired: 409,
  request_not_pending: 409,
  subscription_limit: 409,
  /** At most 10 outgoing (or incoming) webhooks per conversation. */
  webhook_limit: 409,
  /** Instant upload: the bytes are not known, or the proof of having them is wrong (deliberately one answer). */
  upload_required: 409,
  /** tus: a missing or unsupported Tus-Resumable version. */
  precondition_failed: 412,
  too_large: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  upgrade_required: 426,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];

const ALL = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];
export const ErrorCode = z.enum(ALL).openapi('ErrorCode', { description: 'Every error code; each response lists the ones its status can carry' });

/** The codes that come with `status`. */
export function codesFor(status: ErrorStatus): ErrorCode[] {
  return ALL.filter((code) => ERROR_STATUS[code] === status);
}

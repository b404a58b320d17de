/**
 * The one error model: every failure leaves the Worker as
 * `{ error: { code, message, requestId } }` with the status its code maps to.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status';

const STATUS = {
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
  webhook_limit: 409,
  too_large: 413,
  upgrade_required: 426,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof STATUS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId?: string; details?: unknown };
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  readonly details?: unknown;
  /** Extra response headers, e.g. `Retry-After` on 429. */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, opts: { details?: unknown; headers?: Record<string, string> } = {}) {
    super(message);
    this.code = code;
    this.status = STATUS[code];
    this.details = opts.details;
    this.headers = opts.headers ?? {};
  }
}

export function errorBody(err: ApiError, requestId?: string): ErrorBody {
  return { error: { code: err.code, message: err.message, requestId, ...(err.details ? { details: err.details } : {}) } };
}

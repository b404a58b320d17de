/**
 * The one error model: every failure leaves the Worker as
 * `{ error: { code, message, requestId } }` with the status its code maps to.
 * Codes and their statuses live in protocol/errors.ts (add new ones there),
 * so clients and the OpenAPI document share them.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ERROR_STATUS, type ErrorCode } from '../protocol/errors.ts';

const STATUS = ERROR_STATUS satisfies Record<ErrorCode, ContentfulStatusCode>;

export type { ErrorCode };

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

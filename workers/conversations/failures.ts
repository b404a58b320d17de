/** An actor's `Failure` (contracts.ts) as the API error the route answers with. */
import type { Failure } from '../../durable-objects/contracts.ts';
import { ApiError, type ErrorCode } from '../errors.ts';

/** Failure codes the actors may return that keep their meaning at the API; anything else is our bug (500). */
const PASSED_THROUGH = new Set<ErrorCode>([
  'not_member', 'not_found', 'validation_failed', 'blocked', 'rate_limited', 'too_large', 'forbidden', 'gone',
  'edit_window_passed', 'recall_window_passed', 'unavailable', 'webhook_limit',
]);

export function toApiError(f: Failure): ApiError {
  const code = f.code as ErrorCode;
  if (!PASSED_THROUGH.has(code)) return new ApiError('internal', `Unexpected actor failure: ${f.code}`);
  // API.md: every 429 carries Retry-After. The per-user send limit refills within a second.
  const headers: Record<string, string> = code === 'rate_limited' ? { 'retry-after': '1' } : {};
  return new ApiError(code, f.message, { headers });
}

export function throwFailure(f: Failure): never {
  throw toApiError(f);
}

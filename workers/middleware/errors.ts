/** The one error path: everything thrown becomes the API.md envelope; no stack leaves the Worker. */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from '../context.ts';
import { ApiError, errorBody } from '../errors.ts';
import { errorText } from '../../lib/log.ts';

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    if (err.status === 400 && /json/i.test(err.message)) return new ApiError('invalid_json', 'The request body is not valid JSON');
    if (err.status === 413) return new ApiError('too_large', 'The request body is too large');
    if (err.status === 401) return new ApiError('unauthenticated', err.message);
    if (err.status === 404) return new ApiError('not_found', err.message);
    return new ApiError('validation_failed', err.message || 'Bad request');
  }
  return new ApiError('internal', 'Internal error');
}

export function respondError(c: Context<AppEnv>, err: ApiError): Response {
  for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
  return c.json(errorBody(err, c.get('requestId')), err.status);
}

export const onError: ErrorHandler<AppEnv> = (err, c) => {
  const apiError = toApiError(err);
  if (apiError.status >= 500) c.get('log')?.error('request.failed', { error: errorText(err), stack: err instanceof Error ? err.stack : undefined });
  return respondError(c, apiError);
};

export const notFound: NotFoundHandler<AppEnv> = (c) =>
  respondError(c, new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}`));

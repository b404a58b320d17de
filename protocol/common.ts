/** Shapes shared by every resource: text, ids, times, limits from API.md, and the OpenAPI helpers of the routes. */
import { z } from '@hono/zod-openapi';
import { codesFor, type ErrorCode, type ErrorStatus } from './errors.ts';

export const LIMITS = {
  usernameMin: 3,
  usernameMax: 32,
  passwordMin: 8,
  passwordMax: 128,
  nicknameMax: 64,
  bioMax: 500,
  bodyBytes: 1024 * 1024,
  frameBytes: 64 * 1024,
} as const;

/**
 * U+0000, or half of a UTF-16 surrogate pair without its other half. Postgres
 * refuses U+0000 in `text` and `jsonb`, and `jsonb` refuses a lone surrogate
 * (JSON.stringify writes it as `\udXXX`); TextEncoder would silently turn it
 * into U+FFFD anywhere else. Either way such a string cannot be stored as sent.
 */
const ILL_FORMED = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `s` can be stored and echoed back exactly: no U+0000, no lone surrogate. */
export function isStorableText(s: string): boolean {
  return !ILL_FORMED.test(s);
}

/**
 * The string every schema in `protocol/` starts from (bodies, query strings,
 * path parameters and WebSocket frames alike), so bad text is refused at the
 * door with 400 `validation_failed` instead of failing in Postgres later.
 * Chain limits after it: `Text().min(1).max(64)`.
 */
export const Text = () => z.string().refine(isStorableText, { message: 'must not contain U+0000 or a lone surrogate' });

export const Id = Text().min(1).max(64).openapi({ example: '0193a5b2-7c1e-7d3a-9f00-1b2c3d4e5f60' });

/** Ids this server issues: UUIDv7 (time-sortable). */
export const Uuid = z.uuid().openapi({ example: '0193a5b2-7c1e-7d3a-9f00-1b2c3d4e5f60' });

/** A point in time as the API writes it: ISO-8601 UTC with milliseconds. */
export const Timestamp = z.iso.datetime().openapi({ example: '2026-11-22T04:55:00.123Z' });

const STATUS_TEXT: Record<ErrorStatus, string> = {
  400: 'Bad request', 401: 'Not signed in', 403: 'Forbidden', 404: 'Not found', 405: 'Method not allowed',
  409: 'Conflict', 412: 'Precondition failed', 413: 'Too large', 415: 'Unsupported media type', 416: 'Range not satisfiable', 426: 'Upgrade required',
  429: 'Rate limited', 500: 'Internal error', 503: 'Unavailable',
};

const errorSchemas = new Map<ErrorStatus, z.ZodType>();
/** The error envelope with `code` enumerated for one status, registered once as component `Error<status>`. */
function errorSchema(status: ErrorStatus): z.ZodType {
  let schema = errorSchemas.get(status);
  if (!schema) {
    const codes = codesFor(status) as [ErrorCode, ...ErrorCode[]];
    schema = z
      .object({
        error: z.object({
          code: z.enum(codes),
          message: z.string().openapi({ description: 'For people; switch on `code`' }),
          requestId: z.string().optional().openapi({ description: 'Also in the X-Request-Id header: quote it when reporting a problem' }),
          details: z.unknown().optional().openapi({ description: 'For validation_failed: the offending fields' }),
        }),
      })
      .openapi(`Error${status}`);
    errorSchemas.set(status, schema);
  }
  return schema;
}

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } },
} as const;

/**
 * The error responses of a route, for `createRoute({ responses })`: each
 * status with its enumerated codes (protocol/errors.ts), and `Retry-After`
 * on 429.
 */
export function errors(...statuses: ErrorStatus[]) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: `${STATUS_TEXT[s]}: ${codesFor(s).map((c) => `\`${c}\``).join(', ')}`,
        content: { 'application/json': { schema: errorSchema(s) } },
        ...(s === 429 ? { headers: RETRY_AFTER } : {}),
      },
    ]),
  );
}

/** A required JSON request body, for `createRoute({ request: { body } })`. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } } as const;
}

/** A JSON response, for `createRoute({ responses })`. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } } as const;
}

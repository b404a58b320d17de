/** Shapes shared by every resource: errors, ids, limits from API.md. */
import { z } from '@hono/zod-openapi';

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

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'validation_failed' }),
      message: z.string(),
      requestId: z.string().optional(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

/** The error responses every route can give, for the OpenAPI document. */
export function errors(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((s) => [s, { description: 'Error', content: { 'application/json': { schema: ErrorResponse } } }]),
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

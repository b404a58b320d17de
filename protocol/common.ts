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

export const Id = z.string().min(1).max(64).openapi({ example: '0193a5b2-7c1e-7d3a-9f00-1b2c3d4e5f60' });

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

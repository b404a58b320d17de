/** zod validation failures as 400 `validation_failed`, with the issues listed. */
import type { OpenAPIHonoOptions } from '@hono/zod-openapi';
import type { AppEnv } from './context.ts';
import { ApiError } from './errors.ts';

export const defaultHook: OpenAPIHonoOptions<AppEnv>['defaultHook'] = (result) => {
  if (!result.success) {
    const details = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new ApiError('validation_failed', details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; '), { details });
  }
};

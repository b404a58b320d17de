/** /api/v1/users/me/settings — my preferences (mounted before the /users router, whose /{id} it would otherwise meet). */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { errors, jsonBody, jsonResponse } from '../../protocol/common.ts';
import { Settings, SettingsPatch } from '../../protocol/push.ts';
import { settingsOf, updateSettings } from '../../services/settings.ts';
import type { AppEnv } from '../context.ts';
import { requireAuth } from '../middleware/auth.ts';
import { defaultHook } from '../validation.ts';

const authed = { tags: ['users'], security: [{ bearerAuth: [] }], middleware: [requireAuth] };

const get = createRoute({
  ...authed, operationId: 'getSettings', method: 'get', path: '/', summary: 'My settings',
  responses: { 200: jsonResponse(Settings, 'The settings in force (defaults where never set)'), ...errors(401) },
});
const patch = createRoute({
  ...authed, operationId: 'updateSettings', method: 'patch', path: '/', summary: 'Change my settings',
  description: '`pushPreviews` (default true): whether pushes carry up to 100 characters of the message.',
  request: { body: jsonBody(SettingsPatch) },
  responses: { 200: jsonResponse(Settings, 'The settings now in force'), ...errors(400, 401, 413) },
});

export const settingsRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(get, async (c) => c.json(await settingsOf(c.var.pg.db, c.var.auth.userId), 200))
  .openapi(patch, async (c) => c.json(await updateSettings(c.var.pg.db, c.var.auth.userId, c.req.valid('json'), new Date()), 200));

/**
 * GET /api/v1/ws — the device socket, held by the user's UserDO.
 * Authenticated by `Authorization: Bearer` or a one-time `?ticket=`; the
 * user id comes from the credential, never from the query string.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { DeviceId, Ticket } from '../../protocol/accounts.ts';
import { errors } from '../../protocol/common.ts';
import { isSessionRevoked } from '../accounts/sessions.ts';
import { verifyAccessToken } from '../accounts/tokens.ts';
import type { AppEnv, AuthContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { originPolicy, originTrust } from '../lib/origins.ts';
import { bearerToken } from '../middleware/auth.ts';
import { redisClient } from '../../services/redis.ts';
import { defaultHook } from '../validation.ts';

/**
 * Browsers may open sockets only from an origin the CORS policy trusts (lib/origins.ts);
 * other clients send no Origin. A `*` in ALLOWED_ORIGINS admits any origin here too:
 * sockets authenticate with a bearer token or a ticket, never a cookie.
 */
function checkOrigin(c: Context<AppEnv>): void {
  const origin = c.req.header('origin');
  if (!origin) return;
  if (originTrust(originPolicy(c.env, c.req.url), origin) === 'refused') throw new ApiError('forbidden', `Origin ${origin} may not open sockets`);
}

/** Who is opening this socket: a bearer token, or a ticket consumed on first use. Shared by both socket routes. */
export async function authenticateUpgrade(c: Context<AppEnv>): Promise<AuthContext> {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') throw new ApiError('upgrade_required', 'Expected a WebSocket upgrade');
  checkOrigin(c);
  const token = bearerToken(c.req.header('authorization'));
  const ticket = c.req.query('ticket');
  let auth: AuthContext | null;
  if (token) {
    auth = await verifyAccessToken(c.env, token);
  } else if (ticket) {
    auth = await redisClient(c.env).getdel<AuthContext>(`ticket:${ticket}`);
    if (!auth) throw new ApiError('unauthenticated', 'Unknown, used or expired ticket');
  } else {
    throw new ApiError('unauthenticated', 'Missing bearer token or ticket');
  }
  if (await isSessionRevoked(c.env, c.var.pg.db, c.var.log, auth.sessionId)) throw new ApiError('session_revoked', 'This session has been signed out');
  c.set('auth', auth);
  return auth;
}

/** Forwards the upgrade to a Durable Object with the identity headers set (overwriting anything the client sent). */
export function forwardUpgrade(raw: Request, stub: { fetch(req: Request): Promise<Response> }, identity: Record<string, string>): Promise<Response> {
  const headers = new Headers(raw.headers);
  for (const [k, v] of Object.entries(identity)) headers.set(k, v);
  return stub.fetch(new Request(raw.url, { method: 'GET', headers }));
}

const deviceSocket = createRoute({
  operationId: 'openDeviceSocket', method: 'get', path: '/', tags: ['realtime'], summary: 'The device WebSocket (see API.md § WebSocket)',
  request: { query: z.object({ deviceId: DeviceId.optional(), ticket: Ticket.optional() }) },
  responses: { 101: { description: 'Switching protocols' }, ...errors(401, 403, 426) },
});

export const wsRoutes = new OpenAPIHono<AppEnv>({ defaultHook }).openapi(deviceSocket, async (c) => {
  const auth = await authenticateUpgrade(c);
  const deviceId = c.req.valid('query').deviceId ?? `session-${auth.sessionId}`;
  return forwardUpgrade(c.req.raw, c.env.USERS.getByName(auth.userId), {
    'x-beehive-user': auth.userId,
    'x-beehive-session': auth.sessionId,
    'x-beehive-device': deviceId,
  });
});

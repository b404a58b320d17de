/** /api/v1/auth — accounts: codes, register, login, refresh, logout, passwords, WS tickets. */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { users } from '../../db/schema.ts';
import * as P from '../../protocol/accounts.ts';
import { errors, jsonBody, jsonResponse } from '../../protocol/common.ts';
import { checkCode, CODE_TTL_SECONDS, consumeCode, issueCode } from '../accounts/codes.ts';
import { openSession, revokeSessions, revokeUserSessions, rotate } from '../accounts/sessions.ts';
import { findByEmail, findById, findByLogin, uniqueViolation, userView } from '../accounts/users.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { randomToken, uuidv7 } from '../../lib/ids.ts';
import { DUMMY_HASH, hashPassword, verifyPassword } from '../lib/passwords.ts';
import { enforceIpLimit, enforceLimit } from '../lib/ratelimit.ts';
import { requireAuth } from '../middleware/auth.ts';
import { noStore } from '../middleware/no-store.ts';
import { sendMail } from '../../services/mail.ts';
import { redisClient } from '../../services/redis.ts';
import { defaultHook } from '../validation.ts';

const TICKET_TTL_SECONDS = 30;
const secured = [{ bearerAuth: [] }];

const sendCode = createRoute({
  operationId: 'sendCode', security: [], method: 'post', path: '/send-code', tags: ['auth'], summary: 'Email a 6-digit verification code',
  request: { body: jsonBody(P.SendCodeBody) },
  responses: { 202: jsonResponse(P.SendCodeResponse, 'Sent (or silently skipped: the answer never reveals whether an account exists)'), ...errors(400, 413, 429) },
});
const register = createRoute({
  operationId: 'register', security: [], method: 'post', path: '/register', tags: ['auth'], summary: 'Create an account',
  middleware: [noStore] as const,
  request: { body: jsonBody(P.RegisterBody) },
  responses: { 201: jsonResponse(P.AuthResponse, 'Registered and signed in'), ...errors(400, 409, 413, 429) },
});
const login = createRoute({
  operationId: 'login', security: [], method: 'post', path: '/login', tags: ['auth'], summary: 'Sign in with username or email',
  middleware: [noStore] as const,
  request: { body: jsonBody(P.LoginBody) },
  responses: { 200: jsonResponse(P.AuthResponse, 'Signed in'), ...errors(400, 401, 413, 429) },
});
const refresh = createRoute({
  operationId: 'refreshTokens', security: [], method: 'post', path: '/refresh', tags: ['auth'], summary: 'Rotate a refresh token',
  middleware: [noStore] as const,
  request: { body: jsonBody(P.RefreshBody) },
  responses: { 200: jsonResponse(P.Tokens, 'New token pair; the old refresh token is spent'), ...errors(400, 401) },
});
const logout = createRoute({
  operationId: 'logout', method: 'post', path: '/logout', tags: ['auth'], summary: 'Revoke this session', security: secured,
  middleware: [requireAuth] as const,
  responses: { 204: { description: 'Signed out; this session’s sockets are closed' }, ...errors(401) },
});
const changePassword = createRoute({
  operationId: 'changePassword', method: 'post', path: '/password', tags: ['auth'], summary: 'Change password (revokes the other sessions)', security: secured,
  middleware: [requireAuth] as const,
  request: { body: jsonBody(P.ChangePasswordBody) },
  responses: { 204: { description: 'Changed' }, ...errors(400, 401) },
});
const resetPassword = createRoute({
  operationId: 'resetPassword', security: [], method: 'post', path: '/reset-password', tags: ['auth'], summary: 'Reset a forgotten password with an emailed code',
  request: { body: jsonBody(P.ResetPasswordBody) },
  responses: { 204: { description: 'Reset; every session is revoked' }, ...errors(400, 429) },
});
const wsTicket = createRoute({
  operationId: 'createWsTicket', method: 'post', path: '/ws-ticket', tags: ['auth'], summary: 'One-time ticket for a browser WebSocket', security: secured,
  middleware: [requireAuth, noStore] as const,
  responses: { 200: jsonResponse(P.TicketResponse, 'Valid once, for a short time'), ...errors(401) },
});

export const authRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(sendCode, async (c) => {
    const { email, purpose } = c.req.valid('json');
    await enforceIpLimit(c.env, c.var.log, 'send_code_ip', c.req.raw);
    await enforceLimit(c.env, c.var.log, 'send_code_email', email);
    const db = c.var.pg.db;
    const existing = await findByEmail(db, email);
    if (purpose === 'register' && existing) {
      await sendMail(c.env, { to: email, subject: 'Your Beehive account', text: 'Someone tried to register with this address, which already has a Beehive account. If it was you, sign in or reset your password.' });
    } else if (purpose === 'register' || existing) {
      const code = await issueCode(db, c.env, email, purpose);
      const what = purpose === 'register' ? 'finish registering' : 'reset your password';
      await sendMail(c.env, { to: email, subject: `Your Beehive code: ${code}`, text: `Your code to ${what} is ${code}. It expires in 5 minutes.` });
    }
    return c.json({ expiresIn: CODE_TTL_SECONDS }, 202);
  })
  .openapi(register, async (c) => {
    const body = c.req.valid('json');
    await enforceIpLimit(c.env, c.var.log, 'register_ip', c.req.raw);
    const db = c.var.pg.db;
    const codeId = body.email && body.code ? await checkCode(db, c.env, body.email, 'register', body.code) : undefined;
    const passwordHash = await hashPassword(body.password);
    try {
      const result = await db.transaction(async (tx) => {
        if (codeId) await consumeCode(tx, codeId);
        const [user] = await tx
          .insert(users)
          .values({ id: uuidv7(), username: body.username, email: body.email, nickname: body.nickname ?? body.username, passwordHash })
          .returning();
        return { user: user!, tokens: await openSession(tx, c.env, user!.id) };
      });
      return c.json({ user: userView(result.user, result.user.id), ...result.tokens }, 201);
    } catch (err) {
      const constraint = uniqueViolation(err);
      if (constraint?.includes('username')) throw new ApiError('username_taken', 'That username is taken');
      if (constraint?.includes('email')) throw new ApiError('email_taken', 'That email already has an account');
      throw err;
    }
  })
  .openapi(login, async (c) => {
    const { login: name, password, deviceId } = c.req.valid('json');
    await enforceIpLimit(c.env, c.var.log, 'login_ip', c.req.raw);
    await enforceLimit(c.env, c.var.log, 'login_account', name);
    const db = c.var.pg.db;
    const user = await findByLogin(db, name);
    // Hash even when the user does not exist, so the timing does not say which.
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) throw new ApiError('invalid_credentials', 'Wrong login or password');
    const tokens = await openSession(db, c.env, user.id, deviceId);
    c.var.log('auth.login', { userId: user.id, deviceId });
    return c.json({ user: userView(user, user.id), ...tokens }, 200);
  })
  .openapi(refresh, async (c) => {
    const tokens = await rotate(c.var.pg.db, c.env, c.var.log, c.req.valid('json').refreshToken);
    return c.json(tokens, 200);
  })
  .openapi(logout, async (c) => {
    await revokeSessions(c.var.pg.db, c.env, [c.var.auth.sessionId]);
    return c.body(null, 204);
  })
  .openapi(changePassword, async (c) => {
    const { oldPassword, newPassword } = c.req.valid('json');
    const db = c.var.pg.db;
    const user = await findById(db, c.var.auth.userId);
    if (!user || !(await verifyPassword(oldPassword, user.passwordHash))) throw new ApiError('invalid_credentials', 'Wrong password');
    await db.update(users).set({ passwordHash: await hashPassword(newPassword), updatedAt: new Date() }).where(eq(users.id, user.id));
    await revokeUserSessions(db, c.env, user.id, c.var.auth.sessionId);
    return c.body(null, 204);
  })
  .openapi(resetPassword, async (c) => {
    const { email, code, newPassword } = c.req.valid('json');
    await enforceIpLimit(c.env, c.var.log, 'reset_ip', c.req.raw);
    const db = c.var.pg.db;
    const codeId = await checkCode(db, c.env, email, 'reset_password', code);
    const user = await findByEmail(db, email);
    if (!user) throw new ApiError('invalid_code', 'The code is wrong, expired or already used');
    const passwordHash = await hashPassword(newPassword);
    await db.transaction(async (tx) => {
      await consumeCode(tx, codeId);
      await tx.update(users).set({ passwordHash, updatedAt: new Date() }).where(eq(users.id, user.id));
    });
    await revokeUserSessions(db, c.env, user.id);
    return c.body(null, 204);
  })
  .openapi(wsTicket, async (c) => {
    const ticket = randomToken();
    await redisClient(c.env).set(`ticket:${ticket}`, { userId: c.var.auth.userId, sessionId: c.var.auth.sessionId }, { ex: TICKET_TTL_SECONDS });
    return c.json({ ticket, expiresIn: TICKET_TTL_SECONDS }, 200);
  });

/** Accounts end to end through wrangler dev and the stand-ins: happy paths, rejections, security. */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { stackConfig } from '../../local/config.ts';
import { api, expectError, latestCode, mailbox, redis, register, uniqueName } from './client.ts';
import { rows } from './backstage.ts';
import { Socket } from './ws-client.ts';

const A = '/api/v1/auth';
const jwtSecret = new TextEncoder().encode(stackConfig().secrets.jwtSecret);

describe('register and login', () => {
  it('registers without email and signs in by username, case-insensitively', async () => {
    const username = uniqueName('Al');
    const reg = await api('POST', `${A}/register`, { body: { username, password: 'pass-word-1', nickname: 'Alice' } });
    expect(reg.status).toBe(201);
    expect(reg.body.user).toMatchObject({ username, nickname: 'Alice' });
    expect(reg.body.user.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(reg.body.expiresIn).toBe(900);
    const me = await api('GET', '/api/v1/users/me', { token: reg.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(reg.body.user.id);

    const login = await api('POST', `${A}/login`, { body: { login: username.toUpperCase(), password: 'pass-word-1', deviceId: 'phone-1' } });
    expect(login.status).toBe(200);
    expect(login.body.user.id).toBe(reg.body.user.id);
    expect(login.body.refreshToken).not.toBe(reg.body.refreshToken);
  });

  it('registers with an emailed code, shows the email only to its owner, and signs in by email', async () => {
    const acct = await register({ email: true });
    expect(acct.user.email).toBe(`${acct.user.username}@example.test`);
    const me = await api('GET', '/api/v1/users/me', { token: acct.accessToken });
    expect(me.body.email).toBe(acct.user.email);
    const login = await api('POST', `${A}/login`, { body: { login: acct.user.email!.toUpperCase(), password: acct.password } });
    expect(login.status).toBe(200);
  });

  it('refuses a taken username whatever its case, and creates nothing', async () => {
    const first = await register();
    const res = await api('POST', `${A}/register`, { body: { username: first.user.username.toUpperCase(), password: 'another-pass' } });
    expectError(res, 409, 'username_taken');
    const login = await api('POST', `${A}/login`, { body: { login: first.user.username, password: 'another-pass' } });
    expectError(login, 401, 'invalid_credentials');
  });

  it('never reveals whether an email has an account: a taken address gets a notice, not a code', async () => {
    const acct = await register({ email: true });
    const before = (await mailbox(acct.user.email!)).length;
    const res = await api('POST', `${A}/send-code`, { body: { email: acct.user.email, purpose: 'register' } });
    expect(res.status).toBe(202);
    const mails = await mailbox(acct.user.email!);
    expect(mails.length).toBe(before + 1);
    expect(mails.at(-1)!.text).not.toMatch(/\b\d{6}\b/);

    const unknown = `${uniqueName()}@example.test`;
    const reset = await api('POST', `${A}/send-code`, { body: { email: unknown, purpose: 'reset_password' } });
    expect(reset.status).toBe(202);
    expect(await mailbox(unknown)).toEqual([]);
  });

  it('answers the same to a wrong password and an unknown user', async () => {
    const acct = await register();
    expectError(await api('POST', `${A}/login`, { body: { login: acct.user.username, password: 'wrong-password' } }), 401, 'invalid_credentials');
    expectError(await api('POST', `${A}/login`, { body: { login: uniqueName('nobody'), password: 'wrong-password' } }), 401, 'invalid_credentials');
  });
});

describe('email codes', () => {
  async function sendCode(purpose = 'register') {
    const email = `${uniqueName()}@example.test`;
    expect((await api('POST', `${A}/send-code`, { body: { email, purpose } })).status).toBe(202);
    return { email, code: await latestCode(email) };
  }

  it('requires the code when an email is given', async () => {
    const res = await api('POST', `${A}/register`, { body: { username: uniqueName(), password: 'pass-word-1', email: `${uniqueName()}@example.test` } });
    expectError(res, 400, 'validation_failed');
  });

  it('rejects a wrong code, and accepts the right one after', async () => {
    const { email, code } = await sendCode();
    const wrong = code === '000000' ? '111111' : '000000';
    const username = uniqueName();
    expectError(await api('POST', `${A}/register`, { body: { username, password: 'pass-word-1', email, code: wrong } }), 400, 'invalid_code');
    expect((await api('POST', `${A}/register`, { body: { username, password: 'pass-word-1', email, code } })).status).toBe(201);
  });

  it('is single use', async () => {
    const { email, code } = await sendCode();
    expect((await api('POST', `${A}/register`, { body: { username: uniqueName(), password: 'pass-word-1', email, code } })).status).toBe(201);
    const again = await api('POST', `${A}/register`, { body: { username: uniqueName(), password: 'pass-word-1', email, code } });
    expect(again.status).toBeGreaterThanOrEqual(400);
    expect(['invalid_code', 'email_taken']).toContain(again.body.error.code);
  });

  it('dies after 5 wrong tries, even for the right code', async () => {
    const { email, code } = await sendCode();
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      expectError(await api('POST', `${A}/register`, { body: { username: uniqueName(), password: 'pass-word-1', email, code: wrong } }), 400, 'invalid_code');
    }
    expectError(await api('POST', `${A}/register`, { body: { username: uniqueName(), password: 'pass-word-1', email, code } }), 400, 'invalid_code');
  });

  it('counts concurrent wrong tries atomically: 18 at once leave exactly 5 used, and the right code then fails', async () => {
    const { email, code } = await sendCode();
    const wrong = code === '000000' ? '111111' : '000000';
    const tries = await Promise.all(
      Array.from({ length: 18 }, () => api('POST', `${A}/register`, { body: { username: uniqueName(), password: 'pass-word-1', email, code: wrong } })),
    );
    for (const t of tries) expectError(t, 400, 'invalid_code');
    const [row] = await rows<{ attempts: number }>('SELECT attempts FROM email_codes WHERE lower(email) = lower($1) ORDER BY created_at DESC LIMIT 1', [email]);
    expect(row!.attempts).toBe(5);
    expectError(await api('POST', `${A}/register`, { body: { username: uniqueName(), password: 'pass-word-1', email, code } }), 400, 'invalid_code');
  });

  it('a right code racing 15 wrong ones wins only if it got one of the 5 tries, and every try is counted', async () => {
    const acct = await register({ email: true });
    expect((await api('POST', `${A}/send-code`, { body: { email: acct.user.email, purpose: 'reset_password' } })).status).toBe(202);
    const code = await latestCode(acct.user.email!);
    const wrong = code === '000000' ? '111111' : '000000';
    const tries = await Promise.all(
      [...Array.from({ length: 15 }, () => wrong), code].map((c) => api('POST', `${A}/reset-password`, { body: { email: acct.user.email, code: c, newPassword: 'whatever-pass' } })),
    );
    const statuses = tries.map((t) => t.status);
    expect(statuses.filter((s) => s === 204).length).toBeLessThanOrEqual(1);
    expect(statuses.filter((s) => s !== 204).every((s) => s === 400)).toBe(true);
    const [row] = await rows<{ attempts: number }>('SELECT attempts FROM email_codes WHERE lower(email) = lower($1) ORDER BY created_at DESC LIMIT 1', [acct.user.email]);
    expect(row!.attempts).toBe(5);
  });

  it('a registration that fails on a taken username keeps the code usable', async () => {
    const taken = await register();
    const { email, code } = await sendCode();
    expectError(await api('POST', `${A}/register`, { body: { username: taken.user.username, password: 'pass-word-1', email, code } }), 409, 'username_taken');
    expect((await api('POST', `${A}/register`, { body: { username: uniqueName(), password: 'pass-word-1', email, code } })).status).toBe(201);
  });
});

describe('refresh, logout and passwords', () => {
  it('rotates refresh tokens; reusing an old one revokes the whole session', async () => {
    const acct = await register();
    const r1 = await api('POST', `${A}/refresh`, { body: { refreshToken: acct.refreshToken } });
    expect(r1.status).toBe(200);
    expect(r1.body.refreshToken).not.toBe(acct.refreshToken);
    expect((await api('GET', '/api/v1/users/me', { token: r1.body.accessToken })).status).toBe(200);

    expectError(await api('POST', `${A}/refresh`, { body: { refreshToken: acct.refreshToken } }), 401, 'session_revoked');
    // The thief's reuse also kills the legitimate holder's newer tokens.
    expectError(await api('POST', `${A}/refresh`, { body: { refreshToken: r1.body.refreshToken } }), 401, 'session_revoked');
    expectError(await api('GET', '/api/v1/users/me', { token: r1.body.accessToken }), 401, 'session_revoked');
  });

  it('lets exactly one of two concurrent refreshes with the same token win', async () => {
    const acct = await register();
    const results = await Promise.all([0, 1].map(() => api('POST', `${A}/refresh`, { body: { refreshToken: acct.refreshToken } })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('rejects an unknown refresh token', async () => {
    expectError(await api('POST', `${A}/refresh`, { body: { refreshToken: 'not-a-token' } }), 401, 'unauthenticated');
  });

  it('logout revokes the access and refresh tokens of this session only', async () => {
    const acct = await register();
    const other = await api('POST', `${A}/login`, { body: { login: acct.user.username, password: acct.password } });
    expect((await api('POST', `${A}/logout`, { token: acct.accessToken, body: {} })).status).toBe(204);
    expectError(await api('GET', '/api/v1/users/me', { token: acct.accessToken }), 401, 'session_revoked');
    expect((await api('POST', `${A}/refresh`, { body: { refreshToken: acct.refreshToken } })).status).toBe(401);
    expect((await api('GET', '/api/v1/users/me', { token: other.body.accessToken })).status).toBe(200);
  });

  it('a revoked session stays revoked when Redis loses its data (REST and WebSocket upgrade)', async () => {
    const acct = await register();
    const live = await api('POST', `${A}/login`, { body: { login: acct.user.username, password: acct.password } });
    expect((await api('GET', '/api/v1/users/me', { token: acct.accessToken })).status).toBe(200);
    expect((await api('POST', `${A}/logout`, { token: acct.accessToken, body: {} })).status).toBe(204);
    expectError(await api('GET', '/api/v1/users/me', { token: acct.accessToken }), 401, 'session_revoked');

    await redis('FLUSHDB'); // Redis restarted empty
    expectError(await api('GET', '/api/v1/users/me', { token: acct.accessToken }), 401, 'session_revoked');
    await expect(Socket.open({ token: acct.accessToken })).rejects.toThrow(/401/);
    // Still refused once Postgres's answer is cached again; the other session is unaffected.
    expectError(await api('GET', '/api/v1/users/me', { token: acct.accessToken }), 401, 'session_revoked');
    expect((await api('GET', '/api/v1/users/me', { token: live.body.accessToken })).status).toBe(200);
  });

  it('a session checked live before a logout is refused right after it (the cached answer is replaced)', async () => {
    const acct = await register();
    expect((await api('GET', '/api/v1/users/me', { token: acct.accessToken })).status).toBe(200);
    expect((await api('POST', `${A}/logout`, { token: acct.accessToken, body: {} })).status).toBe(204);
    expectError(await api('GET', '/api/v1/users/me', { token: acct.accessToken }), 401, 'session_revoked');
  });

  it('password change needs the old password and revokes the other sessions', async () => {
    const acct = await register();
    const other = await api('POST', `${A}/login`, { body: { login: acct.user.username, password: acct.password } });
    expectError(await api('POST', `${A}/password`, { token: acct.accessToken, body: { oldPassword: 'not-it-at-all', newPassword: 'brand-new-pass' } }), 401, 'invalid_credentials');
    expect((await api('GET', '/api/v1/users/me', { token: other.body.accessToken })).status).toBe(200);

    expect((await api('POST', `${A}/password`, { token: acct.accessToken, body: { oldPassword: acct.password, newPassword: 'brand-new-pass' } })).status).toBe(204);
    expect((await api('GET', '/api/v1/users/me', { token: acct.accessToken })).status).toBe(200);
    expectError(await api('GET', '/api/v1/users/me', { token: other.body.accessToken }), 401, 'session_revoked');
    expectError(await api('POST', `${A}/login`, { body: { login: acct.user.username, password: acct.password } }), 401, 'invalid_credentials');
    expect((await api('POST', `${A}/login`, { body: { login: acct.user.username, password: 'brand-new-pass' } })).status).toBe(200);
  });

  it('resets a forgotten password with an emailed code and signs out everywhere', async () => {
    const acct = await register({ email: true });
    expect((await api('POST', `${A}/send-code`, { body: { email: acct.user.email, purpose: 'reset_password' } })).status).toBe(202);
    const code = await latestCode(acct.user.email!);
    const wrong = code === '000000' ? '111111' : '000000';
    expectError(await api('POST', `${A}/reset-password`, { body: { email: acct.user.email, code: wrong, newPassword: 'reset-pass-1' } }), 400, 'invalid_code');
    expect((await api('POST', `${A}/reset-password`, { body: { email: acct.user.email, code, newPassword: 'reset-pass-1' } })).status).toBe(204);
    expectError(await api('GET', '/api/v1/users/me', { token: acct.accessToken }), 401, 'session_revoked');
    expect((await api('POST', `${A}/login`, { body: { login: acct.user.email, password: 'reset-pass-1' } })).status).toBe(200);
    // The code is spent.
    expectError(await api('POST', `${A}/reset-password`, { body: { email: acct.user.email, code, newPassword: 'reset-pass-2' } }), 400, 'invalid_code');
  });

  it('issues one-time WebSocket tickets to signed-in users only', async () => {
    const acct = await register();
    const res = await api('POST', `${A}/ws-ticket`, { token: acct.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.ticket).toMatch(/^[\w-]{40,}$/);
    expect(res.body.expiresIn).toBeGreaterThan(0);
    expectError(await api('POST', `${A}/ws-ticket`), 401, 'unauthenticated');
  });
});

describe('bad input changes nothing', () => {
  const username = () => uniqueName('bad');

  it.each([
    ['missing password', { username: 'valid_name' }],
    ['extra field', { username: 'valid_name', password: 'pass-word-1', admin: true }],
    ['wrong type', { username: 'valid_name', password: 12345678 }],
    ['short password', { username: 'valid_name', password: 'short' }],
    ['long password', { username: 'valid_name', password: 'x'.repeat(129) }],
    ['bad username characters', { username: 'bad name!', password: 'pass-word-1' }],
    ['short username', { username: 'ab', password: 'pass-word-1' }],
    ['long nickname', { username: 'valid_name', password: 'pass-word-1', nickname: 'n'.repeat(65) }],
    ['bad email', { username: 'valid_name', password: 'pass-word-1', email: 'not-an-email', code: '123456' }],
  ])('register with %s → 400 validation_failed', async (_label, body) => {
    const name = username();
    const res = await api('POST', `${A}/register`, { body: { ...body, ...(body.username === 'valid_name' ? { username: name } : {}) } });
    expectError(res, 400, 'validation_failed');
    expectError(await api('POST', `${A}/login`, { body: { login: name, password: 'pass-word-1' } }), 401, 'invalid_credentials');
  });

  it('malformed JSON → 400 invalid_json', async () => {
    expectError(await api('POST', `${A}/login`, { raw: '{"login": "x", ' }), 400, 'invalid_json');
  });

  it('a body that is not JSON at all → 400', async () => {
    const res = await api('POST', `${A}/login`, { raw: 'login=x&password=y', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(400);
    expect(['validation_failed', 'invalid_json']).toContain(res.body.error.code);
  });

  it('an oversized body → 413 too_large', async () => {
    const res = await api('POST', `${A}/register`, { body: { username: username(), password: 'x'.repeat(1024 * 1024 + 10) } });
    expectError(res, 413, 'too_large');
  });

  it('unknown routes → 404 not_found in the envelope, with the request id', async () => {
    const res = await api('GET', '/api/v1/nope', { headers: { 'x-request-id': 'test-req-1' } });
    expectError(res, 404, 'not_found');
    expect(res.body.error.requestId).toBe('test-req-1');
    expect(res.headers.get('x-request-id')).toBe('test-req-1');
  });
});

describe('access tokens', () => {
  async function forged(mutate: (jwt: SignJWT) => SignJWT, secret = jwtSecret) {
    const acct = await register();
    const me = await api('GET', '/api/v1/users/me', { token: acct.accessToken });
    expect(me.status).toBe(200);
    const claims = JSON.parse(Buffer.from(acct.accessToken.split('.')[1]!, 'base64url').toString());
    const jwt = mutate(new SignJWT({ sid: claims.sid }).setProtectedHeader({ alg: 'HS256' }).setSubject(claims.sub));
    return jwt.sign(secret);
  }

  it('rejects a token signed with another key', async () => {
    const token = await forged((j) => j.setIssuer('beehive').setAudience('beehive-clients').setExpirationTime('5m'), new TextEncoder().encode('x'.repeat(48)));
    expectError(await api('GET', '/api/v1/users/me', { token }), 401, 'unauthenticated');
  });

  it('rejects the wrong audience and the wrong issuer', async () => {
    const aud = await forged((j) => j.setIssuer('beehive').setAudience('someone-else').setExpirationTime('5m'));
    expectError(await api('GET', '/api/v1/users/me', { token: aud }), 401, 'unauthenticated');
    const iss = await forged((j) => j.setIssuer('evil').setAudience('beehive-clients').setExpirationTime('5m'));
    expectError(await api('GET', '/api/v1/users/me', { token: iss }), 401, 'unauthenticated');
  });

  it('rejects an expired token', async () => {
    const token = await forged((j) => j.setIssuer('beehive').setAudience('beehive-clients').setIssuedAt(Math.floor(Date.now() / 1000) - 3600).setExpirationTime(Math.floor(Date.now() / 1000) - 60));
    expectError(await api('GET', '/api/v1/users/me', { token }), 401, 'token_expired');
  });

  it('rejects alg:none', async () => {
    const acct = await register();
    const [, payload] = acct.accessToken.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expectError(await api('GET', '/api/v1/users/me', { token: `${header}.${payload}.` }), 401, 'unauthenticated');
  });

  it('rejects garbage and missing tokens', async () => {
    expectError(await api('GET', '/api/v1/users/me', { token: 'garbage' }), 401, 'unauthenticated');
    expectError(await api('GET', '/api/v1/users/me'), 401, 'unauthenticated');
  });
});

describe('rate limits', () => {
  it('limits login attempts per account with 429 and Retry-After', async () => {
    const acct = await register();
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 12; i++) {
      const res = await api('POST', `${A}/login`, { body: { login: acct.user.username, password: 'wrong-password' } });
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        expect(res.body.error.code).toBe('rate_limited');
      }
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // Even the right password is refused while limited.
    expect((await api('POST', `${A}/login`, { body: { login: acct.user.username, password: acct.password } })).status).toBe(429);
  });
});

describe('rate limits on codes', () => {
  it('limits codes per email address with 429 and Retry-After, sending nothing more', async () => {
    const email = `${uniqueName()}@example.test`;
    for (let i = 0; i < 5; i++) expect((await api('POST', `${A}/send-code`, { body: { email, purpose: 'register' } })).status).toBe(202);
    const limited = await api('POST', `${A}/send-code`, { body: { email, purpose: 'register' } });
    expectError(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await mailbox(email)).toHaveLength(5);
  });
});

describe('response headers', () => {
  it('token responses are never cached: register, login, refresh, ws-ticket', async () => {
    const username = uniqueName();
    const reg = await api('POST', `${A}/register`, { body: { username, password: 'pass-word-1' } });
    const login = await api('POST', `${A}/login`, { body: { login: username, password: 'pass-word-1' } });
    const refreshed = await api('POST', `${A}/refresh`, { body: { refreshToken: login.body.refreshToken } });
    const ticket = await api('POST', `${A}/ws-ticket`, { token: reg.body.accessToken });
    for (const res of [reg, login, refreshed, ticket]) {
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('every response says nosniff, errors and 404s included', async () => {
    for (const res of [await api('GET', '/health'), await api('GET', '/api/v1/nope'), await api('POST', `${A}/login`, { raw: '{' }), await api('GET', '/openapi.json')]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('the web client\'s static files (served without the Worker) say nosniff and cannot be framed', async () => {
    for (const path of ['/', '/some/client/route']) {
      const res = await api('GET', path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
  });
});

describe('service endpoints', () => {
  it('/health and /ready answer', async () => {
    expect((await api('GET', '/health')).body).toEqual({ ok: true });
    const ready = await api('GET', '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toMatchObject({ postgres: { ok: true }, redis: { ok: true }, qstash: { ok: true } });
  });

  it('/openapi.json documents every account route, and /docs serves the reference page', async () => {
    const doc = await api('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    for (const p of ['send-code', 'register', 'login', 'refresh', 'logout', 'password', 'reset-password', 'ws-ticket']) {
      expect(Object.keys(doc.body.paths)).toContain(`/api/v1/auth/${p}`);
    }
    const page = await fetch(`${(await import('./client.ts')).stack.api}/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('openapi.json');
  });
});

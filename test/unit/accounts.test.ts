/** Pure account logic inside workerd: password hashing, access tokens, ids. */
import { env } from 'cloudflare:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { signAccessToken, verifyAccessToken } from '../../workers/accounts/tokens.ts';
import { ApiError } from '../../workers/errors.ts';
import { uuidv7 } from '../../lib/ids.ts';
import { DUMMY_HASH, hashPassword, verifyPassword } from '../../workers/lib/passwords.ts';

describe('passwords', () => {
  it('hashes with scrypt and its parameters, salted, and verifies', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[\w+/=]+\$[\w+/=]+$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horsE', a)).toBe(false);
  });

  it('never verifies against the dummy hash or a malformed one', async () => {
    expect(await verifyPassword('anything', DUMMY_HASH)).toBe(false);
    expect(await verifyPassword('anything', 'md5$abc')).toBe(false);
  });
});

async function rejection(token: string): Promise<string> {
  try {
    await verifyAccessToken(env, token);
    return 'accepted';
  } catch (err) {
    return err instanceof ApiError ? err.code : String(err);
  }
}

describe('access tokens', () => {
  const key = new TextEncoder().encode(env.JWT_SECRET);

  it('round-trips user and session', async () => {
    const token = await signAccessToken(env, 'u1', 's1');
    expect(await verifyAccessToken(env, token)).toEqual({ userId: 'u1', sessionId: 's1' });
  });

  it('rejects alg:none, other algorithms, wrong audience or issuer, expiry, a missing sid', async () => {
    const base = () => new SignJWT({ sid: 's1' }).setSubject('u1').setIssuer(env.JWT_ISSUER).setAudience(env.JWT_AUDIENCE);
    expect(await rejection(new UnsecuredJWT({ sid: 's1' }).setSubject('u1').setIssuer(env.JWT_ISSUER).setAudience(env.JWT_AUDIENCE).setExpirationTime('5m').encode())).toBe('unauthenticated');
    expect(await rejection(await base().setProtectedHeader({ alg: 'HS512' }).setExpirationTime('5m').sign(new Uint8Array(64).fill(7)))).toBe('unauthenticated');
    expect(await rejection(await base().setProtectedHeader({ alg: 'HS256' }).setAudience('other').setExpirationTime('5m').sign(key))).toBe('unauthenticated');
    expect(await rejection(await base().setProtectedHeader({ alg: 'HS256' }).setIssuer('other').setExpirationTime('5m').sign(key))).toBe('unauthenticated');
    expect(await rejection(await base().setProtectedHeader({ alg: 'HS256' }).setExpirationTime(Math.floor(Date.now() / 1000) - 10).sign(key))).toBe('token_expired');
    expect(await rejection(await new SignJWT({}).setSubject('u1').setIssuer(env.JWT_ISSUER).setAudience(env.JWT_AUDIENCE).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(key))).toBe('unauthenticated');
  });
});

describe('ids', () => {
  it('UUIDv7 is version 7, variant 10, and sorts by time', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
  });
});

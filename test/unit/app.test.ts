/** The Worker's error model and validation inside workerd, for requests that stop before any service is reached. */
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';

async function call(path: string, init?: RequestInit) {
  const res = await SELF.fetch(`http://beehive.test${path}`, init);
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
}

const post = (body: string, type = 'application/json') => ({ method: 'POST', headers: { 'content-type': type }, body });

describe('error envelope', () => {
  it('404 for unknown routes, with a request id', async () => {
    const res = await call('/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    expect(res.body.error.requestId).toBe(res.headers.get('x-request-id'));
  });

  it('echoes a sane X-Request-Id and replaces anything else with a new UUIDv7', async () => {
    const id = async (sent?: string) => (await call('/nope', sent ? { headers: { 'x-request-id': sent } } : undefined)).headers.get('x-request-id');
    expect(await id('trace-123_ab=')).toBe('trace-123_ab=');
    for (const bad of [undefined, 'has space', 'a'.repeat(65), '<script>']) {
      expect(await id(bad)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });

  it('400 invalid_json for malformed JSON', async () => {
    const res = await call('/api/v1/auth/login', post('{"login":'));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_json');
  });

  it('400 validation_failed listing the offending fields', async () => {
    const res = await call('/api/v1/auth/register', post(JSON.stringify({ username: 'a', password: 1, extra: true })));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    const paths = (res.body.error.details as Array<{ path: string }>).map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['username', 'password']));
  });

  it('413 too_large past 1 MiB', async () => {
    const res = await call('/api/v1/auth/login', post(JSON.stringify({ login: 'x', password: 'y'.repeat(1024 * 1024) })));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('too_large');
  });

  it('401 unauthenticated without a bearer token', async () => {
    const res = await call('/api/v1/users/me');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthenticated');
  });

  it('/health answers without any service', async () => {
    expect(await call('/health')).toMatchObject({ status: 200, body: { ok: true } });
  });
});

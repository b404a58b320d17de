/**
 * CORS on /api/* and the WebSocket Origin check share one list: the API's own
 * origin plus ALLOWED_ORIGINS (the local stack allows the usual dev servers).
 */
import { describe, expect, it } from 'vitest';
import { api, register, stack } from './client.ts';
import { Socket } from './ws-client.ts';

const ALLOWED = 'http://localhost:5173';
const REFUSED = 'https://evil.example';

const preflight = (origin: string, method = 'POST', headers = 'authorization,content-type') =>
  fetch(`${stack.api}/api/v1/auth/login`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  });

describe('CORS', () => {
  it('answers a preflight from an allowed origin with the methods, headers and credentials it needs', async () => {
    const res = await preflight(ALLOWED, 'PATCH', 'authorization,content-type,tus-resumable,upload-length,upload-offset,upload-metadata');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')?.split(',')).toEqual(expect.arrayContaining(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']));
    const allowed = res.headers.get('access-control-allow-headers')!.toLowerCase().split(',');
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'tus-resumable', 'upload-length', 'upload-offset', 'upload-metadata']));
    expect(res.headers.get('vary')).toMatch(/origin/i);
  });

  it('refuses a preflight from another origin with 403 forbidden and no CORS headers', async () => {
    const res = await preflight(REFUSED);
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.code).toBe('forbidden');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('a credentialed request from an allowed origin gets its origin back, credentials, and the exposed headers — errors too', async () => {
    const acct = await register();
    const me = await api('GET', '/api/v1/users/me', { token: acct.accessToken, headers: { origin: ALLOWED } });
    expect(me.status).toBe(200);
    expect(me.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(me.headers.get('access-control-allow-credentials')).toBe('true');
    const exposed = me.headers.get('access-control-expose-headers')!.toLowerCase().split(',');
    expect(exposed).toEqual(expect.arrayContaining(['location', 'upload-offset', 'tus-resumable', 'retry-after', 'x-request-id', 'beehive-file-id']));

    const denied = await api('GET', '/api/v1/users/me', { headers: { origin: ALLOWED } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });

  it('a request from a refused origin carries no CORS headers, so a browser keeps the answer from the page', async () => {
    const acct = await register();
    const me = await api('GET', '/api/v1/users/me', { token: acct.accessToken, headers: { origin: REFUSED } });
    expect(me.headers.get('access-control-allow-origin')).toBeNull();
    expect(me.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('the API’s own origin is always allowed', async () => {
    const res = await preflight(new URL(stack.api).origin);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(new URL(stack.api).origin);
  });
});

describe('WebSocket origins', () => {
  it('opens a socket from an allowed origin and refuses one from another origin', async () => {
    const acct = await register();
    const ok = await Socket.open({ token: acct.accessToken, origin: ALLOWED });
    ok.send({ type: 'ping' });
    expect(await ok.nextOfType('pong')).toEqual({ type: 'pong' });
    await ok.close();
    await expect(Socket.open({ token: acct.accessToken, origin: REFUSED })).rejects.toThrow(/403/);
  });
});

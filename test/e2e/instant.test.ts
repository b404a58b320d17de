/**
 * Instant upload by proof of possession: the right proof makes a file without
 * uploading; unknown bytes and a wrong proof are answered identically; nonces
 * answer once, expire, and belong to whoever asked.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, register, stack, type Account } from './client.ts';
import { bytes, content, sha256, uploadFile } from './files-support.ts';

function proof(nonce: string, data: Uint8Array, ranges: Array<{ offset: number; length: number }>): string {
  const h = createHash('sha256').update(nonce, 'utf8');
  for (const r of ranges) h.update(data.subarray(r.offset, r.offset + r.length));
  return h.digest('hex');
}

async function challenge(acct: Account, data: Uint8Array, name = 'again.bin') {
  const res = await api('POST', '/api/v1/files/instant', { token: acct.accessToken, body: { sha256: sha256(data), size: data.length, name, contentType: 'application/x-thing' } });
  expect(res.status).toBe(200);
  return res.body as { nonce: string; ranges: Array<{ offset: number; length: number }> };
}

const confirm = (acct: Account, data: Uint8Array, nonce: string, p: string) =>
  api('POST', '/api/v1/files/instant/confirm', { token: acct.accessToken, body: { sha256: sha256(data), nonce, proof: p } });

async function redis(...command: Array<string | number>) {
  const res = await fetch(stack.redis, { method: 'POST', headers: { authorization: `Bearer ${stack.redisToken}` }, body: JSON.stringify(command) });
  return ((await res.json()) as { result: unknown }).result;
}

describe('instant upload', () => {
  it('the right proof gives the caller their own file over the stored bytes', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const data = bytes(100_000);
    const original = (await uploadFile(a, data)).body;
    const { nonce, ranges } = await challenge(b, data);
    expect(ranges).toHaveLength(3);
    for (const r of ranges) expect(r.offset + r.length).toBeLessThanOrEqual(data.length);
    const made = await confirm(b, data, nonce, proof(nonce, data, ranges));
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ ownerId: b.user.id, name: 'again.bin', size: data.length, sha256: original.sha256 });
    expect(made.body.id).not.toBe(original.id);
    expect(sha256((await content(b, made.body.id)).bytes)).toBe(original.sha256);
  });

  it('unknown bytes and a wrong proof get the same answer; the challenge looks the same for both', async () => {
    const a = await register();
    const known = bytes(70_000);
    await uploadFile(a, known);
    const unknown = bytes(70_000, 123456);
    const c1 = await challenge(a, known);
    const c2 = await challenge(a, unknown);
    // Same shape either way: three ranges of the same length within the claimed size.
    expect(c1.ranges.map((r) => r.length)).toEqual(c2.ranges.map((r) => r.length));
    const wrong = await confirm(a, known, c1.nonce, proof(c1.nonce, unknown, c1.ranges));
    const missing = await confirm(a, unknown, c2.nonce, proof(c2.nonce, unknown, c2.ranges));
    for (const res of [wrong, missing]) {
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('upload_required');
    }
    expect(wrong.body.error.message).toBe(missing.body.error.message);
    expect(Object.keys(wrong.body.error).sort()).toEqual(Object.keys(missing.body.error).sort());
  });

  it('a nonce answers once, expires, and only for who asked', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const data = bytes(5000);
    await uploadFile(a, data);
    const c = await challenge(a, data);
    const ttl = Number(await redis('TTL', `instant:${c.nonce}`));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    const right = proof(c.nonce, data, c.ranges);
    expect((await confirm(b, data, c.nonce, right)).status).toBe(409); // someone else's nonce (and now spent)
    expect((await confirm(a, data, c.nonce, right)).status).toBe(409);
    const again = await challenge(a, data);
    expect((await confirm(a, data, again.nonce, proof(again.nonce, data, again.ranges))).status).toBe(201);
    expect((await confirm(a, data, again.nonce, proof(again.nonce, data, again.ranges))).status).toBe(409); // reused
    const late = await challenge(a, data);
    await redis('PEXPIRE', `instant:${late.nonce}`, 1); // its five minutes are up
    await new Promise((r) => setTimeout(r, 20));
    expect((await confirm(a, data, late.nonce, proof(late.nonce, data, late.ranges))).body.error.code).toBe('upload_required');
  });

  it('refuses malformed requests and oversize claims', async () => {
    const a = await register();
    const bad = await api('POST', '/api/v1/files/instant', { token: a.accessToken, body: { sha256: 'xyz', size: 1, name: 'a', contentType: 'text/plain' } });
    expect(bad.status).toBe(400);
    const big = await api('POST', '/api/v1/files/instant', { token: a.accessToken, body: { sha256: 'a'.repeat(64), size: 21 * 1024 * 1024, name: 'a', contentType: 'text/plain' } });
    expect(big.status).toBe(413);
    expect((await api('POST', '/api/v1/files/instant', { body: { sha256: 'a'.repeat(64), size: 1, name: 'a', contentType: 'text/plain' } })).status).toBe(401);
  });
});

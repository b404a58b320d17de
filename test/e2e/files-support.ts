/**
 * What the file tests share: uploads through the API, Postgres as the Worker
 * sees it, and R2 as wrangler dev stores it — opened with wrangler's
 * getPlatformProxy over the stack's persisted state, so "the object is gone
 * from R2" is checked against R2 itself, not inferred from an API answer.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { neonConfig, Pool } from '@neondatabase/serverless';
import { getPlatformProxy } from 'wrangler';
import ws from 'ws';
import { afterAll, beforeAll } from 'vitest';
import { pseudoRandomBytes } from '../fixtures/bytes.ts';
import { api, stack, type Account } from './client.ts';

neonConfig.webSocketConstructor = ws;
Object.assign(neonConfig, { wsProxy: stack.neonProxy, useSecureWebSocket: false, pipelineTLS: false, pipelineConnect: false });

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Pseudo-random bytes; a different seed each call unless one is given. */
export const bytes = (n: number, seed = Date.now() + Math.floor(Math.random() * 1e6)) => pseudoRandomBytes(n, seed);

export function pgPool(): Pool {
  const pool = new Pool({ connectionString: stack.databaseUrl, max: 1 });
  pool.on('error', () => {});
  return pool;
}

/** The part of the R2 binding the tests use (the Node side has no workers types). */
export interface R2Bucket {
  head(key: string): Promise<{ size: number } | null>;
  list(opts: { prefix: string }): Promise<{ objects: Array<{ key: string; size: number }> }>;
}

export interface R2View {
  bucket: R2Bucket;
  dispose(): Promise<void>;
}

/** Postgres and R2 for one test file, opened before its tests and closed after them. */
export function useStores(): { pool: Pool; r2: () => R2Bucket } {
  const pool = pgPool();
  let view: R2View | undefined;
  beforeAll(async () => {
    view = await openR2();
  });
  afterAll(async () => {
    await pool.end();
    await view?.dispose();
  });
  return { pool, r2: () => view!.bucket };
}

export async function openR2(): Promise<R2View> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const proxy = await getPlatformProxy<{ FILES: R2Bucket }>({ configPath: path.join(here, 'r2.wrangler.toml'), persist: { path: path.join(stack.wranglerState, 'v3') } }); // wrangler dev keeps its state under v3/
  return { bucket: proxy.env.FILES, dispose: () => proxy.dispose() };
}

/** POST /files with one `file` part. */
export async function uploadFile(acct: Account, data: Uint8Array, name = 'file.bin', type = 'application/octet-stream') {
  const form = new FormData();
  form.append('file', new Blob([data], { type }), name);
  const res = await fetch(`${stack.api}/api/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${acct.accessToken}` }, body: form });
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
}

export async function content(acct: Account | undefined, fileId: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.api}/api/v1/files/${fileId}/content`, { headers: { ...headers, ...(acct ? { authorization: `Bearer ${acct.accessToken}` } : {}) } });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** A 1×1 PNG header with the given dimensions (enough bytes to be sniffed; not a decodable image). */
export function pngHeader(width: number, height: number, extra = 64): Uint8Array {
  const b = new Uint8Array(33 + extra);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  new DataView(b.buffer).setUint32(16, width);
  new DataView(b.buffer).setUint32(20, height);
  b.set(bytes(extra, width * height), 33);
  return b;
}

export { api };

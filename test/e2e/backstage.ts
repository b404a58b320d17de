/**
 * Behind the API, for tests that check what reached Postgres or inject a
 * fault: the test stack's Postgres (through the Neon bridge, the way the
 * Worker reaches it) and its control endpoint (test/setup/control.ts).
 */
import { neonConfig, Pool } from '@neondatabase/serverless';
import ws from 'ws';
import { afterAll, expect } from 'vitest';
import { stack } from './client.ts';

neonConfig.webSocketConstructor = ws;
Object.assign(neonConfig, { wsProxy: stack.neonProxy, useSecureWebSocket: false, pipelineTLS: false, pipelineConnect: false });

/** One connection per test file, opened on first use and closed after the file's tests. */
export const pool = new Pool({ connectionString: stack.databaseUrl, max: 1 });
// A simulated outage also cuts this pool's idle connection; the next query opens a new one.
pool.on('error', () => {});
afterAll(() => pool.end());

export async function rows<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  return (await pool.query(text, params)).rows as T[];
}

/** A control action: `/postgres {available}` or `/worker/restart`. */
export async function control(path: string, body: unknown = {}): Promise<void> {
  const res = await fetch(`${stack.control}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

/** Rows of `sql` once `ok` holds of them, or the last ones after `ms` (the outbox writes after the answer). */
export async function rowsWhen<R = any>(sql: string, params: unknown[], ok: (rows: R[]) => boolean, ms = 40_000): Promise<R[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { rows } = await pool.query(sql, params);
    if (ok(rows as R[]) || Date.now() > deadline) return rows as R[];
    await new Promise((r) => setTimeout(r, 250));
  }
}

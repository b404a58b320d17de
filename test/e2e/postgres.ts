/** The stack's Postgres as the Worker reaches it (through the Neon bridge), for tests that look at or move what was stored. */
import { neonConfig, Pool } from '@neondatabase/serverless';
import { afterAll } from 'vitest';
import ws from 'ws';
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

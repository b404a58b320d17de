/**
 * The one way Worker and Node code get a drizzle database: Neon's serverless
 * driver (Postgres over a WebSocket) with drizzle's neon-serverless adapter.
 *
 * Production: `connect({ databaseUrl })` — the driver reaches Neon's own proxy.
 * Anywhere else (PGlite or a real Postgres behind local/postgres.ts's bridge):
 * `connect({ databaseUrl, wsProxy })`, which sets
 *
 *   neonConfig.wsProxy            = (host, port) => `${wsProxy}?address=${host}:${port}`
 *   neonConfig.useSecureWebSocket = false   // the bridge speaks ws://, not wss://
 *   neonConfig.pipelineTLS        = false   // no TLS inside the WebSocket
 *   neonConfig.pipelineConnect    = false   // no blind password pipelining (a Neon-only shortcut)
 *
 * That is configuration, not a code path: the same queries run either way.
 * neonConfig is process-wide (per isolate in Workers); every pool in an
 * isolate talks through the same proxy, which is how both deployments work.
 *
 * workerd has a global WebSocket; Node code must set
 * `neonConfig.webSocketConstructor = ws` (package `ws`) itself before
 * connecting — this module stays free of Node-only imports.
 *
 * The caller owns the pool and ends it: in a Worker, create it per request
 * (or per DO operation) and `ctx.waitUntil(pool.end())`.
 */
import { Pool, neonConfig } from '@neondatabase/serverless';
import { drizzle, type NeonDatabase } from 'drizzle-orm/neon-serverless';
import { errorText, writeLog } from '../lib/log.ts';
import * as schema from './schema.ts';

export type Schema = typeof schema;
export type Db = NeonDatabase<Schema>;

export interface DbConfig {
  /** postgres://user:password@host:port/database */
  databaseUrl: string;
  /** The WebSocket proxy, without scheme (a leading `ws://` is tolerated), e.g. `127.0.0.1:8793/v2` (local/postgres.ts `wsProxyUrl`). */
  wsProxy?: string;
  /** Connections the pool may open (the driver's default is 10). */
  max?: number;
}

export function connect(cfg: DbConfig): { db: Db; pool: Pool } {
  if (cfg.wsProxy) useWsProxy(cfg.wsProxy);
  const pool = new Pool({ connectionString: cfg.databaseUrl, ...(cfg.max ? { max: cfg.max } : {}) });
  // An idle client losing its socket (Postgres restarting, an outage) is reported here;
  // unhandled, it would surface as an uncaught exception. Queries still fail normally.
  // Once `end()` was called, a socket torn down under a closing client is the closing
  // itself (workerd reports it as "Network connection lost"), not news.
  pool.on('error', (err: unknown) => {
    if (!pool.ending) writeLog('warn', 'db.pool_error', { error: errorText(err) });
  });
  const db = drizzle({ client: pool, schema });
  return { db, pool };
}

function useWsProxy(wsProxy: string): void {
  const base = wsProxy.replace(/^ws:\/\//, ''); // the driver adds the scheme itself
  neonConfig.wsProxy = (host, port) => `${base}?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}

/**
 * The "real server" test mode: a throwaway database on the machine's
 * Postgres (127.0.0.1:5432) and a dedicated Redis database index on its
 * Redis (127.0.0.1:6379), both cleaned up afterwards.
 */
import net from 'node:net';
import { neonConfig, Pool } from '@neondatabase/serverless';
import ws from 'ws';
import { startPostgres } from '../../local/postgres.ts';

const ADMIN_URL = process.env.BEEHIVE_REAL_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Redis database reserved for Beehive's e2e runs; flushed at the start of each. */
const REDIS_DB = 13;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.once('error', reject);
  });
}

/** Runs admin SQL on the real server through a short-lived Neon bridge (the same driver path the Worker uses). */
async function admin(sql: string): Promise<void> {
  const bridge = await startPostgres({ dataDir: '', pglitePort: 0, proxyPort: await freePort(), databaseUrl: ADMIN_URL });
  neonConfig.webSocketConstructor = ws;
  Object.assign(neonConfig, { wsProxy: bridge.wsProxyUrl, useSecureWebSocket: false, pipelineTLS: false, pipelineConnect: false });
  const pool = new Pool({ connectionString: ADMIN_URL });
  try {
    await pool.query(sql);
  } finally {
    await pool.end();
    await bridge.close();
  }
}

export async function realServices(): Promise<{ databaseUrl: string; redisUrl: string; drop(): Promise<void> }> {
  const name = `beehive_test_${process.pid}_${Date.now().toString(36)}`;
  await admin(`CREATE DATABASE ${name}`);
  const databaseUrl = new URL(ADMIN_URL);
  databaseUrl.pathname = `/${name}`;
  const { Redis } = await import('ioredis');
  const redisUrl = `redis://127.0.0.1:6379/${REDIS_DB}`;
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  redis.disconnect();
  return {
    databaseUrl: databaseUrl.toString(),
    redisUrl,
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

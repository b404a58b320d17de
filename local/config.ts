/**
 * Where each piece of the local stack listens, and the development-only
 * secrets it shares with the Worker. One base port moves the whole stack, so
 * the test suite runs its own stack beside a developer's `npm start`.
 *
 * None of the ports is a service's standard one (5432, 6379): a machine that
 * runs a real Postgres or Redis keeps them.
 */
import path from 'node:path';

export interface StackConfig {
  /** Folder that keeps the stack's state across restarts (PGlite data, queued QStash jobs, the search index). */
  stateDir: string;
  ports: {
    worker: number;
    mailbox: number;
    redis: number;
    qstash: number;
    neonProxy: number;
    pglite: number;
    push: number;
    algolia: number;
    inspector: number;
  };
  /** Browser origins the local Worker accepts (its ALLOWED_ORIGINS): the usual dev servers. */
  allowedOrigins: string[];
  /** A real Postgres to use instead of PGlite (the "real server" mode). */
  databaseUrl?: string;
  /** A real Redis to put behind the Upstash REST endpoint instead of ioredis-mock. */
  redisUrl?: string;
  secrets: {
    redisToken: string;
    qstashToken: string;
    qstashCurrentSigningKey: string;
    qstashNextSigningKey: string;
    emailApiKey: string;
    jwtSecret: string;
    /** A fixed development VAPID pair (made once by `npm run push:vapid-keys`): a subscription is tied to the key it was made for. */
    vapidPublicKey: string;
    vapidPrivateKey: string;
    algoliaAppId: string;
    algoliaApiKey: string;
  };
}

export function stackConfig(env: NodeJS.ProcessEnv = process.env): StackConfig {
  const base = Number(env.BEEHIVE_PORT_BASE ?? 8787);
  return {
    stateDir: path.resolve(env.BEEHIVE_STATE_DIR ?? '.beehive'),
    ports: {
      worker: base,
      mailbox: base + 3,
      redis: base + 4,
      qstash: base + 5,
      neonProxy: base + 6,
      pglite: base + 7,
      algolia: base + 8,
      push: base + 9,
      inspector: base + 442, // 9229 for the default base, like node --inspect
    },
    // Vite (5173) and the common 3000 of Next.js, CRA and friends; beehive.vars can replace the list.
    allowedOrigins: ['http://localhost:5173', 'http://127.0.0.1:5173', 'http://localhost:3000'],
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    // Development-only values; production sets its own as Worker secrets.
    secrets: {
      redisToken: 'local-redis-token',
      qstashToken: 'local-qstash-token',
      qstashCurrentSigningKey: 'sig_local_current_signing_key',
      qstashNextSigningKey: 'sig_local_next_signing_key',
      emailApiKey: 'local-email-key',
      jwtSecret: 'local-development-jwt-secret-at-least-32-bytes',
      vapidPublicKey: 'BNu6G72uXE9kN_ozRusfR51tKOSHGMMgzp-M0kTxL0DBp1RNUhPo_2mU-Z6n-DDmbBRQWNzQL8Y7kkCnmc9taDg',
      vapidPrivateKey: 'l99zXbpU6hWlVkbLggIHUimxrUe-YdDp9lYOBJLrilc',
      algoliaAppId: 'LOCALAPPID',
      algoliaApiKey: 'local-algolia-admin-key',
    },
  };
}

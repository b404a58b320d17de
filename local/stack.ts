/**
 * The local stack: every offline stand-in of a managed service, plus
 * `wrangler dev` wired to them. Used by `npm start` (local/start.ts), by the
 * test suite and by the benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { neonConfig } from '@neondatabase/serverless';
import ws from 'ws';
import { ensureIndexSettings, searchConfig } from '../services/search.ts';
import { startAlgoliaEmulator } from './algolia.ts';
import { buildAssets } from './assets.ts';
import type { StackConfig } from './config.ts';
import { portOpen } from './http.ts';
import { startMailbox } from './mailbox.ts';
import { migrate } from './migrate.ts';
import { startPostgres } from './postgres.ts';
import { startPushService } from './push.ts';
import { startQStashEmulator } from './qstash.ts';
import { startRedisEmulator } from './redis.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export type Log = (event: Record<string, unknown>) => void;

/** Told once per piece of the stack as it comes up (or fails to): `npm start` prints it. */
export type Progress = (step: { service: string; ms: number; error?: unknown }) => void;

async function timed<T>(progress: Progress | undefined, service: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    const value = await run();
    progress?.({ service, ms: Date.now() - started });
    return value;
  } catch (error) {
    progress?.({ service, ms: Date.now() - started, error });
    throw error;
  }
}

export interface Services {
  /** What the Worker needs to reach the stand-ins: written to its env file. */
  workerEnv: Record<string, string>;
  urls: { mailbox: string; redis: string; qstash: string; postgres: string; neonProxy: string; push: string; algolia: string };
  /** Test hook: simulate a Postgres outage (the Worker's connections fail until it ends). */
  setPostgresAvailable(on: boolean): void;
  close(): Promise<void>;
}

/** Starts Postgres (PGlite or a real server) with migrations applied, Redis, QStash, Algolia (index settings applied), the mailbox and the push service. */
export async function startServices(cfg: StackConfig, log: Log, progress?: Progress): Promise<Services> {
  await mkdir(cfg.stateDir, { recursive: true });
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch((err) => log({ event: 'stack.close_failed', error: String(err) }));
  };
  try {
    const pg = await timed(progress, cfg.databaseUrl ? 'Postgres (bridge to DATABASE_URL)' : 'Postgres (PGlite)', () =>
      startPostgres({
        dataDir: path.join(cfg.stateDir, 'pgdata'),
        pglitePort: cfg.ports.pglite,
        proxyPort: cfg.ports.neonProxy,
        databaseUrl: cfg.databaseUrl,
        log,
      }),
    );
    closers.push(() => pg.close());
    neonConfig.webSocketConstructor = ws;
    await timed(progress, 'migrations', () => migrate({ databaseUrl: pg.databaseUrl, wsProxy: pg.wsProxyUrl }));

    const redis = await timed(progress, cfg.redisUrl ? 'Redis (REST, to REDIS_URL)' : 'Redis (REST, in memory)', () =>
      startRedisEmulator({ port: cfg.ports.redis, token: cfg.secrets.redisToken, redisUrl: cfg.redisUrl }),
    );
    closers.push(() => redis.close());
    const workerUrl = `http://127.0.0.1:${cfg.ports.worker}`;
    const qstash = await timed(progress, 'QStash', () =>
      startQStashEmulator({
        port: cfg.ports.qstash,
        token: cfg.secrets.qstashToken,
        currentSigningKey: cfg.secrets.qstashCurrentSigningKey,
        nextSigningKey: cfg.secrets.qstashNextSigningKey,
        stateFile: path.join(cfg.stateDir, 'qstash.json'),
        log,
      }),
    );
    closers.push(() => qstash.close());
    const mailbox = await timed(progress, 'mailbox', () => startMailbox({ port: cfg.ports.mailbox, apiKey: cfg.secrets.emailApiKey, log }));
    closers.push(() => mailbox.close());
    const push = await timed(progress, 'push service', () => startPushService({ port: cfg.ports.push, log }));
    closers.push(() => push.close());
    const algolia = await timed(progress, 'Algolia', () =>
      startAlgoliaEmulator({
        port: cfg.ports.algolia,
        appId: cfg.secrets.algoliaAppId,
        apiKey: cfg.secrets.algoliaApiKey,
        stateFile: path.join(cfg.stateDir, 'algolia.json'),
        log,
      }),
    );
    closers.push(() => algolia.close());
    const algoliaEnv = { ALGOLIA_APP_ID: cfg.secrets.algoliaAppId, ALGOLIA_API_KEY: cfg.secrets.algoliaApiKey, ALGOLIA_INDEX: 'messages', ALGOLIA_HOSTS: algolia.url };
    // Like the migrations: the Worker finds its index ready, set up by the production adapter itself.
    await timed(progress, 'search index settings', () => ensureIndexSettings(searchConfig(algoliaEnv)));

    return {
      workerEnv: {
        PUBLIC_URL: workerUrl,
        ALLOWED_ORIGINS: cfg.allowedOrigins.join(','),
        DATABASE_URL: pg.databaseUrl,
        NEON_WS_PROXY: pg.wsProxyUrl,
        UPSTASH_REDIS_REST_URL: redis.url,
        UPSTASH_REDIS_REST_TOKEN: cfg.secrets.redisToken,
        QSTASH_URL: qstash.url,
        QSTASH_TOKEN: cfg.secrets.qstashToken,
        QSTASH_CURRENT_SIGNING_KEY: cfg.secrets.qstashCurrentSigningKey,
        QSTASH_NEXT_SIGNING_KEY: cfg.secrets.qstashNextSigningKey,
        EMAIL_API_URL: `${mailbox.url}/emails`,
        EMAIL_API_KEY: cfg.secrets.emailApiKey,
        JWT_SECRET: cfg.secrets.jwtSecret,
        // The stand-ins listen on 127.0.0.1 over plain http: subscriptions to them must be accepted.
        WEBHOOK_ALLOW_HTTP_LOOPBACK: '1',
        VAPID_PUBLIC_KEY: cfg.secrets.vapidPublicKey,
        VAPID_PRIVATE_KEY: cfg.secrets.vapidPrivateKey,
        VAPID_SUBJECT: 'mailto:dev@beehive.localhost',
        FCM_SERVICE_ACCOUNT: JSON.stringify(push.serviceAccount),
        FCM_API_URL: push.url,
        ...algoliaEnv,
      },
      urls: { mailbox: mailbox.url, redis: redis.url, qstash: qstash.url, postgres: pg.databaseUrl, neonProxy: pg.wsProxyUrl, push: push.url, algolia: algolia.url },
      setPostgresAvailable: (on) => pg.setAvailable(on),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export interface WorkerProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Runs `wrangler dev` against the services. Its Durable Object and R2 state
 * live under the stack's state dir; `extraVars` override wrangler.toml vars.
 */
export async function startWorker(
  cfg: StackConfig,
  services: Services,
  opts: { extraVars?: Record<string, string>; stdio?: 'inherit' | 'pipe'; log: Log; progress?: Progress },
): Promise<WorkerProcess> {
  return timed(opts.progress, 'Worker (wrangler dev)', () => launchWorker(cfg, services, opts));
}

async function launchWorker(
  cfg: StackConfig,
  services: Services,
  opts: { extraVars?: Record<string, string>; stdio?: 'inherit' | 'pipe'; log: Log },
): Promise<WorkerProcess> {
  // A stale wrangler from a killed run would answer /health with old code: refuse to start beside it.
  if (await portOpen(cfg.ports.worker)) throw new Error(`port ${cfg.ports.worker} is already in use (a stale wrangler dev?); stop it or set BEEHIVE_PORT_BASE`);
  await buildAssets(); // /docs's swagger-ui files
  const envFile = path.join(cfg.stateDir, 'worker.env');
  const vars = { ...services.workerEnv, ...opts.extraVars };
  // dotenv syntax: single quotes keep a value literal (JSON included).
  const lines = Object.entries(vars).map(([k, v]) => {
    if (/['\n]/.test(v)) throw new Error(`${k}: a single quote or newline cannot go into the env file`);
    return `${k}='${v}'`;
  });
  await writeFile(envFile, lines.join('\n') + '\n');
  const args = [
    path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js'),
    'dev',
    '--ip', '127.0.0.1',
    '--port', String(cfg.ports.worker),
    '--inspector-port', String(cfg.ports.inspector),
    '--persist-to', path.join(cfg.stateDir, 'wrangler'),
    '--env-file', envFile,
    '--show-interactive-dev-session=false',
  ];
  // Through the guard: stopping it, or the death of this process, stops wrangler and the workerd it spawns.
  const child = spawn(process.execPath, [path.join(ROOT, 'local/guard.ts'), process.execPath, ...args], {
    cwd: ROOT,
    stdio: ['pipe', opts.stdio ?? 'inherit', opts.stdio ?? 'inherit'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  const url = `http://127.0.0.1:${cfg.ports.worker}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  try {
    await waitForHealth(url, child, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  opts.log({ event: 'worker.ready', url });
  return { url, child, stop };
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not answer ${url}/health within ${timeoutMs} ms`);
}

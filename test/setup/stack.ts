/**
 * globalSetup of the e2e project: a fresh local stack on its own ports and
 * state dir, so it never touches a developer's running `npm start`.
 * BEEHIVE_TEST_MODE=real runs it against the machine's real Postgres and
 * Redis instead of PGlite and ioredis-mock.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { stackConfig } from '../../local/config.ts';
import { ROOT, startServices, startWorker } from '../../local/stack.ts';
import { startControl } from './control.ts';
import { realServices } from './real-services.ts';

export interface StackInfo {
  api: string;
  mailbox: string;
  redis: string;
  redisToken: string;
  qstash: string;
  qstashToken: string;
  /** The local push service (local/push.ts): mint subscriptions and FCM tokens, read what arrived. */
  push: string;
  /** The Algolia stand-in, and what the Worker uses to reach it. */
  algolia: { url: string; appId: string; apiKey: string; indexName: string };
  mode: 'embedded' | 'real';
  /** The control endpoint of test/setup/control.ts: outages and restarts. */
  control: string;
  /** Postgres as the Worker reaches it: its URL and the Neon bridge (for tests that look at what was flushed). */
  databaseUrl: string;
  neonProxy: string;
  /** wrangler dev's --persist-to folder (R2 and Durable Object state), for tests that look at what R2 holds. */
  wranglerState: string;
  /** The stack's state dir: wrangler's persisted Durable Object storage is under `wrangler/v3/do/`. */
  stateDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

export default function setup(project: TestProject) {
  return setupStack(project);
}

/**
 * Starts a test stack and provides it as `stack`. A second project running beside the e2e one (the
 * browser tests) takes its own `name` (state dir) and `portOffset` (its ports: base + offset …) or `portBase`.
 */
export async function setupStack(project: TestProject, opts: { name?: string; portOffset?: number; portBase?: number } = {}) {
  const mode = process.env.BEEHIVE_TEST_MODE === 'real' ? 'real' : 'embedded';
  const stateDir = path.join(ROOT, '.beehive', `test-${opts.name ?? mode}`);
  await rm(stateDir, { recursive: true, force: true });
  const real = mode === 'real' ? await realServices() : undefined;
  const cfg = stackConfig({
    BEEHIVE_PORT_BASE: String(opts.portBase ?? Number(process.env.BEEHIVE_TEST_PORT_BASE ?? '18787') + (opts.portOffset ?? 0)),
    BEEHIVE_STATE_DIR: stateDir,
    DATABASE_URL: real?.databaseUrl,
    REDIS_URL: real?.redisUrl,
  });
  const quiet = process.env.BEEHIVE_LOG !== 'debug';
  const log = (e: Record<string, unknown>) => {
    if (!quiet) console.log(JSON.stringify(e));
  };
  const services = await startServices(cfg, log);
  // Every test shares one client IP; per-IP limits are raised so they only trip where a test means them to.
  const RATE_LIMITS = JSON.stringify({ login_ip: [10_000, 60], register_ip: [10_000, 60], send_code_ip: [10_000, 60], reset_ip: [10_000, 60] });
  const launch = async () => {
    const w = await startWorker(cfg, services, {
      log,
      stdio: quiet ? 'pipe' : 'inherit',
      extraVars: {
        RATE_LIMITS,
        // Small enough that tests reach them quickly: the send limit, and the size above which fan-out goes through QStash.
        SEND_RATE_PER_SECOND: '20',
        SEND_BURST: '60',
        FANOUT_RPC_LIMIT: '5',
        // A small hot window, so history pages come from Postgres after a few dozen messages.
        HOT_WINDOW_MESSAGES: '10',
        // Small file limits, so the size tests move megabytes, not hundreds of them (still above R2's 5 MiB part).
        FILE_SINGLE_MAX_BYTES: String(6 * 1024 * 1024),
        FILE_MAX_BYTES: String(20 * 1024 * 1024),
        // Short enough that a test can wait it out; the edit window keeps its default (two days).
        RECALL_WINDOW_SECONDS: '3',
        // Webhook retries in milliseconds instead of hours: backoff 100 ms doubling to 400 ms, dead letter after 3 s.
        WEBHOOK_RETRY_BASE_MS: '100',
        WEBHOOK_RETRY_CAP_MS: '400',
        WEBHOOK_GIVE_UP_MS: '3000',
        WEBHOOK_TIMEOUT_MS: '2000',
      },
    });
    // Drain wrangler's output so a full pipe never stalls it.
    w.child.stdout?.resume();
    w.child.stderr?.resume();
    return w;
  };
  let worker = await launch();
  // Above the stack's own ports (worker + 0…9).
  const control = await startControl(cfg.ports.worker + 20, {
    setPostgresAvailable: (on) => services.setPostgresAvailable(on),
    restartWorker: async () => {
      await worker.stop();
      worker = await launch();
    },
  });
  project.provide('stack', {
    api: worker.url,
    mailbox: services.urls.mailbox,
    redis: services.urls.redis,
    redisToken: cfg.secrets.redisToken,
    qstash: services.urls.qstash,
    qstashToken: cfg.secrets.qstashToken,
    push: services.urls.push,
    algolia: { url: services.urls.algolia, appId: cfg.secrets.algoliaAppId, apiKey: cfg.secrets.algoliaApiKey, indexName: services.workerEnv.ALGOLIA_INDEX! },
    mode,
    control: control.url,
    databaseUrl: services.urls.postgres,
    neonProxy: services.urls.neonProxy,
    wranglerState: path.join(stateDir, 'wrangler'),
    stateDir,
  });
  return async () => {
    await control.close();
    await worker.stop();
    await services.close();
    await real?.drop();
  };
}

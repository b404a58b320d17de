/**
 * `npm start`: the whole Beehive stack on this machine, offline. Takes the
 * state dir's lock, starts the stand-ins (one progress line each), applies
 * migrations, runs `wrangler dev`, prints what runs where, and stops
 * everything on Ctrl-C. State persists under .beehive/.
 *
 * DATABASE_URL=postgres://… uses a real Postgres instead of PGlite;
 * REDIS_URL=redis://… puts a real Redis behind the Upstash REST endpoint;
 * beehive.vars / .dev.vars / BEEHIVE_VAR_<NAME> override Worker variables (local/vars.ts).
 */
import { stackConfig } from './config.ts';
import { lockStateDir } from './lock.ts';
import { ROOT, startServices, startWorker, type Log, type Progress } from './stack.ts';
import { userVars } from './vars.ts';

const cfg = stackConfig();
const verbose = process.env.BEEHIVE_LOG === 'debug';
const log: Log = (e) => {
  if (verbose || e.event === 'stack.close_failed' || e.event === 'mail.sent') console.log(JSON.stringify(e));
};

const lock = await lockStateDir(cfg.stateDir);
if (!lock.ok) {
  console.error(`Beehive is already running (pid ${lock.pid}) with state in ${cfg.stateDir}: stop it first, or start another stack with BEEHIVE_STATE_DIR and BEEHIVE_PORT_BASE.`);
  process.exit(1);
}
process.on('exit', lock.release);

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
const progress: Progress = ({ service, ms, error }) => {
  const time = `${(ms / 1000).toFixed(1)} s`.padStart(7);
  console.log(error ? `  ✗ ${service.padEnd(36)} ${time}  FAILED: ${message(error)}` : `  ✓ ${service.padEnd(36)} ${time}`);
};

const overrides = await userVars(ROOT, process.env);
console.log(`Starting Beehive (state in ${cfg.stateDir})…`);
if (Object.keys(overrides).length > 0) console.log(`  Worker variables overridden locally: ${Object.keys(overrides).join(', ')}`);

let services: Awaited<ReturnType<typeof startServices>>;
let worker: Awaited<ReturnType<typeof startWorker>>;
try {
  services = await startServices(cfg, log, progress);
} catch {
  console.error('Beehive did not start: see the failed step above.');
  process.exit(1);
}
try {
  worker = await startWorker(cfg, services, { log, progress, extraVars: overrides });
} catch {
  await services.close();
  console.error('Beehive did not start: see the failed step above.');
  process.exit(1);
}

console.log(`
Beehive is running (state in ${cfg.stateDir}):
  web client       ${worker.url}/            (open it in two browsers and chat)
  API              ${worker.url}            (try ${worker.url}/health, docs at ${worker.url}/docs)
  mailbox          ${services.urls.mailbox}/mailbox?to=<address>
  Postgres         ${services.urls.postgres}${cfg.databaseUrl ? '' : '  (PGlite)'}
  Neon WS proxy    ws://${services.urls.neonProxy}
  Redis (REST)     ${services.urls.redis}${cfg.redisUrl ? `  → ${cfg.redisUrl}` : '  (in-memory)'}
  QStash           ${services.urls.qstash}
  push service     ${services.urls.push}/push-inbox?endpoint=<endpoint>  (Web Push + FCM; mint with POST /subscriptions)
  Algolia          ${services.urls.algolia}  (index "${services.workerEnv.ALGOLIA_INDEX}")
Press Ctrl-C to stop.
`);

let stopping = false;
async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping Beehive…');
  await worker.stop();
  await services.close();
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
worker.child.once('exit', (code) => {
  if (!stopping) {
    console.error(`wrangler dev exited (${code}); stopping the stack.`);
    void shutdown(1);
  }
});

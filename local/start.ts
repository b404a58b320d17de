/**
 * `npm start`: the whole Beehive stack on this machine, offline. Starts the
 * stand-ins, applies migrations, runs `wrangler dev`, prints what runs where,
 * and stops everything on Ctrl-C. State persists under .beehive/.
 *
 * DATABASE_URL=postgres://… uses a real Postgres instead of PGlite;
 * REDIS_URL=redis://… puts a real Redis behind the Upstash REST endpoint.
 */
import { stackConfig } from './config.ts';
import { startServices, startWorker, type Log } from './stack.ts';

const cfg = stackConfig();
const verbose = process.env.BEEHIVE_LOG === 'debug';
const log: Log = (e) => {
  if (verbose || e.event === 'stack.close_failed' || e.event === 'mail.sent') console.log(JSON.stringify(e));
};

const services = await startServices(cfg, log);
const worker = await startWorker(cfg, services, { log });

console.log(`
Beehive is running (state in ${cfg.stateDir}):
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

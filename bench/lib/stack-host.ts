/**
 * Child process that owns the bench's local stack: the stand-ins (PGlite,
 * Redis, QStash, mailbox) and `wrangler dev`. It runs apart from the harness
 * so PGlite's WASM work and the emulators never share the event loop that
 * timestamps frames.
 *
 *   node bench/lib/stack-host.ts <portBase> <stateDir> <extraVarsJson>
 *
 * Prints one JSON line `{"ready":true,"api":…,"workerPid":…}` on stdout when
 * the Worker answers /health. Stops everything on SIGTERM/SIGINT or when its
 * stdin closes (the bench died), so no process outlives the run.
 */
import { rm } from 'node:fs/promises';
import { stackConfig } from '../../local/config.ts';
import { startServices, startWorker } from '../../local/stack.ts';

const [portBase, stateDir, extraVarsJson] = process.argv.slice(2);
if (!portBase || !stateDir || !extraVarsJson) {
  console.error('usage: node bench/lib/stack-host.ts <portBase> <stateDir> <extraVarsJson>');
  process.exit(2);
}

const quiet = process.env.BEEHIVE_LOG !== 'debug';
const log = (e: Record<string, unknown>) => {
  if (!quiet) console.error(JSON.stringify(e));
};

await rm(stateDir, { recursive: true, force: true });
const cfg = stackConfig({ BEEHIVE_PORT_BASE: portBase, BEEHIVE_STATE_DIR: stateDir });

let stopping: Promise<void> | undefined;
let services: Awaited<ReturnType<typeof startServices>> | undefined;
let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
function stop(code: number): Promise<void> {
  stopping ??= (async () => {
    await worker?.stop().catch(() => {});
    await services?.close().catch(() => {});
    process.exit(code);
  })();
  return stopping;
}
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));
process.stdin.on('end', () => void stop(0));
process.stdin.on('error', () => void stop(0));
process.stdin.resume();

try {
  services = await startServices(cfg, log);
  worker = await startWorker(cfg, services, { log, stdio: 'pipe', extraVars: JSON.parse(extraVarsJson) as Record<string, string> });
  // Drain wrangler's output so a full pipe never stalls it (kept on stderr with BEEHIVE_LOG=debug).
  if (quiet) {
    worker.child.stdout?.resume();
    worker.child.stderr?.resume();
  } else {
    worker.child.stdout?.pipe(process.stderr);
    worker.child.stderr?.pipe(process.stderr);
  }
  worker.child.once('exit', (code) => {
    if (!stopping) {
      console.error(`wrangler dev exited (${code})`);
      void stop(1);
    }
  });
  process.stdout.write(JSON.stringify({ ready: true, api: worker.url, workerPid: worker.child.pid, hostPid: process.pid, databaseUrl: services.urls.postgres, neonProxy: services.urls.neonProxy, inspectorPort: cfg.ports.inspector }) + "\n");
} catch (err) {
  console.error(`stack failed to start: ${(err as Error).stack ?? String(err)}`);
  await stop(1);
}

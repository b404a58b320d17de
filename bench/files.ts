/**
 * `npm run bench:files`: upload throughput (MiB/s) and Worker CPU per MiB,
 * for the single upload (POST /files, multipart), tus with the whole file in
 * one PATCH, and tus in 8 MiB chunks (tus-js-client) — beside the ceiling: a
 * Worker of the bench's own that only puts the request body into R2
 * (bench/r2-put), under its own wrangler dev on the same machine, measured
 * the same way. CPU is read from /proc for the workerd that runs the Worker
 * and for wrangler dev's proxy in front of it (bench/lib/procs.ts). Writes
 * bench/results/files.md.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Upload } from 'tus-js-client';
import { stackConfig } from '../local/config.ts';
import { portOpen } from '../local/http.ts';
import { ROOT, startServices, startWorker } from '../local/stack.ts';
import { pseudoRandomBytes } from '../test/fixtures/bytes.ts';
import { cpuMs, listeningPorts, workerdProcesses } from './lib/procs.ts';
import { sleep } from './lib/timing.ts';

const MiB = 1024 * 1024;
const RUNS = Number(process.env.BENCH_FILES_RUNS ?? 4);
const stateDir = path.join(ROOT, '.beehive', 'bench-files');
await rm(stateDir, { recursive: true, force: true });
const cfg = stackConfig({ BEEHIVE_PORT_BASE: '27787', BEEHIVE_STATE_DIR: stateDir });
const log = () => {};
const services = await startServices(cfg, log);
// Uploads are what is measured: the per-user upload limit must not be.
const worker = await startWorker(cfg, services, { log, stdio: 'pipe', extraVars: { RATE_LIMITS: JSON.stringify({ upload_user: [100_000, 60] }) } });
worker.child.stdout?.resume();
worker.child.stderr?.resume();

/** The ceiling Worker under its own wrangler dev (through the same guard as the stack's). */
async function startCeiling(port: number) {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'local/guard.ts'), process.execPath, path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'dev', '--config', path.join(ROOT, 'bench/r2-put/wrangler.toml'),
      '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(port + 1), '--persist-to', path.join(stateDir, 'ceiling'), '--show-interactive-dev-session=false'],
    { cwd: ROOT, stdio: ['pipe', 'ignore', 'ignore'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
  );
  for (let i = 0; i < 240 && !(await portOpen(port)); i++) await sleep(250);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 120; i++) {
    const ok = await fetch(`${url}/warm`, { method: 'PUT', body: 'x' }).then((r) => r.ok, () => false);
    if (ok) break;
    await sleep(250);
  }
  return { url, pid: child.pid!, stop: () => new Promise<void>((r) => (child.exitCode !== null ? r() : (child.once('exit', () => r()), child.kill('SIGTERM')))) };
}

/** CPU ms so far of the workerd running the Worker and of wrangler's proxy (the one on the public port). */
function cpu(guardPid: number, port: number): { worker: number; proxy: number } {
  const out = { worker: 0, proxy: 0 };
  for (const p of workerdProcesses(guardPid)) out[listeningPorts(p.pid).includes(port) ? 'proxy' : 'worker'] += cpuMs(p.pid);
  return out;
}

interface Result {
  name: string;
  mib: number;
  seconds: number;
  cpu: { worker: number; proxy: number };
}

async function measure(name: string, guardPid: number, port: number, sizeMiB: number, upload: (data: Uint8Array, i: number) => Promise<void>): Promise<Result> {
  await upload(pseudoRandomBytes(MiB, 999), -1); // warm-up
  const inputs = Array.from({ length: RUNS }, (_, i) => pseudoRandomBytes(sizeMiB * MiB, 1000 + i + name.length * 100));
  const before = cpu(guardPid, port);
  const t0 = performance.now();
  for (const [i, data] of inputs.entries()) await upload(data, i);
  const seconds = (performance.now() - t0) / 1000;
  await sleep(300); // let waitUntil work (pool ends) land in the figures
  const after = cpu(guardPid, port);
  return { name, mib: sizeMiB * RUNS, seconds, cpu: { worker: after.worker - before.worker, proxy: after.proxy - before.proxy } };
}

const reg = await fetch(`${worker.url}/api/v1/auth/register`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ username: 'uploader', password: 'correct horse battery' }),
}).then((r) => r.json() as Promise<{ accessToken: string }>);
const auth = { authorization: `Bearer ${reg.accessToken}` };

async function single(data: Uint8Array): Promise<void> {
  const form = new FormData();
  form.append('file', new Blob([data]), 'bench.bin');
  const res = await fetch(`${worker.url}/api/v1/files`, { method: 'POST', headers: auth, body: form });
  if (res.status !== 201) throw new Error(`POST /files: ${res.status} ${await res.text()}`);
}

function tus(chunkSize: number) {
  return (data: Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      new Upload(Buffer.from(data), {
        endpoint: `${worker.url}/api/v1/files/uploads`,
        headers: auth,
        chunkSize,
        metadata: { filename: 'bench.bin' },
        storeFingerprintForResuming: false,
        onError: reject,
        onSuccess: () => resolve(),
      }).start();
    });
}

const ceiling = await startCeiling(27987);
const results: Result[] = [];
try {
  const apiPort = cfg.ports.worker;
  results.push(await measure('ceiling: PUT the body into R2 (20 MiB)', ceiling.pid, 27987, 20, async (data, i) => {
    const res = await fetch(`${ceiling.url}/object-${i}`, { method: 'PUT', body: data });
    if (!res.ok) throw new Error(`ceiling: ${res.status}`);
  }));
  results.push(await measure('POST /files, multipart (20 MiB)', worker.child.pid!, apiPort, 20, single));
  results.push(await measure('tus, the whole file in one PATCH (50 MiB)', worker.child.pid!, apiPort, 50, tus(Infinity)));
  results.push(await measure('tus, 8 MiB chunks (50 MiB)', worker.child.pid!, apiPort, 50, tus(8 * MiB)));
} finally {
  await ceiling.stop();
  await worker.stop();
  await services.close();
}

const ceil = results[0]!;
const row = (r: Result) => {
  const rate = r.mib / r.seconds;
  const workerPerMiB = r.cpu.worker / r.mib;
  return `| ${r.name} | ${rate.toFixed(1)} | ${(rate / (ceil.mib / ceil.seconds)).toFixed(2)}× | ${workerPerMiB.toFixed(1)} | ${(r.cpu.proxy / r.mib).toFixed(1)} |`;
};
const table = [
  `# Upload throughput — ${new Date().toISOString()}`,
  '',
  `\`npm run bench:files\`: ${RUNS} sequential uploads per row after one 1 MiB warm-up, each of fresh bytes; local stack (wrangler dev, R2 emulated on disk, PGlite).`,
  `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}. CPU from /proc (10 ms ticks); "Worker" = the workerd running the Worker and its Durable Objects, "proxy" = wrangler dev's proxy in front of it.`,
  '',
  '| upload | MiB/s | ÷ ceiling | Worker CPU ms/MiB | proxy CPU ms/MiB |',
  '| --- | --- | --- | --- | --- |',
  ...results.map(row),
  '',
].join('\n');
await mkdir(path.join(ROOT, 'bench/results'), { recursive: true });
await writeFile(path.join(ROOT, 'bench/results/files.md'), table);
console.log(table);

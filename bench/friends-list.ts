/**
 * `npm run bench:friends`: the latency of GET /api/v1/friends for a user
 * with 1,000 friends (issue 3), against its own local stack. The friends are
 * written straight into Postgres (registering 1,000 users through the API
 * would spend a minute in scrypt); the measured requests go through the API.
 * Reported beside GET /health measured the same way, as the floor of one
 * request through wrangler dev. Writes bench/results/friends-list.md.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { neonConfig, Pool } from '@neondatabase/serverless';
import ws from 'ws';
import { stackConfig } from '../local/config.ts';
import { ROOT, startServices, startWorker } from '../local/stack.ts';

const FRIENDS = 1000;
const RUNS = 50;
const stateDir = path.join(ROOT, '.beehive', 'bench-friends');
await rm(stateDir, { recursive: true, force: true });
const cfg = stackConfig({ BEEHIVE_PORT_BASE: '26787', BEEHIVE_STATE_DIR: stateDir });
const log = () => {};
const services = await startServices(cfg, log);
const worker = await startWorker(cfg, services, { log, stdio: 'pipe' });
worker.child.stdout?.resume();
worker.child.stderr?.resume();

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function time(runs: number, fn: () => Promise<void>): Promise<{ p50: number; p99: number; max: number }> {
  for (let i = 0; i < 5; i++) await fn(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples.at(-1)! };
}

try {
  const reg = await fetch(`${worker.url}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'popular', password: 'correct horse battery' }),
  }).then((r) => r.json() as Promise<{ user: { id: string }; accessToken: string }>);

  neonConfig.webSocketConstructor = ws;
  Object.assign(neonConfig, { wsProxy: services.urls.neonProxy, useSecureWebSocket: false, pipelineTLS: false, pipelineConnect: false });
  const pool = new Pool({ connectionString: services.urls.postgres, max: 1 });
  await pool.query(
    `INSERT INTO users (id, username, nickname, password_hash)
     SELECT 'friend-' || i, 'friend_' || i, 'Friend ' || i, 'scrypt$16384$8$1$AA==$AA==' FROM generate_series(1, $1) AS i`,
    [FRIENDS],
  );
  await pool.query(
    `INSERT INTO friendships (user_id, friend_id, created_at)
     SELECT a, b, now() - (i || ' seconds')::interval FROM generate_series(1, $2) AS i,
       LATERAL (VALUES ($1, 'friend-' || i), ('friend-' || i, $1)) AS pair(a, b)`,
    [reg.user.id, FRIENDS],
  );
  await pool.end();

  const get = async (url: string) => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${reg.accessToken}` } });
    if (!res.ok) throw new Error(`${url}: ${res.status}`);
    return res.json() as Promise<{ items: unknown[]; nextCursor: string | null }>;
  };
  const health = await time(RUNS, async () => void (await fetch(`${worker.url}/health`)).arrayBuffer());
  const firstPage = await time(RUNS, async () => void (await get(`${worker.url}/api/v1/friends?limit=100`)));
  let walked = 0;
  const allPages = await time(10, async () => {
    walked = 0;
    for (let cursor: string | null = ''; cursor !== null; ) {
      const page = await get(`${worker.url}/api/v1/friends?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      walked += page.items.length;
      cursor = page.nextCursor;
    }
  });
  if (walked !== FRIENDS) throw new Error(`walked ${walked} friends, expected ${FRIENDS}`);

  const row = (name: string, m: { p50: number; p99: number; max: number }) =>
    `| ${name} | ${m.p50.toFixed(1)} | ${m.p99.toFixed(1)} | ${m.max.toFixed(1)} | ${(m.p50 / health.p50).toFixed(1)}× |`;
  const table = [
    `# GET /api/v1/friends with ${FRIENDS} friends — ${new Date().toISOString()}`,
    '',
    `Local stack (wrangler dev, PGlite, emulated Redis); ${RUNS} runs after 5 warm-up. ms; ratio = p50 ÷ p50 of GET /health.`,
    '',
    '| request | p50 | p99 | max | ratio |',
    '| --- | --- | --- | --- | --- |',
    row('GET /health (floor)', health),
    row('GET /friends?limit=100 (first page, with presence)', firstPage),
    row(`all ${FRIENDS / 100} pages of 100 (10 runs)`, allPages),
    '',
  ].join('\n');
  await mkdir(path.join(ROOT, 'bench/results'), { recursive: true });
  await writeFile(path.join(ROOT, 'bench/results/friends-list.md'), table);
  console.log(table);
} finally {
  await worker.stop();
  await services.close();
}

/**
 * `npm test`: type-check, then every test project against the embedded
 * stand-ins; then, when the machine runs a real Postgres (5432) and Redis
 * (6379) — as the developer and CI machines do — the end-to-end project
 * again against them (BEEHIVE_TEST_MODE=real). BEEHIVE_REAL=0 skips that
 * second pass; BEEHIVE_REAL=1 makes a missing server an error.
 *
 * The browser project (the web client in Chromium) runs when a Chromium is
 * installed; without one it is left out with a line saying how to get one,
 * except under CI=true, where a missing Chromium fails the run.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildAssets } from '../local/assets.ts';
import { portOpen } from '../local/http.ts';
import { ROOT } from '../local/stack.ts';
import { chromiumPath, NO_CHROMIUM } from './browser/chromium.ts';

const bin = (name: string) => path.join(ROOT, 'node_modules/.bin', name);

function run(label: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  console.log(`\n▶ ${label}`);
  const started = Date.now();
  const result = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
  console.log(`◀ ${label}: ${result.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const extra = process.argv.slice(2);
const chromium = chromiumPath();
if (!chromium && process.env.CI === 'true') {
  console.error(`${NO_CHROMIUM} CI runs every project, the browser tests included.`);
  process.exit(1);
}
// Without a Chromium, every project but the browser one (unless the caller chose projects).
const projects = chromium || extra.some((a) => a.startsWith('--project')) ? [] : ['--project', 'local', '--project', 'workers', '--project', 'e2e'];
if (!chromium) console.log(`\n${NO_CHROMIUM} Skipping them.`);
await buildAssets(); // the Worker's static assets (the web client, /docs), which the bundle and the stack serve
run('generated binding types are current', bin('wrangler'), ['types', '--check']);
run('types', bin('tsc'), ['-p', 'tsconfig.json']);
run('types (node side)', bin('tsc'), ['-p', 'tsconfig.node.json']);
for (const project of ['client/tsconfig.json', 'web/tsconfig.json', 'web/tsconfig.sw.json']) run(`types (${project}: DOM only)`, bin('tsc'), ['-p', project]);
run('bundle (wrangler deploy --dry-run)', bin('wrangler'), ['deploy', '--dry-run', '--outdir', '.beehive/dist']);
run(`tests (embedded stand-ins${chromium ? `; browser: ${chromium}` : ''})`, bin('vitest'), ['run', ...projects, ...extra]);

const wantReal = process.env.BEEHIVE_REAL;
if (wantReal !== '0') {
  const available = (await portOpen(5432)) && (await portOpen(6379));
  if (available) {
    run('e2e tests (real Postgres 5432 + Redis 6379)', bin('vitest'), ['run', '--project', 'e2e', ...extra], { BEEHIVE_TEST_MODE: 'real' });
  } else if (wantReal === '1') {
    console.error('BEEHIVE_REAL=1 but Postgres on 5432 or Redis on 6379 does not answer');
    process.exit(1);
  } else {
    console.log('\nReal-server pass skipped: no Postgres on 5432 and Redis on 6379 here.');
  }
}

/**
 * `npm test`: type-check, then every test project against the embedded
 * stand-ins; then, when the machine runs a real Postgres (5432) and Redis
 * (6379) — as the developer and CI machines do — the end-to-end project
 * again against them (BEEHIVE_TEST_MODE=real). BEEHIVE_REAL=0 skips that
 * second pass; BEEHIVE_REAL=1 makes a missing server an error.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildAssets } from '../local/assets.ts';
import { portOpen } from '../local/http.ts';
import { ROOT } from '../local/stack.ts';

const bin = (name: string) => path.join(ROOT, 'node_modules/.bin', name);

function run(label: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  console.log(`\n▶ ${label}`);
  const started = Date.now();
  const result = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
  console.log(`◀ ${label}: ${result.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const extra = process.argv.slice(2);
await buildAssets(); // the Worker's static assets, which the bundle and the stack serve
run('generated binding types are current', bin('wrangler'), ['types', '--check']);
run('types', bin('tsc'), ['-p', 'tsconfig.json']);
run('types (node side)', bin('tsc'), ['-p', 'tsconfig.node.json']);
run('bundle (wrangler deploy --dry-run)', bin('wrangler'), ['deploy', '--dry-run', '--outdir', '.beehive/dist']);
run('tests (embedded stand-ins)', bin('vitest'), ['run', ...extra]);

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

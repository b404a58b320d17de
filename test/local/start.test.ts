/**
 * `npm start`'s guard rails (local/lock.ts, local/vars.ts): one stack per
 * state dir, decided before anything in it is opened; a stale lock is taken
 * over; local overrides of Worker variables merge in a documented order.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockStateDir } from '../../local/lock.ts';
import { ROOT } from '../../local/stack.ts';
import { userVars } from '../../local/vars.ts';

const node = path.join(ROOT, 'node_modules/.bin/node');
const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'beehive-start-'));
  temps.push(dir);
  return dir;
}

describe('the state dir lock', () => {
  it('a second npm start beside a running one exits at once with one line, before touching the state dir', async () => {
    const stateDir = await tempDir();
    // Stands in for the running launcher: a live process whose pid is in the lock.
    const holder = spawn(node, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      await writeFile(path.join(stateDir, 'start.lock'), `${holder.pid}\n`);
      const started = Date.now();
      const second = spawnSync(node, [path.join(ROOT, 'local/start.ts')], {
        cwd: ROOT,
        env: { ...process.env, BEEHIVE_STATE_DIR: stateDir, BEEHIVE_PORT_BASE: '29787' },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(second.status).toBe(1);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(second.stderr.trim().split('\n')).toEqual([expect.stringContaining(`already running (pid ${holder.pid})`)]);
      expect(second.stdout).toBe('');
      expect(await readdir(stateDir)).toEqual(['start.lock']);
    } finally {
      holder.kill();
    }
  });

  it('is exclusive while held, and a lock left by a dead process is taken over', async () => {
    const stateDir = await tempDir();
    const dead = spawnSync(node, ['-e', 'process.pid']).pid!;
    await writeFile(path.join(stateDir, 'start.lock'), `${dead}\n`);
    const mine = await lockStateDir(stateDir);
    expect(mine.ok).toBe(true);
    if (!mine.ok) return;

    // Another process asking now is refused, naming us.
    const other = spawnSync(node, ['--input-type=module', '-e', `const { lockStateDir } = await import(${JSON.stringify(path.join(ROOT, 'local/lock.ts'))}); console.log(JSON.stringify(await lockStateDir(${JSON.stringify(stateDir)})));`], { encoding: 'utf8' });
    expect(JSON.parse(other.stdout)).toMatchObject({ ok: false, pid: process.pid });

    mine.release();
    expect(await readdir(stateDir)).toEqual([]);
  });
});

describe('local overrides of Worker variables', () => {
  it('merge beehive.vars, then .dev.vars, then BEEHIVE_VAR_* (a later source wins)', async () => {
    const root = await tempDir();
    expect(await userVars(root, {})).toEqual({});
    await writeFile(path.join(root, 'beehive.vars'), 'ALLOWED_ORIGINS=https://a.test\nSEND_BURST=10\n# a comment\nRATE_LIMITS=\'{"login_ip":[1,60]}\'\n');
    await writeFile(path.join(root, '.dev.vars'), 'SEND_BURST=20\n');
    const vars = await userVars(root, { BEEHIVE_VAR_SEND_BURST: '30', BEEHIVE_VAR_FANOUT_RPC_LIMIT: '7', BEEHIVE_PORT_BASE: '1', BEEHIVE_VAR_: 'x' });
    expect(vars).toEqual({ ALLOWED_ORIGINS: 'https://a.test', SEND_BURST: '30', RATE_LIMITS: '{"login_ip":[1,60]}', FANOUT_RPC_LIMIT: '7' });
  });
});

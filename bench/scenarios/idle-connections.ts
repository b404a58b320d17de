/**
 * Idle connections: opens device sockets in steps (1,000 then 5,000; a modest
 * number of users with many deviceIds each), `parallel` handshakes at a time,
 * and reports the connect rate and what each socket costs the processes that
 * hold it: resident memory (VmRSS delta after a 2 s settle) and open file
 * descriptors. The relay does the same with plain `ws` as the ceiling.
 * Every user gets one socket first, kept open throughout, so the per-socket
 * figures leave out what waking each UserDO costs (reported on its own).
 *
 * wrangler dev's proxy holds ~4 descriptors per socket and its workerd dies
 * with EMFILE ("accept(): Too many open files", then a runtime restart that
 * drops every socket) near 4,700 sockets under a 20,000 open-file limit. So
 * only the first step goes through the proxy; the steps go again straight to
 * the workerd that runs the Worker, which is also the production-like figure.
 */
import { Beehive } from '../lib/beehive.ts';
import { type Ctx, type Scenario } from '../lib/context.ts';
import { directEntry, workerdRoles } from '../lib/direct.ts';
import { fdLimit, openFds, rssKb } from '../lib/procs.ts';
import type { Row } from '../lib/report.ts';
import { BenchSocket, closeAll } from '../lib/socket.ts';
import { mapLimit, now, sleep } from '../lib/timing.ts';

const FIRST_USER = 200;

/** Resident KiB and open descriptors per process role. */
type Probe = () => { rss: Record<string, number>; fds: Record<string, number> };

interface Step {
  total: number;
  perSecond: number;
  failed: number;
  firstError?: string;
  /** Per socket, per process role. */
  kib: Record<string, number>;
  fds: Record<string, number>;
  rssMb: Record<string, number>;
}

interface Ramp {
  steps: Step[];
  closeSeconds: number;
  /** Sockets the server closed while they should have stayed open. */
  dropped: number;
}

const sum = (m: Record<string, number>) => Object.values(m).reduce((t, x) => t + x, 0);
const perRole = (m: Record<string, number>, digits = 1) => Object.entries(m).map(([k, v]) => `${k} ${v.toFixed(digits)}`).join(', ');

/** Opens sockets in steps up to each level, probing the serving processes after each; closes them all at the end. */
async function ramp(levels: number[], parallel: number, open: (i: number) => Promise<BenchSocket>, probe: Probe): Promise<Ramp> {
  const sockets: BenchSocket[] = [];
  const base = probe();
  const steps: Step[] = [];
  let closeSeconds = 0;
  let dropped = 0;
  try {
    for (const level of levels) {
      const from = sockets.length;
      const t0 = now();
      let failed = 0;
      let firstError: string | undefined;
      const opened = await mapLimit(Array.from({ length: level - from }, (_, k) => from + k), parallel, (i) =>
        open(i).catch((err: Error) => {
          failed++;
          firstError ??= err.message;
          return undefined;
        }),
      );
      const seconds = (now() - t0) / 1000;
      for (const s of opened) if (s) sockets.push(s);
      await sleep(2000);
      const p = probe();
      const n = Math.max(1, sockets.length);
      const delta = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, (v - (b[k] ?? 0)) / n]));
      steps.push({
        total: sockets.length,
        perSecond: (level - from - failed) / seconds,
        failed,
        firstError,
        kib: delta(p.rss, base.rss),
        fds: delta(p.fds, base.fds),
        rssMb: Object.fromEntries(Object.entries(p.rss).map(([k, v]) => [k, v / 1024])),
      });
    }
  } finally {
    dropped = sockets.filter((s) => s.closed).length;
    const t0 = now();
    await closeAll(sockets);
    closeSeconds = (now() - t0) / 1000;
  }
  await sleep(2000); // let the servers let go of them before the next baseline
  return { steps, closeSeconds, dropped };
}

function workerdProbe(ctx: Ctx): Probe {
  return () => {
    const rss: Record<string, number> = {};
    const fds: Record<string, number> = {};
    for (const { pid, role } of workerdRoles(ctx)) {
      rss[role] = (rss[role] ?? 0) + rssKb(pid);
      fds[role] = (fds[role] ?? 0) + openFds(pid);
    }
    return { rss, fds };
  };
}

/** "; the proxy's limit allows ≈ N sockets": where the open-file limit stops the busiest workerd. */
function fdHeadroom(ctx: Ctx, fdsPerSocket: Record<string, number>): string {
  const out: string[] = [];
  for (const { pid, role } of workerdRoles(ctx)) {
    const per = fdsPerSocket[role];
    if (per && per > 0.5) out.push(`${role}: limit ${fdLimit(pid).toLocaleString('en-US')} ≈ ${Math.floor(fdLimit(pid) / per).toLocaleString('en-US')} sockets`);
  }
  return out.length ? `; ${out.join(', ')}` : '';
}

export const idleConnections: Scenario = {
  id: 'idle-connections',
  title: 'Idle connections',
  estimateSeconds: (s) => 40 + (s.idle.levels[0]! + Math.max(...s.idle.levels)) / 200,
  async run(ctx, section) {
    const { levels, users, connectParallel } = ctx.scale.idle;
    const first = levels.slice(0, 1);
    await ctx.beehive.users(FIRST_USER + users);
    const user = (i: number) => ctx.beehive.pool[FIRST_USER + (i % users)]!;
    const probe = workerdProbe(ctx);
    const relayProbe: Probe = () => ({ rss: { relay: rssKb(ctx.relayPid) }, fds: { relay: openFds(ctx.relayPid) } });

    // Wake every user's UserDO before the baselines: its memory is not a socket's.
    const before = probe();
    const warm = await mapLimit(Array.from({ length: users }, (_, i) => i), connectParallel, (i) => ctx.beehive.bh.device(user(i), 'idle-warm', 30_000));
    await sleep(2000);
    const woken = probe();
    const rows: Row[] = [];
    if (ctx.stack) {
      const kib = Object.fromEntries(Object.entries(woken.rss).map(([k, v]) => [k, (v - (before.rss[k] ?? 0)) / users]));
      rows.push({ metric: `memory per UserDO woken (its first socket)`, unit: 'KiB', beehive: sum(kib), note: `${users} users; ${perRole(kib)}` });
    }

    const direct = await directEntry(ctx);
    const paths: Array<{ label: string; ramp: Ramp; levels: number[] }> = [];
    // Through wrangler dev's proxy: the first step only (see above), unless there is no other way in.
    const proxyLevels = direct ? first : levels;
    paths.push({ label: direct ? 'via wrangler’s proxy' : 'via the API', levels: proxyLevels, ramp: await ramp(proxyLevels, connectParallel, (i) => ctx.beehive.bh.device(user(i), `idle-${i}`, 30_000), probe) });
    if (direct) {
      const bh = new Beehive(direct);
      paths.push({ label: 'direct to the Worker’s workerd', levels, ramp: await ramp(levels, connectParallel, (i) => bh.device(user(i), `direct-${i}`, 30_000), probe) });
    }
    await closeAll(warm);
    const relay = await ramp(levels, connectParallel, () => BenchSocket.open(`${ctx.relay.url}/idle`, { timeoutMs: 30_000 }), relayProbe);

    const limits = ctx.stack ? workerdRoles(ctx).map(({ pid, role }) => `${role} ${fdLimit(pid).toLocaleString('en-US')}`).join(', ') : '';
    section.scale =
      `${levels.map((n) => n.toLocaleString('en-US')).join(' then ')} device sockets (${users} users × many deviceIds), ${connectParallel} handshakes in flight; ` +
      `memory = VmRSS delta after a 2 s settle` +
      (direct ? `; through wrangler dev's proxy only ${first[0]!.toLocaleString('en-US')}: it holds ~4 descriptors per socket and its workerd crashes with EMFILE ("Too many open files") past its open-file limit (${limits}), so ${levels.at(-1)!.toLocaleString('en-US')} go straight to the Worker's workerd` : '') +
      (ctx.stack ? '' : '; memory not measured (BENCH_API: the workerd processes are not ours)');

    for (const path of paths) {
      for (const [i, b] of path.ramp.steps.entries()) {
        const c = relay.steps[i]!;
        const n = `${path.label}, ${b.total.toLocaleString('en-US')} sockets`;
        rows.push({ metric: `${n}: connect rate`, unit: 'sockets/s', beehive: b.perSecond, ceiling: c.perSecond, note: b.failed ? `${b.failed} failed to open (${b.firstError})` : '' });
        if (ctx.stack) {
          rows.push(
            { metric: `${n}: memory per socket`, unit: 'KiB', beehive: sum(b.kib), ceiling: sum(c.kib), note: `${perRole(b.kib)}; RSS now ${perRole(b.rssMb, 0)} MiB` },
            { metric: `${n}: descriptors per socket`, unit: 'fds', beehive: sum(b.fds), ceiling: sum(c.fds), note: perRole(b.fds, 2) + fdHeadroom(ctx, b.fds) },
          );
        }
        if (b.failed) section.error = `${b.failed} of ${b.total + b.failed} Beehive sockets failed to open ${path.label}: ${b.firstError}`;
      }
      if (path.ramp.dropped) section.error = `${path.ramp.dropped} Beehive sockets ${path.label} were closed by the server while idle`;
      const last = path.ramp.steps.at(-1);
      const sameCount = path.levels.at(-1) === levels.at(-1);
      rows.push({ metric: `${path.label}: close all ${last?.total.toLocaleString('en-US')}`, unit: 's', beehive: path.ramp.closeSeconds, ...(sameCount ? { ceiling: relay.closeSeconds } : {}) });
    }
    section.rows.push(...rows);
  },
};

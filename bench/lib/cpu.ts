/**
 * Who burns the CPU: CPU time per process role, sampled before and after a
 * measured window. With the messages delivered in that window this gives CPU
 * per message; with its length, how busy each role was (1.0 = one core).
 */
import type { Ctx } from './context.ts';
import { workerdRoles } from './direct.ts';
import { cpuMs, descendants, storageWriteBytes } from './procs.ts';
import type { Row } from './report.ts';

export type CpuSnapshot = Record<string, number>;

export const ROLES = {
  worker: 'workerd running the Worker and DOs',
  proxy: 'workerd: wrangler dev’s proxy',
  wrangler: 'wrangler (Node)',
  services: 'stand-ins: PGlite, Redis, QStash (Node)',
  relay: 'relay (Node)',
  harness: 'harness (this process)',
} as const;

export function cpuSnapshot(ctx: Ctx): CpuSnapshot {
  const { user, system } = process.cpuUsage();
  const out: CpuSnapshot = { harness: (user + system) / 1000, relay: cpuMs(ctx.relayPid) };
  if (ctx.stack) {
    for (const { pid, role } of workerdRoles(ctx)) {
      const key = role === 'proxy' ? 'proxy' : 'worker';
      out[key] = (out[key] ?? 0) + cpuMs(pid);
      if (role === 'Worker') out.workerStorageBytes = (out.workerStorageBytes ?? 0) + storageWriteBytes(pid);
    }
    out.wrangler = descendants(ctx.stack.workerPid)
      .filter((p) => p.cmd.includes('wrangler'))
      .reduce((t, p) => t + cpuMs(p.pid), 0);
    out.services = cpuMs(ctx.stack.hostPid);
  }
  return out;
}

/** CPU ms per role between two snapshots. */
export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): CpuSnapshot {
  return Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]));
}

/**
 * Rows: CPU per message for each role of Beehive's stack (ceiling: the relay
 * process and the harness in the relay run), and the share of a core each used.
 */
export function cpuRows(
  label: string,
  beehive: CpuSnapshot,
  messages: number,
  seconds: number,
  relay?: { cpu: CpuSnapshot; messages: number },
  roles: Array<Exclude<keyof typeof ROLES, 'relay'>> = ['worker', 'proxy', 'wrangler', 'services', 'harness'],
  what = 'message',
  storage = true,
): Row[] {
  const rows: Row[] = [];
  const per = (ms: number | undefined, n: number) => (ms === undefined || n === 0 ? null : (ms / n) * 1000);
  for (const role of roles) {
    if (beehive[role] === undefined) continue;
    const ceiling = role === 'worker' ? per(relay?.cpu.relay, relay?.messages ?? 0) : role === 'harness' ? per(relay?.cpu.harness, relay?.messages ?? 0) : undefined;
    rows.push({
      metric: `${label}CPU per ${what}: ${ROLES[role]}`,
      unit: 'µs',
      beehive: per(beehive[role], messages),
      ...(ceiling !== undefined ? { ceiling } : {}),
      note: `${((beehive[role]! / 1000 / seconds) * 100).toFixed(0)}% of a core${role === 'worker' ? '; ceiling: the relay process' : ''}`,
    });
  }
  if (storage && roles.includes('worker') && beehive.workerStorageBytes !== undefined && messages > 0) {
    rows.push({ metric: `${label}storage writes per ${what}: workerd running the Worker`, unit: 'KiB', beehive: beehive.workerStorageBytes / 1024 / messages, note: 'write_bytes from /proc/<pid>/io: Durable Object SQLite' });
  }
  return rows;
}

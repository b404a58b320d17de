/**
 * wrangler dev runs two workerd processes: a proxy on the API port and the
 * one that runs the Worker and its Durable Objects, on a port of its own.
 * Reaching the second directly shows what the proxy costs (production has no
 * such proxy) and gets around its file-descriptor appetite.
 */
import type { Ctx } from './context.ts';
import { listeningPorts, workerdProcesses } from './procs.ts';

/** "proxy" for the workerd listening on the API port, "Worker" for the other one. */
export function workerdRoles(ctx: Ctx): Array<{ pid: number; role: 'proxy' | 'Worker' }> {
  if (!ctx.stack) return [];
  const apiPort = Number(new URL(ctx.beehive.bh.api).port);
  return workerdProcesses(ctx.stack.workerPid).map((p) => ({ pid: p.pid, role: listeningPorts(p.pid).includes(apiPort) ? 'proxy' : 'Worker' }));
}

/** The port of the workerd that runs the Worker itself (not wrangler's proxy on the API port), if it can be found. */
export async function directEntry(ctx: Ctx): Promise<string | undefined> {
  if (!ctx.stack) return undefined;
  const apiPort = Number(new URL(ctx.beehive.bh.api).port);
  for (const p of workerdProcesses(ctx.stack.workerPid)) {
    const ports = listeningPorts(p.pid);
    if (ports.includes(apiPort)) continue; // the proxy
    for (const port of ports) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
        if (res.ok && (await res.text()).includes('ok')) return `http://127.0.0.1:${port}`;
      } catch {
        /* the inspector or debug port */
      }
    }
  }
  return undefined;
}


/**
 * Processes of the bench's stack, read from /proc (Linux): the descendants
 * of a pid, what they run, and their resident memory (VmRSS).
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** The command line, space-joined. */
  cmd: string;
  rssKb: number;
}

function read(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) is in parentheses and may hold spaces: ppid is the 2nd field after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { pid, ppid, cmd, rssKb: rss ? Number(rss[1]) : 0 };
  } catch {
    return undefined; // gone meanwhile, or a kernel thread
  }
}

function all(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = read(Number(name));
    if (p) out.push(p);
  }
  return out;
}

/** Every live descendant of `root` (not `root` itself). */
export function descendants(root: number): ProcInfo[] {
  const procs = all();
  const children = new Map<number, ProcInfo[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: ProcInfo[] = [];
  const stack = [root];
  while (stack.length) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c.pid);
    }
  }
  return out;
}

export function alive(pid: number): boolean {
  return read(pid) !== undefined;
}

export function rssKb(pid: number): number {
  return read(pid)?.rssKb ?? 0;
}

/** The workerd processes under `root` (wrangler dev runs one or more), with their RSS. */
export function workerdProcesses(root: number): ProcInfo[] {
  return descendants(root).filter((p) => /(^|\/)workerd(\s|$)/.test(p.cmd.split(' ')[0] ?? '') || / serve /.test(p.cmd) && p.cmd.includes('workerd'));
}

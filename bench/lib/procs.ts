/**
 * Processes of the bench's stack, read from /proc (Linux): the descendants
 * of a pid, what they run, and their resident memory (VmRSS).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

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

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system) `pid` has used so far, in ms (resolution: one clock tick, usually 10 ms). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the comm.
    return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1000;
  } catch {
    return 0;
  }
}

/** Bytes `pid` caused to be written to storage so far (`write_bytes` in /proc/<pid>/io). */
export function storageWriteBytes(pid: number): number {
  try {
    return Number(/write_bytes: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

export function alive(pid: number): boolean {
  return read(pid) !== undefined;
}

/** How many file descriptors `pid` holds open (sockets included). */
export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** The soft limit on open files of `pid` (`Max open files` in /proc/<pid>/limits). */
export function fdLimit(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    return Number(line?.split(/\s{2,}/)[1]) || 0;
  } catch {
    return 0;
  }
}

export function rssKb(pid: number): number {
  return read(pid)?.rssKb ?? 0;
}

/** The workerd processes under `root` (wrangler dev runs one or more), with their RSS. */
export function workerdProcesses(root: number): ProcInfo[] {
  return descendants(root).filter((p) => /(^|\/)workerd$/.test(p.cmd.split(' ')[0] ?? ''));
}

/** TCP ports `pid` listens on (matched through its socket inodes in /proc/net/tcp{,6}). */
export function listeningPorts(pid: number): number[] {
  const listening = new Map<string, number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') listening.set(cols[9]!, parseInt(cols[1]!.split(':')[1]!, 16)); // 0A = LISTEN
    }
  }
  const ports: number[] = [];
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode && listening.has(inode)) ports.push(listening.get(inode)!);
      } catch {
        /* fd closed meanwhile */
      }
    }
  } catch {
    /* process gone */
  }
  return ports;
}

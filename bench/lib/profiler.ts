/**
 * A V8 CPU profile of the Worker's isolate (the Worker and both Durable
 * Object classes run in it), taken through the inspector port wrangler dev
 * exposes, with the Chrome DevTools protocol's Profiler domain. Self time is
 * attributed to the function and module it runs in (project modules) or to
 * the package (node_modules): the bundle esbuild writes marks each
 * module with a `// path/to/module` comment, and the script source is read
 * back through the Debugger domain. Time in a built-in (SqlStorage.exec, an
 * RPC stub, TextEncoder…) is charged to the module that called it — V8 itself
 * sometimes does so for fast calls, so only the sum is stable — and also
 * counted apart as `builtinMs`.
 *
 * Open the session when the stack starts and keep it for the whole run:
 * wrangler dev's inspector proxy holds on to the isolate's events (console
 * output of every request) until a client drains them, so a session opened
 * after minutes of load first receives a backlog of hundreds of MB (and the
 * proxy's memory grows meanwhile). This client drops events unparsed.
 */
import WebSocket from 'ws';
import { withTimeout } from './timing.ts';

export interface ProfileEntry {
  where: string;
  ms: number;
  /** Of `ms`, the time spent in built-ins this module called. */
  builtinMs: number;
}

export interface ProfileSummary {
  /** Sampled time, idle excluded. */
  busyMs: number;
  idleMs: number;
  entries: ProfileEntry[];
}

interface CallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

class Cdp {
  private id = 0;
  private readonly pending = new Map<number, (msg: { result?: any; error?: { message: string } }) => void>();
  readonly ws: WebSocket;

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      // Responses start with {"id": — events ({"method": …}) are dropped without parsing.
      if (data.subarray(0, 6).toString() !== '{"id":') return;
      const msg = JSON.parse(data.toString());
      this.pending.get(msg.id)?.(msg);
    });
  }

  async call(method: string, params: Record<string, unknown> = {}): Promise<any> {
    const id = ++this.id;
    const reply = new Promise<{ result?: any; error?: { message: string } }>((resolve) => this.pending.set(id, resolve));
    this.ws.send(JSON.stringify({ id, method, params }));
    const msg = await withTimeout(reply, 30_000, method);
    this.pending.delete(id);
    if (msg.error) throw new Error(`${method}: ${msg.error.message}`);
    return msg.result;
  }
}

/** `node_modules/@scope/pkg/dist/x.js` → `@scope/pkg`; project files stay as they are. */
function moduleName(path: string): string {
  const i = path.lastIndexOf('node_modules/');
  if (i < 0) return path;
  const rest = path.slice(i + 'node_modules/'.length).split('/');
  return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
}

/** The inspector's DevTools socket for the Worker's isolate (a few tries: wrangler's inspector proxy can be slow to answer under load). */
async function connectInspector(inspectorPort: number): Promise<WebSocket> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    let ws: WebSocket | undefined;
    try {
      const res = await fetch(`http://127.0.0.1:${inspectorPort}/json`, { signal: AbortSignal.timeout(10_000) });
      const targets = (await res.json()) as Array<{ webSocketDebuggerUrl: string }>;
      if (!targets[0]) throw new Error('the inspector lists no target');
      const socket = new WebSocket(targets[0].webSocketDebuggerUrl, { perMessageDeflate: false, maxPayload: 512 * 1024 * 1024 });
      ws = socket;
      await withTimeout(new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject))), 10_000, 'inspector');
      return socket;
    } catch (err) {
      last = err;
      ws?.terminate();
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  throw new Error(`cannot reach wrangler dev's inspector on port ${inspectorPort}: ${(last as Error)?.message ?? String(last)}`);
}

/** A DevTools session on the Worker's isolate, kept open from the start of the run. */
export class WorkerInspector {
  private readonly ws: WebSocket;
  private readonly cdp: Cdp;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.cdp = new Cdp(ws);
  }

  static async connect(inspectorPort: number): Promise<WorkerInspector> {
    return new WorkerInspector(await connectInspector(inspectorPort));
  }

  close(): void {
    this.ws.close();
  }

  /** Profiles the Worker's isolate while `run` runs. */
  profile(run: () => Promise<void>): Promise<ProfileSummary> {
    return profileWith(this.cdp, run);
  }
}

async function profileWith(cdp: Cdp, run: () => Promise<void>): Promise<ProfileSummary> {
  await cdp.call('Profiler.enable');
  await cdp.call('Profiler.setSamplingInterval', { interval: 200 }); // µs
  await cdp.call('Profiler.start');
  let profile: Profile;
  try {
    await run();
  } finally {
    profile = (await cdp.call('Profiler.stop')).profile as Profile;
    await cdp.call('Profiler.disable');
  }

  // Which module each line of each sampled script belongs to.
  await cdp.call('Debugger.enable');
  const modules = new Map<string, Array<{ line: number; name: string }>>();
  for (const scriptId of new Set(profile.nodes.filter((n) => n.callFrame.url).map((n) => n.callFrame.scriptId))) {
    const { scriptSource } = (await cdp.call('Debugger.getScriptSource', { scriptId })) as { scriptSource: string };
    const marks: Array<{ line: number; name: string }> = [];
    scriptSource.split('\n').forEach((text, line) => {
      const m = /^\/\/ (\S+\.(?:ts|js|mjs|cjs))$/.exec(text);
      if (m) marks.push({ line, name: moduleName(m[1]!) });
    });
    modules.set(scriptId, marks);
  }
  await cdp.call('Debugger.disable');
  const moduleOf = (f: CallFrame): string => {
    const marks = modules.get(f.scriptId) ?? [];
    let name = f.url.split('/').pop() || '?';
    for (const m of marks) {
      if (m.line > f.lineNumber) break;
      name = m.name;
    }
    // Our own modules by function (the send path's steps); packages as a whole.
    return /^(durable-objects|workers|protocol|db)\//.test(name) ? `${name} › ${f.functionName || '(anonymous)'}()` : name;
  };

  const self = new Map<number, number>();
  profile.samples.forEach((node, i) => self.set(node, (self.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const parent = new Map<number, ProfileNode>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const totals = new Map<string, { us: number; builtin: number }>();
  let idle = 0;
  for (const n of profile.nodes) {
    const us = self.get(n.id) ?? 0;
    if (!us) continue;
    const f = n.callFrame;
    let where: string;
    let builtin = 0;
    if (f.functionName === '(idle)') {
      idle += us;
      continue;
    } else if (f.url) {
      where = moduleOf(f);
    } else if (f.functionName.startsWith('(')) {
      where = f.functionName; // (program), (garbage collector)
    } else {
      let caller = parent.get(n.id);
      while (caller && !caller.callFrame.url && caller.callFrame.functionName !== '(root)') caller = parent.get(caller.id);
      where = caller?.callFrame.url ? moduleOf(caller.callFrame) : 'built-ins called by the runtime';
      builtin = us;
    }
    const t = totals.get(where) ?? { us: 0, builtin: 0 };
    t.us += us;
    t.builtin += builtin;
    totals.set(where, t);
  }
  const entries = [...totals].map(([where, t]) => ({ where, ms: t.us / 1000, builtinMs: t.builtin / 1000 })).sort((a, b) => b.ms - a.ms);
  return { busyMs: entries.reduce((t, e) => t + e.ms, 0), idleMs: idle / 1000, entries };
}

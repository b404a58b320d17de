/** What every scenario gets: the two targets, the stack's processes, the scale and the time budget. */
import type { WorkerInspector } from './profiler.ts';
import type { Section } from './report.ts';
import type { BeehiveTarget, RelayTarget } from './targets.ts';

export interface Scale {
  overhead: { echo: number; records: number };
  latency: { warmup: number; count: number };
  throughput: { window: number; seconds: number };
  parallel: { levels: number[]; window: number; seconds: number };
  fanout: { sizes: number[]; messages: number; warmup: number };
  history: { messages: number; pages: number; listCalls: number };
  idle: { levels: number[]; users: number; connectParallel: number };
  breakdown: { count: number };
}

export interface StackInfo {
  /** The guard process of `wrangler dev` (its descendants are wrangler and workerd). */
  workerPid: number;
  /** The process that runs the stand-ins (PGlite, Redis, QStash, mailbox). */
  hostPid: number;
  /** wrangler dev's inspector (DevTools protocol) for the Worker's isolate. */
  inspectorPort: number;
  /** Postgres as the Worker reaches it (to see what the outbox flushed). */
  databaseUrl: string;
  neonProxy: string;
}

export interface Ctx {
  beehive: BeehiveTarget;
  relay: RelayTarget;
  relayPid: number;
  /** Set when the bench started the stack itself; absent with BENCH_API. */
  stack?: StackInfo;
  /** A DevTools session on the Worker's isolate, opened with the stack (when the profile runs). */
  inspector?: WorkerInspector;
  scale: Scale;
  /** Figures one scenario leaves for a later one (the send-path breakdown), e.g. `latency.delivery.p50`. */
  facts: Record<string, number>;
  /** Milliseconds left in the run's time budget. */
  left(): number;
  log(msg: string): void;
}

/** Runs `fn` against `target` and closes every socket it opened, whatever happens. */
export async function using<T extends { closeDevices(): Promise<void> }, R>(target: T, fn: (t: T) => Promise<R>): Promise<R> {
  try {
    return await fn(target);
  } finally {
    await target.closeDevices();
  }
}

export interface Scenario {
  id: string;
  title: string;
  /** Rough seconds it needs; skipped when the budget has less. */
  estimateSeconds(scale: Scale): number;
  run(ctx: Ctx, section: Section): Promise<void>;
}

/**
 * Where the Worker's CPU goes on the 1:1 send path: a V8 CPU profile of the
 * Worker's isolate (lib/profiler.ts), as time per message by module, twice:
 * one message at a time, then pipelined (a window of 100 in flight). Only
 * when the bench started the stack (it needs wrangler dev's inspector port).
 * Profiling slows the isolate down: read the shares, not the latencies. V8
 * may charge a fast built-in call to its JS caller, so a module's own time
 * can include some of the SQLite or socket work it asked for.
 */
import { using, type Scenario } from '../lib/context.ts';
import { Flow, oneByOne, pipeline, type Room } from '../lib/flow.ts';
import type { ProfileSummary, WorkerInspector } from '../lib/profiler.ts';
import { addCorrectness, emptyCorrectness, type Row } from '../lib/report.ts';
import { room } from '../lib/targets.ts';
import { now } from '../lib/timing.ts';

const PAIR = [7, 8];
const TOP = 16;
const WINDOW = 100;

interface Run {
  summary: ProfileSummary;
  messages: number;
  seconds: number;
  flow: Flow;
}

async function profiled(inspector: WorkerInspector, r: Room, tag: string, drive: (flow: Flow) => Promise<void>): Promise<Run> {
  const flow = new Flow(tag);
  flow.add(r);
  let seconds = 0;
  const summary = await inspector.profile(async () => {
    const t0 = now();
    await drive(flow);
    seconds = (now() - t0) / 1000;
  });
  return { summary, messages: flow.delivered, seconds, flow };
}

export const profile: Scenario = {
  id: 'profile',
  title: 'Where the Worker’s CPU goes (V8 profile, 1:1 messages)',
  estimateSeconds: (s) => 20 + s.breakdown.count * 0.03,
  async run(ctx, section) {
    const count = ctx.scale.breakdown.count;
    const seconds = Math.max(2, Math.round(count / 100));
    const inspector = ctx.inspector;
    if (!inspector) {
      section.skipped = ctx.stack ? 'wrangler dev’s inspector did not answer when the stack started' : 'needs the inspector of a stack the bench started (not BENCH_API)';
      return;
    }
    const correctness = emptyCorrectness();
    const [single, piped] = await using(ctx.beehive, async (t) => {
      const r = await room(t, 'single', PAIR);
      const warm = new Flow('profile-warm');
      warm.add(r);
      warm.recording = false;
      await oneByOne(warm, r, 20, 30_000);
      addCorrectness(correctness, await warm.finish());
      const a = await profiled(inspector, r, 'profile-one', async (flow) => void (await oneByOne(flow, r, count, 60_000)));
      addCorrectness(correctness, await a.flow.finish());
      const b = await profiled(inspector, r, 'profile-piped', async (flow) => void (await pipeline(flow, [r], WINDOW, seconds * 1000)));
      addCorrectness(correctness, await b.flow.finish());
      return [a, b];
    });
    section.correctness = correctness;
    section.scale = `${single.messages} messages one at a time, then ${seconds} s pipelined (window ${WINDOW}: ${piped.messages} messages), under the profiler (200 µs sampling); the top ${TOP} places by self time`;
    section.labels = { beehive: 'one at a time', ceiling: `pipelined (window ${WINDOW})`, noRatio: true };
    const per = (run: Run, ms: number | undefined) => (ms === undefined || run.messages === 0 ? null : (ms / run.messages) * 1000);
    const share = (run: Run, ms: number | undefined) => (ms === undefined ? '—' : `${((ms / run.summary.busyMs) * 100).toFixed(0)}%`);
    const rows: Row[] = [
      { metric: 'delivery latency while profiled', unit: 'ms', beehive: single.flow.delivery.summary(), ceiling: piped.flow.delivery.summary() },
      { metric: 'delivered while profiled', unit: 'msg/s', beehive: single.messages / single.seconds, ceiling: piped.messages / piped.seconds },
      {
        metric: 'isolate busy per message (all places)',
        unit: 'µs',
        beehive: per(single, single.summary.busyMs),
        ceiling: per(piped, piped.summary.busyMs),
        note: `busy ${((single.summary.busyMs / 1000 / single.seconds) * 100).toFixed(0)}% / ${((piped.summary.busyMs / 1000 / piped.seconds) * 100).toFixed(0)}% of the wall time`,
      },
    ];
    const pipedBy = new Map(piped.summary.entries.map((e) => [e.where, e]));
    const singleBy = new Map(single.summary.entries.map((e) => [e.where, e]));
    const places = [...new Set([...single.summary.entries.slice(0, TOP), ...piped.summary.entries.slice(0, TOP)].map((e) => e.where))];
    places.sort((x, y) => (singleBy.get(y)?.ms ?? 0) - (singleBy.get(x)?.ms ?? 0));
    for (const where of places) {
      const a = singleBy.get(where);
      const b = pipedBy.get(where);
      const builtins = a?.builtinMs || b?.builtinMs ? `; of which built-ins (SqlStorage, WebSocket, RPC…): ${per(single, a?.builtinMs)?.toFixed(0) ?? '—'} / ${per(piped, b?.builtinMs)?.toFixed(0) ?? '—'} µs` : '';
      rows.push({ metric: where, unit: 'µs', beehive: per(single, a?.ms), ceiling: per(piped, b?.ms), note: `${share(single, a?.ms)} / ${share(piped, b?.ms)} of busy${builtins}` });
    }
    section.rows.push(...rows);
  },
};

/**
 * 1:1 delivery latency: one message at a time in a single conversation, the
 * next sent only once the previous one is acked and delivered. Beehive's
 * conversation is a real single conversation between two friends.
 */
import { using, type Scenario } from '../lib/context.ts';
import { cpuDelta, cpuRows, cpuSnapshot, type CpuSnapshot } from '../lib/cpu.ts';
import { Flow, oneByOne } from '../lib/flow.ts';
import { room, type Target } from '../lib/targets.ts';

export const oneToOneLatency: Scenario = {
  id: 'one-to-one-latency',
  title: '1:1 delivery latency (one message at a time)',
  estimateSeconds: (s) => 10 + (s.latency.warmup + s.latency.count) * 0.015,
  async run(ctx, section) {
    const { warmup, count } = ctx.scale.latency;
    section.scale = `${count} messages one at a time after ${warmup} warm-up; one sender device, one recipient device`;
    const measure = (target: Target) =>
      using(target, async () => {
        const r = await room(target, 'single', [1, 2]);
        const flow = new Flow(`latency-${target.name}`);
        flow.add(r);
        flow.recording = false;
        await oneByOne(flow, r, warmup, 60_000);
        flow.recording = true;
        const before = cpuSnapshot(ctx);
        const t0 = performance.now();
        const sent = await oneByOne(flow, r, count, Math.max(10_000, ctx.left() / 4));
        const seconds = (performance.now() - t0) / 1000;
        const cpu: CpuSnapshot = cpuDelta(before, cpuSnapshot(ctx));
        const correctness = await flow.finish();
        return { flow, correctness, sent, cpu, seconds };
      });
    const b = await measure(ctx.beehive);
    const c = await measure(ctx.relay);
    if (b.sent < count) section.scale += ` (Beehive stopped at ${b.sent}: time budget)`;
    section.rows.push(
      { metric: 'delivery: send() → recipient message.new', unit: 'ms', beehive: b.flow.delivery.summary(), ceiling: c.flow.delivery.summary() },
      { metric: 'ack: send() → sender message.ack', unit: 'ms', beehive: b.flow.ack.summary(), ceiling: c.flow.ack.summary() },
      ...cpuRows('', b.cpu, b.flow.delivered, b.seconds, { cpu: c.cpu, messages: c.flow.delivered }, ['worker', 'proxy', 'wrangler']),
    );
    section.correctness = b.correctness;
    section.ceilingCorrectness = c.correctness;
    const d = b.flow.delivery.summary();
    const a = b.flow.ack.summary();
    Object.assign(ctx.facts, { 'latency.delivery.p50': d.p50, 'latency.ack.p50': a.p50, 'ceiling.delivery.p50': c.flow.delivery.summary().p50 });
  },
};

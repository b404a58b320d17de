/**
 * 1:1 sustained throughput: one sender pipelines into one conversation with a
 * bounded window of in-flight messages (a message leaves the window once it is
 * acked and delivered), for a fixed time, after a short warm-up.
 */
import { using, type Scenario } from '../lib/context.ts';
import { cpuDelta, cpuRows, cpuSnapshot } from '../lib/cpu.ts';
import { Flow, pipeline } from '../lib/flow.ts';
import { addCorrectness, emptyCorrectness } from '../lib/report.ts';
import { room, type Target } from '../lib/targets.ts';

export const oneToOneThroughput: Scenario = {
  id: 'one-to-one-throughput',
  title: '1:1 sustained throughput (one sender, pipelined)',
  estimateSeconds: (s) => 2 * (s.throughput.seconds + 3) + 5,
  async run(ctx, section) {
    const { window, seconds } = ctx.scale.throughput;
    section.scale = `${seconds} s per target after 1 s warm-up; window of ${window} messages in flight (sent, not yet acked and delivered)`;
    const measure = (target: Target) =>
      using(target, async () => {
        const r = await room(target, 'single', [3, 4]);
        const correctness = emptyCorrectness();
        const warm = new Flow(`tput-warm-${target.name}`);
        warm.add(r);
        warm.recording = false;
        await pipeline(warm, [r], window, 1000);
        addCorrectness(correctness, await warm.finish());
        const flow = new Flow(`tput-${target.name}`);
        flow.add(r);
        const before = cpuSnapshot(ctx);
        const { elapsedMs } = await pipeline(flow, [r], window, seconds * 1000);
        const cpu = cpuDelta(before, cpuSnapshot(ctx));
        addCorrectness(correctness, await flow.finish());
        const s = elapsedMs / 1000;
        return { flow, correctness, cpu, seconds: s, ackedPerS: flow.acked / s, deliveredPerS: flow.delivered / s };
      });
    const b = await measure(ctx.beehive);
    const c = await measure(ctx.relay);
    section.rows.push(
      { metric: 'acked', unit: 'msg/s', beehive: b.ackedPerS, ceiling: c.ackedPerS, note: `${b.flow.acked.toLocaleString('en-US')} vs ${c.flow.acked.toLocaleString('en-US')} messages` },
      { metric: 'delivered', unit: 'msg/s', beehive: b.deliveredPerS, ceiling: c.deliveredPerS },
      { metric: 'delivery latency under load', unit: 'ms', beehive: b.flow.delivery.summary(), ceiling: c.flow.delivery.summary() },
      { metric: 'ack latency under load', unit: 'ms', beehive: b.flow.ack.summary(), ceiling: c.flow.ack.summary() },
      ...cpuRows('', b.cpu, b.flow.delivered, b.seconds, { cpu: c.cpu, messages: c.flow.delivered }),
    );
    section.correctness = b.correctness;
    section.ceilingCorrectness = c.correctness;
    Object.assign(ctx.facts, { 'throughput.delivered': b.deliveredPerS });
  },
};

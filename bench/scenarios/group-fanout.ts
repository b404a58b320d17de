/**
 * Group fan-out: the owner sends into groups of 10, 100, 101 and 500
 * members, one message at a time; every other member has one device online.
 * Per message: time to the first and to the last recipient; per recipient:
 * delivery latency. The bench stack sets FANOUT_RPC_LIMIT=100, so 10 and 100
 * members go by direct RPC to each member's UserDO, 101 and 500 through
 * QStash (batches of 100 posted back to /internal/jobs/deliver); 100 vs 101
 * isolates the QStash hop. Groups are capped at 500
 * members (GROUP_MAX_MEMBERS): 1,000 would need the cap raised.
 */
import { using, type Scenario } from '../lib/context.ts';
import { Flow, oneByOne } from '../lib/flow.ts';
import { addCorrectness, emptyCorrectness } from '../lib/report.ts';
import { room, type Target } from '../lib/targets.ts';

/** The bench stack's FANOUT_RPC_LIMIT (run.ts). */
export const FANOUT_RPC_LIMIT = 100;

export const groupFanout: Scenario = {
  id: 'group-fanout',
  title: 'Group fan-out',
  estimateSeconds: (s) => 40 + s.fanout.sizes.reduce((t, n) => t + (s.fanout.messages + s.fanout.warmup) * (n / 100 + 0.2), 0) + Math.max(...s.fanout.sizes) * 0.08,
  async run(ctx, section) {
    const { sizes, messages, warmup } = ctx.scale.fanout;
    section.scale = `groups of ${sizes.join(', ')} members (owner included); ${messages} messages each, one at a time, after ${warmup} warm-up; every member but the sender has one device online. 1,000 members would need GROUP_MAX_MEMBERS (500) raised`;
    const measure = (target: Target) =>
      using(target, async () => {
        const correctness = emptyCorrectness();
        const out = [];
        for (const size of sizes) {
          const r = await room(target, 'group', Array.from({ length: size }, (_, i) => i));
          const flow = new Flow(`fan${size}-${target.name}`);
          flow.add(r);
          flow.recording = false;
          await oneByOne(flow, r, warmup, 60_000);
          flow.recording = true;
          await oneByOne(flow, r, messages, Math.max(10_000, ctx.left() / 6));
          addCorrectness(correctness, await flow.finish());
          out.push({ size, flow });
        }
        return { out, correctness };
      });
    const b = await measure(ctx.beehive);
    const c = await measure(ctx.relay);
    for (const [i, x] of b.out.entries()) {
      const y = c.out[i]!;
      const path = x.size > FANOUT_RPC_LIMIT ? 'QStash' : 'RPC';
      const label = `${x.size} members (${path})`;
      const first = x.flow.first.summary();
      const last = x.flow.last.summary();
      section.rows.push(
        { metric: `${label}: first recipient`, unit: 'ms', beehive: first, ceiling: y.flow.first.summary(), note: `${first.count} messages` },
        { metric: `${label}: last recipient`, unit: 'ms', beehive: last, ceiling: y.flow.last.summary() },
        { metric: `${label}: every recipient`, unit: 'ms', beehive: x.flow.delivery.summary(), ceiling: y.flow.delivery.summary(), note: `${x.flow.delivery.count.toLocaleString('en-US')} deliveries` },
      );
      Object.assign(ctx.facts, {
        [`fanout.${x.size}.first.p50`]: first.p50,
        [`fanout.${x.size}.last.p50`]: last.p50,
      });
    }
    section.correctness = b.correctness;
    section.ceilingCorrectness = c.correctness;
  },
};

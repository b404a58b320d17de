/**
 * Many conversations at once: 1, 8, 64… pairs of users, each sender
 * pipelining into its own single conversation for a fixed time. Reports the
 * aggregate rate: how Beehive spreads over Durable Objects (one
 * ConversationDO and two UserDOs per pair).
 */
import { using, type Scenario } from '../lib/context.ts';
import { cpuDelta, cpuRows, cpuSnapshot } from '../lib/cpu.ts';
import { Flow, pipeline, type Room } from '../lib/flow.ts';
import { addCorrectness, emptyCorrectness } from '../lib/report.ts';
import { room, type Target } from '../lib/targets.ts';
import { mapLimit } from '../lib/timing.ts';

/** Pair i is users (FIRST + 2i, FIRST + 2i + 1). */
const FIRST = 10;

export const parallelConversations: Scenario = {
  id: 'parallel-conversations',
  title: 'Many conversations in parallel (aggregate)',
  estimateSeconds: (s) => 2 * s.parallel.levels.length * (s.parallel.seconds + 2) + 15,
  async run(ctx, section) {
    const { levels, window, seconds } = ctx.scale.parallel;
    section.scale = `${levels.join(', ')} conversations, each with its own sender pipelining (window ${window}) for ${seconds} s; one recipient device each`;
    const measure = (target: Target) =>
      using(target, async () => {
        const max = Math.max(...levels);
        await target.users(FIRST + 2 * max);
        const rooms: Room[] = await mapLimit(Array.from({ length: max }, (_, i) => i), 8, (i) => room(target, 'single', [FIRST + 2 * i, FIRST + 2 * i + 1]));
        const correctness = emptyCorrectness();
        const out = [];
        for (const level of levels) {
          const flow = new Flow(`par${level}-${target.name}`);
          for (const r of rooms.slice(0, level)) flow.add(r);
          const before = cpuSnapshot(ctx);
          const { elapsedMs } = await pipeline(flow, rooms.slice(0, level), window, seconds * 1000);
          const cpu = cpuDelta(before, cpuSnapshot(ctx));
          addCorrectness(correctness, await flow.finish());
          out.push({ level, flow, cpu, seconds: elapsedMs / 1000, ackedPerS: flow.acked / (elapsedMs / 1000), deliveredPerS: flow.delivered / (elapsedMs / 1000) });
        }
        return { out, correctness };
      });
    const b = await measure(ctx.beehive);
    const c = await measure(ctx.relay);
    for (const [i, x] of b.out.entries()) {
      const y = c.out[i]!;
      section.rows.push(
        { metric: `${x.level} conversation${x.level > 1 ? 's' : ''}: delivered`, unit: 'msg/s', beehive: x.deliveredPerS, ceiling: y.deliveredPerS, note: `acked ${Math.round(x.ackedPerS)} msg/s` },
        { metric: `${x.level} conversation${x.level > 1 ? 's' : ''}: delivery latency`, unit: 'ms', beehive: x.flow.delivery.summary(), ceiling: y.flow.delivery.summary() },
      );
    }
    const top = b.out.at(-1);
    const topCeiling = c.out.at(-1);
    if (top && topCeiling) section.rows.push(...cpuRows(`${top.level} conversations: `, top.cpu, top.flow.delivered, top.seconds, { cpu: topCeiling.cpu, messages: topCeiling.flow.delivered }));
    section.correctness = b.correctness;
    section.ceilingCorrectness = c.correctness;
  },
};

/**
 * Where the time goes on the send path. Interleaved, one at a time, on one
 * pair of users (and the same on the relay):
 *   - GET /health: the Worker alone (no Durable Object), over HTTP;
 *   - WS ping → pong: client ⇄ the user's UserDO (hibernatable socket);
 *   - typing A → B: UserDO(A) → ConversationDO → UserDO(B), nothing stored;
 *   - a message: the same hops plus validation, the SQLite commit (the
 *     output gate holds the ack until it is durable) and the recipient
 *     UserDO's index write.
 * When the bench started the stack, the same loop runs again straight against
 * the workerd that runs the Worker, bypassing wrangler dev's proxy (another
 * workerd in front of it), which shows what that proxy costs.
 * The last rows derive the parts from medians of this and earlier scenarios.
 */
import { Beehive } from '../lib/beehive.ts';
import { using, type Ctx, type Scenario } from '../lib/context.ts';
import { Flow, type Room } from '../lib/flow.ts';
import { Latency, type LatencySummary } from '../lib/histogram.ts';
import { cpuDelta, cpuRows, cpuSnapshot } from '../lib/cpu.ts';
import { directEntry } from '../lib/direct.ts';
import type { Correctness } from '../lib/flow.ts';
import { addCorrectness, emptyCorrectness, type Row } from '../lib/report.ts';
import { BenchSocket, type Frame } from '../lib/socket.ts';
import { room } from '../lib/targets.ts';
import { now, withTimeout } from '../lib/timing.ts';

const PAIR = [5, 6];
const WARMUP = 20;

/** Resolves with the arrival time of the next frame of `type` on `socket` (frames the flow wants pass through). */
function nextOf(socket: BenchSocket, type: string, through: (f: Frame, at: number) => void): Promise<number> {
  return withTimeout(
    new Promise<number>((resolve) => {
      socket.onFrame = (f, at) => {
        if (f.type === type) {
          socket.onFrame = through;
          resolve(at);
        } else through(f, at);
      };
    }),
    10_000,
    `waiting for ${type}`,
  );
}

interface Loop {
  health: Latency;
  ping: Latency;
  typing: Latency;
  flow: Flow;
}

/** The interleaved rounds on one Beehive room (through `api`). */
async function beehiveLoop(api: string, r: Room, flow: Flow, count: number): Promise<Loop> {
  const out: Loop = { health: new Latency(), ping: new Latency(), typing: new Latency(), flow };
  const recipient = r.recipients[0]!;
  const senderThrough = r.sender.onFrame;
  const recipientThrough = recipient.onFrame;
  for (let i = 0; i < WARMUP + count; i++) {
    const record = i >= WARMUP;
    flow.recording = record;
    let t0 = now();
    const res = await fetch(`${api}/health`);
    await res.arrayBuffer();
    if (record) out.health.record(now() - t0);

    const pong = nextOf(r.sender, 'pong', senderThrough);
    t0 = now();
    r.sender.send({ type: 'ping' });
    let at = await pong;
    if (record) out.ping.record(at - t0);

    const typed = nextOf(recipient, 'typing', recipientThrough);
    t0 = now();
    r.sender.send({ type: 'typing', conversationId: r.conversationId });
    at = await typed;
    if (record) out.typing.record(at - t0);

    await flow.send(r);
  }
  return out;
}

/** The ceiling's rounds: an echo round trip (for ping) and a relayed message. */
async function relayLoop(ctx: Ctx, count: number): Promise<{ ping: Latency; flow: Flow; correctness: Correctness }> {
  return using(ctx.relay, async (t) => {
    const r = await room(t, 'single', PAIR);
    const flow = new Flow('path-relay');
    flow.add(r);
    const echo = await BenchSocket.open(`${t.url}/echo`);
    const ping = new Latency();
    try {
      for (let i = 0; i < WARMUP + count; i++) {
        const record = i >= WARMUP;
        flow.recording = record;
        const back = withTimeout(new Promise<number>((resolve) => (echo.onFrame = (_f, at) => resolve(at))), 10_000, 'echo');
        const t0 = now();
        echo.send({ type: 'ping' });
        const at = await back;
        if (record) ping.record(at - t0);
        await flow.send(r);
      }
    } finally {
      await echo.close();
    }
    return { ping, flow, correctness: await flow.finish() };
  });
}

const p50 = (s: LatencySummary | undefined) => s?.p50 ?? NaN;

export const sendPath: Scenario = {
  id: 'send-path',
  title: 'Where the time goes on the send path',
  estimateSeconds: (s) => 15 + s.breakdown.count * 0.06,
  async run(ctx, section) {
    const { count } = ctx.scale.breakdown;
    const correctness = emptyCorrectness();
    const beehive = await using(ctx.beehive, async (t) => {
      const r = await room(t, 'single', PAIR);
      const flow = new Flow('path-proxy');
      flow.add(r);
      const res = await beehiveLoop(t.bh.api, r, flow, count);
      addCorrectness(correctness, await flow.finish());
      return res;
    });
    const url = await directEntry(ctx);
    let direct: Loop | undefined;
    if (url) {
      const [a, b] = PAIR.map((u) => ctx.beehive.pool[u]!);
      const bh = new Beehive(url);
      const conversationId = await ctx.beehive.conversation('single', PAIR);
      const sockets = await Promise.all([bh.device(a!, 'direct-send'), bh.device(b!, 'direct-recv')]);
      try {
        const flow = new Flow('path-direct');
        const r: Room = { conversationId, sender: sockets[0], recipients: [sockets[1]] };
        flow.add(r);
        direct = await beehiveLoop(url, r, flow, count);
        addCorrectness(correctness, await flow.finish());
      } finally {
        await Promise.all(sockets.map((s) => s.close()));
      }
    }
    const relay = await relayLoop(ctx, count);
    // What one plain HTTP request costs each process (the REST floor under wrangler dev).
    const before = cpuSnapshot(ctx);
    const t0 = now();
    for (let i = 0; i < count; i++) await (await fetch(`${ctx.beehive.bh.api}/health`)).arrayBuffer();
    const healthCpu = cpuDelta(before, cpuSnapshot(ctx));
    const healthSeconds = (now() - t0) / 1000;
    section.scale = `${count} rounds after ${WARMUP} warm-up, one at a time; a round: GET /health, WS ping, typing, one message${url ? '; then the same straight to the Worker’s workerd' : ''}`;
    section.correctness = correctness;
    section.ceilingCorrectness = relay.correctness;
    const rows: Row[] = [];
    const b = { health: beehive.health.summary(), ping: beehive.ping.summary(), typing: beehive.typing.summary(), ack: beehive.flow.ack.summary(), delivery: beehive.flow.delivery.summary() };
    const c = { ping: relay.ping.summary(), ack: relay.flow.ack.summary(), delivery: relay.flow.delivery.summary() };
    rows.push(
      { metric: 'GET /health (Worker only, no DO)', unit: 'ms', beehive: b.health },
      { metric: 'WS ping → pong (client ⇄ UserDO)', unit: 'ms', beehive: b.ping, ceiling: c.ping, note: 'ceiling: echo' },
      { metric: 'typing A → B (UserDO → ConversationDO → UserDO, no storage)', unit: 'ms', beehive: b.typing, ceiling: c.delivery, note: 'ceiling: relayed message' },
      { metric: 'message ack', unit: 'ms', beehive: b.ack, ceiling: c.ack },
      { metric: 'message delivery', unit: 'ms', beehive: b.delivery, ceiling: c.delivery },
      ...cpuRows('GET /health: ', healthCpu, count, healthSeconds, undefined, ['worker', 'proxy', 'wrangler'], 'request', false),
    );
    if (direct) {
      const d = { ping: direct.ping.summary(), typing: direct.typing.summary(), ack: direct.flow.ack.summary(), delivery: direct.flow.delivery.summary(), health: direct.health.summary() };
      rows.push(
        { metric: 'direct to workerd: GET /health', unit: 'ms', beehive: d.health, note: 'bypassing wrangler dev’s proxy' },
        { metric: 'direct to workerd: WS ping → pong', unit: 'ms', beehive: d.ping, ceiling: c.ping },
        { metric: 'direct to workerd: typing A → B', unit: 'ms', beehive: d.typing, ceiling: c.delivery },
        { metric: 'direct to workerd: message ack', unit: 'ms', beehive: d.ack, ceiling: c.ack },
        { metric: 'direct to workerd: message delivery', unit: 'ms', beehive: d.delivery, ceiling: c.delivery },
        { metric: '≈ wrangler proxy, per WS round trip', unit: 'ms', beehive: p50(b.ping) - p50(d.ping), note: 'p50 ping via proxy − direct' },
      );
    }
    rows.push(
      { metric: '≈ commit + message handling', unit: 'ms', beehive: p50(b.delivery) - p50(b.typing), note: 'p50 delivery − typing (same hops, nothing stored)' },
      { metric: '≈ UserDO → ConversationDO → back, with commit', unit: 'ms', beehive: p50(b.ack) - p50(b.ping), note: 'p50 ack − ping' },
    );
    const f = ctx.facts;
    if (f['fanout.100.last.p50'] !== undefined && f['fanout.10.last.p50'] !== undefined) {
      rows.push({ metric: '≈ RPC fan-out, per extra member', unit: 'ms', beehive: (f['fanout.100.last.p50'] - f['fanout.10.last.p50']) / 90, note: '(last recipient p50, 100 members − 10 members) ÷ 90' });
    }
    if (f['fanout.101.last.p50'] !== undefined && f['fanout.100.last.p50'] !== undefined) {
      rows.push({ metric: '≈ QStash path, extra time to reach everyone', unit: 'ms', beehive: f['fanout.101.last.p50'] - f['fanout.100.last.p50'], note: 'last recipient p50, 101 members (QStash) − 100 (RPC): publish → emulator → signed POST → /internal/jobs/deliver' });
    }
    if (f['history.cold.p50'] !== undefined) {
      rows.push({ metric: '≈ Postgres read (cold − hot page)', unit: 'ms', beehive: f['history.cold.p50'] - f['history.hot.p50']! });
    }
    section.rows.push(...rows);
  },
};

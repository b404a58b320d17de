/**
 * Reading: a history page of 50 messages from the ConversationDO's hot window
 * (its SQLite keeps the newest 1,000) and from Postgres (older pages), and the
 * conversation list (the UserDO's index). Sequential requests, each timed
 * from fetch() to the whole body read. Every page is checked: 50 messages,
 * the right seqs, in order.
 */
import { neonConfig } from '@neondatabase/serverless';
import ws from 'ws';
import { connect } from '../../db/client.ts';
import type { Beehive } from '../lib/beehive.ts';
import { using, type Ctx, type Scenario } from '../lib/context.ts';
import { Flow, pipeline } from '../lib/flow.ts';
import { Latency } from '../lib/histogram.ts';
import { room } from '../lib/targets.ts';
import { now, sleep } from '../lib/timing.ts';

const PAGE = 50;
/** The ConversationDO's hot window (HOT_WINDOW_MESSAGES in wrangler.toml, not overridden by the bench). */
const HOT_WINDOW = 1000;

/** Waits until the outbox flushed `lastSeq` to Postgres (so older messages left the hot window); without access to Postgres, waits a fixed time. */
async function flushed(ctx: Ctx, conversationId: string, lastSeq: number): Promise<string> {
  if (!ctx.stack) {
    await sleep(5000);
    return 'waited 5 s for the outbox flush (no access to Postgres with BENCH_API)';
  }
  neonConfig.webSocketConstructor = ws;
  const { pool } = connect({ databaseUrl: ctx.stack.databaseUrl, wsProxy: ctx.stack.neonProxy });
  const t0 = now();
  try {
    while (now() - t0 < 60_000) {
      const { rows } = await pool.query<{ s: number | null }>('SELECT max(seq)::int AS s FROM messages WHERE conversation_id = $1', [conversationId]);
      if ((rows[0]?.s ?? 0) >= lastSeq) return `outbox flushed all ${lastSeq} messages to Postgres ${((now() - t0) / 1000).toFixed(1)} s after the last ack`;
      await sleep(100);
    }
    throw new Error(`the outbox did not flush seq ${lastSeq} to Postgres within 60 s`);
  } finally {
    await pool.end();
  }
}

async function timedPages(bh: Beehive, token: string, path: string, n: number, check: (body: any) => string | undefined): Promise<{ latency: Latency; bad: string[] }> {
  const latency = new Latency();
  const bad: string[] = [];
  for (let i = 0; i < n + 5; i++) {
    const t0 = now();
    const res = await bh.call('GET', path, { token });
    const ms = now() - t0;
    const problem = res.status !== 200 ? `${res.status}` : check(res.body);
    if (problem) bad.push(`${path}: ${problem}`);
    if (i >= 5) latency.record(ms); // the first 5 warm up
  }
  return { latency, bad };
}

const seqs = (body: any): number[] => (body.items as Array<{ seq: number }>).map((m) => m.seq);
const expectSeqs = (from: number) => (body: any) => {
  const got = seqs(body);
  const ok = got.length === PAGE && got.every((s, i) => s === from + i);
  return ok ? undefined : `expected seqs ${from}..${from + PAGE - 1}, got ${got.length} items starting at ${got[0]}`;
};

export const history: Scenario = {
  id: 'history',
  title: 'History pages and the conversation list',
  estimateSeconds: (s) => 20 + s.history.messages / 200 + s.history.pages * 0.05 + s.history.listCalls * 0.02,
  async run(ctx, section) {
    const { messages, pages, listCalls } = ctx.scale.history;
    const target = ctx.beehive;
    await using(target, async () => {
      const users = [140, 141];
      const r = await room(target, 'single', users);
      const flow = new Flow('history');
      flow.add(r);
      flow.recording = false;
      await pipeline(flow, [r], 100, 120_000, messages);
      section.correctness = await flow.finish();
      const lastSeq = flow.lastAckedSeq;
      if (lastSeq <= HOT_WINDOW + PAGE) throw new Error(`only ${lastSeq} messages acked; need more than ${HOT_WINDOW + PAGE} for a cold page`);
      const settle = await flushed(ctx, r.conversationId, lastSeq);
      section.scale = `${lastSeq.toLocaleString('en-US')} messages sent first; ${settle}; ${pages} pages of ${PAGE} each way and ${listCalls} list calls, one at a time after 5 warm-up`;

      const token = target.pool[users[1]!]!.token;
      const base = `/api/v1/conversations/${r.conversationId}/messages`;
      const hot = await timedPages(target.bh, token, `${base}?limit=${PAGE}`, pages, expectSeqs(lastSeq - PAGE + 1));
      const cold = await timedPages(target.bh, token, `${base}?beforeSeq=${PAGE + 1}&limit=${PAGE}`, pages, expectSeqs(1));
      // User 0 owns the fan-out groups, when that scenario ran: the list with the most conversations in it.
      await target.users(1);
      const owner = target.pool[0]!;
      let items = 0;
      const list = await timedPages(target.bh, owner.token, '/api/v1/conversations?limit=20', listCalls, (body) => {
        items = (body.items as unknown[]).length;
        return undefined;
      });
      section.rows.push(
        { metric: `history page, hot (newest ${PAGE}, DO SQLite)`, unit: 'ms', beehive: hot.latency.summary() },
        { metric: `history page, cold (seq 1–${PAGE}, Postgres)`, unit: 'ms', beehive: cold.latency.summary(), note: 'a Neon Pool per page: WS bridge → PGlite' },
        { metric: 'conversation list (limit 20)', unit: 'ms', beehive: list.latency.summary(), note: `${items} conversation(s) in the list` },
      );
      const bad = [...hot.bad, ...cold.bad, ...list.bad];
      if (bad.length) {
        section.error = `${bad.length} wrong page(s): ${bad.slice(0, 3).join('; ')}`;
      }
      Object.assign(ctx.facts, { 'history.hot.p50': hot.latency.summary().p50, 'history.cold.p50': cold.latency.summary().p50 });
    });
  },
};

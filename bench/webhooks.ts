/**
 * `npm run bench:webhooks`: outgoing webhook delivery against its own local
 * stack (issue 13). A receiver on loopback (node:http, in this process; the
 * stack runs in a child process so its work never delays the timestamps)
 * takes one group's webhook. Measured:
 * - latency: from just before `POST …/messages` to the signed delivery's
 *   arrival, one message at a time (p50/p99);
 * - deliveries/s for one webhook, which delivers in seq order one at a time
 *   by design: the receiver holds its answer to the first message of a
 *   backlog until the whole backlog is sent (so only the head is in flight,
 *   as the design says), then the rest is drained; measured from that
 *   answer to the last arrival;
 * - beside them, GET /health in the same run (the floor of one request
 *   through wrangler dev).
 * Production retry settings, except a long attempt timeout so the held head
 * is not retried meanwhile. Writes bench/results/webhooks.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { ROOT } from '../local/stack.ts';
import { Beehive } from './lib/beehive.ts';
import { Latency, type LatencySummary } from './lib/histogram.ts';
import { startStack } from './lib/stack.ts';
import { mapLimit, now, waitUntil } from './lib/timing.ts';

const LATENCY_RUNS = Number(process.env.BENCH_RUNS ?? 200);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 500);
const SENDERS = 5;
const portBase = Number(process.env.BEEHIVE_PORT_BASE ?? 28787);

const arrivals = new Map<number, number>();
let secret = '';
let badSignatures = 0;
/** While set, the delivery of this seq is answered only once `release` is called. */
let held: { seq: number; gate: Promise<void>; release: () => void } | null = null;
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    const at = now();
    const body = Buffer.concat(chunks).toString('utf8');
    let seq = 0;
    try {
      seq = (new Webhook(secret).verify(body, req.headers as Record<string, string>) as { seq: number }).seq;
      if (!arrivals.has(seq)) arrivals.set(seq, at);
    } catch {
      badSignatures += 1;
    }
    if (held && held.seq === seq) await held.gate;
    res.statusCode = 204;
    res.end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

const stack = await startStack(portBase, path.join(ROOT, '.beehive', 'bench-webhooks'), { WEBHOOK_TIMEOUT_MS: '600000' }, process.env.BEEHIVE_LOG === 'debug');
try {
  const bh = new Beehive(stack.api);
  const users = await bh.registerMany(SENDERS + 1);
  const [owner, ...senders] = users as [typeof users[0], ...typeof users];
  for (const s of senders) await bh.single(owner, s);
  const group = await bh.group(owner, senders, 'bench-webhooks');
  const hook = await bh.call<{ id: string; secret: string }>('POST', `/api/v1/conversations/${group}/webhooks`, { token: owner.token, body: { url: hookUrl, events: ['message.new'] } });
  if (hook.status !== 201) throw new Error(`webhook: ${hook.status} ${JSON.stringify(hook.body)}`);
  secret = hook.body.secret;
  let n = 0;
  const send = async (who: typeof owner) => {
    const res = await bh.call<{ seq: number }>('POST', `/api/v1/conversations/${group}/messages`, { token: who.token, body: { clientMsgId: `bench-${++n}`, type: 'text', content: `message ${n}` } });
    if (res.status !== 201) throw new Error(`send: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.seq;
  };

  const health = new Latency();
  for (let i = 0; i < 5; i++) await fetch(`${stack.api}/health`).then((r) => r.arrayBuffer());
  for (let i = 0; i < LATENCY_RUNS; i++) {
    const t = now();
    await fetch(`${stack.api}/health`).then((r) => r.arrayBuffer());
    health.record(now() - t);
  }

  const latency = new Latency();
  for (let i = 0; i < 10 + LATENCY_RUNS; i++) {
    const t = now();
    const seq = await send(senders[i % senders.length]!);
    if (!(await waitUntil(() => arrivals.has(seq), 30_000, 1))) throw new Error(`seq ${seq} never reached the receiver`);
    if (i >= 10) latency.record(arrivals.get(seq)! - t); // the first 10 warm up
  }

  const firstSeq = Math.max(...arrivals.keys()) + 1;
  let release = () => {};
  held = { seq: firstSeq, gate: new Promise<void>((r) => (release = r)), release: () => release() };
  const sendStart = now();
  const seqs = (await mapLimit(Array.from({ length: BACKLOG }), SENDERS, (_x, i) => send(senders[i % senders.length]!))).sort((a, b) => a - b);
  const sendMs = now() - sendStart;
  if (seqs[0] !== firstSeq) throw new Error(`backlog starts at ${seqs[0]}, expected ${firstSeq}`);
  const lastSeq = seqs.at(-1)!;
  const early = seqs.filter((s) => s !== firstSeq && arrivals.has(s)).length;
  const released = now();
  held.release();
  if (!(await waitUntil(() => arrivals.has(lastSeq), 120_000, 2))) throw new Error('the backlog was not delivered within 2 minutes');
  const inOrder = seqs.every((s, i) => i === 0 || arrivals.get(s)! >= arrivals.get(seqs[i - 1]!)!);
  const deliveryMs = arrivals.get(lastSeq)! - released;
  const perSecond = ((BACKLOG - 1) / deliveryMs) * 1000;

  const row = (name: string, m: LatencySummary) => `| ${name} | ${m.count} | ${m.p50.toFixed(1)} | ${m.p90.toFixed(1)} | ${m.p99.toFixed(1)} | ${m.max.toFixed(1)} |`;
  const table = [
    `# Outgoing webhooks — ${new Date().toISOString()}`,
    '',
    'Local stack (wrangler dev, PGlite, emulated Redis and QStash), receiver on loopback in the harness process. ms.',
    '',
    '| measure | n | p50 | p90 | p99 | max |',
    '| --- | --- | --- | --- | --- | --- |',
    row('GET /health (floor)', health.summary()),
    row('POST message → signed webhook delivery received', latency.summary()),
    '',
    `One webhook, a backlog of ${BACKLOG} messages (seq ${firstSeq}–${lastSeq}, sent by ${SENDERS} members in ${sendMs.toFixed(0)} ms while the ` +
      `receiver held its answer to seq ${firstSeq}; ${early} later ones arrived meanwhile): the other ${BACKLOG - 1} were delivered ` +
      `${deliveryMs.toFixed(0)} ms after the answer = **${perSecond.toFixed(0)} deliveries/s**, one at a time ` +
      `(${inOrder ? 'arrivals in seq order' : 'OUT OF ORDER'}); signatures that failed to verify: ${badSignatures}.`,
    '',
  ].join('\n');
  await mkdir(path.join(ROOT, 'bench/results'), { recursive: true });
  await writeFile(path.join(ROOT, 'bench/results/webhooks.md'), table);
  console.log(table);
  if (!inOrder || badSignatures || early) process.exitCode = 1;
} finally {
  const killed = await stack.stop();
  if (killed.length) console.error(`had to kill ${killed.join(', ')}`);
  receiver.close();
}

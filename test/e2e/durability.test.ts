/**
 * Invariant 2: an acked message is never lost — not when Postgres is down
 * (sends go on; the outbox catches up), not when the Worker and its Durable
 * Objects restart (the seq counter and the stream survive).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { api, createGroup, register, stack, type Account } from './client.ts';
import { pool } from './postgres.ts';
import { Socket } from './ws-client.ts';

const sockets: Socket[] = [];
afterEach(async () => {
  await control('/postgres', { available: true });
  await Promise.all(sockets.splice(0).map((s) => s.close()));
});

async function control(path: string, body: unknown = {}) {
  const res = await fetch(`${stack.control}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

async function connect(acct: Account, deviceId = 'd1') {
  const s = await Socket.connect({ token: acct.accessToken, deviceId });
  sockets.push(s);
  return s;
}

async function setup() {
  const [a, b] = await Promise.all([register(), register()]);
  return { a, b, conv: (await createGroup(a, [b], 'durable')).id as string };
}

async function sendAll(s: Socket, conv: string, texts: string[]) {
  const acks = [];
  for (const [i, text] of texts.entries()) {
    s.send({ type: 'message.send', conversationId: conv, clientMsgId: `${text}-${i}`, msgType: 'text', content: text });
    acks.push(await s.nextOfType('message.ack', 10_000));
  }
  return acks;
}

async function flushedSeqs(conv: string, want: number, ms = 40_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { rows } = await pool.query('SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq', [conv]);
    const seqs = rows.map((r: { seq: number }) => r.seq);
    if (seqs.length >= want || Date.now() > deadline) return seqs;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('durability', () => {
  it('while Postgres is down, sends are acked and delivered; the outbox writes them once it is back', async () => {
    const { a, b, conv } = await setup();
    const [a1, b1] = await Promise.all([connect(a), connect(b)]);
    await control('/postgres', { available: false });
    const acks = await sendAll(a1, conv, ['during', 'the', 'outage']);
    expect(acks.map((x) => x.seq)).toEqual([1, 2, 3]);
    for (const seq of [1, 2, 3]) expect((await b1.nextOfType('message.new')).message.seq).toBe(seq);
    await new Promise((r) => setTimeout(r, 1000)); // let the outbox fail at least once
    await control('/postgres', { available: true });
    expect(await flushedSeqs(conv, 3)).toEqual([1, 2, 3]);
    const { rows } = await pool.query('SELECT content FROM messages WHERE conversation_id = $1 ORDER BY seq', [conv]);
    expect(rows.map((r: { content: unknown }) => r.content)).toEqual(['during', 'the', 'outage']);
  });

  it('acked messages and the seq counter survive a restart of the Worker and its Durable Objects', async () => {
    const { a, b, conv } = await setup();
    const a1 = await connect(a);
    await sendAll(a1, conv, ['before', 'the', 'restart']);
    await a1.close();
    await control('/worker/restart');
    const b1 = await connect(b);
    const { messages } = await b1.sync({ [conv]: 0 });
    expect(messages.map((m) => m.message.content)).toEqual(['before', 'the', 'restart']);
    const a2 = await connect(a, 'd2');
    const [next] = await sendAll(a2, conv, ['after']);
    expect(next!.seq).toBe(4);
    expect((await b1.nextOfType('message.new')).message.seq).toBe(4);
    expect(await flushedSeqs(conv, 4)).toEqual([1, 2, 3, 4]);
  });
});

describe('history', () => {
  it('pages older than the hot window come from Postgres, identical to what was sent', async () => {
    const { a, b, conv } = await setup();
    const a1 = await connect(a);
    const texts = Array.from({ length: 30 }, (_, i) => `message ${i + 1}`);
    await sendAll(a1, conv, texts);
    expect(await flushedSeqs(conv, 30)).toHaveLength(30);
    // The DO keeps only the newest 10 (HOT_WINDOW_MESSAGES in the test stack) once the rest is flushed.
    const deadline = Date.now() + 10_000;
    let old: any;
    do {
      old = await api('GET', `/api/v1/conversations/${conv}/messages?beforeSeq=11&limit=10`, { token: b.accessToken });
    } while (old.body.items?.length !== 10 && Date.now() < deadline);
    expect(old.body.items.map((m: any) => [m.seq, m.content, m.senderId])).toEqual(texts.slice(0, 10).map((t, i) => [i + 1, t, a.user.id]));
    const recent = await api('GET', `/api/v1/conversations/${conv}/messages?afterSeq=25`, { token: b.accessToken });
    expect(recent.body.items.map((m: any) => m.seq)).toEqual([26, 27, 28, 29, 30]);
    const all = await api('GET', `/api/v1/conversations/${conv}/messages?afterSeq=0&limit=100`, { token: b.accessToken });
    expect(all.body.items.map((m: any) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('/ready says which dependency is down, without its error text, and caches its checks for a few seconds', async () => {
    await control('/postgres', { available: false });
    const down = await until(() => api('GET', '/ready'), (r) => r.status === 503);
    expect(down.body).toEqual({
      ok: false,
      checks: { postgres: { ok: false, ms: expect.any(Number) }, redis: { ok: true, ms: expect.any(Number) }, qstash: { ok: true, ms: expect.any(Number) } },
    });
    // Postgres is back, but the answer just computed is reused: the same numbers, no new checks.
    await control('/postgres', { available: true });
    const again = await api('GET', '/ready');
    expect(again.body).toEqual(down.body);
    expect((await until(() => api('GET', '/ready'), (r) => r.status === 200)).body.ok).toBe(true);
  });
});

/** Polls `probe` until `ok` holds, for up to 10 s (longer than /ready's cache). */
async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Invariant 2: an acked message is never lost — not when Postgres is down
 * (sends go on; the outbox catches up), not when the Worker and its Durable
 * Objects restart (the seq counter and the stream survive).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { control, pool, rowsWhen } from './backstage.ts';
import { api, createGroup, register, type Account } from './client.ts';
import { Socket } from './ws-client.ts';

afterAll(() => pool.end());

const sockets: Socket[] = [];
afterEach(async () => {
  await control('/postgres', { available: true });
  await Promise.all(sockets.splice(0).map((s) => s.close()));
});

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

async function flushedSeqs(conv: string, want: number): Promise<number[]> {
  const rows = await rowsWhen<{ seq: number }>('SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq', [conv], (r) => r.length >= want);
  return rows.map((r) => r.seq);
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

  it('/ready says which dependency is down', async () => {
    await control('/postgres', { available: false });
    const res = await api('GET', '/ready');
    expect(res.status).toBe(503);
    expect(res.body.checks.postgres.ok).toBe(false);
    expect(res.body.checks.redis.ok).toBe(true);
  });
});

/**
 * Invariant 2: an acked message is never lost — not when Postgres is down
 * (sends go on; the outbox catches up), not when the Worker and its Durable
 * Objects restart (the seq counter and the stream survive). What reaches
 * Postgres is each message's current state (edits, reactions, recalls) and
 * every event once, keyed by seq.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { control, pool, rowsWhen } from './backstage.ts';
import { api, createGroup, register, type Account } from './client.ts';
import { edit, react, recall, say, shape, stream } from './conversation-api.ts';
import { pngHeader, uploadFile } from './files-support.ts';
import { itemOf, Socket } from './ws-client.ts';


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

describe('the stream in Postgres', () => {
  it('edits, reactions and recalls made while Postgres is down reach it once it is back: current rows, every event once', async () => {
    const { a, b, conv } = await setup(); // a owns the group: a recall by a needs no window
    await say(a, conv, 'flushed, then edited'); // 1
    const picture = (await uploadFile(b, pngHeader(4, 4), 'p.png', 'image/png')).body;
    await say(b, conv, { caption: 'flushed, then recalled' }, { type: 'image', fileId: picture.id }); // 2
    await rowsWhen('SELECT seq FROM messages WHERE conversation_id = $1', [conv], (r) => r.length === 2);
    await control('/postgres', { available: false });
    await say(a, conv, 'sent during the outage'); // 3
    const edited = (await edit(a, conv, 1, 'edited during the outage')).body; // 4
    expect(edited).toMatchObject({ seq: 4, kind: 'message.edited' });
    for (const [who, seq, emoji, on] of [[b, 1, '👍', true], [a, 1, '🎉', true], [b, 3, '👀', true], [a, 1, '🎉', false]] as const) {
      expect((await react(who, conv, seq, emoji, on)).status).toBe(200); // 5, 6, 7, 8
    }
    expect((await recall(a, conv, 2)).status).toBe(200); // 9
    // A media message needs Postgres to check its file: refused while it is down, taking no seq.
    const media = await api('POST', `/api/v1/conversations/${conv}/messages`, { token: b.accessToken, body: { clientMsgId: 'during-outage-file', type: 'image', fileId: picture.id, content: {} } });
    expect({ status: media.status, code: media.body.error?.code }).toEqual({ status: 503, code: 'unavailable' });
    await say(b, conv, 'a secret, soon recalled'); // 10
    expect((await recall(a, conv, 10)).status).toBe(200); // 11
    await new Promise((r) => setTimeout(r, 1000)); // let the outbox fail at least once
    await control('/postgres', { available: true });

    const rows = await rowsWhen(
      'SELECT seq, type, content, file_id, edited_at, recalled, reactions FROM messages WHERE conversation_id = $1 ORDER BY seq', [conv],
      (r) => r.length === 4 && r.every((x: any) => x.seq !== 10 || x.recalled),
    );
    expect(rows).toEqual([
      { seq: 1, type: 'text', content: 'edited during the outage', file_id: null, edited_at: new Date(edited.editedAt), recalled: false, reactions: [{ emoji: '👍', count: 1, userIds: [b.user.id] }] },
      { seq: 2, type: 'image', content: null, file_id: null, edited_at: null, recalled: true, reactions: null },
      { seq: 3, type: 'text', content: 'sent during the outage', file_id: null, edited_at: null, recalled: false, reactions: [{ emoji: '👀', count: 1, userIds: [b.user.id] }] },
      { seq: 10, type: 'text', content: null, file_id: null, edited_at: null, recalled: true, reactions: null },
    ]);
    const events = await rowsWhen('SELECT seq, kind, actor_id, body FROM conversation_events WHERE conversation_id = $1 ORDER BY seq', [conv], (r) => r.length >= 7);
    const fromApi = (await stream(a, conv)).items.filter((i: any) => 'event' in i).map((i: any) => i.event);
    expect(events.map((e: any) => [e.seq, e.kind, e.actor_id])).toEqual(fromApi.map((e: any) => [e.seq, e.kind, e.actorId]));
    expect(events.map((e: any) => e.seq)).toEqual([4, 5, 6, 7, 8, 9, 11]);
    expect(events[0].body).toEqual({ targetSeq: 1, content: 'edited during the outage', editedAt: edited.editedAt });
    expect(events[5].body).toEqual({ targetSeq: 2 });
  });

  it('one cursor syncs messages and events across a restart of the Worker and its Durable Objects', async () => {
    const { a, b, conv } = await setup();
    await say(a, conv, 'seen before'); // 1
    const b1 = await connect(b, 'b-phone');
    expect((await b1.replay({ [conv]: 0 })).entries.map((f) => shape(itemOf(f)))).toEqual(['1:message']);
    await b1.close();
    await say(a, conv, 'missed'); // 2
    await react(a, conv, 1, '🔁'); // 3
    await edit(a, conv, 2, 'missed, edited'); // 4
    await control('/worker/restart');
    await say(a, conv, 'after the restart'); // 5
    await recall(a, conv, 5); // 6
    await react(a, conv, 1, '🔁', false); // 7
    const b2 = await Socket.open({ token: b.accessToken, deviceId: 'b-phone' });
    sockets.push(b2);
    const { entries, done } = await b2.replay({ [conv]: 1 });
    expect(entries.map((f) => shape(itemOf(f)))).toEqual(['2:message', '3:reaction.added', '4:message.edited', '5:message', '6:message.recalled', '7:reaction.removed']);
    expect(entries.map(itemOf)).toEqual((await stream(b, conv, 1)).items);
    expect(done.cursors[conv]).toBe(7);
    expect(entries[0]!.message).toMatchObject({ content: 'missed, edited' });
    expect(await b2.drain('conversation.event', 300)).toEqual([]);
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

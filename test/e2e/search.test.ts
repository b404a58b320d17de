/**
 * Message search end to end: messages are indexed after commit through the
 * outbox, QStash and the signed job endpoint, into the Algolia stand-in by
 * the production adapter; searches go through the Worker, which looks only
 * in the caller's conversations now. Languages, highlights, filters,
 * pagination, privacy, and edits/recalls/redeliveries that leave the index
 * right.
 */
import { describe, expect, it } from 'vitest';
import { api, createGroup, register, stack, type Account } from './client.ts';

let n = 0;
const send = (who: Account, conv: string, content: string, extra: Record<string, unknown> = {}) =>
  api('POST', `/api/v1/conversations/${conv}/messages`, { token: who.accessToken, body: { clientMsgId: `s${++n}-${Date.now()}`, type: 'text', content, ...extra } });

type Params = Record<string, string | number | undefined>;
const search = (who: Account, params: Params) =>
  api('GET', `/api/v1/search/messages?${new URLSearchParams(Object.entries(params).flatMap(([k, v]): Array<[string, string]> => (v === undefined ? [] : [[k, String(v)]])))}`, { token: who.accessToken });

/** Polls a search until `ok` holds (indexing is asynchronous: typically well within a second). */
async function eventually(who: Account, params: Params, ok: (items: any[]) => boolean, ms = 10_000): Promise<any[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await search(who, params);
    expect(res.status).toBe(200);
    if (ok(res.body.items) || Date.now() > deadline) return res.body.items;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const contents = (items: any[]) => items.map((i) => i.message.content);

describe('search', () => {
  it('finds Chinese, Japanese, English, mixed text and emoji, with escaped highlights', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const g = await createGroup(a, [b]);
    const texts = ['我们明天去北京开会', '東京タワーに行きました', 'Let us meet at the café tomorrow', 'mixed 北京 and Paris 🚀 launch', '<script>alert(1)</script> watch out'];
    for (const t of texts) expect((await send(a, g.id, t)).status).toBe(201);
    const cn = await eventually(b, { q: '北京' }, (xs) => xs.length === 2);
    expect(contents(cn).sort()).toEqual(['mixed 北京 and Paris 🚀 launch', '我们明天去北京开会'].sort());
    expect(cn.find((i) => i.message.content === '我们明天去北京开会').highlight).toBe('我们明天去<em>北京</em>开会');
    expect(contents(await eventually(b, { q: 'タワー' }, (xs) => xs.length === 1))).toEqual(['東京タワーに行きました']);
    expect(contents(await eventually(b, { q: 'cafe' }, (xs) => xs.length === 1))).toEqual(['Let us meet at the café tomorrow']);
    expect(contents(await eventually(b, { q: '🚀' }, (xs) => xs.length === 1))).toEqual(['mixed 北京 and Paris 🚀 launch']);
    const [xss] = await eventually(b, { q: 'watch' }, (xs) => xs.length === 1);
    expect(xss.highlight).toBe('&lt;script&gt;alert(1)&lt;/script&gt; <em>watch</em> out');
    expect(xss.message).toMatchObject({ conversationId: g.id, senderId: a.user.id, type: 'text' });
  });

  it('filters by conversation, sender, type and time, and pages with a cursor', async () => {
    const [a, b, c] = await Promise.all([register(), register(), register()]);
    const g1 = await createGroup(a, [b, c]);
    const g2 = await createGroup(a, [b]);
    const t0 = new Date().toISOString();
    for (let i = 0; i < 5; i++) expect((await send(a, g1.id, `harvest report ${i}`)).status).toBe(201);
    await new Promise((r) => setTimeout(r, 20));
    const mid = new Date().toISOString();
    expect((await send(b, g1.id, 'harvest from bob')).status).toBe(201);
    expect((await send(a, g2.id, 'harvest elsewhere')).status).toBe(201);
    const all = await eventually(b, { q: 'harvest' }, (xs) => xs.length === 7);
    expect(all).toHaveLength(7);
    expect(contents(await eventually(b, { q: 'harvest', conversationId: g2.id }, (xs) => xs.length === 1))).toEqual(['harvest elsewhere']);
    expect(contents((await search(b, { q: 'harvest', senderId: b.user.id })).body.items)).toEqual(['harvest from bob']);
    expect((await search(b, { q: 'harvest', type: 'image' })).body.items).toEqual([]);
    const late = (await search(b, { q: 'harvest', after: mid })).body.items;
    expect(contents(late).sort()).toEqual(['harvest elsewhere', 'harvest from bob']);
    expect((await search(b, { q: 'harvest', before: t0 })).body.items).toEqual([]);
    // Pages of 3: every hit once.
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res: any = await search(b, { q: 'harvest', limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...res.body.items.map((x: any) => `${x.message.conversationId}:${x.message.seq}`));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    // c is not in g2: it never appears, with or without conversationId.
    expect(contents((await search(c, { q: 'harvest' })).body.items)).not.toContain('harvest elsewhere');
    expect((await search(c, { q: 'harvest', conversationId: g2.id })).status).toBe(403);
  });

  it('refuses bad parameters with 400', async () => {
    const a = await register();
    for (const params of [{}, { q: '' }, { q: 'x'.repeat(201) }, { q: 'x', limit: 0 }, { q: 'x', limit: 101 }, { q: 'x', cursor: 'not-a-cursor' }, { q: 'x', type: 'sticker' }, { q: 'x', after: 'yesterday' }, { q: 'x', after: '2026-01-02T00:00:00Z', before: '2026-01-01T00:00:00Z' }]) {
      const res = await search(a, params);
      expect({ params, status: res.status, code: res.body?.error?.code }).toEqual({ params, status: 400, code: 'validation_failed' });
    }
    expect((await api('GET', '/api/v1/search/messages?q=x')).status).toBe(401);
  });

  it('a member who left no longer finds the conversation’s messages; a stranger never does', async () => {
    const [a, b, x] = await Promise.all([register(), register(), register()]);
    const g = await createGroup(a, [b]);
    expect((await send(a, g.id, 'confidential blueprint')).status).toBe(201);
    expect(await eventually(b, { q: 'blueprint' }, (xs) => xs.length === 1)).toHaveLength(1);
    expect((await search(x, { q: 'blueprint' })).body.items).toEqual([]);
    expect((await search(x, { q: 'blueprint', conversationId: g.id })).status).toBe(403);
    expect((await api('POST', `/api/v1/conversations/${g.id}/leave`, { token: b.accessToken })).status).toBe(204);
    expect(await eventually(b, { q: 'blueprint' }, (xs) => xs.length === 0, 5000)).toEqual([]);
  });

  it('an edit is found by its new text only; a recalled message is never found', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const g = await createGroup(a, [b]);
    const sent = await send(a, g.id, 'the launch is on monday');
    expect(await eventually(b, { q: 'monday' }, (xs) => xs.length === 1)).toHaveLength(1);
    expect((await api('PATCH', `/api/v1/conversations/${g.id}/messages/${sent.body.seq}`, { token: a.accessToken, body: { content: 'the launch is on friday' } })).status).toBe(200);
    const edited = await eventually(b, { q: 'friday' }, (xs) => xs.length === 1);
    expect(edited[0].message).toMatchObject({ content: 'the launch is on friday', editedAt: expect.any(String) });
    expect(await eventually(b, { q: 'monday' }, (xs) => xs.length === 0)).toEqual([]);
    expect((await api('POST', `/api/v1/conversations/${g.id}/messages/${sent.body.seq}/recall`, { token: a.accessToken })).status).toBe(200);
    expect(await eventually(b, { q: 'friday' }, (xs) => xs.length === 0)).toEqual([]);
  });

  it('a redelivered or late index job leaves the index right', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const g = await createGroup(a, [b]);
    const sent = await send(a, g.id, 'original wording');
    await eventually(b, { q: 'original' }, (xs) => xs.length === 1);
    expect((await api('PATCH', `/api/v1/conversations/${g.id}/messages/${sent.body.seq}`, { token: a.accessToken, body: { content: 'revised wording' } })).status).toBe(200);
    await eventually(b, { q: 'revised' }, (xs) => xs.length === 1);
    // The job of the first version again, late and twice, as QStash may deliver it (signed by the stand-in).
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${stack.qstash}/v2/publish/${stack.api}/internal/jobs/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.qstashToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ conversationId: g.id, seqs: [sent.body.seq] }),
      });
      expect(res.status).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 1500));
    expect((await search(b, { q: 'original' })).body.items).toEqual([]);
    expect(contents((await search(b, { q: 'revised' })).body.items)).toEqual(['revised wording']);
  });
});

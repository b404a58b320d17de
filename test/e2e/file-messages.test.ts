/**
 * Image, voice and file messages: the sender must be able to read the file
 * and its type must fit; the members can read it the moment the message is
 * sent; a recall takes that away, and the conversation's file consumer
 * (releaseFileRefs, once the recall is in Postgres) lets a deleted file and
 * its blob go, down to R2.
 */
import { describe, expect, it } from 'vitest';
import { api, createGroup, register, type Account } from './client.ts';
import { bytes, content, pngHeader, sha256, uploadFile, useStores } from './files-support.ts';

const { pool, r2 } = useStores();

let n = 0;
async function send(acct: Account, conv: string, body: Record<string, unknown>) {
  return api('POST', `/api/v1/conversations/${conv}/messages`, { token: acct.accessToken, body: { clientMsgId: `f${++n}-${Date.now()}`, ...body } });
}

async function group(owner: Account, members: Account[]): Promise<string> {
  return (await createGroup(owner, members, 'files')).id;
}

async function flushed(conv: string, seq: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const { rows } = await pool.query('SELECT 1 FROM messages WHERE conversation_id = $1 AND seq = $2', [conv, seq]);
    if (rows.length) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`seq ${seq} of ${conv} never reached Postgres`);
}

describe('messages with files', () => {
  it('an image message carries the dimensions from the file; members read it at once, others not', async () => {
    const [a, b, c] = await Promise.all([register(), register(), register()]);
    const conv = await group(a, [b]);
    const img = (await uploadFile(a, pngHeader(640, 480), 'cat.png', 'image/png')).body;
    const sent = await send(a, conv, { type: 'image', fileId: img.id, content: { caption: 'look', width: 1, height: 1 } });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ type: 'image', fileId: img.id, content: { caption: 'look', width: 640, height: 480 } });
    // Before or after the outbox wrote the message: the grant covers the gap.
    expect((await content(b, img.id)).status).toBe(200);
    expect((await api('GET', `/api/v1/files/${img.id}`, { token: b.accessToken })).body.id).toBe(img.id);
    expect((await content(c, img.id)).status).toBe(404);
    await flushed(conv, sent.body.seq);
    expect((await content(b, img.id)).status).toBe(200);
    expect((await content(c, img.id)).status).toBe(404);
  });

  it('refuses a wrong type, a file the sender cannot read, and an unknown file — changing nothing', async () => {
    const [a, b, c] = await Promise.all([register(), register(), register()]);
    const conv = await group(a, [b]);
    const img = (await uploadFile(a, pngHeader(10, 10), 'x.png', 'image/png')).body;
    const doc = (await uploadFile(a, bytes(100), 'x.txt', 'text/plain')).body;
    const voice = (await uploadFile(a, bytes(100), 'x.ogg', 'audio/ogg')).body;
    const foreign = (await uploadFile(c, pngHeader(5, 5), 'c.png', 'image/png')).body;
    const refusals = [
      { type: 'voice', fileId: img.id, content: { durationMs: 1000 } },
      { type: 'image', fileId: doc.id, content: {} },
      { type: 'image', fileId: foreign.id, content: {} },
      { type: 'file', fileId: '01900000-0000-7000-8000-00000000f11e', content: { name: 'ghost' } },
    ];
    for (const body of refusals) {
      const res = await send(a, conv, body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    expect((await content(b, foreign.id)).status).toBe(404);
    const history = await api('GET', `/api/v1/conversations/${conv}/messages`, { token: a.accessToken });
    expect(history.body.items).toEqual([]);
    expect((await send(a, conv, { type: 'voice', fileId: voice.id, content: { durationMs: 1200 } })).status).toBe(201);
    expect((await send(a, conv, { type: 'file', fileId: doc.id, content: { name: 'x.txt' } })).status).toBe(201);
    expect((await content(b, doc.id)).status).toBe(200);
  });

  it('a member may pass on a file they can read, into a conversation of theirs', async () => {
    const [a, b, c] = await Promise.all([register(), register(), register()]);
    const first = await group(a, [b]);
    const doc = (await uploadFile(a, bytes(300), 'plan.pdf', 'application/pdf')).body;
    expect((await send(a, first, { type: 'file', fileId: doc.id, content: { name: 'plan.pdf' } })).status).toBe(201);
    const second = await group(b, [c]);
    expect((await content(c, doc.id)).status).toBe(404);
    expect((await send(b, second, { type: 'file', fileId: doc.id, content: { name: 'plan.pdf' } })).status).toBe(201);
    expect((await content(c, doc.id)).status).toBe(200);
  });

  it('a forward of a file message carries the file and lets the other conversation read it', async () => {
    const [a, b, c] = await Promise.all([register(), register(), register()]);
    const first = await group(a, [b]);
    const img = (await uploadFile(a, pngHeader(32, 16), 'pic.png', 'image/png')).body;
    const sent = await send(a, first, { type: 'image', fileId: img.id, content: {} });
    const second = await group(b, [c]);
    expect((await content(c, img.id)).status).toBe(404);
    const fwd = await send(b, second, { forwardOf: { conversationId: first, seq: sent.body.seq } });
    expect(fwd.status).toBe(201);
    expect(fwd.body).toMatchObject({ type: 'image', fileId: img.id, content: { width: 32, height: 16 }, forwardedFrom: { conversationId: first, seq: sent.body.seq, senderId: a.user.id } });
    expect((await content(c, img.id)).status).toBe(200);
    // c is not in the first conversation: forwarding from it is refused, and nothing is sent.
    const refused = await send(c, second, { forwardOf: { conversationId: first, seq: sent.body.seq } });
    expect({ status: refused.status, code: refused.body.error?.code }).toEqual({ status: 403, code: 'not_member' });
  });

  it('recall takes the members’ access away, and lets a deleted file and its blob go, from R2 too', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const conv = await group(a, [b]);
    const data = bytes(4096);
    const doc = (await uploadFile(a, data, 'secret.bin')).body;
    const sent = await send(a, conv, { type: 'file', fileId: doc.id, content: { name: 'secret.bin' } });
    await flushed(conv, sent.body.seq);
    const key = `blobs/${doc.id}`;
    // The owner deletes the file: the live message still holds it, so the bytes stay for the members.
    expect((await api('DELETE', `/api/v1/files/${doc.id}`, { token: a.accessToken })).status).toBe(204);
    expect(sha256((await content(b, doc.id)).bytes)).toBe(sha256(data));
    expect(await r2().head(key)).not.toBeNull();
    expect((await api('POST', `/api/v1/conversations/${conv}/messages/${sent.body.seq}/recall`, { token: a.accessToken })).status).toBe(200);
    // The recall reaches Postgres, then the file consumer releases the file: no one reads it, and R2 lets the bytes go.
    const deadline = Date.now() + 15_000;
    while ((await r2().head(key)) !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await r2().head(key)).toBeNull();
    expect((await content(b, doc.id)).status).toBe(404);
    expect((await pool.query('SELECT recalled, file_id, content FROM messages WHERE conversation_id = $1 AND seq = $2', [conv, sent.body.seq])).rows[0]).toEqual({ recalled: true, file_id: null, content: null });
    expect((await pool.query('SELECT count(*)::int AS n FROM files WHERE id = $1', [doc.id])).rows[0].n).toBe(0);
    expect((await pool.query('SELECT count(*)::int AS n FROM blobs WHERE sha256 = $1', [doc.sha256])).rows[0].n).toBe(0);
    expect((await pool.query('SELECT count(*)::int AS n FROM file_grants WHERE file_id = $1', [doc.id])).rows[0].n).toBe(0);
  });
});

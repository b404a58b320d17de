/**
 * Image, voice and file messages: the sender must be able to read the file
 * and its type must fit; the members can read it the moment the message is
 * sent; recall (its Postgres side, as the conversation's outbox will write it)
 * takes that away, and releaseFileRefs — the call the outbox job makes — lets
 * a deleted file and its blob go, down to R2.
 */
import { describe, expect, it } from 'vitest';
import { api, register, stack, type Account } from './client.ts';
import { bytes, content, pngHeader, sha256, uploadFile, useStores } from './files-support.ts';

const { pool, r2 } = useStores();

let n = 0;
async function send(acct: Account, conv: string, body: Record<string, unknown>) {
  return api('POST', `/api/v1/conversations/${conv}/messages`, { token: acct.accessToken, body: { clientMsgId: `f${++n}-${Date.now()}`, ...body } });
}

async function group(owner: Account, members: Account[]): Promise<string> {
  const res = await api('POST', '/api/v1/conversations', { token: owner.accessToken, body: { kind: 'group', name: 'files', memberIds: members.map((m) => m.user.id) } });
  expect(res.status).toBe(201);
  return res.body.id;
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

  it('recall takes the members’ access away; releaseFileRefs lets a deleted file and its blob go, from R2 too', async () => {
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
    // The recall, as it reaches Postgres: from then on no one reads the file through that message.
    await pool.query('UPDATE messages SET recalled = true WHERE conversation_id = $1 AND seq = $2', [conv, sent.body.seq]);
    expect((await content(b, doc.id)).status).toBe(404);
    expect(await r2().head(key)).not.toBeNull();
    // The outbox job's call. Run twice: it is idempotent.
    // Imported by a non-literal path: the Node side type-checks without the Workers types that module uses.
    const releaseModule: string = '../../services/files/messages.ts';
    const { releaseFileRefs } = (await import(releaseModule)) as {
      releaseFileRefs(env: unknown, ctx: unknown, a: { conversationId: string; fileIds: string[] }): Promise<void>;
    };
    const env = { DATABASE_URL: stack.databaseUrl, NEON_WS_PROXY: stack.neonProxy, FILES: r2() };
    const ctx = { waitUntil: (p: Promise<unknown>) => void p.catch(() => {}) };
    for (let i = 0; i < 2; i++) await releaseFileRefs(env, ctx, { conversationId: conv, fileIds: [doc.id] });
    expect(await r2().head(key)).toBeNull();
    expect((await pool.query('SELECT count(*)::int AS n FROM files WHERE id = $1', [doc.id])).rows[0].n).toBe(0);
    expect((await pool.query('SELECT count(*)::int AS n FROM blobs WHERE sha256 = $1', [doc.sha256])).rows[0].n).toBe(0);
    expect((await pool.query('SELECT count(*)::int AS n FROM file_grants WHERE file_id = $1', [doc.id])).rows[0].n).toBe(0);
  });
});

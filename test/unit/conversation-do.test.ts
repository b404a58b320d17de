/** The ConversationDO inside workerd: seq assignment, idempotency, membership, cursors, survival across eviction. */
import { env, evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../durable-objects/token-bucket.ts';

function conversation(id: string, members = ['alice', 'bob']) {
  const stub = env.CONVERSATIONS.getByName(id);
  return {
    stub,
    ready: stub.setMembers({ conversationId: id, kind: 'group', version: 1, members: members.map((userId) => ({ userId, role: 'member' as const })) }),
  };
}

const text = (clientMsgId: string, content = 'hi') => ({ clientMsgId, type: 'text' as const, content });

describe('ConversationDO', () => {
  it('assigns dense seqs and answers a retried clientMsgId with the original ack', async () => {
    const { stub, ready } = conversation('c-seq');
    await ready;
    const r1 = await stub.send('alice', text('m1'));
    const r2 = await stub.send('bob', text('m1'));
    const again = await stub.send('alice', text('m1', 'changed'));
    expect([r1.ok && r1.ack.seq, r2.ok && r2.ack.seq]).toEqual([1, 2]);
    expect(again.ok && again.duplicate).toBe(true);
    expect(again.ok && again.ack).toEqual(r1.ok && r1.ack);
    const page = await stub.history('alice', { limit: 10 });
    expect(page.ok && page.items.map((m) => [m.seq, m.content])).toEqual([[1, 'hi'], [2, 'hi']]);
  });

  it('refuses non-members, unknown conversations and invalid content, changing nothing', async () => {
    const { stub, ready } = conversation('c-auth');
    await ready;
    expect(await stub.send('mallory', text('x'))).toMatchObject({ ok: false, code: 'not_member' });
    expect(await stub.send('alice', { clientMsgId: 'x', type: 'image', content: { caption: 'no file' } })).toMatchObject({ ok: false, code: 'validation_failed' });
    expect(await stub.send('alice', { ...text('x'), mentions: ['mallory'] })).toMatchObject({ ok: false, code: 'validation_failed' });
    expect(await env.CONVERSATIONS.getByName('never-created').history('alice', { limit: 10 })).toMatchObject({ ok: false, code: 'not_found' });
    expect(await stub.outboxStatus()).toMatchObject({ lastSeq: 0 });
  });

  it('read cursors only move forward and sending counts as reading', async () => {
    const { stub, ready } = conversation('c-read');
    await ready;
    for (const id of ['a', 'b', 'c']) await stub.send('alice', text(id));
    expect(await stub.summary('bob')).toMatchObject({ ok: true, lastSeq: 3, lastReadSeq: 0 });
    expect(await stub.summary('alice')).toMatchObject({ ok: true, lastReadSeq: 3 });
    expect(await stub.markRead('bob', 2)).toEqual({ ok: true, seq: 2 });
    expect(await stub.markRead('bob', 1)).toEqual({ ok: true, seq: 2 });
    expect(await stub.markRead('bob', 99)).toEqual({ ok: true, seq: 3 });
  });

  it('drops removed members and ignores stale membership mirrors', async () => {
    const { stub, ready } = conversation('c-members', ['alice', 'bob', 'carol']);
    await ready;
    expect(await stub.setMembers({ conversationId: 'c-members', kind: 'group', version: 3, members: [{ userId: 'alice', role: 'owner' }] })).toEqual({ ok: true, applied: true });
    expect(await stub.setMembers({ conversationId: 'c-members', kind: 'group', version: 2, members: [{ userId: 'bob', role: 'owner' }] })).toEqual({ ok: true, applied: false });
    expect(await stub.send('bob', text('late'))).toMatchObject({ ok: false, code: 'not_member' });
  });

  it('a blocked pair cannot message each other', async () => {
    const { stub, ready } = conversation('c-block');
    await ready;
    await stub.setBlock('alice', 'bob', true);
    expect(await stub.send('bob', text('hi'))).toMatchObject({ ok: false, code: 'blocked' });
    await stub.setBlock('alice', 'bob', false);
    expect(await stub.send('bob', text('hi'))).toMatchObject({ ok: true });
  });

  it('keeps the stream and the counter across eviction', async () => {
    const { stub, ready } = conversation('c-evict');
    await ready;
    await stub.send('alice', text('before'));
    await evictDurableObject(stub);
    const after = await stub.send('bob', text('after'));
    expect(after.ok && after.ack.seq).toBe(2);
    const rows = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ seq: number }>('SELECT seq FROM messages ORDER BY seq').toArray());
    expect(rows.map((r) => r.seq)).toEqual([1, 2]);
  });
});

describe('TokenBucket', () => {
  it('allows the burst, then the sustained rate', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true, false]);
    expect(bucket.take(100)).toBe(true); // 100 ms at 10/s refills one token
    expect(bucket.take(100)).toBe(false);
  });
});

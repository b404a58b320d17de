/** The two actors exist, answer over RPC, and keep answering across eviction. */
import { env, evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';

describe('UserDO', () => {
  it('answers RPC by name', async () => {
    const stub = env.USERS.getByName('user-1');
    expect(await stub.ping()).toEqual({ ok: true, kind: 'user' });
  });

  it('closes exactly the sockets of a revoked session', async () => {
    const stub = env.USERS.getByName('user-2');
    const closed = await runInDurableObject(stub, async (_instance, state) => {
      const mine = new WebSocketPair();
      const other = new WebSocketPair();
      state.acceptWebSocket(mine[1], ['sid:s1']);
      state.acceptWebSocket(other[1], ['sid:s2']);
      return state.getWebSockets('sid:s1').length;
    });
    expect(closed).toBe(1);
    expect(await stub.closeSession('s1')).toBe(1);
    expect(await stub.closeSession('unknown')).toBe(0);
  });

  it('keeps answering after eviction', async () => {
    const stub = env.USERS.getByName('user-3');
    await stub.ping();
    await evictDurableObject(stub);
    expect(await stub.ping()).toEqual({ ok: true, kind: 'user' });
  });
});

describe('ConversationDO', () => {
  it('answers RPC by name, before and after eviction', async () => {
    const stub = env.CONVERSATIONS.getByName('conv-1');
    expect(await stub.ping()).toEqual({ ok: true, kind: 'conversation' });
    await evictDurableObject(stub);
    expect(await stub.ping()).toEqual({ ok: true, kind: 'conversation' });
  });
});

/**
 * Presence follows the friend list's visibility: `POST /presence/query` shows
 * real presence for the caller and their friends only; a stranger, someone who
 * blocked the caller and someone the caller blocked all read as never seen.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { api, befriend, register, type Account } from './client.ts';
import { Socket } from './ws-client.ts';

const HIDDEN = { online: false, lastSeenAt: null };
const sockets: Socket[] = [];
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()));
});

async function online(who: Account): Promise<void> {
  sockets.push(await Socket.open({ token: who.accessToken, deviceId: 'presence' }));
}

const query = (who: Account, ids: string[]) => api('POST', '/api/v1/presence/query', { token: who.accessToken, body: { userIds: ids } });

/** Presence is written by the UserDO after the socket opens: wait until the user reads themselves as online. */
async function seenOnline(who: Account): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await query(who, [who.user.id])).body.presence[who.user.id].online !== true) {
    if (Date.now() > deadline) throw new Error('never online');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('presence visibility', () => {
  it('a friend and oneself are shown; a stranger, a blocker and a blocked user are not', async () => {
    const [me, friend, stranger, blocker, blocked] = await Promise.all(Array.from({ length: 5 }, () => register()));
    await befriend(me!, friend!);
    await befriend(me!, blocker!);
    await befriend(me!, blocked!);
    expect((await api('POST', `/api/v1/users/${me!.user.id}/block`, { token: blocker!.accessToken })).status).toBe(204);
    expect((await api('POST', `/api/v1/users/${blocked!.user.id}/block`, { token: me!.accessToken })).status).toBe(204);
    for (const u of [me!, friend!, stranger!, blocker!, blocked!]) await online(u);
    for (const u of [me!, friend!, stranger!, blocker!, blocked!]) await seenOnline(u);

    const res = await query(me!, [me!.user.id, friend!.user.id, stranger!.user.id, blocker!.user.id, blocked!.user.id]);
    expect(res.status).toBe(200);
    expect(res.body.presence[me!.user.id].online).toBe(true);
    expect(res.body.presence[friend!.user.id].online).toBe(true);
    expect(res.body.presence[stranger!.user.id]).toEqual(HIDDEN);
    expect(res.body.presence[blocker!.user.id]).toEqual(HIDDEN);
    expect(res.body.presence[blocked!.user.id]).toEqual(HIDDEN);
    // The other way round too: the stranger cannot see me.
    expect((await query(stranger!, [me!.user.id])).body.presence[me!.user.id]).toEqual(HIDDEN);
  });
});

/** Profiles end to end: my profile, public profiles, lookups by ids, search, the profile cache; rejections and security. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, expectError, register, stack, uniqueName, type Account } from './client.ts';
import { pngHeader, uploadFile } from './files-support.ts';

const U = '/api/v1/users';

/** One command on the stack's Redis, over the Upstash REST protocol. */
async function redis(...command: Array<string | number>): Promise<unknown> {
  const res = await fetch(stack.redis, { method: 'POST', headers: { authorization: `Bearer ${stack.redisToken}` }, body: JSON.stringify(command) });
  return ((await res.json()) as { result: unknown }).result;
}

/** Registers a user with this exact username (and nickname). */
async function registerAs(username: string, nickname?: string): Promise<Account> {
  const res = await api('POST', '/api/v1/auth/register', { body: { username, password: 'correct horse battery', ...(nickname ? { nickname } : {}) } });
  if (res.status !== 201) throw new Error(`register ${username}: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...res.body, password: 'correct horse battery' };
}

/** A short prefix no other test (or run) shares, usable in usernames. */
const uniquePrefix = () => `s${randomUUID().replace(/-/g, '').slice(0, 10)}`;

describe('my profile', () => {
  it('reads my profile with my email, edits it, and clears avatar and bio with null', async () => {
    const me = await register({ email: true });
    const got = await api('GET', `${U}/me`, { token: me.accessToken });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: me.user.id, username: me.user.username, email: me.user.email });

    // An avatar is an image of one's own (API.md § Files).
    const avatar = (await uploadFile(me, pngHeader(48, 48), 'me.png', 'image/png')).body.id as string;
    const patched = await api('PATCH', `${U}/me`, { token: me.accessToken, body: { nickname: 'Bee Keeper', avatarFileId: avatar, bio: 'I keep bees.' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: me.user.id, nickname: 'Bee Keeper', avatarFileId: avatar, bio: 'I keep bees.', email: me.user.email });
    expect((await api('GET', `${U}/me`, { token: me.accessToken })).body).toEqual(patched.body);

    const cleared = await api('PATCH', `${U}/me`, { token: me.accessToken, body: { avatarFileId: null, bio: null } });
    expect(cleared.status).toBe(200);
    expect(cleared.body.nickname).toBe('Bee Keeper');
    expect(cleared.body).not.toHaveProperty('avatarFileId');
    expect(cleared.body).not.toHaveProperty('bio');

    // An empty patch changes nothing and answers with the profile.
    const noop = await api('PATCH', `${U}/me`, { token: me.accessToken, body: {} });
    expect(noop.status).toBe(200);
    expect(noop.body).toEqual(cleared.body);
  });

  it.each([
    ['an empty nickname', { nickname: '' }],
    ['a blank nickname', { nickname: '   ' }],
    ['a 65-character nickname', { nickname: 'n'.repeat(65) }],
    ['a 501-character bio', { bio: 'b'.repeat(501) }],
    ['an unknown field', { nickname: 'ok', email: 'evil@example.test' }],
    ['a malformed avatar id', { avatarFileId: 'not-an-id' }],
    ['a wrong type', { bio: 42 }],
    ['a null nickname', { nickname: null }],
  ])('refuses %s with 400 and changes nothing', async (_label, body) => {
    const me = await register();
    await api('PATCH', `${U}/me`, { token: me.accessToken, body: { nickname: 'Before', bio: 'before' } });
    expectError(await api('PATCH', `${U}/me`, { token: me.accessToken, body }), 400, 'validation_failed');
    expect((await api('GET', `${U}/me`, { token: me.accessToken })).body).toMatchObject({ nickname: 'Before', bio: 'before' });
  });

  it('accepts the limits exactly: 64-character nickname, 500-character bio', async () => {
    const me = await register();
    const res = await api('PATCH', `${U}/me`, { token: me.accessToken, body: { nickname: 'n'.repeat(64), bio: 'b'.repeat(500) } });
    expect(res.status).toBe(200);
    expect(res.body.nickname).toHaveLength(64);
    expect(res.body.bio).toHaveLength(500);
  });

  it('refuses malformed JSON', async () => {
    const me = await register();
    expectError(await api('PATCH', `${U}/me`, { token: me.accessToken, raw: '{"nickname":' }), 400, 'invalid_json');
  });
});

describe('public profiles', () => {
  it("shows another user's profile without their email", async () => {
    const [alice, bob] = await Promise.all([register({ email: true }), register({ email: true })]);
    const res = await api('GET', `${U}/${alice.user.id}`, { token: bob.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: alice.user.id, username: alice.user.username });
    expect(res.body).not.toHaveProperty('email');
    // My own profile by id does carry my email.
    expect((await api('GET', `${U}/${alice.user.id}`, { token: alice.accessToken })).body.email).toBe(alice.user.email);
  });

  it('404 for an unknown id, 400 for a malformed one', async () => {
    const me = await register();
    expectError(await api('GET', `${U}/${randomUUID()}`, { token: me.accessToken }), 404, 'not_found');
    expectError(await api('GET', `${U}/not-an-id`, { token: me.accessToken }), 400, 'validation_failed');
  });

  it('a profile change is seen by others at once (the cached copy is dropped)', async () => {
    const [alice, bob] = await Promise.all([register(), register()]);
    expect((await api('GET', `${U}/${alice.user.id}`, { token: bob.accessToken })).body.nickname).toBe(alice.user.username); // now cached
    expect(await redis('EXISTS', `user:info:${alice.user.id}`)).toBe(1);
    await api('PATCH', `${U}/me`, { token: alice.accessToken, body: { nickname: 'Alice Renamed', bio: 'new' } });
    const after = await api('GET', `${U}/${alice.user.id}`, { token: bob.accessToken });
    expect(after.body).toMatchObject({ nickname: 'Alice Renamed', bio: 'new' });
    const lookup = await api('GET', `${U}?ids=${alice.user.id}`, { token: bob.accessToken });
    expect(lookup.body.items[0]).toMatchObject({ nickname: 'Alice Renamed' });
  });

  it('the cache never holds the password hash, and a corrupt cache entry falls back to Postgres', async () => {
    const [alice, bob] = await Promise.all([register({ email: true }), register()]);
    await api('GET', `${U}/${alice.user.id}`, { token: bob.accessToken });
    const cached = JSON.parse(String(await redis('GET', `user:info:${alice.user.id}`)));
    expect(cached).toMatchObject({ id: alice.user.id, username: alice.user.username });
    expect(JSON.stringify(cached)).not.toMatch(/password|scrypt/i);

    await redis('SET', `user:info:${alice.user.id}`, '{"not":"a profile"}');
    const res = await api('GET', `${U}/${alice.user.id}`, { token: bob.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: alice.user.id, username: alice.user.username });
    expect(res.body).not.toHaveProperty('email');
  });
});

describe('profiles by ids', () => {
  it('answers in the order asked, leaves unknown ids out, and never shows others’ emails', async () => {
    const [a, b, c] = await Promise.all([register({ email: true }), register({ email: true }), register()]);
    const unknown = randomUUID();
    const res = await api('GET', `${U}?ids=${[b.user.id, unknown, a.user.id, b.user.id].join(',')}`, { token: c.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items.map((u: any) => u.id)).toEqual([b.user.id, a.user.id]);
    for (const u of res.body.items) expect(u).not.toHaveProperty('email');
  });

  it('takes up to 100 ids; 101, a malformed id, or none is 400', async () => {
    const me = await register();
    const hundred: string[] = Array.from({ length: 100 }, () => randomUUID());
    hundred[50] = me.user.id;
    const ok = await api('GET', `${U}?ids=${hundred.join(',')}`, { token: me.accessToken });
    expect(ok.status).toBe(200);
    expect(ok.body.items.map((u: any) => u.id)).toEqual([me.user.id]);

    expectError(await api('GET', `${U}?ids=${[...hundred, randomUUID()].join(',')}`, { token: me.accessToken }), 400, 'validation_failed');
    expectError(await api('GET', `${U}?ids=${me.user.id},nope`, { token: me.accessToken }), 400, 'validation_failed');
    expectError(await api('GET', `${U}?ids=${me.user.id},,${me.user.id}`, { token: me.accessToken }), 400, 'validation_failed');
    expectError(await api('GET', `${U}?ids=`, { token: me.accessToken }), 400, 'validation_failed');
    expectError(await api('GET', U, { token: me.accessToken }), 400, 'validation_failed');
  });
});

describe('search', () => {
  it('finds by username or nickname prefix, any case, ordered by username', async () => {
    const p = uniquePrefix();
    const [x, y] = await Promise.all([registerAs(`${p}_beta`), registerAs(`${p}_alpha`)]);
    const z = await registerAs(uniqueName('zz'), `${p.toUpperCase()} Nick`);
    const me = await register();
    const res = await api('GET', `${U}/search?q=${p.toUpperCase()}`, { token: me.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.items.map((u: any) => u.id)).toEqual([y.user.id, x.user.id, z.user.id]);
    expect(res.body.nextCursor).toBeNull();

    const byNick = await api('GET', `${U}/search?q=${encodeURIComponent(`${p} n`)}`, { token: me.accessToken });
    expect(byNick.body.items.map((u: any) => u.id)).toEqual([z.user.id]);
    // A prefix, not a substring.
    expect((await api('GET', `${U}/search?q=${p.slice(1)}`, { token: me.accessToken })).body.items).toEqual([]);
  });

  it('treats LIKE wildcards literally', async () => {
    const p = uniquePrefix();
    const [under] = await Promise.all([registerAs(`${p}_x`), registerAs(`${p}ax`)]);
    const me = await register();
    const res = await api('GET', `${U}/search?q=${p}_`, { token: me.accessToken });
    expect(res.body.items.map((u: any) => u.id)).toEqual([under.user.id]);
    const pct = await api('GET', `${U}/search?q=${encodeURIComponent(`${p}%`)}`, { token: me.accessToken });
    expect(pct.status).toBe(200);
    expect(pct.body.items).toEqual([]);
    const backslash = await api('GET', `${U}/search?q=${encodeURIComponent(`${p}\\`)}`, { token: me.accessToken });
    expect(backslash.status).toBe(200);
    expect(backslash.body.items).toEqual([]);
  });

  it('pages with a stable cursor, without repeats or gaps, and shows no emails', async () => {
    const p = uniquePrefix();
    const made: Account[] = [];
    for (let i = 0; i < 5; i++) made.push(await registerAs(`${p}.${i}`));
    await api('PATCH', `${U}/me`, { token: made[0]!.accessToken, body: { nickname: 'first' } });
    const me = await register();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await api('GET', `${U}/search?q=${p}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: me.accessToken });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      for (const u of res.body.items) expect(u).not.toHaveProperty('email');
      seen.push(...res.body.items.map((u: any) => u.username));
      cursor = res.body.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(made.map((m) => m.user.username));
  });

  it.each([
    ['no q', ''],
    ['an empty q', '?q='],
    ['a blank q', '?q=%20%20'],
    ['a 65-character q', `?q=${'q'.repeat(65)}`],
    ['limit 0', '?q=a&limit=0'],
    ['limit 101', '?q=a&limit=101'],
    ['a non-numeric limit', '?q=a&limit=ten'],
    ['a forged cursor', '?q=a&cursor=bm90LWEtY3Vyc29y'],
  ])('refuses %s with 400', async (_label, query) => {
    const me = await register();
    expectError(await api('GET', `${U}/search${query}`, { token: me.accessToken }), 400, 'validation_failed');
  });
});

describe('authentication', () => {
  it.each([
    ['GET', `${U}/me`],
    ['PATCH', `${U}/me`],
    ['GET', `${U}/${randomUUID()}`],
    ['GET', `${U}?ids=${randomUUID()}`],
    ['GET', `${U}/search?q=a`],
    ['POST', `${U}/${randomUUID()}/block`],
    ['DELETE', `${U}/${randomUUID()}/block`],
  ])('%s %s → 401 without a token', async (method, path) => {
    expectError(await api(method, path, method === 'PATCH' ? { body: { nickname: 'x' } } : {}), 401, 'unauthenticated');
  });

  it('/openapi.json documents the user routes', async () => {
    const doc = await api('GET', '/openapi.json');
    const paths = Object.keys(doc.body.paths);
    for (const p of ['/api/v1/users/me', '/api/v1/users/search', '/api/v1/users', '/api/v1/users/{id}', '/api/v1/users/{id}/block']) expect(paths).toContain(p);
    expect(Object.keys(doc.body.paths['/api/v1/users/me'])).toEqual(expect.arrayContaining(['get', 'patch']));
  });
});

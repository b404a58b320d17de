/**
 * Files end to end (API.md § Files): single uploads, dedupe, downloads and
 * their safety, signed URLs, deletion down to R2, avatars — each rule tried
 * with the wrong user too. The test stack sets FILE_SINGLE_MAX_BYTES to 6 MiB.
 */
import { describe, expect, it } from 'vitest';
import { api, register, stack, type Account } from './client.ts';
import { bytes, content, pngHeader, sha256, uploadFile, useStores } from './files-support.ts';

const MiB = 1024 * 1024;
const { pool, r2 } = useStores();

const blobKeyOf = async (sha: string) => (await pool.query('SELECT r2_key FROM blobs WHERE sha256 = $1', [sha])).rows[0]?.r2_key as string | undefined;

describe('single upload', () => {
  it('stores the bytes, hashes them on the server, and reads them back', async () => {
    const a = await register();
    const data = bytes(300_000);
    const up = await uploadFile(a, data, 'notes.bin', 'application/x-notes');
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ ownerId: a.user.id, name: 'notes.bin', size: data.length, contentType: 'application/x-notes', sha256: sha256(data) });
    expect(up.body.createdAt).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/);
    const got = await api('GET', `/api/v1/files/${up.body.id}`, { token: a.accessToken });
    expect(got).toMatchObject({ status: 200, body: up.body });
    const dl = await content(a, up.body.id);
    expect(dl.status).toBe(200);
    expect(dl.headers.get('etag')).toBe(`"${sha256(data)}"`);
    expect(dl.headers.get('content-disposition')).toMatch(/^attachment; filename="notes.bin"/);
    expect(Buffer.compare(dl.bytes, data)).toBe(0);
    expect((await content(a, up.body.id, { 'if-none-match': `"${sha256(data)}"` })).status).toBe(304);
  });

  it('streams a file larger than one R2 part (multipart) and keeps it whole', async () => {
    const a = await register();
    const data = bytes(5 * MiB + 777);
    const up = await uploadFile(a, data);
    expect(up.status).toBe(201);
    expect(up.body.sha256).toBe(sha256(data));
    const stored = await r2().head((await blobKeyOf(sha256(data)))!);
    expect(stored?.size).toBe(data.length);
    expect(sha256((await content(a, up.body.id)).bytes)).toBe(sha256(data));
  });

  it('takes image type and dimensions from the bytes, not the label', async () => {
    const a = await register();
    const png = await uploadFile(a, pngHeader(640, 480), 'photo', 'application/octet-stream');
    expect(png.body).toMatchObject({ contentType: 'image/png', width: 640, height: 480 });
    const liar = await uploadFile(a, new TextEncoder().encode('<html><script>alert(1)</script></html>'), 'cat.png', 'image/png');
    expect(liar.body.contentType).toBe('application/octet-stream');
    expect(liar.body.width).toBeUndefined();
    const dl = await content(a, liar.body.id);
    expect(dl.headers.get('content-disposition')).toMatch(/^attachment/);
    const inline = await content(a, png.body.id);
    expect(inline.headers.get('content-type')).toBe('image/png');
    expect(inline.headers.get('content-disposition')).toMatch(/^inline/);
  });

  it('never serves HTML or SVG as a page', async () => {
    const a = await register();
    for (const [name, type] of [['page.html', 'text/html'], ['logo.svg', 'image/svg+xml']] as const) {
      const up = await uploadFile(a, new TextEncoder().encode(`<svg onload="alert(1)"><script>alert(2)</script></svg> ${name}`), name, type);
      const dl = await content(a, up.body.id);
      expect(dl.status).toBe(200);
      expect(dl.headers.get('content-disposition')).toMatch(/^attachment; filename=/);
      expect(dl.headers.get('x-content-type-options')).toBe('nosniff');
      expect(dl.headers.get('content-security-policy')).toContain('sandbox');
    }
  });

  it('answers Range with 206 and an unsatisfiable one with 416', async () => {
    const a = await register();
    const data = bytes(1000);
    const { body: f } = await uploadFile(a, data);
    const part = await content(a, f.id, { range: 'bytes=10-19' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 10-19/1000');
    expect([...part.bytes]).toEqual([...data.subarray(10, 20)]);
    const tail = await content(a, f.id, { range: 'bytes=-5' });
    expect([...tail.bytes]).toEqual([...data.subarray(995)]);
    const bad = await content(a, f.id, { range: 'bytes=1000-' });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe('bytes */1000');
    expect(JSON.parse(new TextDecoder().decode(bad.bytes)).error.code).toBe('range_not_satisfiable');
  });

  it('refuses oversize, malformed and non-multipart bodies, storing nothing', async () => {
    const a = await register();
    const before = (await r2().list({ prefix: 'blobs/' })).objects.length;
    const big = await uploadFile(a, bytes(6 * MiB + 1));
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('too_large');
    const boundary = 'XyZ';
    const truncated = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello, but the body stops here`;
    const cut = await api('POST', '/api/v1/files', { token: a.accessToken, raw: truncated, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
    expect(cut.status).toBe(400);
    expect(cut.body.error.code).toBe('validation_failed');
    const noFile = `--${boundary}\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n--${boundary}--\r\n`;
    expect((await api('POST', '/api/v1/files', { token: a.accessToken, raw: noFile, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } })).status).toBe(400);
    const json = await api('POST', '/api/v1/files', { token: a.accessToken, body: { file: 'x' } });
    expect(json.status).toBe(415);
    expect(json.body.error.code).toBe('unsupported_media_type');
    expect((await r2().list({ prefix: 'blobs/' })).objects.length).toBe(before);
  });
});

describe('who may read', () => {
  it('only the owner (and no one without a token); others get 404 as for no file', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const { body: f } = await uploadFile(a, bytes(100));
    for (const path of [`/api/v1/files/${f.id}`, `/api/v1/files/${f.id}/content`, `/api/v1/files/${f.id}/url`]) {
      const res = await api('GET', path, { token: b.accessToken });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
      expect((await api('GET', path)).status).toBe(401);
    }
    expect((await api('DELETE', `/api/v1/files/${f.id}`, { token: b.accessToken })).status).toBe(404);
    const unknown = await api('GET', '/api/v1/files/01900000-0000-7000-8000-00000000dead', { token: b.accessToken });
    expect(unknown.status).toBe(404);
    expect((await api('GET', '/api/v1/files/not-a-uuid', { token: a.accessToken })).status).toBe(400);
  });

  it('signed URLs work without a header, for 5 minutes, and only as signed', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const data = bytes(64);
    const { body: f } = await uploadFile(a, data);
    const signed = await api('GET', `/api/v1/files/${f.id}/url`, { token: a.accessToken });
    expect(signed.status).toBe(200);
    const ttl = Date.parse(signed.body.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(280_000);
    expect(ttl).toBeLessThanOrEqual(300_000);
    const ok = await fetch(signed.body.url);
    expect(ok.status).toBe(200);
    expect(Buffer.compare(new Uint8Array(await ok.arrayBuffer()), data)).toBe(0);
    const url = new URL(signed.body.url);
    const forged = new URL(url);
    forged.searchParams.set('exp', String(Number(url.searchParams.get('exp')) + 3600));
    expect((await fetch(forged)).status).toBe(401);
    const otherUser = new URL(url);
    otherUser.searchParams.set('uid', b.user.id);
    expect((await fetch(otherUser)).status).toBe(401);
    const { body: other } = await uploadFile(b, bytes(10));
    expect((await fetch(url.href.replace(f.id, other.id))).status).toBe(401);
  });

  it('an avatar must be an image of your own; a current avatar is readable by anyone signed in', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const { body: img } = await uploadFile(a, pngHeader(32, 32), 'me.png', 'image/png');
    const { body: doc } = await uploadFile(a, bytes(20), 'cv.pdf', 'application/pdf');
    const { body: theirs } = await uploadFile(b, pngHeader(8, 8), 'b.png', 'image/png');
    expect((await api('PATCH', '/api/v1/users/me', { token: a.accessToken, body: { avatarFileId: doc.id } })).status).toBe(400);
    expect((await api('PATCH', '/api/v1/users/me', { token: a.accessToken, body: { avatarFileId: theirs.id } })).status).toBe(400);
    expect((await api('GET', `/api/v1/files/${img.id}`, { token: b.accessToken })).status).toBe(404);
    const set = await api('PATCH', '/api/v1/users/me', { token: a.accessToken, body: { avatarFileId: img.id } });
    expect(set.status).toBe(200);
    expect(set.body.avatarFileId).toBe(img.id);
    expect((await content(b, img.id)).status).toBe(200);
    // Deleting the file clears the avatar, and with it the others' access.
    expect((await api('DELETE', `/api/v1/files/${img.id}`, { token: a.accessToken })).status).toBe(204);
    expect((await api('GET', '/api/v1/users/me', { token: a.accessToken })).body.avatarFileId).toBeUndefined();
    expect((await content(b, img.id)).status).toBe(404);
  });
});

describe('dedupe and deletion', () => {
  it('same bytes from two users: two files, one blob, one R2 object', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const data = bytes(50_000);
    const fa = (await uploadFile(a, data, 'a.bin')).body;
    const fb = (await uploadFile(b, data, 'b.bin')).body;
    expect(fb.id).not.toBe(fa.id);
    expect(fb).toMatchObject({ ownerId: b.user.id, name: 'b.bin', sha256: fa.sha256 });
    const { rows } = await pool.query('SELECT r2_key FROM blobs WHERE sha256 = $1', [fa.sha256]);
    expect(rows).toHaveLength(1);
    expect(rows[0].r2_key).toBe(`blobs/${fa.id}`);
    expect(await r2().head(`blobs/${fa.id}`)).not.toBeNull();
    // The second copy was deleted once it was known to be a duplicate.
    expect(await r2().head(`blobs/${fb.id}`)).toBeNull();
    expect((await pool.query('SELECT count(*)::int AS n FROM blob_garbage')).rows[0].n).toBe(0);
  });

  it('the blob leaves R2 when the last file referring to it is deleted', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const data = bytes(2048);
    const fa = (await uploadFile(a, data)).body;
    const fb = (await uploadFile(b, data)).body;
    const key = (await blobKeyOf(fa.sha256))!;
    expect((await api('DELETE', `/api/v1/files/${fa.id}`, { token: a.accessToken })).status).toBe(204);
    expect((await api('GET', `/api/v1/files/${fa.id}`, { token: a.accessToken })).status).toBe(404);
    expect((await api('DELETE', `/api/v1/files/${fa.id}`, { token: a.accessToken })).status).toBe(404);
    expect(await r2().head(key)).not.toBeNull();
    expect(sha256((await content(b, fb.id)).bytes)).toBe(fa.sha256);
    expect((await api('DELETE', `/api/v1/files/${fb.id}`, { token: b.accessToken })).status).toBe(204);
    expect(await r2().head(key)).toBeNull();
    expect(await blobKeyOf(fa.sha256)).toBeUndefined();
    // The same bytes again: a fresh blob under a fresh key.
    const again = (await uploadFile(a, data)).body;
    expect(await blobKeyOf(fa.sha256)).toBe(`blobs/${again.id}`);
    expect(sha256((await content(a, again.id)).bytes)).toBe(fa.sha256);
  });
});

it('uses the stack it was given', () => {
  expect(stack.wranglerState).toContain('wrangler');
});

/**
 * Resumable uploads by tus 1.0, driven by the official tus-js-client (Node):
 * any chunk size, the whole file in one PATCH, a PATCH cut midway, a resume
 * after the Worker and its Durable Objects restart, termination — and the
 * protocol's refusals (version, offset, content type, size, the wrong user).
 */
import { Upload, type UploadOptions } from 'tus-js-client';
import { describe, expect, it } from 'vitest';
import { api, register, stack, type Account } from './client.ts';
import { bytes, content, sha256 } from './files-support.ts';

const MiB = 1024 * 1024;
const endpoint = `${stack.api}/api/v1/files/uploads`;
const tusHeaders = (acct: Account, more: Record<string, string> = {}) => ({ authorization: `Bearer ${acct.accessToken}`, 'tus-resumable': '1.0.0', ...more });

/** Runs a tus-js-client upload to the end; resolves with its URL and the file id the last PATCH named. */
function tusUpload(acct: Account, data: Uint8Array, opts: Partial<UploadOptions> = {}): Promise<{ url: string; fileId: string }> {
  return new Promise((resolve, reject) => {
    const upload: Upload = new Upload(Buffer.from(data), {
      endpoint,
      headers: { authorization: `Bearer ${acct.accessToken}` },
      metadata: { filename: 'movie.bin', filetype: 'application/x-movie' },
      retryDelays: [100, 500, 1000],
      storeFingerprintForResuming: false,
      ...opts,
      onError: reject,
      onSuccess: ({ lastResponse }) => resolve({ url: upload.url!, fileId: lastResponse.getHeader('Beehive-File-Id') ?? '' }),
    });
    upload.start();
  });
}

async function create(acct: Account, length: number) {
  const metadata = `filename ${btoa('movie.bin')},filetype ${btoa('application/x-movie')}`;
  const res = await fetch(endpoint, { method: 'POST', headers: tusHeaders(acct, { 'upload-length': String(length), 'upload-metadata': metadata }) });
  expect(res.status).toBe(201);
  expect(res.headers.get('tus-resumable')).toBe('1.0.0');
  return new URL(res.headers.get('location')!, stack.api).href;
}

const head = async (acct: Account, url: string) => fetch(url, { method: 'HEAD', headers: tusHeaders(acct) });

async function patch(acct: Account, url: string, offset: number, body: Uint8Array, type = 'application/offset+octet-stream') {
  return fetch(url, { method: 'PATCH', headers: tusHeaders(acct, { 'upload-offset': String(offset), 'content-type': type }), body });
}

async function expectFile(acct: Account, fileId: string, data: Uint8Array) {
  const file = await api('GET', `/api/v1/files/${fileId}`, { token: acct.accessToken });
  expect(file.status).toBe(200);
  expect(file.body).toMatchObject({ id: fileId, size: data.length, sha256: sha256(data), name: 'movie.bin', contentType: 'application/x-movie' });
  expect(sha256((await content(acct, fileId)).bytes)).toBe(sha256(data));
}

describe('tus discovery and refusals', () => {
  it('OPTIONS names the version, extensions and maximum size', async () => {
    const res = await fetch(endpoint, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('tus-version')).toBe('1.0.0');
    expect(res.headers.get('tus-extension')).toBe('creation,termination');
    expect(res.headers.get('tus-max-size')).toBe(String(20 * MiB));
    expect(res.headers.get('tus-resumable')).toBe('1.0.0');
  });

  it('412 without the right Tus-Resumable, 413 past the maximum, 401 without a token', async () => {
    const a = await register();
    for (const version of [undefined, '0.2.2']) {
      const headers: Record<string, string> = { authorization: `Bearer ${a.accessToken}`, 'upload-length': '10', ...(version ? { 'tus-resumable': version } : {}) };
      const res = await fetch(endpoint, { method: 'POST', headers });
      expect(res.status).toBe(412);
      expect(res.headers.get('tus-version')).toBe('1.0.0');
      expect(res.headers.get('tus-resumable')).toBe('1.0.0');
    }
    const big = await fetch(endpoint, { method: 'POST', headers: tusHeaders(a, { 'upload-length': String(20 * MiB + 1) }) });
    expect(big.status).toBe(413);
    expect((await fetch(endpoint, { method: 'POST', headers: tusHeaders(a, { 'upload-length': 'ten' }) })).status).toBe(400);
    expect((await fetch(endpoint, { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': '10' } })).status).toBe(401);
  });

  it('409 on a wrong offset, 415 on a wrong content type, 404 for anyone but the creator', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const url = await create(a, 100);
    expect((await patch(a, url, 5, bytes(10))).status).toBe(409);
    expect((await patch(a, url, 0, bytes(10), 'application/octet-stream')).status).toBe(415);
    expect((await head(b, url)).status).toBe(404);
    expect((await patch(b, url, 0, bytes(10))).status).toBe(404);
    expect((await fetch(url, { method: 'DELETE', headers: tusHeaders(b) })).status).toBe(404);
    const ok = await patch(a, url, 0, bytes(10));
    expect(ok.status).toBe(204);
    expect(ok.headers.get('upload-offset')).toBe('10');
    const h = await head(a, url);
    expect([h.status, h.headers.get('upload-offset'), h.headers.get('upload-length'), h.headers.get('cache-control')]).toEqual([200, '10', '100', 'no-store']);
    expect((await head(a, `${endpoint}/01900000-0000-7000-8000-00000000beef`)).status).toBe(404);
  });
});

describe('tus-js-client end to end', () => {
  const data = bytes(12 * MiB + 123, 42);

  for (const chunkSize of [1 * MiB, 3 * MiB + 7, 6 * MiB + 1, Infinity]) {
    it(`uploads 12 MiB in chunks of ${chunkSize === Infinity ? 'the whole file (one PATCH)' : `${chunkSize} bytes`}`, async () => {
      const a = await register();
      const { url, fileId } = await tusUpload(a, data, { chunkSize });
      expect(fileId).toMatch(/^[0-9a-f-]{36}$/);
      await expectFile(a, fileId, data);
      const status = await api('GET', new URL(url).pathname, { token: a.accessToken });
      expect(status.body).toMatchObject({ offset: data.length, length: data.length, file: { id: fileId } });
    }, 60_000);
  }

  it('resumes after a PATCH cut midway: the offset keeps at least the whole parts that arrived', async () => {
    const a = await register();
    const url = await create(a, data.length);
    const sent = 6 * MiB;
    const cut = new ReadableStream<Uint8Array>({
      async start(ctl) {
        for (let at = 0; at < sent; at += 256 * 1024) ctl.enqueue(data.slice(at, at + 256 * 1024));
        await new Promise((r) => setTimeout(r, 1500)); // let it reach the server, then break the connection
        ctl.error(new Error('cable pulled'));
      },
    });
    await expect(
      fetch(url, { method: 'PATCH', headers: tusHeaders(a, { 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }), body: cut, duplex: 'half' } as RequestInit),
    ).rejects.toThrow();
    let offset = 0;
    for (let i = 0; i < 40 && offset < 5 * MiB; i++) {
      offset = Number((await head(a, url)).headers.get('upload-offset'));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(offset).toBeGreaterThanOrEqual(5 * MiB);
    expect(offset).toBeLessThanOrEqual(sent);
    const { fileId } = await tusUpload(a, data, { uploadUrl: url, chunkSize: 4 * MiB });
    await expectFile(a, fileId, data);
  }, 60_000);

  it('resumes after aborting the client mid-upload', async () => {
    const a = await register();
    const upload = await new Promise<Upload>((resolve, reject) => {
      const u: Upload = new Upload(Buffer.from(data), {
        endpoint,
        headers: { authorization: `Bearer ${a.accessToken}` },
        metadata: { filename: 'movie.bin', filetype: 'application/x-movie' },
        chunkSize: 2 * MiB,
        storeFingerprintForResuming: false,
        onError: reject,
        onChunkComplete: (_n, accepted) => {
          if (accepted >= 6 * MiB) void u.abort().then(() => resolve(u));
        },
      });
      u.start();
    });
    const offset = Number((await head(a, upload.url!)).headers.get('upload-offset'));
    expect(offset).toBeGreaterThanOrEqual(6 * MiB);
    expect(offset).toBeLessThan(data.length);
    const { fileId } = await tusUpload(a, data, { uploadUrl: upload.url!, chunkSize: 5 * MiB });
    await expectFile(a, fileId, data);
  }, 60_000);

  it('resumes after the Worker and its Durable Objects restart (tail bytes and hash state survive)', async () => {
    const a = await register();
    const url = await create(a, data.length);
    const first = 7 * MiB + 5; // one 5 MiB part in R2, 2 MiB + 5 bytes of tail in the actor's storage
    expect((await patch(a, url, 0, data.subarray(0, first))).status).toBe(204);
    const restart = await fetch(`${stack.control}/worker/restart`, { method: 'POST' });
    expect(restart.status).toBe(200);
    expect((await head(a, url)).headers.get('upload-offset')).toBe(String(first));
    const { fileId } = await tusUpload(a, data, { uploadUrl: url, chunkSize: 3 * MiB });
    await expectFile(a, fileId, data);
  }, 120_000);

  it('terminates: DELETE aborts the upload, after which it is gone', async () => {
    const a = await register();
    const url = await create(a, data.length);
    expect((await patch(a, url, 0, data.subarray(0, 6 * MiB))).status).toBe(204);
    const del = await fetch(url, { method: 'DELETE', headers: tusHeaders(a) });
    expect(del.status).toBe(204);
    expect(del.headers.get('tus-resumable')).toBe('1.0.0');
    expect((await head(a, url)).status).toBe(404);
    expect((await patch(a, url, 6 * MiB, data.subarray(6 * MiB, 7 * MiB))).status).toBe(404);
  });

  it('an empty file and a tiny one complete (a plain put, no multipart)', async () => {
    const a = await register();
    for (const small of [new Uint8Array(0), bytes(10)]) {
      const url = await create(a, small.length);
      const res = await patch(a, url, 0, small);
      expect(res.status).toBe(204);
      const fileId = res.headers.get('beehive-file-id')!;
      const file = await api('GET', `/api/v1/files/${fileId}`, { token: a.accessToken });
      expect(file.body).toMatchObject({ size: small.length, sha256: sha256(small), name: 'movie.bin' });
    }
  });
});

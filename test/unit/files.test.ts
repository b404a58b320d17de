/**
 * The file pieces that run in workerd: the resumable hash, the sniffer, Range,
 * the streaming multipart reader, and the UploadDO against wrangler's R2
 * emulation (part cutting, eviction, expiry). Postgres is not reachable here,
 * so a completed upload stops at "stored, registration pending" — which is
 * itself the behaviour under a Postgres outage.
 */
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { hex } from '../../lib/ids.ts';
import { newHasher, restoreHash, saveHash } from '../../services/files/hash-state.ts';
import { PART_SIZE, PartBuffer } from '../../services/files/parts.ts';
import { cleanFileName, resolveContentType, servedInline } from '../../services/files/sniff.ts';
import { formBoundary, MalformedMultipart, multipartParts } from '../../workers/files/multipart.ts';
import { parseRange } from '../../workers/files/range.ts';
import { parseUploadMetadata } from '../../workers/files/tus.ts';
import { pseudoRandomBytes } from '../fixtures/bytes.ts';

const random = pseudoRandomBytes;

const sha = async (b: Uint8Array) => hex(await crypto.subtle.digest('SHA-256', b));

describe('resumable SHA-256', () => {
  it('saved and restored at block boundaries, equals a one-shot digest', async () => {
    const data = random(3 * 1024 * 1024 + 17, 7);
    let h = newHasher();
    let at = 0;
    for (const cut of [64, 4096, 1024 * 1024, 2 * 1024 * 1024 + 64 * 3]) {
      h.update(data.subarray(at, cut));
      at = cut;
      h = restoreHash(JSON.parse(JSON.stringify(saveHash(h))));
    }
    h.update(data.subarray(at));
    expect(hex(h.digest())).toBe(await sha(data));
  });

  it('refuses to save in the middle of a block', () => {
    const h = newHasher();
    h.update(new Uint8Array(10));
    expect(() => saveHash(h)).toThrow(/64-byte/);
  });
});

describe('PartBuffer', () => {
  it('cuts any chunk sizes into exact parts', () => {
    const b = new PartBuffer();
    const data = random(2 * PART_SIZE + 123);
    const parts: Uint8Array[] = [];
    for (let at = 0; at < data.length; at += 777_777) {
      b.push(data.subarray(at, at + 777_777));
      for (let p = b.takePart(); p; p = b.takePart()) parts.push(p);
    }
    expect(parts.map((p) => p.length)).toEqual([PART_SIZE, PART_SIZE]);
    expect(b.takeAll().length).toBe(123);
    expect(parts[1]![5]).toBe(data[PART_SIZE + 5]);
  });
});

// Minimal headers of each format, with the dimensions where the format keeps them.
function png(w: number, h: number): Uint8Array {
  const b = new Uint8Array(33);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  new DataView(b.buffer).setUint32(16, w);
  new DataView(b.buffer).setUint32(20, h);
  return b;
}
function gif(w: number, h: number): Uint8Array {
  const b = new Uint8Array(13);
  b.set(new TextEncoder().encode('GIF89a'));
  new DataView(b.buffer).setUint16(6, w, true);
  new DataView(b.buffer).setUint16(8, h, true);
  return b;
}
function jpeg(w: number, h: number): Uint8Array {
  const exif = new Uint8Array(2 + 2 + 1000); // an APP1 segment before the frame header
  exif.set([0xff, 0xe1, (1002 >> 8) & 0xff, 1002 & 0xff]);
  const sof = new Uint8Array([0xff, 0xc0, 0, 17, 8, h >> 8, h & 0xff, w >> 8, w & 0xff, 3]);
  const out = new Uint8Array(2 + exif.length + sof.length + 20);
  out.set([0xff, 0xd8]);
  out.set(exif, 2);
  out.set(sof, 2 + exif.length);
  return out;
}
function webpX(w: number, h: number): Uint8Array {
  const b = new Uint8Array(30);
  const e = new TextEncoder();
  b.set(e.encode('RIFF'));
  b.set(e.encode('WEBPVP8X'), 8);
  b.set([(w - 1) & 0xff, ((w - 1) >> 8) & 0xff, (w - 1) >> 16, (h - 1) & 0xff, ((h - 1) >> 8) & 0xff, (h - 1) >> 16], 24);
  return b;
}
function webpL(w: number, h: number): Uint8Array {
  const b = new Uint8Array(30);
  const e = new TextEncoder();
  b.set(e.encode('RIFF'));
  b.set(e.encode('WEBPVP8L'), 8);
  b[20] = 0x2f;
  new DataView(b.buffer).setUint32(21, (w - 1) | ((h - 1) << 14), true);
  return b;
}

describe('content sniffing', () => {
  it('reads the dimensions of PNG, GIF, JPEG and WebP from their headers', () => {
    expect(resolveContentType('application/octet-stream', png(640, 480))).toEqual({ contentType: 'image/png', width: 640, height: 480 });
    expect(resolveContentType(undefined, gif(3, 5))).toEqual({ contentType: 'image/gif', width: 3, height: 5 });
    expect(resolveContentType('image/png', jpeg(1920, 1080))).toEqual({ contentType: 'image/jpeg', width: 1920, height: 1080 });
    expect(resolveContentType('image/webp', webpX(4000, 3000))).toEqual({ contentType: 'image/webp', width: 4000, height: 3000 });
    expect(resolveContentType('image/webp', webpL(17, 9))).toEqual({ contentType: 'image/webp', width: 17, height: 9 });
  });

  it('does not let a label make HTML an inline image; SVG and HTML stay downloads', () => {
    const html = new TextEncoder().encode('<html><script>alert(1)</script></html>');
    expect(resolveContentType('image/png', html)).toEqual({ contentType: 'application/octet-stream' });
    expect(resolveContentType('text/html; charset=utf-8', html)).toEqual({ contentType: 'text/html' });
    expect(servedInline('text/html')).toBe(false);
    expect(servedInline(resolveContentType('image/svg+xml', new TextEncoder().encode('<svg/>')).contentType)).toBe(false);
    expect(servedInline('image/png')).toBe(true);
    expect(servedInline('audio/ogg')).toBe(true);
    expect(resolveContentType('not a type', new Uint8Array(0))).toEqual({ contentType: 'application/octet-stream' });
  });

  it('cleans file names', () => {
    expect(cleanFileName('C:\\Users\\me\\a\u0000b.txt')).toBe('ab.txt');
    expect(cleanFileName('../../etc/passwd')).toBe('passwd');
    expect(cleanFileName('')).toBe('file');
    expect(cleanFileName('x\uD800y')).toBe('xy');
  });
});

describe('Range', () => {
  it('parses one range and clamps it; refuses the unsatisfiable; ignores the rest', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ kind: 'part', offset: 0, length: 10 });
    expect(parseRange('bytes=90-', 100)).toEqual({ kind: 'part', offset: 90, length: 10 });
    expect(parseRange('bytes=-5', 100)).toEqual({ kind: 'part', offset: 95, length: 5 });
    expect(parseRange('bytes=50-1000', 100)).toEqual({ kind: 'part', offset: 50, length: 50 });
    expect(parseRange('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-1,5-6', 100)).toEqual({ kind: 'all' });
    expect(parseRange('items=0-1', 100)).toEqual({ kind: 'all' });
    expect(parseRange(undefined, 100)).toEqual({ kind: 'all' });
  });
});

describe('tus Upload-Metadata', () => {
  it('decodes key/base64 pairs and refuses malformed ones', () => {
    expect(parseUploadMetadata(`filename ${btoa('a b.png')},filetype ${btoa('image/png')},flag`)).toEqual({ filename: 'a b.png', filetype: 'image/png', flag: '' });
    expect(parseUploadMetadata('filename not*base64')).toBeUndefined();
    expect(parseUploadMetadata(undefined)).toEqual({});
  });
});

function body(parts: Uint8Array[], chunk: number): ReadableStream<Uint8Array> {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  let pos = 0;
  return new ReadableStream({
    pull(ctl) {
      if (pos >= all.length) return ctl.close();
      ctl.enqueue(all.slice(pos, pos + chunk));
      pos += chunk;
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>, boundary: string) {
  const out: Array<{ name?: string; filename?: string; type?: string; bytes: number[] }> = [];
  for await (const part of multipartParts(stream, boundary)) {
    const bytes: number[] = [];
    for await (const c of part.chunks()) bytes.push(...c);
    out.push({ name: part.name, filename: part.filename, type: part.contentType, bytes });
  }
  return out;
}

describe('streaming multipart', () => {
  const e = new TextEncoder();
  const boundary = '----x7Boundary';
  // The file's bytes contain most of a delimiter, to trip a naive search.
  const tricky = e.encode(`ab\r\n--${boundary.slice(0, -1)}cd\r\n`);
  const form = [
    e.encode(`--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n`),
    e.encode(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a \\"q\\".bin"\r\nContent-Type: application/x-test\r\n\r\n`),
    tricky,
    e.encode(`\r\n--${boundary}--\r\n`),
  ];

  it('yields every part with its bytes, whatever the chunking', async () => {
    for (const chunk of [1, 3, 7, 64, 4096]) {
      const parts = await collect(body(form, chunk), boundary);
      expect(parts).toEqual([
        { name: 'note', filename: undefined, type: undefined, bytes: [...e.encode('hello')] },
        { name: 'file', filename: 'a "q".bin', type: 'application/x-test', bytes: [...tricky] },
      ]);
    }
  });

  it('refuses a body that ends early or has no boundary', async () => {
    await expect(collect(body(form.slice(0, 3), 5), boundary)).rejects.toBeInstanceOf(MalformedMultipart);
    await expect(collect(body([e.encode('just text')], 4), boundary)).rejects.toBeInstanceOf(MalformedMultipart);
  });

  it('finds the boundary in the content type', () => {
    expect(formBoundary('multipart/form-data; boundary=abc')).toBe('abc');
    expect(formBoundary('multipart/form-data; boundary="a b"')).toBe('a b');
    expect(formBoundary('application/json')).toBeUndefined();
  });
});

describe('UploadDO', () => {
  const stream = (b: Uint8Array) => body([b], 256 * 1024);
  const newUpload = async (id: string, length: number) => {
    const stub = env.UPLOADS.getByName(id);
    expect(await stub.create({ uploadId: id, ownerId: 'owner', name: 'x.bin', declaredType: null, length })).toMatchObject({ ok: true, offset: 0, length });
    return stub;
  };

  it('takes any chunking across evictions, keeps tails, and stores the exact bytes', async () => {
    const id = '01900000-0000-7000-8000-000000000001';
    const data = random(PART_SIZE * 2 + 1234, 3);
    const stub = await newUpload(id, data.length);
    expect(await stub.append('someone-else', 0, stream(data.subarray(0, 10)))).toMatchObject({ ok: false, code: 'not_found' });
    const cuts = [1_000_000, PART_SIZE + 10, PART_SIZE + 11, 2 * PART_SIZE + 100];
    let at = 0;
    for (const cut of cuts) {
      expect(await stub.append('owner', at, stream(data.subarray(at, cut)))).toMatchObject({ ok: true, offset: cut });
      at = cut;
      await evictDurableObject(stub);
    }
    expect(await stub.append('owner', 5, stream(data.subarray(5, 10)))).toMatchObject({ ok: false, code: 'conflict' });
    // The last bytes complete the object; registration needs Postgres, which the unit tests do not have.
    expect(await stub.append('owner', at, stream(data.subarray(at)))).toMatchObject({ ok: false, code: 'unavailable' });
    expect(await stub.inspect('owner')).toMatchObject({ ok: false, code: 'unavailable' });
    const stored = await env.FILES.get(`blobs/${id}`);
    const bytes = new Uint8Array(await stored!.arrayBuffer());
    expect(bytes.length).toBe(data.length);
    expect(await sha(bytes)).toBe(await sha(data));
    const saved = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ sha256: string }>('SELECT sha256 FROM upload').one().sha256);
    expect(saved).toBe(await sha(data));
  });

  it('refuses bytes past Upload-Length but keeps those before it', async () => {
    const id = '01900000-0000-7000-8000-000000000002';
    const stub = await newUpload(id, 100);
    expect(await stub.append('owner', 0, stream(random(200)), 200)).toMatchObject({ ok: false, code: 'too_large' });
    expect(await stub.inspect('owner')).toMatchObject({ ok: true, offset: 0 });
    // Without a Content-Length the overflow shows only while reading: the first 100 bytes complete the upload
    // (which then wants Postgres), the rest is dropped.
    expect(await stub.append('owner', 0, stream(random(150)))).toMatchObject({ ok: false, code: 'unavailable' });
    const stored = await env.FILES.get(`blobs/${id}`);
    expect(new Uint8Array(await stored!.arrayBuffer())).toEqual(random(150).subarray(0, 100));
  });

  it('expires: the alarm aborts the R2 multipart upload and forgets the upload', async () => {
    const id = '01900000-0000-7000-8000-000000000003';
    const stub = await newUpload(id, PART_SIZE * 3);
    expect(await stub.append('owner', 0, stream(random(PART_SIZE + 5)))).toMatchObject({ ok: true, offset: PART_SIZE + 5 });
    const multipartId = await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec('UPDATE upload SET expires_at = 0');
      return state.storage.sql.exec<{ multipart_id: string }>('SELECT multipart_id FROM upload').one().multipart_id;
    });
    expect(multipartId).toBeTruthy();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.inspect('owner')).toMatchObject({ ok: false, code: 'not_found' });
    await expect(env.FILES.resumeMultipartUpload(`blobs/${id}`, multipartId).uploadPart(2, new Uint8Array(10))).rejects.toThrow();
  });

  it('terminates on request', async () => {
    const id = '01900000-0000-7000-8000-000000000004';
    const stub = await newUpload(id, 10);
    expect(await stub.terminate('stranger')).toMatchObject({ ok: false, code: 'not_found' });
    expect(await stub.terminate('owner')).toEqual({ ok: true });
    expect(await stub.inspect('owner')).toMatchObject({ ok: false, code: 'not_found' });
  });
});

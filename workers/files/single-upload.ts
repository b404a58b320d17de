/**
 * `POST /files`: the `file` part of a multipart body, streamed to R2 while
 * its SHA-256 is computed over exactly the bytes stored (Web Crypto's
 * DigestStream, native). R2 needs a length up front for a streamed put, and a
 * multipart part has none, so the bytes are cut into 5 MiB parts: a file that
 * ends within the first part is one `put`; a longer one becomes an R2
 * multipart upload with one part in flight while the next is read. Memory per
 * upload stays around two parts, whatever the file's size.
 */
import { hex } from '../../lib/ids.ts';
import { PartBuffer } from '../../services/files/parts.ts';
import { SNIFF_BYTES } from '../../services/files/sniff.ts';
import { ApiError } from '../errors.ts';
import { MalformedMultipart, multipartParts } from './multipart.ts';

export interface StoredUpload {
  size: number;
  sha256: string;
  /** The file's first bytes, for sniffing its type and dimensions. */
  head: Uint8Array;
  filename: string | undefined;
  declaredType: string | undefined;
}

/** Writes `chunks` to R2 at `key`; on any failure nothing is left behind. */
async function writeObject(bucket: R2Bucket, key: string, chunks: AsyncIterable<Uint8Array>, maxBytes: number) {
  const digest = new crypto.DigestStream('SHA-256');
  const hashing = digest.getWriter();
  const buffer = new PartBuffer();
  const parts: R2UploadedPart[] = [];
  let upload: R2MultipartUpload | undefined;
  let inFlight: Promise<void> | undefined;
  let sent = 0;
  let size = 0;
  const head: Uint8Array[] = [];
  let headBytes = 0;
  const send = async (bytes: Uint8Array) => {
    await inFlight;
    upload ??= await bucket.createMultipartUpload(key);
    const sending = upload.uploadPart(++sent, bytes);
    inFlight = sending.then((part) => void parts.push(part));
  };
  try {
    for await (const chunk of chunks) {
      size += chunk.length;
      if (size > maxBytes) throw new ApiError('too_large', `A single upload is limited to ${maxBytes} bytes; use the resumable upload for larger files`);
      if (headBytes < SNIFF_BYTES) {
        head.push(chunk.slice(0, SNIFF_BYTES - headBytes));
        headBytes += head.at(-1)!.length;
      }
      // DigestStream reads the chunk without taking it over (checked), so the same bytes go on to R2 uncopied.
      await hashing.write(chunk);
      buffer.push(chunk);
      for (let part = buffer.takePart(); part; part = buffer.takePart()) await send(part);
    }
    await hashing.close();
    if (upload) {
      if (buffer.size > 0) await send(buffer.takeAll());
      await inFlight;
      await upload!.complete(parts.sort((a, b) => a.partNumber - b.partNumber));
    } else {
      await bucket.put(key, buffer.takeAll());
    }
  } catch (err) {
    await inFlight?.catch(() => {});
    await upload?.abort().catch(() => {});
    throw err;
  }
  const joined = new Uint8Array(headBytes);
  let at = 0;
  for (const h of head) {
    joined.set(h, at);
    at += h.length;
  }
  return { size, sha256: hex(await digest.digest), head: joined };
}

/**
 * Reads a multipart body, stores its (first) `file` part at `key` and checks
 * the body to its end. 400 `validation_failed` for a malformed body or no
 * `file` part, 413 `too_large` past `maxBytes`; either way nothing is stored.
 */
export async function receiveSingleUpload(bucket: R2Bucket, key: string, body: ReadableStream<Uint8Array>, boundary: string, maxBytes: number): Promise<StoredUpload> {
  let stored: StoredUpload | undefined;
  try {
    for await (const part of multipartParts(body, boundary)) {
      if (stored || part.name !== 'file' || part.filename === undefined) {
        // Other fields are skipped, but not without bound.
        let skipped = 0;
        for await (const c of part.chunks()) if ((skipped += c.length) > 64 * 1024) throw new ApiError('too_large', 'Fields other than `file` are limited to 64 KiB');
        continue;
      }
      const written = await writeObject(bucket, key, part.chunks(), maxBytes);
      stored = { ...written, filename: part.filename, declaredType: part.contentType };
    }
  } catch (err) {
    if (stored) await bucket.delete(key).catch(() => {});
    if (err instanceof MalformedMultipart) throw new ApiError('validation_failed', `Malformed multipart body: ${err.message}`);
    throw err;
  }
  if (!stored) throw new ApiError('validation_failed', 'The body has no `file` part (a form field named "file" with a filename)');
  return stored;
}

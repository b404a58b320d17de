/**
 * Bytes into R2, in parts R2 accepts: every part of a multipart upload but
 * the last has the same size, at least 5 MiB. Whatever sizes the bytes
 * arrive in (a network read, a client's PATCH), they are cut here into parts
 * of exactly PART_SIZE. Used by the single upload (workers/files) and by the
 * resumable upload's Durable Object.
 */

/** R2's minimum part size: the least memory an upload holds, and 20 parts for a 100 MiB file (R2 allows 10,000). */
export const PART_SIZE = 5 * 1024 * 1024;

/** Chunks in, fixed-size parts out, copying each byte once. */
export class PartBuffer {
  private chunks: Uint8Array[] = [];
  private bytes = 0;

  get size(): number {
    return this.bytes;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /** The first `PART_SIZE` bytes, if there are that many. */
  takePart(): Uint8Array | undefined {
    return this.bytes >= PART_SIZE ? this.take(PART_SIZE) : undefined;
  }

  /** Everything held (fewer than PART_SIZE bytes once every full part was taken). */
  takeAll(): Uint8Array {
    return this.take(this.bytes);
  }

  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0]!;
      const want = n - filled;
      if (head.length <= want) {
        out.set(head, filled);
        filled += head.length;
        this.chunks.shift();
      } else {
        out.set(head.subarray(0, want), filled);
        this.chunks[0] = head.subarray(want);
        filled = n;
      }
    }
    this.bytes -= n;
    return out;
  }
}

/** The R2 key of a newly stored copy: unique per upload, never reused (see db/schema.ts `blobs`). */
export function blobKey(uploadId: string): string {
  return `blobs/${uploadId}`;
}

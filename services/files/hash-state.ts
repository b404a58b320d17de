/**
 * SHA-256 whose state survives between requests: a resumable upload hashes
 * its bytes across many PATCHes and Durable Object restarts, and the parts it
 * already sent to R2 cannot be read back (an unfinished multipart upload is
 * not readable), so the running state itself is saved. `@noble/hashes` keeps
 * it in plain fields — the eight chaining words and the byte count — which
 * this module reads and restores. It only ever saves at a 64-byte block
 * boundary (R2 parts are multiples of 5 MiB), where nothing is buffered, so
 * those two fields are the whole state. Pinned to @noble/hashes 2.x; the
 * unit test compares resumed hashes with Web Crypto's digest.
 */
import { _SHA256 } from '@noble/hashes/sha2.js';

export interface HashState {
  /** The eight 32-bit chaining words. */
  words: number[];
  /** Bytes hashed so far (a multiple of 64). */
  length: number;
}

/** What this module touches inside noble's hasher (TypeScript-protected there). */
interface Internals {
  get(): number[];
  set(...words: number[]): void;
  length: number;
  pos: number;
}

const internals = (h: _SHA256) => h as unknown as Internals;

export function newHasher(): _SHA256 {
  return new _SHA256();
}

export function saveHash(h: _SHA256): HashState {
  const i = internals(h);
  if (i.pos !== 0) throw new Error('hash state can only be saved at a 64-byte boundary');
  return { words: i.get(), length: i.length };
}

export function restoreHash(state: HashState | null): _SHA256 {
  const h = new _SHA256();
  if (!state) return h;
  const i = internals(h);
  i.set(...state.words);
  i.length = state.length;
  return h;
}

export { type _SHA256 as Hasher };

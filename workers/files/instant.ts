/**
 * Instant upload (秒传) without an oracle. The challenge is the same whether
 * or not the bytes are stored: three random ranges drawn from the size the
 * client claims, and a nonce (Redis, single use via GETDEL, 5 minutes). The
 * confirmation does the same work either way — one Postgres lookup, one R2
 * range read per range (from the blob, or from a small decoy object when
 * there is no such blob), one hash, a constant-time comparison — and fails
 * the same way: 409 `upload_required`, whether the bytes are unknown or the
 * proof is wrong.
 */
import type { z } from '@hono/zod-openapi';
import type { InstantBody } from '../../protocol/files.ts';
import { randomToken } from '../../lib/ids.ts';
import { redisClient } from '../../services/redis.ts';

export const RANGE_COUNT = 3;
export const RANGE_BYTES = 256;
/** Where unknown bytes' ranges are read from, so that both answers cost one R2 read per range. */
const DECOY_KEY = 'instant/decoy';
const DECOY_BYTES = 4096;

export type Range = { offset: number; length: number };

interface Challenge extends z.infer<typeof InstantBody> {
  userId: string;
  ranges: Range[];
}

const nonceKey = (nonce: string) => `instant:${nonce}`;

/** `RANGE_COUNT` random ranges within `size` bytes (none for an empty file). */
export function randomRanges(size: number): Range[] {
  if (size === 0) return [];
  const length = Math.min(RANGE_BYTES, size);
  return Array.from({ length: RANGE_COUNT }, () => ({ offset: randomBelow(size - length + 1), length }));
}

/** A uniform random integer in [0, n), from 53 random bits. */
function randomBelow(n: number): number {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
  return Math.floor((((hi! >>> 0) * 2 ** 21 + (lo! >>> 11)) / 2 ** 53) * n);
}

export async function issueChallenge(env: Env, userId: string, body: z.infer<typeof InstantBody>, ttlSeconds: number): Promise<{ nonce: string; ranges: Range[] }> {
  const nonce = randomToken(24);
  const ranges = randomRanges(body.size);
  const challenge: Challenge = { ...body, userId, ranges };
  await redisClient(env).set(nonceKey(nonce), challenge, { ex: ttlSeconds });
  return { nonce, ranges };
}

/** The challenge behind `nonce`, consumed: a nonce answers once. */
export async function takeChallenge(env: Env, nonce: string): Promise<Challenge | undefined> {
  return (await redisClient(env).getdel<Challenge>(nonceKey(nonce))) ?? undefined;
}

async function readRanges(bucket: R2Bucket, key: string, ranges: Range[], wrap?: number): Promise<Array<Uint8Array | undefined>> {
  return Promise.all(
    ranges.map(async (r) => {
      const length = Math.min(r.length, wrap ?? r.length);
      const offset = wrap ? r.offset % (wrap - length + 1) : r.offset;
      const obj = await bucket.get(key, { range: { offset, length } });
      return obj ? new Uint8Array(await obj.arrayBuffer()) : undefined;
    }),
  );
}

/** The ranges read from the decoy, which is created the first time it is missing (once per bucket). */
async function decoyRanges(bucket: R2Bucket, ranges: Range[]): Promise<Uint8Array[]> {
  let parts = await readRanges(bucket, DECOY_KEY, ranges, DECOY_BYTES);
  if (parts.some((p) => !p)) {
    await bucket.put(DECOY_KEY, crypto.getRandomValues(new Uint8Array(DECOY_BYTES)));
    parts = await readRanges(bucket, DECOY_KEY, ranges, DECOY_BYTES);
  }
  return parts.map((p) => p ?? new Uint8Array(0));
}

/** The expected proof: SHA-256 of the nonce's UTF-8 bytes followed by each range's bytes. */
export async function expectedProof(nonce: string, parts: Uint8Array[]): Promise<Uint8Array> {
  const nonceBytes = new TextEncoder().encode(nonce);
  const all = new Uint8Array(nonceBytes.length + parts.reduce((n, p) => n + p.length, 0));
  all.set(nonceBytes);
  let at = nonceBytes.length;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
}

/** Whether `proof` answers `challenge` for the blob at `blobKey` (undefined: no such bytes — then the decoy is read instead). */
export async function proofHolds(bucket: R2Bucket, nonce: string, challenge: Challenge, proof: string, blobKey: string | undefined): Promise<boolean> {
  const parts = blobKey ? (await readRanges(bucket, blobKey, challenge.ranges)).map((p) => p ?? new Uint8Array(0)) : await decoyRanges(bucket, challenge.ranges);
  const expected = await expectedProof(nonce, parts);
  const given = Uint8Array.from(proof.toLowerCase().match(/../g) ?? [], (h) => parseInt(h, 16));
  const same = given.length === expected.length && crypto.subtle.timingSafeEqual(given, expected);
  return same && blobKey !== undefined;
}


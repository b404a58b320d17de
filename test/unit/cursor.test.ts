/** List cursors (jose's base64url over JSON): they round-trip, and anything this server did not issue is 400. */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../workers/errors.ts';
import { randomToken } from '../../lib/ids.ts';
import { decodeCursor, decodeTimeCursor, encodeCursor } from '../../workers/social/cursor.ts';

const code = (run: () => unknown) => {
  try {
    run();
    return 'accepted';
  } catch (err) {
    return err instanceof ApiError ? err.code : String(err);
  }
};

describe('cursors', () => {
  it('round-trip keys with any characters, as URL-safe text', () => {
    const key = ['2026-11-22T04:55:00.123Z', 'ünïcode/+=?&'];
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, 2)).toEqual(key);
    expect(decodeTimeCursor(cursor)?.id).toBe(key[1]);
  });

  it('refuses garbage, wrong shapes and bad times with validation_failed', () => {
    expect(code(() => decodeCursor('%%%', 1))).toBe('validation_failed');
    expect(code(() => decodeCursor(encodeCursor(['a', 'b']), 1))).toBe('validation_failed');
    expect(code(() => decodeCursor(btoa('{"a":1}'), 1))).toBe('validation_failed');
    expect(code(() => decodeTimeCursor(encodeCursor(['not a time', 'x'])))).toBe('validation_failed');
    expect(decodeCursor(undefined, 1)).toBeUndefined();
  });

  it('random tokens are base64url of the bytes asked for', () => {
    expect(randomToken(32)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken(15)).toMatch(/^[A-Za-z0-9_-]{20}$/);
  });
});

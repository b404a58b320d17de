/**
 * Keyset pagination. A cursor is the sort key of the last item of a page,
 * base64url JSON so clients treat it as opaque. Keyset (not offset) keeps
 * pages stable while rows are added or removed in front of the cursor.
 */
import { ApiError } from '../errors.ts';
import { base64url } from 'jose';

export function encodeCursor(key: string[]): string {
  return base64url.encode(JSON.stringify(key));
}

/** The key a cursor holds (`parts` strings), or 400 `validation_failed` for anything this server did not issue. */
export function decodeCursor(cursor: string | undefined, parts: number): string[] | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key: unknown = JSON.parse(new TextDecoder().decode(base64url.decode(cursor)));
    if (Array.isArray(key) && key.length === parts && key.every((k) => typeof k === 'string')) return key as string[];
  } catch {
    /* fall through */
  }
  throw new ApiError('validation_failed', 'cursor: not a cursor of this list');
}

/** A `(time, id)` key: lists ordered newest first with the id as tie-breaker. */
export function decodeTimeCursor(cursor: string | undefined): { at: Date; id: string } | undefined {
  const key = decodeCursor(cursor, 2);
  if (!key) return undefined;
  const at = new Date(key[0]!);
  if (Number.isNaN(at.getTime())) throw new ApiError('validation_failed', 'cursor: not a cursor of this list');
  return { at, id: key[1]! };
}

/** One page from `limit + 1` fetched rows: the extra row only says whether there is a next page. */
export function pageOf<T, V>(rows: T[], limit: number, key: (row: T) => string[], view: (row: T) => V): { items: V[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { items: kept.map(view), nextCursor: more ? encodeCursor(key(kept.at(-1)!)) : null };
}

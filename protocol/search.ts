/** Message search (API.md § Search): the query and a page of hits. */
import { z } from '@hono/zod-openapi';
import { base64url } from 'jose';
import { Id, Text } from './common.ts';
import { Message, MsgType } from './messages.ts';

export const SEARCH_QUERY_MAX = 200;
export const SEARCH_LIMIT_MAX = 100;

/** Page cursors: `p<page>` in base64url, opaque to clients; anything else is refused (400). */
export function encodeSearchCursor(page: number): string {
  return base64url.encode(`p${page}`);
}
export function decodeSearchCursor(cursor: string): number | undefined {
  try {
    const m = /^p(\d{1,6})$/.exec(new TextDecoder().decode(base64url.decode(cursor)));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const IsoTime = z.iso.datetime({ offset: true }).openapi({ example: '2026-11-22T04:55:00.123Z' });

export const SearchQuery = z
  .strictObject({
    q: Text().trim().min(1).max(SEARCH_QUERY_MAX).openapi({ description: 'Words in any language (Chinese and Japanese included)', example: '北京' }),
    conversationId: Id.optional(),
    senderId: Id.optional(),
    type: MsgType.optional(),
    after: IsoTime.optional().openapi({ description: 'Exclusive' }),
    before: IsoTime.optional().openapi({ description: 'Exclusive' }),
    limit: z.coerce.number().int().min(1).max(SEARCH_LIMIT_MAX).default(20),
    cursor: z
      .string()
      .max(64)
      .refine((c) => decodeSearchCursor(c) !== undefined, 'not a cursor from nextCursor')
      .optional(),
  })
  .refine((q) => !q.after || !q.before || Date.parse(q.after) < Date.parse(q.before), { message: 'after must be before before', path: ['after'] });
export type SearchQuery = z.infer<typeof SearchQuery>;

export const SearchHit = z
  .object({ message: Message, highlight: z.string().openapi({ description: 'The message text HTML-escaped, each match wrapped in <em>…</em>' }) })
  .openapi('SearchHit');

export const SearchPage = z.object({ items: z.array(SearchHit), nextCursor: z.string().nullable() }).openapi('SearchPage');

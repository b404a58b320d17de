/** Request and response shapes of profiles, friends and blocks (API.md § Users and friends). */
import { z } from '@hono/zod-openapi';
import { Nickname, User } from './accounts.ts';
import { LIMITS, Text, Timestamp, Uuid } from './common.ts';

export const SOCIAL_LIMITS = {
  /** A friend request's message. */
  requestMessageMax: 200,
  /** Ids in one `GET /users?ids=`. */
  idsPerLookup: 100,
  searchQueryMax: 64,
  pageMax: 100,
} as const;

/**
 * Ids this server issues are UUIDs (v7). Anything else cannot name a row, so it
 * is refused as 400 `validation_failed` before any query runs.
 */
export const ResourceId = Uuid;

export const IdParam = z.object({ id: ResourceId.openapi({ param: { name: 'id', in: 'path' } }) });
export const UserIdParam = z.object({ userId: ResourceId.openapi({ param: { name: 'userId', in: 'path' } }) });

/** `?limit=&cursor=` of every list. The cursor is opaque: whatever the previous page's `nextCursor` said. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(SOCIAL_LIMITS.pageMax).default(20).openapi({ example: 20 }),
  cursor: Text().min(1).max(512).optional(),
});

/** A page of a list, the API.md list shape. */
export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

// --- profiles ---------------------------------------------------------------

/** `null` clears an optional field; an absent key leaves it as it is. */
export const ProfilePatch = z
  .strictObject({
    nickname: Nickname.optional(),
    avatarFileId: ResourceId.nullable().optional(),
    bio: Text().max(LIMITS.bioMax).nullable().optional(),
  })
  .openapi('ProfilePatch');

export const UsersByIdsQuery = z.object({
  ids: Text()
    .min(1)
    .max(100 * 40)
    .openapi({ description: 'Comma-separated user ids, at most 100', example: '0193a5b2-7c1e-7d3a-9f00-1b2c3d4e5f60' })
    .transform((s, ctx) => {
      const asked = s.split(',').map((x) => x.trim());
      if (asked.length > SOCIAL_LIMITS.idsPerLookup) ctx.addIssue({ code: 'custom', message: `at most ${SOCIAL_LIMITS.idsPerLookup} ids` });
      const ids = [...new Set(asked)];
      for (const id of ids) if (!ResourceId.safeParse(id).success) ctx.addIssue({ code: 'custom', message: `not an id: ${id.slice(0, 80)}` });
      return ids;
    }),
});

export const SearchQuery = PageQuery.extend({
  q: Text().trim().min(1).max(SOCIAL_LIMITS.searchQueryMax).openapi({ description: 'Prefix of a username or nickname, any case', example: 'ali' }),
});

export const UserPage = page(User).openapi('UserPage');

// --- friend requests ----------------------------------------------------------

export const RequestStatus = z.enum(['pending', 'accepted', 'rejected', 'expired']);

export const FriendRequest = z
  .object({
    id: Uuid,
    fromUserId: Uuid,
    toUserId: Uuid,
    message: z.string().optional(),
    status: RequestStatus,
    createdAt: Timestamp,
    expiresAt: Timestamp,
  })
  .openapi('FriendRequest');

export const SendRequestBody = z
  .strictObject({ toUserId: ResourceId, message: Text().max(SOCIAL_LIMITS.requestMessageMax).optional() })
  .openapi('SendFriendRequestBody');

export const RequestEnvelope = z.object({ request: FriendRequest }).openapi('FriendRequestEnvelope');

export const RequestsQuery = PageQuery.extend({ direction: z.enum(['incoming', 'outgoing']).default('incoming') });

export const RequestPage = page(FriendRequest).openapi('FriendRequestPage');

// --- friends --------------------------------------------------------------------

export const FriendItem = z
  .object({
    user: User,
    since: Timestamp.openapi({ description: 'When the friendship began' }),
    online: z.boolean(),
    lastSeenAt: Timestamp.nullable().openapi({ description: 'null if never seen, or if presence is unavailable' }),
  })
  .openapi('Friend');

export const FriendPage = page(FriendItem).openapi('FriendPage');

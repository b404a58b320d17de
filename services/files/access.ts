/**
 * Who may read a file (API.md § Files), as one query:
 * - its owner, until they delete it;
 * - any signed-in user, while it is some user's current avatar;
 * - members of a group whose avatar it is;
 * - members of a conversation holding a live (not recalled, not expired)
 *   message with it, or a grant for a message still on its way to Postgres
 *   (db/schema.ts `fileGrants`).
 * Anyone else gets the same answer as for a file that does not exist.
 */
import { and, eq, sql } from 'drizzle-orm';
import { blobs, files } from '../../db/schema.ts';
import type { Database } from '../db.ts';
import { GRANT_PENDING_FOR, type FileRecord } from './records.ts';

export async function readableFile(db: Database, userId: string, fileId: string): Promise<FileRecord | undefined> {
  const [row] = await db
    .select({ file: files, r2Key: blobs.r2Key })
    .from(files)
    .innerJoin(blobs, eq(blobs.sha256, files.blobSha256))
    .where(
      and(
        eq(files.id, fileId),
        sql`(
          (${files.deletedAt} IS NULL AND (
            ${files.ownerId} = ${userId}
            OR EXISTS (SELECT 1 FROM users u WHERE u.avatar_file_id = ${files.id})
            OR EXISTS (SELECT 1 FROM conversations c JOIN conversation_members cm ON cm.conversation_id = c.id AND cm.user_id = ${userId}
                       WHERE c.avatar_file_id = ${files.id})))
          OR EXISTS (SELECT 1 FROM messages m JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = ${userId}
                     WHERE m.file_id = ${files.id} AND NOT m.recalled AND NOT m.expired)
          OR EXISTS (SELECT 1 FROM file_grants g JOIN conversation_members cm ON cm.conversation_id = g.conversation_id AND cm.user_id = ${userId}
                     WHERE g.file_id = ${files.id} AND g.granted_at > now() - ${GRANT_PENDING_FOR}
                       AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = g.conversation_id AND m.file_id = g.file_id
                                       AND m.created_at >= g.granted_at))
        )`,
      ),
    );
  return row && { ...row.file, r2Key: row.r2Key };
}

export type AvatarCheck = { ok: true } | { ok: false; code: 'validation_failed'; message: string };

/** `avatarFileId` of a user (PATCH /users/me): an image the user owns. */
export async function checkUserAvatar(db: Database, userId: string, fileId: string): Promise<AvatarCheck> {
  const [file] = await db
    .select({ contentType: files.contentType })
    .from(files)
    .where(and(eq(files.id, fileId), eq(files.ownerId, userId), sql`${files.deletedAt} IS NULL`));
  if (!file) return { ok: false, code: 'validation_failed', message: 'avatarFileId: no file of yours has this id' };
  if (!file.contentType.startsWith('image/')) return { ok: false, code: 'validation_failed', message: 'avatarFileId: the file is not an image' };
  return { ok: true };
}

/** `avatarFileId` of a group (PATCH /conversations/:id): an image the acting owner/admin may read. */
export async function checkGroupAvatar(db: Database, actorId: string, fileId: string): Promise<AvatarCheck> {
  const file = await readableFile(db, actorId, fileId);
  if (!file) return { ok: false, code: 'validation_failed', message: 'avatarFileId: no file you can read has this id' };
  if (!file.contentType.startsWith('image/')) return { ok: false, code: 'validation_failed', message: 'avatarFileId: the file is not an image' };
  return { ok: true };
}

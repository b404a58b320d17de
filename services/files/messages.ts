/**
 * Files in messages: the two calls the ConversationDO makes. Usable from a
 * Durable Object (no imports from workers/).
 */
import { writeLog } from '../../lib/log.ts';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { fileGrants } from '../../db/schema.ts';
import type { FileView } from '../../protocol/files.ts';
import { withDb } from '../db.ts';
import { readableFile } from './access.ts';
import { fileView, releaseFile, sweepGarbage } from './records.ts';

type Ctx = { waitUntil(p: Promise<unknown>): void };

export type PrepareResult = { ok: true; file: FileView } | { ok: false; code: 'validation_failed' | 'unavailable'; message: string };

const NEEDS: Record<'image' | 'voice', { prefix: string; what: string }> = {
  image: { prefix: 'image/', what: 'an image' },
  voice: { prefix: 'audio/', what: 'an audio file' },
};

/**
 * Before a media message is committed: may `senderId` send `fileId` as
 * `msgType` into `conversationId`? Checks that the sender may read the file
 * and its content type (image → image/*, voice → audio/*), then records the
 * grant that lets the conversation's members read it at once — the message
 * itself reaches Postgres later, through the outbox. A grant for a send that
 * then fails gives nothing away: the members never learn the id, and it
 * lapses after an hour.
 */
export async function prepareFileMessage(
  env: Env,
  ctx: Ctx,
  a: { senderId: string; conversationId: string; fileId: string; msgType: 'image' | 'voice' | 'file' },
): Promise<PrepareResult> {
  try {
    return await withDb(env, ctx, async (db) => {
      const file = await readableFile(db, a.senderId, a.fileId);
      if (!file) return { ok: false, code: 'validation_failed', message: 'fileId: no file you can read has this id' } as const;
      const need = a.msgType === 'file' ? undefined : NEEDS[a.msgType];
      if (need && !file.contentType.startsWith(need.prefix)) {
        return { ok: false, code: 'validation_failed', message: `${a.msgType} messages need ${need.what}; this file is ${file.contentType}` } as const;
      }
      // The DO's clock, like the message's created_at: the grant counts until a message at or after it arrives.
      const grantedAt = new Date();
      await db
        .insert(fileGrants)
        .values({ fileId: a.fileId, conversationId: a.conversationId, grantedAt })
        .onConflictDoUpdate({ target: [fileGrants.fileId, fileGrants.conversationId], set: { grantedAt } });
      return { ok: true, file: fileView(file) } as const;
    });
  } catch (err) {
    writeLog('warn', 'files.prepare_failed', { fileId: a.fileId, conversationId: a.conversationId, error: String(err) });
    return { ok: false, code: 'unavailable', message: 'Files cannot be checked right now; try again' };
  }
}

/**
 * After a recall, expiry or deletion of messages reached Postgres: drops the
 * conversation's grants for `fileIds` that no live message of it needs, lets
 * deleted files go that nothing holds, and deletes blobs nobody refers to
 * (from R2 too). Idempotent; throws if Postgres or R2 fails, for the caller's
 * outbox to retry.
 *
 * A grant is dropped even if a second message with the same file is still on
 * its way to Postgres: its recipients then wait for that message's flush
 * (normally well under a second) rather than a recalled message keeping the
 * file readable.
 */
export async function releaseFileRefs(env: Env, ctx: Ctx, a: { conversationId: string; fileIds: string[] }): Promise<void> {
  const ids = [...new Set(a.fileIds)];
  if (ids.length === 0) return;
  await withDb(env, ctx, async (db) => {
    await db
      .delete(fileGrants)
      .where(
        and(
          eq(fileGrants.conversationId, a.conversationId),
          inArray(fileGrants.fileId, ids),
          sql`NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = ${fileGrants.conversationId} AND m.file_id = ${fileGrants.fileId}
                          AND NOT m.recalled AND NOT m.expired)`,
        ),
      );
    for (const id of ids) await releaseFile(db, id);
    await sweepGarbage(env.FILES, db);
  });
}

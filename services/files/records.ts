/**
 * File records and blobs in Postgres: registering stored bytes (dedupe) and
 * releasing what nothing refers to any more.
 *
 * Dedupe, as one transaction: INSERT the blob ON CONFLICT DO NOTHING — if it
 * went in, the new R2 object is the blob; if not, lock the existing row
 * (FOR SHARE), insert the file over it, and queue the new copy for deletion
 * (blob_garbage). A release locks the blob row FOR UPDATE and only then
 * counts its files, in a new statement, so it sees every file committed
 * before it got the lock; a concurrent upload of the same bytes either
 * commits first (the release sees its file and keeps the blob) or waits for
 * the release and inserts a fresh blob with its own object. Object keys are
 * never reused, so deleting a released blob's object never touches a newer
 * copy of the same bytes.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { blobGarbage, blobs, files } from '../../db/schema.ts';
import type { FileView } from '../../protocol/files.ts';
import type { Database, Tx } from '../db.ts';

export type FileRow = typeof files.$inferSelect;

/** A file with where its bytes are. */
export interface FileRecord extends FileRow {
  r2Key: string;
}

export function fileView(f: FileRow): FileView {
  return {
    id: f.id,
    ownerId: f.ownerId,
    name: f.name,
    size: f.size,
    contentType: f.contentType,
    sha256: f.blobSha256,
    createdAt: f.createdAt.toISOString(),
    ...(f.width != null && f.height != null ? { width: f.width, height: f.height } : {}),
  };
}

export interface NewFile {
  id: string;
  ownerId: string;
  sha256: string;
  size: number;
  name: string;
  contentType: string;
  width?: number;
  height?: number;
}

async function insertFile(tx: Tx, f: NewFile): Promise<FileRow> {
  const [row] = await tx
    .insert(files)
    .values({ id: f.id, ownerId: f.ownerId, blobSha256: f.sha256, name: f.name, contentType: f.contentType, size: f.size, width: f.width ?? null, height: f.height ?? null })
    .returning();
  return row!;
}

/**
 * Records bytes just stored at `r2Key` as `f`. When the same bytes were
 * already stored, the existing blob is kept and `r2Key` is queued for
 * deletion: call `sweepGarbage` after this returns. Idempotent by `f.id`.
 */
export async function registerFile(db: Database, f: NewFile, r2Key: string): Promise<{ file: FileView; duplicate: boolean }> {
  return db.transaction(async (tx) => {
    // A retried registration (the upload's actor restarted after this committed) finds its file.
    const [again] = await tx.select().from(files).where(eq(files.id, f.id));
    if (again) return { file: fileView(again), duplicate: false };
    for (;;) {
      const created = await tx.insert(blobs).values({ sha256: f.sha256, size: f.size, r2Key }).onConflictDoNothing({ target: blobs.sha256 }).returning({ sha256: blobs.sha256 });
      if (created.length) return { file: fileView(await insertFile(tx, f)), duplicate: false };
      const [existing] = await tx.select({ sha256: blobs.sha256 }).from(blobs).where(eq(blobs.sha256, f.sha256)).for('share');
      if (!existing) continue; // released between the two statements: insert it afresh
      await tx.insert(blobGarbage).values({ r2Key }).onConflictDoNothing();
      return { file: fileView(await insertFile(tx, f)), duplicate: true };
    }
  });
}

/** A new file over bytes already stored (instant upload), or undefined if they are not (any more). */
export async function fileOverBlob(db: Database, f: NewFile): Promise<FileView | undefined> {
  return db.transaction(async (tx) => {
    const [blob] = await tx.select({ size: blobs.size }).from(blobs).where(eq(blobs.sha256, f.sha256)).for('share');
    if (!blob || blob.size !== f.size) return undefined;
    return fileView(await insertFile(tx, f));
  });
}

/** The blob of these bytes, if stored: where to read them, and their size. */
export async function findBlob(db: Database, sha256: string): Promise<{ r2Key: string; size: number } | undefined> {
  const [row] = await db.select({ r2Key: blobs.r2Key, size: blobs.size }).from(blobs).where(eq(blobs.sha256, sha256));
  return row;
}

/** A file counts as referenced while a live message holds it, or a grant whose message is still on its way (see `fileGrants`). */
export const GRANT_PENDING_FOR = sql.raw(`interval '1 hour'`);
export const liveMessageHolds = (fileId: unknown) =>
  sql`EXISTS (SELECT 1 FROM messages m WHERE m.file_id = ${fileId} AND NOT m.recalled AND NOT m.expired)`;
export const pendingGrantHolds = (fileId: unknown) =>
  sql`EXISTS (SELECT 1 FROM file_grants g WHERE g.file_id = ${fileId} AND g.granted_at > now() - ${GRANT_PENDING_FOR}
        AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = g.conversation_id AND m.file_id = g.file_id AND m.created_at >= g.granted_at))`;

/**
 * Inside `tx`: deletes the blob of `sha256` if no file refers to it, queuing
 * its object for deletion. Idempotent: an absent blob is already released.
 */
async function releaseBlobIn(tx: Tx, sha256: string): Promise<void> {
  const [blob] = await tx.select({ r2Key: blobs.r2Key }).from(blobs).where(eq(blobs.sha256, sha256)).for('update');
  if (!blob) return;
  const [used] = await tx.select({ id: files.id }).from(files).where(eq(files.blobSha256, sha256)).limit(1);
  if (used) return;
  await tx.delete(blobs).where(eq(blobs.sha256, sha256));
  await tx.insert(blobGarbage).values({ r2Key: blob.r2Key }).onConflictDoNothing();
}

/** Deletes the blob of `sha256` once no file refers to it. Idempotent; follow with `sweepGarbage`. */
export async function releaseBlob(db: Database, sha256: string): Promise<void> {
  await db.transaction((tx) => releaseBlobIn(tx, sha256));
}

/**
 * A deleted file leaves Postgres once no live message or pending grant holds
 * it, and its blob goes with it if that was the last file. Idempotent.
 */
export async function releaseFile(db: Database, fileId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [file] = await tx.select({ sha256: files.blobSha256, deletedAt: files.deletedAt }).from(files).where(eq(files.id, fileId)).for('update');
    if (!file || !file.deletedAt) return;
    const { rows } = await tx.execute<{ held: boolean }>(sql`SELECT (${liveMessageHolds(fileId)} OR ${pendingGrantHolds(fileId)}) AS held`);
    if (rows[0]?.held) return;
    await tx.delete(files).where(eq(files.id, fileId));
    await releaseBlobIn(tx, file.sha256);
  });
}

/**
 * Deletes queued objects from R2, then their queue rows. Safe to run any
 * number of times, concurrently too: every key in the queue is garbage for
 * good (keys are never reused). `keys` limits it to those; otherwise the
 * oldest 100 are taken.
 */
export async function sweepGarbage(bucket: R2Bucket, db: Database, keys?: string[]): Promise<number> {
  const rows = keys
    ? await db.select({ r2Key: blobGarbage.r2Key }).from(blobGarbage).where(inArray(blobGarbage.r2Key, keys))
    : await db.select({ r2Key: blobGarbage.r2Key }).from(blobGarbage).orderBy(blobGarbage.createdAt).limit(100);
  if (rows.length === 0) return 0;
  const found = rows.map((r) => r.r2Key);
  await bucket.delete(found);
  await db.delete(blobGarbage).where(inArray(blobGarbage.r2Key, found));
  return found.length;
}

/** Marks `fileId` deleted if `ownerId` owns it (and clears it as their avatar); false if there was nothing to delete. */
export async function markDeleted(db: Database, ownerId: string, fileId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const done = await tx
      .update(files)
      .set({ deletedAt: new Date() })
      .where(and(eq(files.id, fileId), eq(files.ownerId, ownerId), sql`${files.deletedAt} IS NULL`))
      .returning({ id: files.id });
    if (done.length === 0) return false;
    await tx.execute(sql`UPDATE users SET avatar_file_id = NULL, updated_at = now() WHERE id = ${ownerId} AND avatar_file_id = ${fileId}`);
    return true;
  });
}

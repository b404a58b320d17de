/**
 * UploadDO — one per resumable (tus) upload, addressed by the upload's id:
 * its state, its R2 multipart upload and its running SHA-256.
 *
 * A PATCH streams in; bytes are cut into 5 MiB parts (services/files/parts.ts)
 * whatever chunk sizes the client uses. Each full part goes to R2, and only
 * then is it recorded together with the hash state after it (one
 * transaction), so the saved offset never runs ahead of R2. What remains
 * below a part is saved as the tail when the PATCH ends — also when the
 * client went away midway: what arrived counts, and HEAD reports it. If the
 * actor itself dies mid-PATCH, the offset is that of the last recorded part
 * or tail, which is always true; the client resends from there.
 *
 * The last byte completes the R2 object, registers the file in Postgres
 * (dedupe; the upload's id becomes the file's id, so a retried registration
 * is idempotent) and answers with the file. If Postgres is away, the object
 * stays complete and registration is retried by the next PATCH, HEAD or GET.
 * An upload untouched for UPLOAD_EXPIRY_SECONDS is dropped by the alarm,
 * aborting its multipart upload (or deleting an unregistered object).
 */
import { DurableObject } from 'cloudflare:workers';
import { writeLog } from '../../lib/log.ts';
import type { FileView } from '../../protocol/files.ts';
import { hex } from '../../lib/ids.ts';
import { withDb } from '../../services/db.ts';
import { newHasher, restoreHash, saveHash } from '../../services/files/hash-state.ts';
import { PartBuffer, blobKey } from '../../services/files/parts.ts';
import { registerFile, sweepGarbage } from '../../services/files/records.ts';
import { cleanFileName, sniffStored } from '../../services/files/sniff.ts';
import { migrateSql } from '../kit/migrations.ts';
import { MIGRATIONS, offsetOf, type Upload, UploadState } from './state.ts';

export type UploadFailure = { ok: false; code: 'not_found' | 'conflict' | 'too_large' | 'unavailable'; message: string };
export type UploadStatusResult = { ok: true; offset: number; length: number; expiresAt: number; file?: FileView } | UploadFailure;

export interface NewUpload {
  uploadId: string;
  ownerId: string;
  name: string;
  declaredType: string | null;
  length: number;
}

const notFound: UploadFailure = { ok: false, code: 'not_found', message: 'No such upload' };

export class UploadDO extends DurableObject<Env> {
  private readonly state: UploadState;
  /** The PATCH being read, if any: a new one takes over from it (its client has most likely gone). */
  private active?: Run;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.state = new UploadState(ctx.storage);
    ctx.blockConcurrencyWhile(async () => migrateSql(ctx.storage, MIGRATIONS));
  }

  private ttlMs(): number {
    return Number(this.env.UPLOAD_EXPIRY_SECONDS) * 1000;
  }

  private async touch(): Promise<number> {
    const at = Date.now() + this.ttlMs();
    this.state.setExpiry(at);
    await this.ctx.storage.setAlarm(at);
    return at;
  }

  private owned(userId: string): Upload | undefined {
    const u = this.state.load();
    return u && u.ownerId === userId ? u : undefined;
  }

  private status(u: Upload): UploadStatusResult {
    return { ok: true, offset: offsetOf(u), length: u.length, expiresAt: u.expiresAt, ...(u.file ? { file: u.file } : {}) };
  }

  /** Creates the upload; a retry by the same owner is a no-op. */
  async create(input: NewUpload): Promise<UploadStatusResult> {
    const existing = this.state.load();
    if (existing) return existing.ownerId === input.ownerId ? this.status(existing) : notFound;
    this.state.create({ ...input, name: cleanFileName(input.name), expiresAt: Date.now() + this.ttlMs() });
    await this.touch();
    return this.status(this.state.load()!);
  }

  /** Where the upload stands (HEAD); completes a registration that Postgres refused earlier. */
  async inspect(userId: string): Promise<UploadStatusResult> {
    const u = this.owned(userId);
    if (!u) return notFound;
    return u.sha256 && !u.file ? this.register(u) : this.status(u);
  }

  /** Appends a PATCH body at `offset`. `declaredLength` is its Content-Length, if the client sent one. */
  async append(userId: string, offset: number, body: ReadableStream<Uint8Array>, declaredLength?: number): Promise<UploadStatusResult> {
    let u = this.owned(userId);
    if (!u) return refuse(body, notFound);
    if (this.active) {
      await this.active.stop();
      u = this.owned(userId);
      if (!u) return refuse(body, notFound); // terminated meanwhile
    }
    if (u.sha256) return refuse(body, offset === u.length ? (u.file ? this.status(u) : await this.register(u)) : conflict(u));
    if (offset !== offsetOf(u)) return refuse(body, conflict(u));
    if (declaredLength !== undefined && offset + declaredLength > u.length) {
      return refuse(body, { ok: false, code: 'too_large', message: `This PATCH would end at ${offset + declaredLength}, past Upload-Length ${u.length}` });
    }
    const run = new Run(body.getReader());
    this.active = run;
    try {
      return await this.receive(u, run);
    } finally {
      if (this.active === run) this.active = undefined;
      run.finished();
    }
  }

  private async receive(u: Upload, run: Run): Promise<UploadStatusResult> {
    await this.touch();
    const buffer = new PartBuffer();
    for (const chunk of this.state.tail()) buffer.push(chunk);
    const hasher = restoreHash(u.hash);
    const parts = [...u.parts];
    let partsBytes = u.partsBytes;
    let room = u.length - offsetOf(u);
    let overflow = false;
    let r2Failed = false;
    const reader = run.reader;
    try {
      while (!run.cancelled && !overflow) {
        const { value, done } = await reader.read();
        if (done) break;
        let chunk = value;
        if (chunk.length > room) {
          overflow = true;
          chunk = chunk.subarray(0, room);
        }
        room -= chunk.length;
        buffer.push(chunk);
        for (let part = buffer.takePart(); part; part = buffer.takePart()) {
          let uploaded: R2UploadedPart;
          try {
            u.multipartId ??= await this.startMultipart(u);
            uploaded = await this.env.FILES.resumeMultipartUpload(blobKey(u.uploadId), u.multipartId).uploadPart(parts.length + 1, part);
          } catch (err) {
            r2Failed = true;
            throw err;
          }
          hasher.update(part);
          parts.push(uploaded);
          partsBytes += part.length;
          this.state.partUploaded(parts, partsBytes, saveHash(hasher));
        }
      }
    } catch (err) {
      writeLog('warn', 'upload.patch_interrupted', { uploadId: u.uploadId, r2Failed, error: String(err) });
    } finally {
      if (run.cancelled || overflow) await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
    // R2 refused a part: what is recorded (the parts before it, or the old tail) is the truth; the rest is resent.
    if (r2Failed) return { ok: false, code: 'unavailable', message: 'Storage failed; resume from the offset HEAD reports' };
    // Otherwise the client went away or finished: every byte it got here counts.
    const rest = buffer.takeAll();
    if (partsBytes + rest.length === u.length) {
      hasher.update(rest);
      const sha256 = hex(hasher.digest());
      const stored = await this.storeLast({ ...u, parts, partsBytes }, rest, sha256);
      if (!stored.ok) return stored;
      return this.register(this.state.load()!);
    }
    // (An overflowing body always reached Upload-Length, so it completed above: the bytes past it were dropped.)
    this.state.saveTail(rest);
    return this.status(this.state.load()!);
  }

  private async startMultipart(u: Upload): Promise<string> {
    const mpu = await this.env.FILES.createMultipartUpload(blobKey(u.uploadId));
    this.state.setMultipart(mpu.uploadId);
    return mpu.uploadId;
  }

  /** Puts the last bytes into R2 and completes the object. */
  private async storeLast(u: Upload, last: Uint8Array, sha256: string): Promise<{ ok: true } | UploadFailure> {
    const key = blobKey(u.uploadId);
    try {
      if (!u.multipartId) {
        await this.env.FILES.put(key, last);
      } else {
        const mpu = this.env.FILES.resumeMultipartUpload(key, u.multipartId);
        const parts = last.length > 0 ? [...u.parts, await mpu.uploadPart(u.parts.length + 1, last)] : u.parts;
        try {
          await mpu.complete(parts);
        } catch (err) {
          // Completed before, by a run whose record of it was lost? Then the object is there.
          const head = await this.env.FILES.head(key);
          if (head?.size !== u.length) throw err;
        }
      }
    } catch (err) {
      writeLog('warn', 'upload.complete_failed', { uploadId: u.uploadId, error: String(err) });
      this.state.saveTail(last);
      return { ok: false, code: 'unavailable', message: 'Storing the last part failed; resume from HEAD' };
    }
    this.state.stored(sha256, u.length);
    return { ok: true };
  }

  /** Registers the completed object as a file (dedupe in Postgres). */
  private async register(u: Upload): Promise<UploadStatusResult> {
    const key = blobKey(u.uploadId);
    try {
      const sniffed = await sniffStored(this.env.FILES, key, u.length, u.declaredType);
      const file = await withDb(this.env, this.ctx, async (db) => {
        const { file, duplicate } = await registerFile(db, { id: u.uploadId, ownerId: u.ownerId, sha256: u.sha256!, size: u.length, name: u.name, ...sniffed }, key);
        if (duplicate) await sweepGarbage(this.env.FILES, db, [key]).catch(() => 0);
        return file;
      });
      this.state.registered(file);
      await this.touch();
      return this.status(this.state.load()!);
    } catch (err) {
      writeLog('warn', 'upload.register_failed', { uploadId: u.uploadId, error: String(err) });
      return { ok: false, code: 'unavailable', message: 'The upload is complete but could not be registered yet; GET it again shortly' };
    }
  }

  /** Terminates the upload (tus termination): aborts what is in R2 and forgets it. A registered file stays. */
  async terminate(userId: string): Promise<{ ok: true } | UploadFailure> {
    const u = this.owned(userId);
    if (!u) return notFound;
    await this.active?.stop();
    await this.drop(u);
    return { ok: true };
  }

  private async drop(u: Upload): Promise<void> {
    if (!u.file) {
      if (u.sha256) await this.env.FILES.delete(blobKey(u.uploadId));
      else if (u.multipartId) await this.env.FILES.resumeMultipartUpload(blobKey(u.uploadId), u.multipartId).abort().catch(() => {});
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // deleteAll takes the schema too; this instance may still be asked (and answers not_found).
    migrateSql(this.ctx.storage, MIGRATIONS);
  }

  /** Expiry: an upload untouched for UPLOAD_EXPIRY_SECONDS (or a finished one kept that long for its status) is dropped. */
  override async alarm(): Promise<void> {
    const u = this.state.load();
    if (!u) return;
    if (u.expiresAt > Date.now()) {
      await this.ctx.storage.setAlarm(u.expiresAt);
      return;
    }
    if (this.active) {
      await this.touch(); // a PATCH is streaming right now: not abandoned
      return;
    }
    await this.drop(u);
  }
}

function conflict(u: Upload): UploadFailure {
  return { ok: false, code: 'conflict', message: `Upload-Offset must be ${u.sha256 ? u.length : offsetOf(u)}` };
}

/** A PATCH being read. Stopping it cancels its body (a read pending on a dead connection returns) and waits for it to save what it got. */
class Run {
  cancelled = false;
  readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly done: Promise<void>;
  finished!: () => void;

  constructor(reader: ReadableStreamDefaultReader<Uint8Array>) {
    this.reader = reader;
    this.done = new Promise<void>((resolve) => (this.finished = resolve));
  }

  async stop(): Promise<void> {
    this.cancelled = true;
    await this.reader.cancel().catch(() => {});
    await this.done;
  }
}

/** Answers without reading the body, releasing it. */
async function refuse<T>(body: ReadableStream<Uint8Array>, result: T): Promise<T> {
  await body.cancel().catch(() => {});
  return result;
}


/**
 * The UploadDO's storage: one row of state and the tail — bytes received
 * after the last full part, kept in SQLite (rows of at most 1 MiB; a row may
 * hold 2 MB) until enough arrive for the next part. Keeping the tail here
 * rather than as a pending R2 object costs no R2 operation per PATCH and is
 * written in the same transaction as the offset it accounts for.
 */
import type { FileView } from '../../protocol/files.ts';
import type { HashState } from '../../services/files/hash-state.ts';

export const MIGRATIONS = [
  `CREATE TABLE upload (id INTEGER PRIMARY KEY CHECK (id = 1), upload_id TEXT NOT NULL, owner_id TEXT NOT NULL,
     name TEXT NOT NULL, declared_type TEXT, length INTEGER NOT NULL,
     parts_bytes INTEGER NOT NULL DEFAULT 0, tail_bytes INTEGER NOT NULL DEFAULT 0,
     multipart_id TEXT, parts TEXT NOT NULL DEFAULT '[]', hash TEXT, sha256 TEXT, file TEXT,
     expires_at INTEGER NOT NULL);
   CREATE TABLE tail (seq INTEGER PRIMARY KEY, bytes BLOB NOT NULL);`,
];

const TAIL_ROW_BYTES = 1024 * 1024;

interface Row {
  upload_id: string;
  owner_id: string;
  name: string;
  declared_type: string | null;
  length: number;
  parts_bytes: number;
  tail_bytes: number;
  multipart_id: string | null;
  parts: string;
  hash: string | null;
  sha256: string | null;
  file: string | null;
  expires_at: number;
  [key: string]: SqlStorageValue;
}

export interface Upload {
  uploadId: string;
  ownerId: string;
  name: string;
  declaredType: string | null;
  length: number;
  /** Bytes in parts already uploaded to R2. */
  partsBytes: number;
  /** Bytes in the tail table. */
  tailBytes: number;
  multipartId: string | null;
  parts: R2UploadedPart[];
  /** SHA-256 state after the uploaded parts. */
  hash: HashState | null;
  /** Set once the whole object is in R2. */
  sha256: string | null;
  /** Set once the file is registered in Postgres. */
  file: FileView | null;
  expiresAt: number;
}

export const offsetOf = (u: Upload) => u.partsBytes + u.tailBytes;

export class UploadState {
  private readonly storage: DurableObjectStorage;

  constructor(storage: DurableObjectStorage) {
    this.storage = storage;
  }

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  load(): Upload | undefined {
    const r = this.sql.exec<Row>('SELECT * FROM upload WHERE id = 1').toArray()[0];
    if (!r) return undefined;
    return {
      uploadId: r.upload_id,
      ownerId: r.owner_id,
      name: r.name,
      declaredType: r.declared_type,
      length: r.length,
      partsBytes: r.parts_bytes,
      tailBytes: r.tail_bytes,
      multipartId: r.multipart_id,
      parts: JSON.parse(r.parts) as R2UploadedPart[],
      hash: r.hash ? (JSON.parse(r.hash) as HashState) : null,
      sha256: r.sha256,
      file: r.file ? (JSON.parse(r.file) as FileView) : null,
      expiresAt: r.expires_at,
    };
  }

  create(u: Pick<Upload, 'uploadId' | 'ownerId' | 'name' | 'declaredType' | 'length' | 'expiresAt'>): void {
    this.sql.exec(
      'INSERT INTO upload (id, upload_id, owner_id, name, declared_type, length, expires_at) VALUES (1, ?, ?, ?, ?, ?, ?)',
      u.uploadId, u.ownerId, u.name, u.declaredType, u.length, u.expiresAt,
    );
  }

  setMultipart(id: string): void {
    this.sql.exec('UPDATE upload SET multipart_id = ? WHERE id = 1', id);
  }

  /** A part is in R2: it accounts for the tail and `PART_SIZE` bytes; the tail rows it consumed go in the same transaction. */
  partUploaded(parts: R2UploadedPart[], partsBytes: number, hash: HashState): void {
    this.storage.transactionSync(() => {
      this.sql.exec('UPDATE upload SET parts = ?, parts_bytes = ?, hash = ?, tail_bytes = 0 WHERE id = 1', JSON.stringify(parts), partsBytes, JSON.stringify(hash));
      this.sql.exec('DELETE FROM tail');
    });
  }

  tail(): Uint8Array[] {
    return this.sql.exec<{ bytes: ArrayBuffer }>('SELECT bytes FROM tail ORDER BY seq').toArray().map((r) => new Uint8Array(r.bytes));
  }

  /** Replaces the tail (bytes after the last part) and with it the offset. */
  saveTail(bytes: Uint8Array): void {
    this.storage.transactionSync(() => {
      this.sql.exec('DELETE FROM tail');
      for (let at = 0, seq = 0; at < bytes.length; at += TAIL_ROW_BYTES, seq++) {
        this.sql.exec('INSERT INTO tail (seq, bytes) VALUES (?, ?)', seq, bytes.slice(at, at + TAIL_ROW_BYTES).buffer);
      }
      this.sql.exec('UPDATE upload SET tail_bytes = ? WHERE id = 1', bytes.length);
    });
  }

  /** The whole object is in R2. */
  stored(sha256: string, length: number): void {
    this.storage.transactionSync(() => {
      this.sql.exec('UPDATE upload SET sha256 = ?, parts_bytes = ?, tail_bytes = 0, hash = NULL WHERE id = 1', sha256, length);
      this.sql.exec('DELETE FROM tail');
    });
  }

  registered(file: FileView): void {
    this.sql.exec('UPDATE upload SET file = ? WHERE id = 1', JSON.stringify(file));
  }

  setExpiry(at: number): void {
    this.sql.exec('UPDATE upload SET expires_at = ? WHERE id = 1', at);
  }
}

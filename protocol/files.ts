/** Shapes of the file API (API.md § Files), shared by the Worker, the upload actor and clients. */
import { z } from '@hono/zod-openapi';

/** Defaults of the FILE_MAX_BYTES / FILE_SINGLE_MAX_BYTES vars. */
export const FILE_LIMITS = {
  maxBytes: 100 * 1024 * 1024,
  singleMaxBytes: 25 * 1024 * 1024,
  nameMax: 255,
  /** How long a signed content URL (`GET /files/:id/url`) stays valid. */
  urlTtlSeconds: 300,
  /** How long an instant-upload challenge may be answered. */
  instantTtlSeconds: 300,
} as const;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256').openapi({ example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
const ContentType = z.string().min(3).max(255).regex(/^[\w.+-]+\/[\w.+-]+$/, 'type/subtype').openapi({ example: 'image/png' });

export const FileView = z
  .object({
    id: z.string(),
    ownerId: z.string(),
    name: z.string(),
    size: z.number().int(),
    contentType: z.string(),
    sha256: z.string(),
    createdAt: z.string(),
    width: z.number().int().optional(),
    height: z.number().int().optional(),
  })
  .openapi('File');
export type FileView = z.infer<typeof FileView>;

export const FileParams = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

export const InstantBody = z
  .strictObject({
    sha256: Sha256,
    size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    name: z.string().min(1).max(FILE_LIMITS.nameMax),
    contentType: ContentType,
  })
  .openapi('InstantUploadBody');

export const ByteRange = z.object({ offset: z.number().int(), length: z.number().int() });

export const InstantChallenge = z.object({ nonce: z.string(), ranges: z.array(ByteRange) }).openapi('InstantUploadChallenge');

export const ConfirmBody = z
  .strictObject({ sha256: Sha256, nonce: z.string().min(1).max(128), proof: z.string().regex(/^[0-9a-fA-F]{64}$/, 'hex SHA-256') })
  .openapi('InstantUploadConfirm');

export const SignedUrl = z.object({ url: z.string(), expiresAt: z.string() }).openapi('FileUrl');

/** `GET /files/uploads/:id`: where a resumable upload stands; `file` once it is complete. */
export const UploadStatus = z.object({ offset: z.number().int(), length: z.number().int(), file: FileView.optional() }).openapi('UploadStatus');
export type UploadStatus = z.infer<typeof UploadStatus>;

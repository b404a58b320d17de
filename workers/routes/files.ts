/**
 * /api/v1/files — single uploads, reads, signed URLs and deletion. Resumable
 * uploads (tus) are in uploads.ts, instant uploads in instant-upload.ts.
 * Every route is authenticated; a file the caller may not read is 404, as if
 * it did not exist (services/files/access.ts).
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { errors, jsonResponse } from '../../protocol/common.ts';
import { FILE_LIMITS, FileParams, FileView, SignedUrl } from '../../protocol/files.ts';
import { uuidv7 } from '../../lib/ids.ts';
import { readableFile } from '../../services/files/access.ts';
import { blobKey } from '../../services/files/parts.ts';
import { fileView, markDeleted, registerFile, releaseFile, sweepGarbage } from '../../services/files/records.ts';
import { cleanFileName, resolveContentType } from '../../services/files/sniff.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { contentResponse } from '../files/content.ts';
import { fileLimits } from '../files/limits.ts';
import { formBoundary } from '../files/multipart.ts';
import { signContentUrl, verifyContentUrl } from '../files/signed-url.ts';
import { receiveSingleUpload } from '../files/single-upload.ts';
import { enforceLimit } from '../lib/ratelimit.ts';
import { requireAuth } from '../middleware/auth.ts';
import { invalidateProfile } from '../social/profiles.ts';
import { defaultHook } from '../validation.ts';
import { instantRoutes } from './instant-upload.ts';
import { uploadRoutes } from './uploads.ts';

const base = { tags: ['files'], security: [{ bearerAuth: [] }], middleware: [requireAuth] };

const upload = createRoute({
  ...base, method: 'post', path: '/',
  summary: 'Upload a file: multipart/form-data with a part named `file` (≤ FILE_SINGLE_MAX_BYTES); larger files go through the resumable upload',
  description: 'The body is streamed to storage, not parsed up front, so it is not described as a schema here.',
  responses: { 201: jsonResponse(FileView, 'Stored (bytes already stored by anyone are kept once)'), ...errors(400, 401, 413, 415, 429) },
});
const get = createRoute({
  ...base, method: 'get', path: '/{id}', summary: 'A file’s metadata',
  request: { params: FileParams },
  responses: { 200: jsonResponse(FileView, 'The file'), ...errors(400, 401, 404) },
});
/** A signed URL is its own credential (checked again against the read rule); anything else needs the bearer token. */
const contentAuth = createMiddleware<AppEnv>(async (c, next) => {
  const q = c.req.query();
  if (q.sig === undefined) {
    await requireAuth(c, next);
    return;
  }
  const userId = await verifyContentUrl(c.env, c.req.param('id') ?? '', q);
  if (!userId) throw new ApiError('unauthenticated', 'This link is invalid or has expired');
  c.set('auth', { userId, sessionId: '' });
  await next();
});

const content = createRoute({
  tags: ['files'], security: [{ bearerAuth: [] }], middleware: [contentAuth], method: 'get', path: '/{id}/content',
  summary: 'The bytes (Range supported; inline only for png/jpeg/gif/webp and audio). A bearer token, or the query of a signed URL',
  request: { params: FileParams, query: z.object({ exp: z.string().max(20).optional(), uid: z.string().max(64).optional(), sig: z.string().max(64).optional() }) },
  responses: { 200: { description: 'The bytes', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } }, 206: { description: 'The requested range' }, ...errors(400, 401, 404, 416) },
});
const signedUrl = createRoute({
  ...base, method: 'get', path: '/{id}/url', summary: `A URL of the content valid for ${FILE_LIMITS.urlTtlSeconds / 60} minutes, needing no header (for <img>)`,
  request: { params: FileParams },
  responses: { 200: jsonResponse(SignedUrl, 'The URL'), ...errors(400, 401, 404) },
});
const remove = createRoute({
  ...base, method: 'delete', path: '/{id}', summary: 'Delete my file (its bytes go once no message holds them)',
  request: { params: FileParams },
  responses: { 204: { description: 'Deleted' }, ...errors(400, 401, 403, 404) },
});

const noSuchFile = () => new ApiError('not_found', 'No such file');

export const fileRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .route('/uploads', uploadRoutes)
  .route('/instant', instantRoutes)
  .openapi(upload, async (c) => {
    const me = c.var.auth.userId;
    const { singleMaxBytes } = fileLimits(c.env);
    const boundary = formBoundary(c.req.header('content-type'));
    if (!boundary) throw new ApiError('unsupported_media_type', 'Send multipart/form-data with a part named `file`');
    // A body far past the limit is refused before a byte is read; the exact limit applies to the part itself.
    if (Number(c.req.header('content-length')) > singleMaxBytes + 1024 * 1024) throw new ApiError('too_large', `A single upload is limited to ${singleMaxBytes} bytes`);
    if (!c.req.raw.body) throw new ApiError('validation_failed', 'The body is empty');
    await enforceLimit(c.env, c.var.log, 'upload_user', me);
    const id = uuidv7();
    const key = blobKey(id);
    const stored = await receiveSingleUpload(c.env.FILES, key, c.req.raw.body, boundary, singleMaxBytes);
    const db = c.var.pg.db;
    const sniffed = resolveContentType(stored.declaredType, stored.head);
    const registered = await registerFile(db, { id, ownerId: me, sha256: stored.sha256, size: stored.size, name: cleanFileName(stored.filename), ...sniffed }, key).catch(
      async (err: unknown) => {
        await c.env.FILES.delete(key).catch(() => {});
        throw err;
      },
    );
    if (registered.duplicate) await sweepGarbage(c.env.FILES, db, [key]).catch((err: unknown) => c.var.log('files.sweep_failed', { error: String(err) }));
    return c.json(registered.file, 201);
  })
  .openapi(get, async (c) => {
    const file = await readableFile(c.var.pg.db, c.var.auth.userId, c.req.valid('param').id);
    if (!file) throw noSuchFile();
    return c.json(fileView(file), 200);
  })
  .openapi(content, async (c) => {
    const file = await readableFile(c.var.pg.db, c.var.auth.userId, c.req.valid('param').id);
    if (!file) throw noSuchFile();
    return contentResponse(c.env.FILES, file, c.req.raw);
  })
  .openapi(signedUrl, async (c) => {
    const { id } = c.req.valid('param');
    const me = c.var.auth.userId;
    if (!(await readableFile(c.var.pg.db, me, id))) throw noSuchFile();
    const exp = Math.floor(Date.now() / 1000) + FILE_LIMITS.urlTtlSeconds;
    const url = `${new URL(c.req.url).origin}/api/v1/files/${id}/content?${await signContentUrl(c.env, id, me, exp)}`;
    return c.json({ url, expiresAt: new Date(exp * 1000).toISOString() }, 200);
  })
  .openapi(remove, async (c) => {
    const { id } = c.req.valid('param');
    const me = c.var.auth.userId;
    const db = c.var.pg.db;
    if (!(await markDeleted(db, me, id))) {
      // Someone else's file that you may read is not yours to delete; one you may not read does not exist.
      throw (await readableFile(db, me, id)) ? new ApiError('forbidden', 'Only the owner can delete a file') : noSuchFile();
    }
    await invalidateProfile({ env: c.env, log: c.var.log }, me);
    await releaseFile(db, id);
    await sweepGarbage(c.env.FILES, db).catch((err: unknown) => c.var.log('files.sweep_failed', { error: String(err) }));
    return c.body(null, 204);
  });

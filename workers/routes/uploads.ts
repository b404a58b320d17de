/**
 * /api/v1/files/uploads — resumable uploads by the tus 1.0 protocol (core,
 * creation, termination), so the official tus-js-client works unchanged. The
 * protocol lives in headers, so these are plain routes with their own
 * checks; the state and the bytes are the UploadDO's (one per upload).
 * Every response carries `Tus-Resumable: 1.0.0`; a request naming another
 * version gets 412 with `Tus-Version`. An upload is its creator's: anyone
 * else gets 404, as for an upload that does not exist.
 */
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { FileParams } from '../../protocol/files.ts';
import { uuidv7 } from '../../lib/ids.ts';
import type { UploadStatusResult } from '../../durable-objects/upload/index.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { fileLimits } from '../files/limits.ts';
import { byteCount, parseUploadMetadata, TUS_EXTENSIONS, TUS_VERSION } from '../files/tus.ts';
import { enforceLimit } from '../lib/ratelimit.ts';
import { requireAuth } from '../middleware/auth.ts';

const tusHeaders = createMiddleware<AppEnv>(async (c, next) => {
  try {
    // OPTIONS is discovery, and a GET of the status (JSON) is this API's own, not tus's.
    if (c.req.method !== 'OPTIONS' && c.req.method !== 'GET' && c.req.header('tus-resumable') !== TUS_VERSION) {
      throw new ApiError('precondition_failed', `This server speaks tus ${TUS_VERSION} (send Tus-Resumable: ${TUS_VERSION})`, { headers: { 'Tus-Version': TUS_VERSION } });
    }
    await next();
  } finally {
    c.header('Tus-Resumable', TUS_VERSION);
  }
});

/** The upload's id from the path: not a UUID names no upload (and must not create a Durable Object). */
function uploadId(id: string | undefined): string {
  if (!FileParams.shape.id.safeParse(id).success) throw new ApiError('not_found', 'No such upload');
  return id!;
}

function orThrow(result: UploadStatusResult): Extract<UploadStatusResult, { ok: true }> {
  if (result.ok) return result;
  throw new ApiError(result.code, result.message);
}

const discovery = (c: import('hono').Context<AppEnv>) => {
  c.header('Tus-Version', TUS_VERSION);
  c.header('Tus-Extension', TUS_EXTENSIONS);
  c.header('Tus-Max-Size', String(fileLimits(c.env).maxBytes));
  return c.body(null, 204);
};

export const uploadRoutes = new Hono<AppEnv>()
  .use(tusHeaders)
  // Discovery says nothing about anyone's data, and browsers send it without credentials.
  .options('/', discovery)
  .options('/:id', discovery)
  .post('/', requireAuth, async (c) => {
    const me = c.var.auth.userId;
    if (c.req.header('upload-defer-length') !== undefined) throw new ApiError('validation_failed', 'Upload-Defer-Length is not supported: send Upload-Length');
    const length = byteCount(c.req.header('upload-length'));
    if (length === undefined) throw new ApiError('validation_failed', 'Upload-Length must be a non-negative integer');
    const { maxBytes } = fileLimits(c.env);
    if (length > maxBytes) throw new ApiError('too_large', `Files are limited to ${maxBytes} bytes`);
    const meta = parseUploadMetadata(c.req.header('upload-metadata'));
    if (!meta) throw new ApiError('validation_failed', 'Upload-Metadata must be comma-separated "key base64value" pairs');
    await enforceLimit(c.env, c.var.log, 'upload_user', me);
    const id = uuidv7();
    orThrow(await c.env.UPLOADS.getByName(id).create({ uploadId: id, ownerId: me, name: meta.filename ?? meta.name ?? '', declaredType: meta.filetype ?? meta.type ?? null, length }));
    c.header('Location', `/api/v1/files/uploads/${id}`);
    return c.body(null, 201);
  })
  // HEAD (tus) is routed here too: Hono answers HEAD with the GET handler.
  .get('/:id', requireAuth, async (c) => {
    const status = orThrow(await c.env.UPLOADS.getByName(uploadId(c.req.param('id'))).inspect(c.var.auth.userId));
    if (c.req.method === 'HEAD') {
      c.header('Upload-Offset', String(status.offset));
      c.header('Upload-Length', String(status.length));
      c.header('Cache-Control', 'no-store');
      if (status.file) c.header('Beehive-File-Id', status.file.id);
      return c.body(null, 200);
    }
    return c.json({ offset: status.offset, length: status.length, ...(status.file ? { file: status.file } : {}) }, 200);
  })
  .patch('/:id', requireAuth, async (c) => {
    const stub = c.env.UPLOADS.getByName(uploadId(c.req.param('id')));
    if (c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase() !== 'application/offset+octet-stream') {
      throw new ApiError('unsupported_media_type', 'PATCH bodies are Content-Type: application/offset+octet-stream');
    }
    const offset = byteCount(c.req.header('upload-offset'));
    if (offset === undefined) throw new ApiError('validation_failed', 'Upload-Offset must be a non-negative integer');
    const declared = byteCount(c.req.header('content-length'));
    const body = c.req.raw.body ?? new ReadableStream<Uint8Array>({ start: (ctl) => ctl.close() });
    const status = orThrow(await stub.append(c.var.auth.userId, offset, body, declared));
    c.header('Upload-Offset', String(status.offset));
    if (status.file) c.header('Beehive-File-Id', status.file.id);
    return c.body(null, 204);
  })
  .delete('/:id', requireAuth, async (c) => {
    const done = await c.env.UPLOADS.getByName(uploadId(c.req.param('id'))).terminate(c.var.auth.userId);
    if (!done.ok) throw new ApiError(done.code, done.message);
    return c.body(null, 204);
  });

/** /api/v1/files/instant — instant upload by proof of possession (workers/files/instant.ts). */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { errors, jsonBody, jsonResponse } from '../../protocol/common.ts';
import { ConfirmBody, FILE_LIMITS, FileView, InstantBody, InstantChallenge } from '../../protocol/files.ts';
import { uuidv7 } from '../../lib/ids.ts';
import { fileOverBlob, findBlob } from '../../services/files/records.ts';
import { cleanFileName, sniffStored } from '../../services/files/sniff.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { issueChallenge, proofHolds, takeChallenge } from '../files/instant.ts';
import { fileLimits } from '../files/limits.ts';
import { enforceLimit } from '../lib/ratelimit.ts';
import { requireAuth } from '../middleware/auth.ts';
import { defaultHook } from '../validation.ts';

const base = { tags: ['files'], security: [{ bearerAuth: [] }], middleware: [requireAuth] };

const challenge = createRoute({
  ...base, method: 'post', path: '/', summary: 'Ask for a challenge to prove you hold bytes (always answered, whether or not they are stored)',
  request: { body: jsonBody(InstantBody) },
  responses: { 200: jsonResponse(InstantChallenge, 'Prove it: SHA-256 of the nonce’s UTF-8 bytes followed by each range'), ...errors(400, 401, 413, 429) },
});
const confirm = createRoute({
  ...base, method: 'post', path: '/confirm', summary: 'Answer a challenge: a new file over the stored bytes, or 409 upload_required',
  request: { body: jsonBody(ConfirmBody) },
  responses: { 201: jsonResponse(FileView, 'Your file, without uploading'), ...errors(400, 401, 409) },
});

const uploadRequired = () => new ApiError('upload_required', 'Upload the file: these bytes are not known here, or the proof does not match');

export const instantRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(challenge, async (c) => {
    const me = c.var.auth.userId;
    const body = c.req.valid('json');
    const { maxBytes } = fileLimits(c.env);
    if (body.size > maxBytes) throw new ApiError('too_large', `Files are limited to ${maxBytes} bytes`);
    await enforceLimit(c.env, c.var.log, 'upload_user', me);
    return c.json(await issueChallenge(c.env, me, body, FILE_LIMITS.instantTtlSeconds), 200);
  })
  .openapi(confirm, async (c) => {
    const me = c.var.auth.userId;
    const { sha256, nonce, proof } = c.req.valid('json');
    const asked = await takeChallenge(c.env, nonce);
    // A spent, expired or foreign nonce says nothing about the bytes: same answer.
    if (!asked || asked.userId !== me || asked.sha256 !== sha256) throw uploadRequired();
    const db = c.var.pg.db;
    const blob = await findBlob(db, sha256);
    const known = blob && blob.size === asked.size ? blob : undefined;
    if (!(await proofHolds(c.env.FILES, nonce, asked, proof, known?.r2Key))) throw uploadRequired();
    const sniffed = await sniffStored(c.env.FILES, known!.r2Key, asked.size, asked.contentType);
    const file = await fileOverBlob(db, { id: uuidv7(), ownerId: me, sha256, size: asked.size, name: cleanFileName(asked.name), ...sniffed });
    if (!file) throw uploadRequired(); // released in the meantime
    return c.json(file, 201);
  });

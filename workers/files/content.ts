/**
 * The bytes of a file as a response: streamed from R2, `ETag` = the SHA-256,
 * one `Range` → 206, and never rendered as a page — `nosniff`, a sandboxing
 * CSP, and `Content-Disposition: attachment` for everything but the raster
 * images and audio (an uploaded HTML or SVG file downloads, it does not run).
 */
import type { FileRecord } from '../../services/files/records.ts';
import { servedInline } from '../../services/files/sniff.ts';
import { ApiError } from '../errors.ts';
import { parseRange } from './range.ts';

function disposition(inline: boolean, name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${inline ? 'inline' : 'attachment'}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

export async function contentResponse(bucket: R2Bucket, file: FileRecord, req: Request): Promise<Response> {
  const etag = `"${file.blobSha256}"`;
  const headers = new Headers({
    'content-type': file.contentType,
    'content-disposition': disposition(servedInline(file.contentType), file.name),
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
    'cache-control': 'private, no-cache',
    'accept-ranges': 'bytes',
    etag,
  });
  const match = req.headers.get('if-none-match');
  if (match && match.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return new Response(null, { status: 304, headers });
  // If-Range naming another version means "send it all".
  const ifRange = req.headers.get('if-range');
  const range = ifRange && ifRange !== etag ? ({ kind: 'all' } as const) : parseRange(req.headers.get('range') ?? undefined, file.size);
  if (range.kind === 'unsatisfiable') {
    throw new ApiError('range_not_satisfiable', `The file has ${file.size} bytes`, { headers: { 'content-range': `bytes */${file.size}` } });
  }
  const part = range.kind === 'part' ? range : undefined;
  if (part) headers.set('content-range', `bytes ${part.offset}-${part.offset + part.length - 1}/${file.size}`);
  headers.set('content-length', String(part ? part.length : file.size));
  const status = part ? 206 : 200;
  if (req.method === 'HEAD') return new Response(null, { status, headers });
  const object = await bucket.get(file.r2Key, part ? { range: { offset: part.offset, length: part.length } } : {});
  if (!object) throw new ApiError('not_found', 'No such file');
  return new Response(object.body, { status, headers });
}

/** File size limits from the FILE_MAX_BYTES / FILE_SINGLE_MAX_BYTES vars. */
import { FILE_LIMITS } from '../../protocol/files.ts';

const positive = (raw: string | undefined, fallback: number) => {
  const n = Number(raw);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
};

export function fileLimits(env: Env): { maxBytes: number; singleMaxBytes: number } {
  const maxBytes = positive(env.FILE_MAX_BYTES, FILE_LIMITS.maxBytes);
  return { maxBytes, singleMaxBytes: Math.min(maxBytes, positive(env.FILE_SINGLE_MAX_BYTES, FILE_LIMITS.singleMaxBytes)) };
}

/** Routes whose bodies are file bytes: the app-wide 1 MiB body limit does not apply; they enforce their own. */
export function isUploadRequest(method: string, path: string): boolean {
  return (method === 'POST' && path === '/api/v1/files') || (method === 'PATCH' && path.startsWith('/api/v1/files/uploads/'));
}

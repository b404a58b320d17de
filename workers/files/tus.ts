/** The tus 1.0 wire details (https://tus.io/protocols/resumable-upload): versions, headers, Upload-Metadata. */

export const TUS_VERSION = '1.0.0';
export const TUS_EXTENSIONS = 'creation,termination';

/** `Upload-Metadata`: comma-separated `key base64(value)` pairs; a key may come without a value. Undefined if malformed. */
export function parseUploadMetadata(header: string | undefined): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (!header?.trim()) return out;
  for (const pair of header.split(',')) {
    const [key, value, extra] = pair.trim().split(/\s+/);
    if (!key || extra !== undefined || !/^[\x21-\x7e]+$/.test(key) || key.includes(',')) return undefined;
    if (value === undefined) {
      out[key] = '';
      continue;
    }
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return undefined;
    try {
      out[key] = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(atob(value), (ch) => ch.charCodeAt(0)));
    } catch {
      return undefined;
    }
  }
  return out;
}

/** A non-negative integer header (Upload-Length, Upload-Offset), or undefined. */
export function byteCount(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d{1,16}$/.test(header.trim())) return undefined;
  const n = Number(header.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

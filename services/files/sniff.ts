/**
 * What a file is, from its first bytes rather than from what the client said:
 * the four raster formats browsers render inline (PNG, JPEG, GIF, WebP) are
 * recognised by their magic bytes, with width and height read from their
 * headers. A part labelled as one of them whose bytes are something else is
 * stored as `application/octet-stream`, so it can never be served inline.
 */

/** How much of a file's beginning the sniffer wants (a JPEG's frame header may follow a large EXIF block). */
export const SNIFF_BYTES = 256 * 1024;

const INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

export interface Sniffed {
  contentType: string;
  width?: number;
  height?: number;
}

interface Image {
  type: string;
  width: number;
  height: number;
}

const ascii = (b: Uint8Array, at: number, text: string) => [...text].every((ch, i) => b[at + i] === ch.charCodeAt(0));

function png(b: Uint8Array, v: DataView): Image | undefined {
  if (!(b.length >= 24 && b[0] === 0x89 && ascii(b, 1, 'PNG\r\n\x1a\n') && ascii(b, 12, 'IHDR'))) return undefined;
  return { type: 'image/png', width: v.getUint32(16), height: v.getUint32(20) };
}

function gif(b: Uint8Array, v: DataView): Image | undefined {
  if (!(b.length >= 10 && (ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a')))) return undefined;
  return { type: 'image/gif', width: v.getUint16(6, true), height: v.getUint16(8, true) };
}

function webp(b: Uint8Array, v: DataView): Image | undefined {
  if (!(b.length >= 30 && ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP'))) return undefined;
  if (ascii(b, 12, 'VP8 ') && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
    return { type: 'image/webp', width: v.getUint16(26, true) & 0x3fff, height: v.getUint16(28, true) & 0x3fff };
  }
  if (ascii(b, 12, 'VP8L') && b[20] === 0x2f) {
    const bits = v.getUint32(21, true);
    return { type: 'image/webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (ascii(b, 12, 'VP8X')) {
    const u24 = (at: number) => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16);
    return { type: 'image/webp', width: u24(24) + 1, height: u24(27) + 1 };
  }
  return undefined;
}

/** Walks the JPEG segments to the first frame header (SOFn). */
function jpeg(b: Uint8Array, v: DataView): Image | undefined {
  if (!(b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff)) return undefined;
  let at = 2;
  while (at + 9 <= b.length) {
    if (b[at] !== 0xff) return undefined;
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // no length field
      continue;
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return { type: 'image/jpeg', height: v.getUint16(at + 5), width: v.getUint16(at + 7) };
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image / scan data before any frame header
    at += 2 + v.getUint16(at + 2);
  }
  // A JPEG whose frame header lies beyond what was read: still a JPEG, size unknown.
  return { type: 'image/jpeg', width: 0, height: 0 };
}

/** The raster image `head` starts with, if any. */
export function sniffImage(head: Uint8Array): Image | undefined {
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return png(head, v) ?? gif(head, v) ?? webp(head, v) ?? jpeg(head, v);
}

/** `type/subtype` in lower case without parameters, or undefined if `declared` is not one. */
export function normalizeContentType(declared: string | undefined | null): string | undefined {
  const base = declared?.split(';')[0]?.trim().toLowerCase();
  return base && /^[a-z0-9][\w.+-]*\/[a-z0-9][\w.+-]*$/.test(base) && base.length <= 255 ? base : undefined;
}

/**
 * The stored content type and dimensions: the bytes decide for the inline
 * image formats; otherwise the declared type stands, unless it claims to be
 * one of those formats (then it is a lie, and the file is a plain download).
 */
export function resolveContentType(declared: string | undefined | null, head: Uint8Array): Sniffed {
  const image = sniffImage(head);
  if (image) return { contentType: image.type, ...(image.width > 0 && image.height > 0 ? { width: image.width, height: image.height } : {}) };
  const type = normalizeContentType(declared);
  return { contentType: !type || INLINE_IMAGES.has(type) ? 'application/octet-stream' : type };
}

/** Whether `GET /files/:id/content` may serve this type inline: the raster images and audio. Everything else is an attachment. */
export function servedInline(contentType: string): boolean {
  return INLINE_IMAGES.has(contentType) || contentType.startsWith('audio/');
}

/** A file name safe to store and echo: the last path segment, no control characters, at most 255 characters. */
export function cleanFileName(raw: string | undefined | null): string {
  // eslint-disable-next-line no-control-regex
  const name = (raw ?? '')
    .split(/[\\/]/)
    .pop()!
    .replace(/[\u0000-\u001f\u007f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
    .trim();
  return [...(name || 'file')].slice(0, 255).join('');
}

/** `resolveContentType` for bytes already in R2: reads their beginning. */
export async function sniffStored(bucket: R2Bucket, key: string, size: number, declared: string | null | undefined): Promise<Sniffed> {
  const head = size > 0 ? await bucket.get(key, { range: { offset: 0, length: Math.min(SNIFF_BYTES, size) } }) : null;
  return resolveContentType(declared, head ? new Uint8Array(await head.arrayBuffer()) : new Uint8Array(0));
}

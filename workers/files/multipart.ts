/**
 * A streaming `multipart/form-data` reader (RFC 7578): parts are yielded as
 * they arrive and a part's body is a stream of chunks, so a 25 MiB upload is
 * never held in memory (`Request.formData()` would buffer all of it). Only a
 * few bytes are held back at a time: those that might begin the next
 * delimiter.
 */

export class MalformedMultipart extends Error {}

export interface Part {
  name: string | undefined;
  filename: string | undefined;
  contentType: string | undefined;
  /** The part's bytes. Read it to the end (or not at all) before asking for the next part. */
  chunks(): AsyncGenerator<Uint8Array>;
}

const CRLF = new Uint8Array([13, 10]);
const HEADER_MAX = 8 * 1024;
const encoder = new TextEncoder();

/** The `boundary` parameter of a multipart/form-data content type, or undefined. */
export function formBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0]!;
  for (let i = hay.indexOf(first, from); i !== -1 && i + needle.length <= hay.length; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function parseHeaders(block: string): Pick<Part, 'name' | 'filename' | 'contentType'> {
  let disposition = '';
  let contentType: string | undefined;
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MalformedMultipart(`bad part header line: ${line.slice(0, 80)}`);
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'content-disposition') disposition = value;
    else if (key === 'content-type') contentType = value;
  }
  if (!/^form-data\b/i.test(disposition)) throw new MalformedMultipart('every part needs Content-Disposition: form-data');
  const param = (p: string) => {
    const m = new RegExp(`;\\s*${p}="((?:[^"\\\\]|\\\\.)*)"|;\\s*${p}=([^;\\s]+)`, 'i').exec(disposition);
    return m ? (m[1] ?? m[2])!.replace(/\\(.)/g, '$1') : undefined;
  };
  return { name: param('name'), filename: param('filename'), contentType };
}

/** Yields the parts of a multipart body; throws MalformedMultipart when it is not one (also when it ends early). */
export async function* multipartParts(body: ReadableStream<Uint8Array>, boundary: string): AsyncGenerator<Part> {
  const reader = body.getReader();
  // The first delimiter may open the body without a CRLF before it; pretend there was one.
  let buf: Uint8Array = CRLF;
  let done = false;
  const delimiter = encoder.encode(`\r\n--${boundary}`);
  const more = async (): Promise<boolean> => {
    if (done) return false;
    const { value, done: end } = await reader.read();
    if (end) {
      done = true;
      return false;
    }
    buf = concat(buf, value);
    return true;
  };
  /** After a delimiter: `--` closes the body, CRLF (after optional whitespace) opens a part. */
  const afterDelimiter = async (): Promise<'part' | 'end'> => {
    for (;;) {
      let i = 0;
      while (i < buf.length && (buf[i] === 32 || buf[i] === 9)) i++;
      if (buf.length >= i + 2) {
        if (buf[i] === 45 && buf[i + 1] === 45) return 'end';
        if (buf[i] === 13 && buf[i + 1] === 10) {
          buf = buf.subarray(i + 2);
          return 'part';
        }
        throw new MalformedMultipart('bad delimiter line');
      }
      if (!(await more())) throw new MalformedMultipart('the body ends inside a delimiter');
    }
  };

  try {
    // Preamble: everything before the first delimiter is ignored.
    for (;;) {
      const at = indexOf(buf, delimiter, 0);
      if (at !== -1) {
        buf = buf.subarray(at + delimiter.length);
        break;
      }
      buf = buf.subarray(Math.max(0, buf.length - delimiter.length));
      if (!(await more())) throw new MalformedMultipart('no multipart boundary in the body');
    }
    let next = await afterDelimiter();
    while (next === 'part') {
      let end: number;
      while ((end = indexOf(buf, encoder.encode('\r\n\r\n'), 0)) === -1) {
        if (buf.length > HEADER_MAX) throw new MalformedMultipart('part headers too long');
        if (!(await more())) throw new MalformedMultipart('the body ends inside part headers');
      }
      const headers = parseHeaders(new TextDecoder().decode(buf.subarray(0, end)));
      buf = buf.subarray(end + 4);
      let finished = false;
      async function* chunks(): AsyncGenerator<Uint8Array> {
        for (;;) {
          const at = indexOf(buf, delimiter, 0);
          if (at !== -1) {
            if (at > 0) yield buf.subarray(0, at);
            buf = buf.subarray(at + delimiter.length);
            finished = true;
            return;
          }
          // Hold back what could be the start of the delimiter; the rest is the part's.
          const safe = buf.length - (delimiter.length - 1);
          if (safe > 0) {
            const out = buf.subarray(0, safe);
            buf = buf.subarray(safe);
            yield out;
          }
          if (!(await more())) throw new MalformedMultipart('the body ends inside a part');
        }
      }
      yield { ...headers, chunks };
      if (!finished) for await (const _ of chunks()) void _;
      next = await afterDelimiter();
    }
  } finally {
    reader.releaseLock();
  }
}

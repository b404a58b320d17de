/** `Range: bytes=…` (RFC 9110 §14): one range is served as 206; several, or a malformed header, get the whole file (as the RFC allows). */

export type RangeAsk = { kind: 'all' } | { kind: 'part'; offset: number; length: number } | { kind: 'unsatisfiable' };

export function parseRange(header: string | undefined, size: number): RangeAsk {
  const m = header && /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'all' };
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    const length = Math.min(suffix, size);
    return { kind: 'part', offset: size - length, length };
  }
  const first = Number(m[1]);
  const last = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < first) return { kind: 'all' }; // invalid: ignored
  if (first >= size) return { kind: 'unsatisfiable' };
  return { kind: 'part', offset: first, length: last - first + 1 };
}

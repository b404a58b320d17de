/**
 * Text analysis for the local Algolia stand-in: how a record's text and a query
 * become terms, with the offsets highlighting needs.
 *
 * - Words come from `Intl.Segmenter` (ICU word boundaries), lower-cased, with
 *   Latin/Greek/Cyrillic accents folded (`café` → `cafe`) and full-width forms
 *   narrowed (NFKC), so `cafe` finds `café`.
 * - Runs of Chinese/Japanese script become overlapping character bigrams.
 *   ICU's dictionary alone misses words inside its own segments (`東京タワー` is
 *   one segment, so `タワー` would never match); bigrams make every substring of
 *   two or more characters findable: a query's bigrams must all occur. An index
 *   run also yields its last character alone, so each character starts some
 *   term and a one-character query (always a prefix query) finds it anywhere.
 * - Emoji are terms of their own (without the U+FE0F presentation selector).
 * - HTML tags are blanked out before analysis, as Algolia ignores tags when
 *   matching (`<strong>` never matches "strong"); offsets stay those of the text.
 */

/** One term of a text, at `[start, end)` of the original string (UTF-16 offsets). */
export interface Token {
  term: string;
  start: number;
  end: number;
  /** Which word of the text it comes from: a Chinese/Japanese run gives several bigrams of one word. */
  word: number;
  /** A query term matched as a prefix: the query's last one, and any single CJK character. */
  prefix: boolean;
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'word' });
// Han (with 々〆), kana, and the long-vowel marks ー/ｰ that belong to katakana words.
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u3005\u3006\u30fc\uff70]/u;
const EMOJI = /\p{Extended_Pictographic}/u;
const HTML_TAG = /<\/?[A-Za-z][^<>]*>/g;
const ACCENTS = /[\u0300-\u036f]/g;

/** Lower-case, NFKC, accents folded: the form terms are compared in. */
export function fold(text: string): string {
  return text.normalize('NFKD').replace(ACCENTS, '').normalize('NFC').toLowerCase();
}

/**
 * The terms of `text`. `index` mode adds the last character of each CJK run as
 * a term of its own; `query` mode marks prefix terms (the last term, and any
 * one-character CJK term).
 */
export function tokenize(text: string, mode: 'index' | 'query'): Token[] {
  const tokens: Token[] = [];
  let word = 0;
  let run: Array<{ ch: string; start: number; end: number }> = [];
  const flush = () => {
    if (run.length === 0) return;
    const norm = run.map((c) => c.ch.normalize('NFKC'));
    if (run.length === 1) tokens.push({ term: norm[0]!, start: run[0]!.start, end: run[0]!.end, word, prefix: false });
    for (let i = 0; i + 1 < run.length; i++) {
      tokens.push({ term: norm[i]! + norm[i + 1]!, start: run[i]!.start, end: run[i + 1]!.end, word, prefix: false });
    }
    const last = run[run.length - 1]!;
    if (mode === 'index' && run.length > 1) tokens.push({ term: norm[run.length - 1]!, start: last.start, end: last.end, word, prefix: false });
    run = [];
    word++;
  };
  const pushWord = (term: string, start: number, end: number) => {
    flush();
    if (term) tokens.push({ term, start, end, word: word++, prefix: false });
  };

  const masked = text.replace(HTML_TAG, (tag) => ' '.repeat(tag.length));
  for (const { segment, index, isWordLike } of segmenter.segment(masked)) {
    if (!isWordLike) {
      if (EMOJI.test(segment)) pushWord(segment.replace(/\ufe0f/g, ''), index, index + segment.length);
      continue;
    }
    // A word-like segment may mix scripts ("Tシャツ"): CJK characters join the run, the rest form words.
    let latinStart = -1;
    let offset = index;
    for (const ch of segment) {
      const end = offset + ch.length;
      if (CJK.test(ch)) {
        if (latinStart >= 0) pushWord(fold(masked.slice(latinStart, offset)), latinStart, offset);
        latinStart = -1;
        if (run.length > 0 && run[run.length - 1]!.end !== offset) flush();
        run.push({ ch, start: offset, end });
      } else if (latinStart < 0) {
        latinStart = offset;
      }
      offset = end;
    }
    if (latinStart >= 0) pushWord(fold(masked.slice(latinStart, offset)), latinStart, offset);
  }
  flush();

  if (mode === 'query') {
    for (const t of tokens) if ([...t.term].length === 1 && CJK.test(t.term)) t.prefix = true;
    if (tokens.length > 0) tokens[tokens.length - 1]!.prefix = true;
  }
  return tokens;
}

/** Where, in `text`, a prefix of `length` folded characters of the token at `start..end` ends. */
export function prefixEnd(text: string, start: number, end: number, length: number): number {
  let folded = 0;
  let offset = start;
  for (const ch of text.slice(start, end)) {
    if (folded >= length) break;
    folded += fold(ch).length;
    offset += ch.length;
  }
  return offset;
}

/**
 * One index of the local Algolia stand-in: its records and settings, a
 * MiniSearch inverted index over the searchable attributes, and search with
 * the parts of Algolia's semantics an application notices:
 *
 * - every query word must match; the last one (and a lone CJK character) as a prefix;
 * - `searchableAttributes` (order = priority; `unordered(…)` and `a,b` accepted);
 * - filters (see algolia-filters.ts), applied before scoring: a filter on
 *   facet values (every search of a user's conversations) finds its candidates
 *   in a facet index and, when they are few, matches just those (a cached
 *   per-record term list) instead of walking the inverted index;
 * - ranking: best matching attribute, then exact over prefix matches, then
 *   `customRanking` (`desc(createdAt)`), then text score;
 * - `page` / `hitsPerPage` / `paginationLimitedTo`, `attributesToRetrieve`,
 *   `unretrievableAttributes`;
 * - `_highlightResult` with `highlightPreTag` / `highlightPostTag` (default
 *   `<em>`), `matchLevel`, `matchedWords`. Like Algolia, the text is NOT
 *   HTML-escaped: Algolia returns data as stored and leaves escaping to the
 *   caller (its "Data sanitization" guide; InstantSearch escapes client-side).
 *
 * Not emulated: typo tolerance, synonyms, rules, distinct, geo, facet counts.
 */
import MiniSearch, { type Query } from 'minisearch';
import { compileFilter, facetValue, FilterError, getPath, parseFilterArray, parseFilters, unwrap, type CompiledFilter, type Filter } from './algolia-filters.ts';
import { prefixEnd, tokenize, type Token } from './algolia-text.ts';

export type AlgoliaRecord = { objectID: string } & Record<string, unknown>;
export type Settings = Record<string, unknown>;

/** An error Algolia would answer with this status and message. */
export class AlgoliaError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

interface Match { record: AlgoliaRecord; attribute: number; exact: number; score: number; custom?: unknown[] }
interface HighlightResult { value: string; matchLevel: 'none' | 'partial' | 'full'; matchedWords: string[]; fullyHighlighted?: boolean }

// Algolia's service limits ("Algolia service limits" guide).
const MAX_HITS_PER_PAGE = 1000;
const MAX_QUERY_BYTES = 512;
const MAX_FILTERS = 1000;
/** The built-in partial-update operations the stand-in applies. */
export const OPERATIONS = new Set(['Increment', 'Decrement', 'Add', 'AddUnique', 'Remove']);
const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.map(String) : typeof v === 'string' ? (v.trim().startsWith('[') ? JSON.parse(v) : v.split(',')) : undefined;
/** The searchable text of a value: strings, numbers, and arrays of them. */
const textOf = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : Array.isArray(v) ? v.map(textOf).join('\n') : '';

export class AlgoliaIndex {
  readonly records = new Map<string, AlgoliaRecord>();
  settings: Settings = {};
  createdAt = new Date().toISOString();
  updatedAt = this.createdAt;
  /** Kept up to date record by record; rebuilt at once when the settings change (lazily when a new attribute
   *  joins the default "all attributes searchable"). A search never waits for a build it could time out on. */
  #mini: MiniSearch<AlgoliaRecord> | null = null;
  #priority = new Map<string, number>();
  /** Declared facet attribute → value → objectIDs; built with #mini. */
  #facets = new Map<string, Map<string, Set<string>>>();
  /** Each record's terms per searchable attribute (in #priority order): analysed once, for #mini and #scan alike. */
  #terms = new Map<string, string[][]>();
  #vocabulary = new Map<string, string>();
  /** The terms of the record #mini is adding: its tokenizer hands them out instead of analysing the text again. */
  #adding: string[][] | undefined;
  /** Top-level attributes seen, for the default `searchableAttributes` (all of them). */
  #seen = new Set<string>();

  readonly name: string;
  constructor(name: string) {
    this.name = name;
    this.#index();
  }

  /** Adds or replaces a record. */
  save(record: AlgoliaRecord): void {
    const newAttribute = Object.keys(record).some((k) => k !== 'objectID' && !this.#seen.has(k));
    for (const k of Object.keys(record)) if (k !== 'objectID') this.#seen.add(k);
    if (newAttribute && !this.#searchableSetting()) this.#mini = null;
    if (this.#mini) {
      const old = this.records.get(record.objectID);
      if (old) this.#unindex(old);
      this.#add(record);
    }
    this.records.set(record.objectID, record);
    this.#touch();
  }

  /**
   * Updates some attributes of a record (creating it when `create`); values may
   * be Algolia's built-in operations (`{_operation: 'Increment', value: 1}`).
   * Returns whether there was something to update.
   */
  partialUpdate(objectID: string, attributes: Record<string, unknown>, create: boolean): boolean {
    const current = this.records.get(objectID);
    if (!current && !create) return false;
    const next: AlgoliaRecord = { ...(current ?? {}), objectID };
    for (const [key, value] of Object.entries(attributes)) {
      if (key === 'objectID') continue;
      const op = value !== null && typeof value === 'object' && '_operation' in value ? (value as { _operation: string; value?: unknown }) : undefined;
      if (!op) { next[key] = value; continue; }
      const old = next[key];
      const list = Array.isArray(old) ? old : old === undefined ? [] : [old];
      switch (op._operation) {
        case 'Increment': next[key] = (typeof old === 'number' ? old : 0) + Number(op.value ?? 1); break;
        case 'Decrement': next[key] = (typeof old === 'number' ? old : 0) - Number(op.value ?? 1); break;
        case 'Add': next[key] = [...list, op.value]; break;
        case 'AddUnique': next[key] = list.includes(op.value) ? list : [...list, op.value]; break;
        case 'Remove': next[key] = list.filter((v) => v !== op.value); break;
        default: throw new AlgoliaError(400, `Unsupported _operation "${op._operation}" (the local stand-in knows Increment, Decrement, Add, AddUnique, Remove)`);
      }
    }
    this.save(next);
    return true;
  }

  delete(objectID: string): boolean {
    const old = this.records.get(objectID);
    if (!old) return false;
    if (this.#mini) this.#unindex(old);
    this.records.delete(objectID);
    this.#terms.delete(objectID);
    this.#touch();
    return true;
  }

  clear(): void {
    this.records.clear();
    this.#terms.clear();
    this.#mini = null;
    this.#index();
    this.#touch();
  }

  /** Merges settings (or replaces them all); `null` resets one to its default. */
  setSettings(patch: Settings, replace = false): void {
    if (replace) this.settings = {};
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete this.settings[key];
      else this.settings[key] = value;
    }
    this.#mini = null; // searchable attributes or facets may have changed
    this.#index();
    this.#touch();
  }

  /** Records matching the filters of `params` (for `deleteByQuery`); the query is ignored. */
  filtered(params: Settings): AlgoliaRecord[] {
    const { test } = this.#predicate(params);
    return [...this.records.values()].filter(test);
  }

  /** A record as a read returns it: `attributesToRetrieve` (default: all), minus `unretrievableAttributes`. */
  retrieve(record: AlgoliaRecord, attributesToRetrieve: unknown): Record<string, unknown> {
    const wanted = strings(attributesToRetrieve) ?? strings(this.settings.attributesToRetrieve) ?? ['*'];
    const hidden = new Set(strings(this.settings.unretrievableAttributes) ?? []);
    const out: Record<string, unknown> = {};
    if (wanted.includes('*')) {
      const excluded = new Set(wanted.filter((a) => a.startsWith('-')).map((a) => a.slice(1)));
      for (const [k, v] of Object.entries(record)) if (!excluded.has(k)) out[k] = v;
    } else {
      for (const a of wanted) if (record[a] !== undefined) out[a] = record[a];
    }
    for (const k of hidden) delete out[k];
    out.objectID = record.objectID;
    return out;
  }

  search(params: Settings): Record<string, unknown> {
    const started = performance.now();
    this.#index(); // also settles the attribute priorities highlighting defaults to
    const query = typeof params.query === 'string' ? params.query : '';
    if (Buffer.byteLength(query) > MAX_QUERY_BYTES) throw new AlgoliaError(400, `query is ${Buffer.byteLength(query)} bytes; at most ${MAX_QUERY_BYTES}`);
    const page = int(params.page, 0, 'page', 0, Number.MAX_SAFE_INTEGER);
    const hitsPerPage = int(params.hitsPerPage ?? this.settings.hitsPerPage, 20, 'hitsPerPage', 0, MAX_HITS_PER_PAGE);
    const limit = int(this.settings.paginationLimitedTo, 1000, 'paginationLimitedTo', 0, 20_000);
    const filter = this.#predicate(params);
    const terms = tokenize(query, 'query');

    const matches = terms.length === 0 ? this.#all(filter) : this.#match(terms, filter);
    const custom = (strings(this.settings.customRanking) ?? []).map((c) => {
      const m = /^(asc|desc)\((.+)\)$/.exec(c.trim());
      if (!m) throw new AlgoliaError(400, `customRanking: invalid "${c}"`);
      return { desc: m[1] === 'desc', attr: m[2]! };
    });
    for (const m of matches) m.custom = custom.map(({ attr }) => getPath(m.record, attr));
    matches.sort((a, b) => {
      if (a.attribute !== b.attribute) return a.attribute - b.attribute;
      if (a.exact !== b.exact) return b.exact - a.exact;
      for (let i = 0; i < custom.length; i++) {
        const c = compareValues(a.custom![i], b.custom![i], custom[i]!.desc);
        if (c) return c;
      }
      return b.score - a.score || (a.record.objectID < b.record.objectID ? -1 : 1);
    });

    const reachable = Math.min(matches.length, limit);
    const nbPages = hitsPerPage === 0 ? 0 : Math.ceil(reachable / hitsPerPage);
    const from = page * hitsPerPage;
    const pageMatches = matches.slice(Math.min(from, reachable), Math.min(from + hitsPerPage, reachable));
    const toHighlight = strings(params.attributesToHighlight) ?? strings(this.settings.attributesToHighlight) ?? [...this.#priority.keys()];
    const pre = nonEmpty(params.highlightPreTag) ?? nonEmpty(this.settings.highlightPreTag) ?? '<em>';
    const post = nonEmpty(params.highlightPostTag) ?? nonEmpty(this.settings.highlightPostTag) ?? '</em>';
    const hits = pageMatches.map(({ record }) => {
      const _highlightResult: Record<string, unknown> = {};
      const attrs = toHighlight.includes('*') ? Object.keys(record).filter((k) => k !== 'objectID') : toHighlight;
      for (const attr of attrs) {
        const v = record[attr];
        if (typeof v === 'string') _highlightResult[attr] = highlight(v, query, terms, pre, post);
        else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) _highlightResult[attr] = v.map((x) => highlight(x, query, terms, pre, post));
      }
      return { ...this.retrieve(record, params.attributesToRetrieve), _highlightResult };
    });
    return {
      hits, nbHits: matches.length, page, nbPages, hitsPerPage, exhaustiveNbHits: true, exhaustive: { nbHits: true },
      query, params: new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString(),
      processingTimeMS: Math.round(performance.now() - started),
    };
  }

  /** Every record passing the filters, in no particular order (the empty query). */
  #all(filter: CompiledFilter): Match[] {
    const out: Match[] = [];
    const candidates = this.#candidates(filter, Number.MAX_SAFE_INTEGER);
    const records = candidates ? [...candidates.ids].map((id) => this.records.get(id)!) : this.records.values();
    const keep = candidates?.rest ?? filter.test;
    for (const record of records) if (keep(record)) out.push({ record, attribute: 0, exact: 0, score: 0 });
    return out;
  }

  #match(terms: Token[], filter: CompiledFilter): Match[] {
    // Few candidates: match them one by one. Many: the inverted index, filtering before scoring.
    const candidates = this.#candidates(filter, this.records.size / 4);
    if (candidates) return this.#scan(candidates.ids, terms, candidates.rest);
    const keep = filter.test;
    const mini = this.#index();
    // Filters run before scoring: a record that fails them contributes nothing (boost 0), and each is tested once.
    const verdicts = new Map<string, boolean>();
    const allowed = (id: string) => {
      let ok = verdicts.get(id);
      if (ok === undefined) verdicts.set(id, (ok = keep(this.records.get(id)!)));
      return ok;
    };
    const query: Query = { combineWith: 'AND', queries: terms.map((t) => ({ queries: [t.term], prefix: t.prefix })) };
    const prefixTerms = terms.filter((t) => t.prefix).map((t) => t.term);
    return mini.search(query, { boostDocument: (id) => (allowed(id as string) ? 1 : 0) }).map((r) => {
      let attribute = Number.MAX_SAFE_INTEGER;
      for (const fields of Object.values(r.match)) for (const f of fields) attribute = Math.min(attribute, this.#priority.get(f) ?? attribute);
      const exact = prefixTerms.filter((t) => r.match[t] !== undefined).length;
      return { record: this.records.get(r.id as string)!, attribute, exact, score: r.score };
    });
  }

  /**
   * The records a filter's facet clauses allow (the smallest clause's) and the test of the rest of the
   * filter, unless it has no such clause or they are over `limit`.
   */
  #candidates(filter: CompiledFilter, limit: number): { ids: Set<string>; rest: (r: AlgoliaRecord) => boolean } | undefined {
    let best: { size: number; lookup: CompiledFilter['lookups'][number] } | undefined;
    for (const lookup of filter.lookups) {
      let size = 0; // an upper bound: a record with several values of the attribute counts several times
      for (const [attr, values] of lookup.values) for (const v of values) size += this.#facets.get(attr)?.get(v)?.size ?? 0;
      if (size <= limit && (!best || size < best.size)) best = { size, lookup };
    }
    if (!best) return undefined;
    const ids = new Set<string>();
    for (const [attr, values] of best.lookup.values) for (const v of values) for (const id of this.#facets.get(attr)?.get(v) ?? []) ids.add(id);
    // Every candidate passes the clause it came from.
    const others = filter.clauses.filter((_, i) => i !== best.lookup.clause);
    return { ids, rest: (r) => others.every((c) => c(r)) };
  }

  /** Matches query terms against a few records' own term lists (the same analysis as the inverted index). */
  #scan(ids: Set<string>, terms: Token[], keep: (r: AlgoliaRecord) => boolean): Match[] {
    const priorities = [...this.#priority.values()];
    const out: Match[] = [];
    // Plain loops: this runs for every candidate of every search.
    records: for (const id of ids) {
      const record = this.records.get(id);
      if (!record || !keep(record)) continue;
      const lists = this.#terms.get(id) ?? [];
      let attribute = Number.MAX_SAFE_INTEGER, exact = 0, score = 0;
      for (const q of terms) {
        let found = false, foundExact = false;
        for (let i = 0; i < lists.length; i++) {
          const list = lists[i]!;
          for (let j = 0; j < list.length; j++) {
            const t = list[j]!;
            if (t === q.term) foundExact = true;
            else if (!q.prefix || !t.startsWith(q.term)) continue;
            found = true;
            score++;
            if (priorities[i]! < attribute) attribute = priorities[i]!;
          }
        }
        if (!found) continue records;
        if (q.prefix && foundExact) exact++;
      }
      out.push({ record, attribute, exact, score });
    }
    return out;
  }

  #add(record: AlgoliaRecord) {
    const lists = [...this.#priority.keys()].map((f) => tokenize(textOf(getPath(record, f)), 'index').map((t) => this.#intern(t.term)));
    this.#terms.set(record.objectID, lists);
    this.#adding = lists;
    this.#mini!.add(record);
    this.#adding = undefined;
    this.#facet(record, (ids) => ids.add(record.objectID));
  }

  /** One string per distinct term: records share them (memory), and they are flat (bigrams are concatenations). */
  #intern(term: string): string {
    const known = this.#vocabulary.get(term);
    if (known !== undefined) return known;
    this.#vocabulary.set(term, term);
    return term;
  }

  #unindex(record: AlgoliaRecord) {
    this.#mini!.discard(record.objectID);
    this.#facet(record, (ids) => ids.delete(record.objectID));
  }

  /** Calls `update` with the objectID set of each declared facet value of the record. */
  #facet(record: AlgoliaRecord, update: (ids: Set<string>) => void) {
    for (const [attr, byValue] of this.#facets) {
      const v = getPath(record, attr);
      for (const x of v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]) {
        const key = facetValue(attr, x);
        let ids = byValue.get(key);
        if (!ids) byValue.set(key, (ids = new Set()));
        update(ids);
      }
    }
  }

  #index(): MiniSearch<AlgoliaRecord> {
    if (this.#mini) return this.#mini;
    this.#priority = new Map();
    const setting = this.#searchableSetting();
    (setting ?? [...this.#seen].map((a) => [a])).forEach((group, i) => group.forEach((a) => this.#priority.set(a, i)));
    const fieldIndex = new Map([...this.#priority.keys()].map((f, i) => [f, i]));
    const mini = new MiniSearch<AlgoliaRecord>({
      idField: 'objectID',
      fields: [...this.#priority.keys()],
      extractField: (doc, field) => (field === 'objectID' ? doc.objectID : textOf(getPath(doc, field))),
      tokenize: (_text, field) => this.#adding?.[fieldIndex.get(field!)!] ?? [],
      processTerm: (term) => term,
      // Queries arrive as terms already (tokenize(…, 'query')).
      searchOptions: { tokenize: (term) => [term], processTerm: (term) => term },
    });
    this.#mini = mini;
    this.#terms = new Map();
    this.#facets = new Map(['_tags', ...(strings(this.settings.attributesForFaceting) ?? []).map(unwrap)].map((a) => [a, new Map()]));
    for (const record of this.records.values()) this.#add(record);
    return mini;
  }

  /** `searchableAttributes` as priority groups (`"title,alt"` share one), or undefined for "all attributes". */
  #searchableSetting(): string[][] | undefined {
    const list = strings(this.settings.searchableAttributes);
    if (!list?.length) return undefined;
    return list.map((entry) => entry.split(',').map((a) => a.trim().replace(/^unordered\((.*)\)$/, '$1')));
  }

  #predicate(params: Settings): CompiledFilter {
    const parts: Filter = [];
    try {
      if (typeof params.filters === 'string') parts.push(...parseFilters(params.filters));
      if (params.facetFilters !== undefined) parts.push(...parseFilterArray(params.facetFilters, 'facet'));
      if (params.numericFilters !== undefined) parts.push(...parseFilterArray(params.numericFilters, 'numeric'));
      if (params.tagFilters !== undefined) parts.push(...parseFilterArray(params.tagFilters, 'tag'));
    } catch (error) {
      if (error instanceof FilterError || error instanceof SyntaxError) throw new AlgoliaError(400, error.message);
      throw error;
    }
    const count = parts.flat().length;
    if (count > MAX_FILTERS) throw new AlgoliaError(400, `${count} filters; at most ${MAX_FILTERS} per query`);
    return compileFilter(parts, {
      attributesForFaceting: strings(this.settings.attributesForFaceting),
      numericAttributesForFiltering: strings(this.settings.numericAttributesForFiltering),
    });
  }

  #touch() {
    this.updatedAt = new Date().toISOString();
  }
}

function int(v: unknown, fallback: number, name: string, min: number, max: number): number {
  if (v === undefined || v === null || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new AlgoliaError(400, `${name} must be an integer between ${min} and ${max}`);
  return n;
}

const nonEmpty = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/** Custom-ranking order: numbers numerically, strings alphabetically, records without the attribute last. */
function compareValues(a: unknown, b: unknown, desc: boolean): number {
  if (a === undefined || a === null) return b === undefined || b === null ? 0 : 1;
  if (b === undefined || b === null) return -1;
  const c = typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
  return desc ? -c : c;
}

/** Algolia's `_highlightResult` for one string: matches wrapped in the tags, the text itself left as it is. */
function highlight(value: string, query: string, terms: Token[], pre: string, post: string): HighlightResult {
  const spans: Array<[number, number]> = [];
  const matched = new Map<number, boolean>(); // query word → all of its terms found
  if (terms.length > 0) {
    const doc = tokenize(value, 'index');
    for (const q of terms) {
      let found = false;
      for (const d of doc) {
        if (d.term === q.term) spans.push([d.start, d.end]);
        else if (q.prefix && d.term.startsWith(q.term)) spans.push([d.start, prefixEnd(value, d.start, d.end, q.term.length)]);
        else continue;
        found = true;
      }
      matched.set(q.word, (matched.get(q.word) ?? true) && found);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else merged.push([s[0], s[1]]);
  }
  let out = '';
  let at = 0;
  for (const [s, e] of merged) {
    out += value.slice(at, s) + pre + value.slice(s, e) + post;
    at = e;
  }
  out += value.slice(at);
  const words = [...matched.keys()];
  const hitWords = words.filter((w) => matched.get(w));
  const matchedWords = hitWords.map((w) => {
    const parts = terms.filter((t) => t.word === w);
    return query.slice(parts[0]!.start, parts[parts.length - 1]!.end).toLowerCase();
  });
  const matchLevel = hitWords.length === 0 ? 'none' : hitWords.length === words.length ? 'full' : 'partial';
  const result: HighlightResult = { value: out, matchLevel, matchedWords };
  if (matchLevel !== 'none') result.fullyHighlighted = merged.length === 1 && value.slice(0, merged[0]![0]).trim() === '' && value.slice(merged[0]![1]).trim() === '';
  return result;
}

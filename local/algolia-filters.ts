/**
 * Algolia's filter languages for the local stand-in: the `filters` string
 * (`attr:value`, `attr:"quoted value"`, `attr > 3`, `attr:1 TO 5`, bare tags,
 * `AND`/`OR`/`NOT`, parentheses) and the `facetFilters` / `numericFilters` /
 * `tagFilters` arrays (nested arrays are ORs, a leading `-` negates).
 *
 * Algolia accepts only conjunctions of disjunctions — `A AND (B OR NOT C)` but
 * not `(A AND B) OR C`, nested groups or `NOT (…)` — and so does this parser,
 * so a filter that works here works there. Facet values match
 * case-insensitively and only on attributes declared in `attributesForFaceting`;
 * numeric filters apply to `numericAttributesForFiltering` when that is set.
 */

type Literal =
  | { neg: boolean; kind: 'facet'; attr: string; value: string }
  | { neg: boolean; kind: 'numeric'; attr: string; op: string; value: number }
  | { neg: boolean; kind: 'range'; attr: string; lo: number; hi: number };
/** AND of ORs. */
export type Filter = Literal[][];

/** A malformed filter: Algolia answers 400 with its message. */
export class FilterError extends Error {}

type Tok = { t: 'word' | 'str' | 'op' | 'punct'; v: string; at: number };

function lex(input: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) { i++; continue; }
    const at = i;
    if (c === '(' || c === ')' || c === ':') { out.push({ t: 'punct', v: c, at }); i++; continue; }
    const op = /^(<=|>=|!=|<|>|=)/.exec(input.slice(i));
    if (op) { out.push({ t: 'op', v: op[1]!, at }); i += op[1]!.length; continue; }
    if (c === '"' || c === "'") {
      let v = '';
      for (i++; i < input.length && input[i] !== c; i++) v += input[i] === '\\' ? input[++i] ?? '' : input[i];
      if (i >= input.length) throw new FilterError(`filters: unterminated string at col ${at + 1}`);
      i++;
      out.push({ t: 'str', v, at });
      continue;
    }
    let v = '';
    while (i < input.length && !/[\s():<>=!"']/.test(input[i]!)) v += input[i] === '\\' ? input[++i] ?? '' : input[i++];
    if (v === '') throw new FilterError(`filters: unexpected "${c}" at col ${at + 1}`);
    out.push({ t: 'word', v, at });
  }
  return out;
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'TO']);

/** Parses a `filters` string into AND-of-ORs. */
export function parseFilters(input: string): Filter {
  const toks = lex(input);
  let p = 0;
  const peek = () => toks[p];
  const isKw = (kw: string) => peek()?.t === 'word' && peek()!.v === kw;
  const fail = (what: string): never => {
    const tok = peek();
    throw new FilterError(`filters: ${what} ${tok ? `at col ${tok.at + 1} ("${tok.v}")` : 'at end of input'}`);
  };
  const value = (): Tok => {
    const tok = peek();
    if (!tok || (tok.t !== 'word' && tok.t !== 'str') || (tok.t === 'word' && KEYWORDS.has(tok.v))) return fail('expected a value');
    p++;
    return tok;
  };
  const number = (): number => {
    const tok = value();
    const n = Number(tok.v);
    if (tok.v.trim() === '' || !Number.isFinite(n)) throw new FilterError(`filters: "${tok.v}" is not a number (col ${tok.at + 1})`);
    return n;
  };
  const literal = (): Literal => {
    let neg = false;
    if (isKw('NOT')) { neg = true; p++; }
    if (peek()?.v === '(' && peek()?.t === 'punct') return fail(neg ? 'NOT applies to one filter, not a group,' : 'unexpected nested group');
    const first = value();
    const next = peek();
    if (next?.t === 'op') {
      p++;
      return { neg, kind: 'numeric', attr: first.v, op: next.v, value: number() };
    }
    if (next?.t === 'punct' && next.v === ':') {
      p++;
      const v = value();
      if (isKw('TO')) {
        p++;
        const lo = Number(v.v);
        if (!Number.isFinite(lo)) throw new FilterError(`filters: "${v.v}" is not a number (col ${v.at + 1})`);
        return { neg, kind: 'range', attr: first.v, lo, hi: number() };
      }
      return { neg, kind: 'facet', attr: first.v, value: v.v };
    }
    return { neg, kind: 'facet', attr: '_tags', value: first.v }; // a bare value is a tag
  };
  const clause = (): Literal[] => {
    if (peek()?.t === 'punct' && peek()!.v === '(') {
      p++;
      const ors = [literal()];
      while (isKw('OR')) { p++; ors.push(literal()); }
      if (isKw('AND')) fail('AND inside parentheses is not supported; group only ORs');
      if (peek()?.v !== ')') fail('expected ")"');
      p++;
      return ors;
    }
    return [literal()];
  };

  if (toks.length === 0) return [];
  const clauses = [clause()];
  let sawAnd = false, sawOr = false;
  while (p < toks.length) {
    if (isKw('AND')) { sawAnd = true; p++; clauses.push(clause()); }
    else if (isKw('OR')) { sawOr = true; p++; clauses[clauses.length - 1]!.push(...clause()); }
    else fail('expected AND or OR');
    if (sawAnd && sawOr) fail('mixing AND and OR needs parentheses around the ORs');
  }
  return clauses;
}

/** `"attr:value"` / `"attr:-value"` entries of `facetFilters` / `tagFilters` arrays (nested arrays are ORs). */
export function parseFilterArray(input: unknown, kind: 'facet' | 'numeric' | 'tag'): Filter {
  const list = typeof input === 'string' ? (input.trim().startsWith('[') ? JSON.parse(input) : input.split(',')) : input;
  if (!Array.isArray(list)) throw new FilterError(`${kind}Filters: expected an array`);
  const one = (entry: unknown): Literal => {
    if (typeof entry !== 'string') throw new FilterError(`${kind}Filters: expected strings, got ${JSON.stringify(entry)}`);
    if (kind === 'numeric') {
      const [clause] = parseFilters(entry);
      if (clause?.length !== 1 || clause[0]!.kind === 'facet') throw new FilterError(`numericFilters: invalid "${entry}"`);
      return clause[0]!;
    }
    let rest = entry;
    if (kind === 'tag') {
      const neg = rest.startsWith('-');
      return { neg, kind: 'facet', attr: '_tags', value: neg ? rest.slice(1) : rest.replace(/^\\-/, '-') };
    }
    const colon = rest.indexOf(':');
    if (colon < 0) throw new FilterError(`facetFilters: "${entry}" is not attribute:value`);
    const attr = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
    const neg = rest.startsWith('-');
    return { neg, kind: 'facet', attr, value: neg ? rest.slice(1) : rest.replace(/^\\-/, '-') };
  };
  return list.map((entry) => (Array.isArray(entry) ? entry.map(one) : [one(entry)]));
}

/** What of an index's settings decides which filters apply. */
export interface FilterSettings { attributesForFaceting?: string[]; numericAttributesForFiltering?: string[] }

/** A facet value as filters compare it: tags case-sensitively, other facets case-insensitively. */
export const facetValue = (attr: string, v: unknown): string => (attr === '_tags' ? String(v) : String(v).toLowerCase());

/** `filterOnly(x)`, `searchable(x)`, `equalOnly(x)` → `x`. */
export const unwrap = (attr: string): string => attr.replace(/^(?:\w+\()+([^()]*)\)+$/, '$1');

/** Reads `a.b.c` from a record. */
export function getPath(record: Record<string, unknown>, path: string): unknown {
  let v: unknown = record;
  for (const key of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

type RecordTest = (record: Record<string, unknown>) => boolean;

export interface CompiledFilter {
  /** Whether a record passes: every clause does. */
  test: RecordTest;
  clauses: RecordTest[];
  /**
   * The clauses that are only facet values (`conversationId:a OR conversationId:b`), as attribute → values
   * (lower-cased but for `_tags`): a record that passes has one of the values of each. An index with
   * these values indexed finds its candidates without looking at the other records.
   */
  lookups: Array<{ clause: number; values: Array<[attr: string, values: Set<string>]> }>;
}

/** Compiles a filter against an index's settings into a record predicate. */
export function compileFilter(filter: Filter, settings: FilterSettings): CompiledFilter {
  if (filter.length === 0) return { test: () => true, clauses: [], lookups: [] };
  const facets = new Set((settings.attributesForFaceting ?? []).map(unwrap));
  facets.add('_tags');
  const numericList = settings.numericAttributesForFiltering ?? [];
  const equalOnly = new Set(numericList.filter((a) => a.startsWith('equalOnly(')).map(unwrap));
  const numeric = new Set(numericList.map(unwrap));
  const numOk = (attr: string, op: string) => numericList.length === 0 || (numeric.has(attr) && (!equalOnly.has(attr) || op === '=' || op === '!='));
  const values = (record: Record<string, unknown>, attr: string): unknown[] => {
    const v = attr.includes('.') ? getPath(record, attr) : record[attr];
    return v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
  };
  const test = (l: Literal, record: Record<string, unknown>): boolean => {
    if (l.kind === 'facet') return facets.has(l.attr) && values(record, l.attr).some((v) => facetValue(l.attr, v) === facetValue(l.attr, l.value));
    if (!numOk(l.attr, l.kind === 'range' ? '>=' : l.op)) return false;
    const nums = values(record, l.attr).filter((v): v is number => typeof v === 'number');
    if (l.kind === 'range') return nums.some((n) => n >= l.lo && n <= l.hi);
    const x = l.value;
    return nums.some((n) => (l.op === '<' ? n < x : l.op === '<=' ? n <= x : l.op === '>' ? n > x : l.op === '>=' ? n >= x : l.op === '=' ? n === x : n !== x));
  };
  // An OR of facet values of one attribute (`conversationId:a OR conversationId:b …`) becomes one set lookup:
  // searches filter by every conversation of a user, often hundreds.
  const lookups: CompiledFilter['lookups'] = [];
  const clauses = filter.map((ors, clause): RecordTest => {
    const sets = new Map<string, Set<string>>();
    const rest: Literal[] = [];
    for (const l of ors) {
      if (l.kind !== 'facet' || l.neg) rest.push(l);
      else if (facets.has(l.attr)) (sets.get(l.attr) ?? sets.set(l.attr, new Set()).get(l.attr)!).add(facetValue(l.attr, l.value));
    }
    const bySet = [...sets];
    if (rest.length === 0) lookups.push({ clause, values: bySet });
    return (record) => {
      // Loops, not callbacks: this runs for every candidate record of a search.
      for (const [attr, set] of bySet) {
        const v = attr.includes('.') ? getPath(record, attr) : record[attr];
        if (Array.isArray(v)) { for (const x of v) if (set.has(facetValue(attr, x))) return true; }
        else if (v !== undefined && v !== null && set.has(facetValue(attr, v))) return true;
      }
      return rest.some((l) => test(l, record) !== l.neg);
    };
  });
  return { test: (record) => clauses.every((clause) => clause(record)), clauses, lookups };
}

/**
 * Message search on Algolia, through the official v5 search client
 * (`@algolia/client-search`, the search part of `algoliasearch`; wrangler
 * bundles its `worker` build, which uses `fetch`). The same code talks to the
 * local stand-in (local/algolia.ts): `ALGOLIA_HOSTS` names its URL, which is
 * configuration, not a branch.
 *
 * One record per message, `objectID` = `${conversationId}:${seq}`. Privacy is
 * the caller's: `searchMessages` only ever searches the conversation ids it is
 * given (the caller's memberships now), and none means no hits.
 */
import { searchClient, type HighlightResult, type SearchClient, type SearchResponse } from '@algolia/client-search';

/** The Worker variables this adapter reads (a subset of `Env`). */
export interface SearchEnv { ALGOLIA_APP_ID: string; ALGOLIA_API_KEY: string; ALGOLIA_INDEX: string; ALGOLIA_HOSTS: string }

export interface SearchConfig {
  appId: string;
  apiKey: string;
  indexName: string;
  /** Base URLs (`http://127.0.0.1:8795`); empty or absent: Algolia's own hosts for `appId`. */
  hosts?: string[];
}

/** What the index holds for one message (a type, not an interface, so it is a plain `Record` for the client). */
export type MessageRecord = {
  /** `${conversationId}:${seq}` — see {@link messageObjectID}. */
  objectID: string;
  conversationId: string;
  seq: number;
  senderId: string;
  type: 'text' | 'image' | 'voice' | 'file';
  /** What search matches: the text of a text message, a caption or file name otherwise. */
  text: string;
  /** Epoch milliseconds (numeric, so it can be range-filtered and ranked on). */
  createdAt: number;
  /** Bumped by every edit; lets a job handler tell a stale write from a newer one. */
  version: number;
};

export interface MessageQuery {
  query: string;
  /** Conversations to search: the caller's memberships (or one of them). Empty → no hits. */
  conversationIds: string[];
  senderId?: string;
  type?: string;
  /** Epoch ms, exclusive. */
  after?: number;
  /** Epoch ms, exclusive. */
  before?: number;
  /** 0-based. */
  page: number;
  /** 1–1000. */
  hitsPerPage: number;
}

export interface MessageHit {
  conversationId: string;
  seq: number;
  createdAt: number;
  /** The message text HTML-escaped, each match wrapped in `<em>…</em>`. */
  highlight: string;
}

export interface MessageResults { hits: MessageHit[]; page: number; nbPages: number }

type Hit = Pick<MessageRecord, 'conversationId' | 'seq' | 'createdAt'>;

// Algolia's service limits ("Algolia service limits" guide).
/** A record as minified JSON: 10 KB on the Build plan (up to 100 KB on others). */
export const MAX_RECORD_BYTES = 10_000;
/** A query string. */
const MAX_QUERY_BYTES = 512;
/** Filters per query are limited to 1,000; this leaves room for sender, type and the time range. */
export const CONVERSATIONS_PER_QUERY = 990;

export function searchConfig(env: SearchEnv): SearchConfig {
  const hosts = env.ALGOLIA_HOSTS.split(',').map((h) => h.trim()).filter(Boolean);
  return { appId: env.ALGOLIA_APP_ID, apiKey: env.ALGOLIA_API_KEY, indexName: env.ALGOLIA_INDEX, hosts: hosts.length ? hosts : undefined };
}

export const messageObjectID = (conversationId: string, seq: number): string => `${conversationId}:${seq}`;

function client(cfg: SearchConfig): SearchClient {
  const hosts = cfg.hosts?.map((base) => {
    const url = new URL(base);
    return {
      url: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      protocol: url.protocol === 'http:' ? ('http' as const) : ('https' as const),
      accept: 'readWrite' as const,
    };
  });
  return searchClient(cfg.appId, cfg.apiKey, hosts ? { hosts } : undefined);
}

/**
 * Index settings for message search; idempotent, run before the first write
 * (the local stack runs it at start, `search:reindex` before a rebuild).
 * Waits until Algolia has applied them.
 */
export async function ensureIndexSettings(cfg: SearchConfig): Promise<void> {
  const algolia = client(cfg);
  const { taskID } = await algolia.setSettings({
    indexName: cfg.indexName,
    indexSettings: {
      searchableAttributes: ['text'],
      // String filters only work on declared facets; none of them is ever shown as a facet.
      attributesForFaceting: ['filterOnly(conversationId)', 'filterOnly(senderId)', 'filterOnly(type)'],
      numericAttributesForFiltering: ['createdAt'],
      // Among equally good matches, the newest first.
      customRanking: ['desc(createdAt)'],
      // Chinese and Japanese have no spaces: these make Algolia segment them with its dictionaries.
      indexLanguages: ['zh', 'ja', 'en'],
      queryLanguages: ['zh', 'ja', 'en'],
      attributesToHighlight: ['text'],
      attributesToRetrieve: ['conversationId', 'seq'],
    },
  });
  await algolia.waitForTask({ indexName: cfg.indexName, taskID });
}

/**
 * Adds or replaces records (in batches of 1,000). Returns once Algolia has accepted them.
 * A text too long for Algolia's record limit is cut to fit ({@link MAX_RECORD_BYTES}).
 */
export async function saveRecords(cfg: SearchConfig, records: MessageRecord[]): Promise<void> {
  if (records.length === 0) return;
  await client(cfg).saveObjects({ indexName: cfg.indexName, objects: records.map(fitRecord) });
}

/** Deletes records by objectID; ids that are not there are fine. */
export async function deleteRecords(cfg: SearchConfig, objectIDs: string[]): Promise<void> {
  if (objectIDs.length === 0) return;
  await client(cfg).deleteObjects({ indexName: cfg.indexName, objectIDs });
}

/**
 * Best match first (then newest), within `q.conversationIds` only. More conversations than one
 * query may filter on ({@link CONVERSATIONS_PER_QUERY}) are searched in several queries at once,
 * whose hits are merged newest first.
 */
export async function searchMessages(cfg: SearchConfig, q: MessageQuery): Promise<MessageResults> {
  if (q.conversationIds.length === 0) return { hits: [], page: q.page, nbPages: 0 };
  // Unguessable highlight tags: after HTML-escaping the text they are the only thing turned into <em>.
  const nonce = crypto.randomUUID().replaceAll('-', '');
  const pre = `bhhs${nonce}`, post = `bhhe${nonce}`;
  const chunks: string[][] = [];
  for (let i = 0; i < q.conversationIds.length; i += CONVERSATIONS_PER_QUERY) chunks.push(q.conversationIds.slice(i, i + CONVERSATIONS_PER_QUERY));
  const single = chunks.length === 1;
  const params = (conversationIds: string[]) => ({
    indexName: cfg.indexName,
    query: truncateUtf8(q.query, MAX_QUERY_BYTES),
    filters: messageFilters({ ...q, conversationIds }),
    // Merging needs every chunk's best (page + 1) pages, within Algolia's 1,000-hit window.
    page: single ? q.page : 0,
    hitsPerPage: single ? q.hitsPerPage : Math.min(1000, (q.page + 1) * q.hitsPerPage),
    attributesToRetrieve: ['conversationId', 'seq', 'createdAt'],
    attributesToHighlight: ['text'],
    highlightPreTag: pre,
    highlightPostTag: post,
  });
  let results: SearchResponse<Hit>[];
  try {
    const res = await client(cfg).searchForHits<Hit>({ requests: chunks.map(params) });
    results = res.results;
  } catch (error) {
    // A fresh deployment's index does not exist until its first write or settings: nothing to find yet.
    if (isNotFound(error)) return { hits: [], page: q.page, nbPages: 0 };
    throw error;
  }
  const toHit = (hit: SearchResponse<Hit>['hits'][number]): MessageHit => ({
    conversationId: hit.conversationId,
    seq: hit.seq,
    createdAt: hit.createdAt,
    highlight: escapeHtml(highlightValue(hit._highlightResult?.text)).replaceAll(pre, '<em>').replaceAll(post, '</em>'),
  });
  if (single) return { hits: results[0]!.hits.map(toHit), page: results[0]!.page ?? q.page, nbPages: results[0]!.nbPages ?? 0 };
  const merged = results.flatMap((r) => r.hits.map(toHit)).sort((a, b) => b.createdAt - a.createdAt);
  const total = Math.min(1000, results.reduce((n, r) => n + (r.nbHits ?? 0), 0));
  return { hits: merged.slice(q.page * q.hitsPerPage, (q.page + 1) * q.hitsPerPage), page: q.page, nbPages: Math.ceil(total / q.hitsPerPage) };
}

/** Algolia's `filters` for a query: its conversations (ORed), then sender, type and the time range. */
export function messageFilters(q: Pick<MessageQuery, 'conversationIds' | 'senderId' | 'type' | 'after' | 'before'>): string {
  const parts = [`(${q.conversationIds.map((id) => `conversationId:${quote(id)}`).join(' OR ')})`];
  if (q.senderId !== undefined) parts.push(`senderId:${quote(q.senderId)}`);
  if (q.type !== undefined) parts.push(`type:${quote(q.type)}`);
  if (q.after !== undefined) parts.push(`createdAt > ${q.after}`);
  if (q.before !== undefined) parts.push(`createdAt < ${q.before}`);
  return parts.join(' AND ');
}

/** The client's ApiError (of @algolia/client-common, not a dependency of ours) for a 404. */
const isNotFound = (error: unknown) => error instanceof Error && (error as Error & { status?: unknown }).status === 404;

const utf8 = new TextEncoder();
const byteLength = (s: string) => utf8.encode(s).length;

/** `s` cut to at most `max` UTF-8 bytes, at a character boundary. */
function truncateUtf8(s: string, max: number): string {
  if (byteLength(s) <= max) return s;
  let out = '', bytes = 0;
  for (const ch of s) {
    bytes += byteLength(ch);
    if (bytes > max) break;
    out += ch;
  }
  return out;
}

/** The record, its text cut so that the record fits {@link MAX_RECORD_BYTES}. */
function fitRecord(record: MessageRecord): MessageRecord {
  let size = byteLength(JSON.stringify(record));
  let text = record.text;
  while (size > MAX_RECORD_BYTES && text) {
    text = truncateUtf8(text, byteLength(text) - (size - MAX_RECORD_BYTES));
    size = byteLength(JSON.stringify({ ...record, text }));
  }
  return text === record.text ? record : { ...record, text };
}

const quote = (value: string) => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

function highlightValue(h: HighlightResult | undefined): string {
  return h !== undefined && !Array.isArray(h) && 'value' in h && typeof h.value === 'string' ? h.value : '';
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

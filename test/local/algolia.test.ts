/**
 * The local Algolia stand-in, driven by the official `algoliasearch` v5 client
 * and by the production adapter (services/search.ts) — the code paths the Worker uses.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { algoliasearch, type Algoliasearch } from 'algoliasearch';
import { startAlgoliaEmulator, type AlgoliaEmulator } from '../../local/algolia.ts';
import {
  deleteRecords, ensureIndexSettings, messageObjectID, saveRecords, searchConfig, searchMessages,
  type MessageQuery, type MessageRecord, type SearchConfig,
} from '../../services/search.ts';

const appId = 'TESTAPP';
const apiKey = 'test-admin-key';
const T0 = Date.UTC(2026, 10, 22, 4, 0, 0);

let n = 0;
/** A message record; `seq` counts up so each one is new. */
function record(conversationId: string, text: string, extra: Partial<MessageRecord> = {}): MessageRecord {
  const seq = ++n;
  return { objectID: messageObjectID(conversationId, seq), conversationId, seq, senderId: 'u1', type: 'text', text, createdAt: T0 + seq * 1000, version: 1, ...extra };
}

describe('local Algolia stand-in', () => {
  let dir: string;
  let emulator: AlgoliaEmulator;
  let client: Algoliasearch;
  let cfg: SearchConfig;
  let index = '';
  const clientFor = (url: string, id = appId, key = apiKey, authMode?: 'WithinHeaders' | 'WithinQueryParameters') => {
    const u = new URL(url);
    return algoliasearch(id, key, { hosts: [{ url: u.hostname, port: Number(u.port), protocol: 'http', accept: 'readWrite' }], authMode });
  };
  const start = async (port = 0) => {
    emulator = await startAlgoliaEmulator({ port, appId, apiKey, stateFile: path.join(dir, 'algolia.json') });
    client = clientFor(emulator.url);
  };
  /** Searches through the adapter, in every conversation the test uses unless told otherwise. */
  const find = (query: string, q: Partial<MessageQuery> = {}) =>
    searchMessages({ ...cfg, indexName: index }, { query, conversationIds: ['c1', 'c2', 'c3'], page: 0, hitsPerPage: 50, ...q });
  const seqs = async (query: string, q: Partial<MessageQuery> = {}) => (await find(query, q)).hits.map((h) => h.seq).sort((a, b) => a - b);
  const save = (...records: MessageRecord[]) => saveRecords({ ...cfg, indexName: index }, records);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'beehive-algolia-'));
    await start();
    cfg = searchConfig({ ALGOLIA_APP_ID: appId, ALGOLIA_API_KEY: apiKey, ALGOLIA_INDEX: 'unused', ALGOLIA_HOSTS: emulator.url });
  });
  afterAll(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });
  // A fresh index per test, set up by the adapter as production does.
  beforeEach(async (ctx) => {
    index = `messages_${ctx.task.id}`;
    await ensureIndexSettings({ ...cfg, indexName: index });
  });

  describe('authentication', () => {
    it('refuses a wrong application id or API key with 403, as Algolia does', async () => {
      for (const c of [clientFor(emulator.url, 'OTHERAPP'), clientFor(emulator.url, appId, 'wrong-key')]) {
        await expect(c.listIndices()).rejects.toMatchObject({ status: 403, message: 'Invalid Application-ID or API key' });
      }
      const res = await fetch(`${emulator.url}/1/indexes`);
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ message: 'Invalid Application-ID or API key', status: 403 });
    });

    it('accepts the credentials as query parameters too', async () => {
      const c = clientFor(emulator.url, appId, apiKey, 'WithinQueryParameters');
      const { items } = await c.listIndices();
      expect(items.map((i) => i.name)).toContain(index);
    });

    it('answers bad requests in Algolia\'s error shape', async () => {
      const headers = { 'x-algolia-application-id': appId, 'x-algolia-api-key': apiKey, 'content-type': 'text/plain' };
      const post = (p: string, body: string) => fetch(`${emulator.url}${p}`, { method: 'POST', headers, body });
      let res = await post(`/1/indexes/${index}/query`, '{not json');
      expect([res.status, await res.json()]).toEqual([400, { message: 'Invalid JSON', status: 400 }]);
      res = await post(`/1/indexes/${index}/query`, JSON.stringify({ params: 'attributesToHighlight=%5Bbroken' }));
      expect(res.status).toBe(400);
      res = await post(`/1/indexes/${index}/batch`, JSON.stringify({ requests: [{ action: 'explode', body: {} }] }));
      expect([res.status, ((await res.json()) as { status: number }).status]).toEqual([400, 400]);
      res = await fetch(`${emulator.url}/1/nothing-here`, { headers });
      expect(res.status).toBe(404);
    });

    it('a wrong key changes nothing', async () => {
      await save(record('c1', 'untouchable'));
      await expect(clientFor(emulator.url, appId, 'wrong-key').clearObjects({ indexName: index })).rejects.toMatchObject({ status: 403 });
      expect(await seqs('untouchable')).toHaveLength(1);
    });
  });

  describe('languages', () => {
    it('finds Chinese words inside unspaced text (北京 → 我们明天去北京开会)', async () => {
      const hit = record('c1', '我们明天去北京开会');
      await save(hit, record('c1', '我们今天在上海开会'));
      const res = await find('北京');
      expect(res.hits).toEqual([{ conversationId: 'c1', seq: hit.seq, createdAt: hit.createdAt, highlight: '我们明天去<em>北京</em>开会' }]);
      expect(await seqs('开会')).toHaveLength(2);
      expect(await seqs('北京开会')).toEqual([hit.seq]);
      expect(await seqs('南京')).toEqual([]);
    });

    it('finds Japanese words that ICU keeps inside a longer word (タワー → 東京タワー)', async () => {
      const hit = record('c1', '東京タワーに行きました');
      await save(hit, record('c1', '京都のお寺'));
      expect((await find('タワー')).hits).toEqual([{ conversationId: 'c1', seq: hit.seq, createdAt: hit.createdAt, highlight: '東京<em>タワー</em>に行きました' }]);
      expect(await seqs('東京')).toEqual([hit.seq]);
      expect(await seqs('ﾀﾜｰ')).toEqual([hit.seq]); // half-width katakana folds to full-width
      // One character is a prefix query: it finds the character anywhere in a run.
      expect(await seqs('京')).toHaveLength(2);
    });

    it('English: case-insensitive, every word must match, the last one as a prefix', async () => {
      const a = record('c1', 'Meeting in Beijing tomorrow');
      const b = record('c1', 'The meeting moved to Shanghai');
      await save(a, b);
      expect(await seqs('MEETING')).toEqual([a.seq, b.seq]);
      expect(await seqs('meeting beijing')).toEqual([a.seq]);
      expect(await seqs('meeting bei')).toEqual([a.seq]);
      expect(await seqs('mee beijing')).toEqual([]); // only the last word is a prefix
      expect(await seqs('meeting paris')).toEqual([]);
      expect((await find('beij')).hits[0]!.highlight).toBe('Meeting in <em>Beij</em>ing tomorrow');
    });

    it('folds accents both ways (cafe ↔ café)', async () => {
      const hit = record('c1', 'Un café crème à Paris');
      await save(hit);
      expect(await seqs('cafe')).toEqual([hit.seq]);
      expect(await seqs('CAFÉ creme a')).toEqual([hit.seq]);
      expect((await find('creme')).hits[0]!.highlight).toBe('Un café <em>crème</em> à Paris');
    });

    it('mixed scripts and emoji', async () => {
      const mixed = record('c1', 'hello世界 and Tシャツ');
      const emoji = record('c2', 'pizza tonight 🍕❤️ ok?');
      await save(mixed, emoji, record('c1', 'plain hello'));
      expect(await seqs('世界 hello')).toEqual([mixed.seq]);
      expect(await seqs('シャツ')).toEqual([mixed.seq]);
      expect(await seqs('🍕')).toEqual([emoji.seq]);
      expect(await seqs('❤')).toEqual([emoji.seq]);
      expect((await find('🍕')).hits[0]!.highlight).toBe('pizza tonight <em>🍕</em>❤️ ok?');
    });
  });

  describe('highlights', () => {
    it('the adapter HTML-escapes the text and wraps only the matches in <em>', async () => {
      const hit = record('c1', `<script>alert("hi")</script> O'Brien & <em>friends</em> say hello`);
      await save(hit);
      const [h] = (await find('hello')).hits;
      expect(h!.highlight).toBe('&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt; O&#39;Brien &amp; &lt;em&gt;friends&lt;/em&gt; say <em>hello</em>');
    });

    it('the stand-in, like Algolia, returns the text unescaped, with matchLevel and matchedWords', async () => {
      const hit = record('c1', '<b>Bold</b> plan for Beijing');
      await save(hit);
      const res = await client.searchSingleIndex({ indexName: index, searchParams: { query: 'bold paris', attributesToHighlight: ['text'] } });
      expect(res.nbHits).toBe(0);
      const full = await client.searchSingleIndex({ indexName: index, searchParams: { query: 'bold beij', highlightPreTag: '[', highlightPostTag: ']' } });
      expect(full.hits[0]!._highlightResult!.text).toEqual({ value: '<b>[Bold]</b> plan for [Beij]ing', matchLevel: 'full', matchedWords: ['bold', 'beij'], fullyHighlighted: false });
      // Algolia ignores HTML tags when matching: the tag name is not a word of the text.
      expect(await seqs('b plan')).toEqual([]);
      expect(await seqs('bold plan')).toEqual([hit.seq]);
    });

    it('drops control characters from what it returns, as Algolia does', async () => {
      await save(record('c1', 'line one\nline two'));
      expect((await find('two')).hits[0]!.highlight).toBe('line oneline <em>two</em>');
    });
  });

  describe('filters', () => {
    it('the adapter searches only the given conversations, and none at all for an empty list', async () => {
      const a = record('c1', 'secret plan');
      const b = record('c2', 'secret plan');
      await save(a, b, record('other', 'secret plan'));
      expect(await seqs('secret', { conversationIds: ['c1'] })).toEqual([a.seq]);
      expect(await seqs('secret', { conversationIds: ['c1', 'c2'] })).toEqual([a.seq, b.seq]);
      expect(await seqs('secret', { conversationIds: ['nope'] })).toEqual([]);
      expect(await find('secret', { conversationIds: [] })).toEqual({ hits: [], page: 0, nbPages: 0 });
    });

    it('the adapter filters by sender, type and an exclusive time range', async () => {
      const r1 = record('c1', 'report one', { senderId: 'alice' });
      const r2 = record('c1', 'report two', { senderId: 'bob', type: 'file' });
      const r3 = record('c1', 'report three', { senderId: 'alice' });
      await save(r1, r2, r3);
      expect(await seqs('report', { senderId: 'alice' })).toEqual([r1.seq, r3.seq]);
      expect(await seqs('report', { type: 'file' })).toEqual([r2.seq]);
      expect(await seqs('report', { after: r1.createdAt })).toEqual([r2.seq, r3.seq]);
      expect(await seqs('report', { before: r3.createdAt })).toEqual([r1.seq, r2.seq]);
      expect(await seqs('report', { after: r1.createdAt, before: r3.createdAt })).toEqual([r2.seq]);
      expect(await seqs('', { senderId: 'bob' })).toEqual([r2.seq]); // the empty query lists everything that passes
      expect(await seqs('report', { senderId: 'al"ice' })).toEqual([]); // quotes in values stay values
    });

    it('the filters syntax: quoted values, NOT, OR groups, numeric comparisons and ranges, tags', async () => {
      await client.setSettings({ indexName: index, indexSettings: { attributesForFaceting: ['city', 'searchable(kind)'], numericAttributesForFiltering: ['n', 'equalOnly(e)'] } });
      await client.waitForTask({ indexName: index, taskID: (await client.saveObjects({ indexName: index, objects: [
        { objectID: 'a', text: 'x', city: 'New York', kind: 'A', n: 1, e: 5, _tags: ['red'] },
        { objectID: 'b', text: 'x', city: 'Paris', kind: 'B', n: 5, e: 5, _tags: ['Blue'] },
        { objectID: 'c', text: 'x', city: 'paris', kind: 'C', n: 10, e: 6, other: 'z' },
      ] }))[0]!.taskID });
      const ids = async (filters: string) =>
        (await client.searchSingleIndex({ indexName: index, searchParams: { filters } })).hits.map((h) => h.objectID).sort();
      expect(await ids('city:"New York"')).toEqual(['a']);
      expect(await ids('city:PARIS')).toEqual(['b', 'c']); // facet values match case-insensitively
      expect(await ids('NOT city:paris')).toEqual(['a']);
      expect(await ids('(kind:A OR kind:C) AND n > 1')).toEqual(['c']);
      expect(await ids('kind:A OR kind:B')).toEqual(['a', 'b']);
      expect(await ids('n >= 5 AND n != 10')).toEqual(['b']);
      expect(await ids('n:2 TO 10')).toEqual(['b', 'c']);
      expect(await ids('n <= 1 AND (city:Paris OR NOT kind:B)')).toEqual(['a']);
      expect(await ids('red')).toEqual(['a']); // a bare value is a tag
      expect(await ids('_tags:blue')).toEqual([]); // tags match case-sensitively
      expect(await ids('e = 5')).toEqual(['a', 'b']);
      expect(await ids('e > 5')).toEqual([]); // equalOnly
      expect(await ids('other:z')).toEqual([]); // not declared in attributesForFaceting: matches nothing
      for (const bad of ['(kind:A AND kind:B) OR kind:C', 'kind:A AND kind:B OR kind:C', 'NOT (kind:A OR kind:B)', 'city:"unterminated', 'n > many', 'city:']) {
        await expect(ids(bad), bad).rejects.toMatchObject({ status: 400 });
      }
    });

    it('facetFilters, numericFilters and tagFilters arrays', async () => {
      await client.setSettings({ indexName: index, indexSettings: { attributesForFaceting: ['city', 'kind'], numericAttributesForFiltering: null as unknown as string[] } });
      await client.saveObjects({ indexName: index, objects: [
        { objectID: 'a', text: 'x', city: 'Rome', kind: '-neg', n: 1, _tags: ['t1'] },
        { objectID: 'b', text: 'x', city: 'Oslo', kind: 'B', n: 2, _tags: ['t2'] },
        { objectID: 'c', text: 'x', city: 'Rome', kind: 'C', n: 3 },
      ], waitForTasks: true });
      const ids = async (p: Record<string, unknown>) =>
        (await client.searchSingleIndex({ indexName: index, searchParams: p })).hits.map((h) => h.objectID).sort();
      expect(await ids({ facetFilters: ['city:Rome'] })).toEqual(['a', 'c']);
      expect(await ids({ facetFilters: [['city:Oslo', 'kind:C']] })).toEqual(['b', 'c']);
      expect(await ids({ facetFilters: ['city:Rome', 'kind:-C'] })).toEqual(['a']);
      expect(await ids({ facetFilters: ['kind:\\-neg'] })).toEqual(['a']);
      expect(await ids({ numericFilters: ['n>1', 'n<=3'] })).toEqual(['b', 'c']);
      expect(await ids({ numericFilters: [['n=1', 'n=3']] })).toEqual(['a', 'c']);
      expect(await ids({ tagFilters: [['t1', 't2']] })).toEqual(['a', 'b']);
      expect(await ids({ tagFilters: ['-t1'] })).toEqual(['b', 'c']);
      // The legacy form: parameters as one URL-encoded string.
      expect(await ids({ params: 'facetFilters=%5B%22city%3AOslo%22%5D' })).toEqual(['b']);
    });
  });

  it('matching a few facet candidates one by one finds what the inverted index finds, in the same order', async () => {
    // c1 holds few of the records, so a search of c1 alone takes the candidate path; with "noise" added it cannot.
    const texts = ['我们明天去北京开会', '東京タワーに行く', 'Un café crème', 'hello world 🍕', 'planning the plan', 'plan B', 'Tシャツ hello世界', '<b>bold</b> move'];
    const mine = texts.map((t, i) => record('c1', t, { senderId: i % 2 ? 'u2' : 'u1' }));
    const noise = Array.from({ length: 60 }, (_, i) => record('noise', `${texts[i % texts.length]} noise ${i}`, { senderId: i % 2 ? 'u2' : 'u1' }));
    await save(...mine, ...noise);
    // The other filters still apply to the candidates.
    const variants: Array<Partial<MessageQuery>> = [{}, { senderId: 'u2' }, { after: mine[2]!.createdAt }];
    for (const query of ['北京', 'タワー', '京', 'cafe', 'creme', '🍕', 'plan', 'pla', 'hello 世界', 'bold', 'b move', 'nothing', '']) {
      for (const variant of variants) {
        const few = (await find(query, { ...variant, conversationIds: ['c1'] })).hits;
        const many = (await find(query, { ...variant, conversationIds: ['c1', 'noise'], hitsPerPage: 100 })).hits.filter((h) => h.conversationId === 'c1');
        expect(few, `${query} ${JSON.stringify(variant)}`).toEqual(many);
      }
      if (query !== 'nothing' && query !== 'b move') expect((await find(query, { conversationIds: ['c1'] })).hits.length, query).toBeGreaterThan(0);
    }
    expect((await find('', { conversationIds: ['c1'], senderId: 'u2' })).hits.map((h) => h.seq).sort((a, b) => a - b)).toEqual(mine.filter((_, i) => i % 2).map((r) => r.seq));
  });

  describe('ranking and pagination', () => {
    it('exact matches before prefix matches, then customRanking desc(createdAt)', async () => {
      const older = record('c1', 'plan');
      const prefixOnly = record('c1', 'planning');
      const newer = record('c1', 'the plan');
      await save(older, prefixOnly, newer);
      expect((await find('plan')).hits.map((h) => h.seq)).toEqual([newer.seq, older.seq, prefixOnly.seq]);
    });

    it('pages are disjoint, complete and newest first; nbPages counts them', async () => {
      const all = Array.from({ length: 25 }, (_, i) => record(i % 2 ? 'c1' : 'c2', `page test ${i}`));
      await save(...all);
      const pages = [];
      for (let page = 0; page < 4; page++) pages.push(await find('page test', { page, hitsPerPage: 10 }));
      expect(pages.map((p) => [p.page, p.nbPages, p.hits.length])).toEqual([[0, 3, 10], [1, 3, 10], [2, 3, 5], [3, 3, 0]]);
      const order = pages.flatMap((p) => p.hits.map((h) => h.seq));
      expect(order).toEqual(all.map((r) => r.seq).reverse());
      await expect(find('page', { hitsPerPage: 1001 })).rejects.toMatchObject({ status: 400 });
    });
  });

  describe("Algolia's limits", () => {
    it('more conversations than one query may filter on: several queries, merged newest first, paged', async () => {
      const ids = Array.from({ length: 2500 }, (_, i) => `k${i}`);
      const rs = ['k3', 'k1200', 'k2400', 'k3', 'k1990', 'k7'].map((c) => record(c, 'needle in a haystack'));
      await save(...rs, record('elsewhere', 'needle'));
      const newestFirst = rs.map((r) => r.seq).reverse();
      const all = await find('needle', { conversationIds: ids });
      expect(all.hits.map((h) => h.seq)).toEqual(newestFirst);
      const pages = [0, 1, 2].map((page) => find('needle', { conversationIds: ids, page, hitsPerPage: 4 }));
      expect((await Promise.all(pages)).map((p) => [p.nbPages, p.hits.map((h) => h.seq)])).toEqual([[2, newestFirst.slice(0, 4)], [2, newestFirst.slice(4)], [2, []]]);
      // One query with them all is refused, as Algolia refuses more than 1,000 filters.
      const filters = ids.map((id) => `conversationId:${id}`).join(' OR ');
      await expect(client.searchSingleIndex({ indexName: index, searchParams: { query: 'needle', filters: `(${filters})` } })).rejects.toMatchObject({ status: 400 });
    });

    it('queries over 512 bytes: refused by the stand-in, cut by the adapter', async () => {
      const hit = record('c1', '北京'.repeat(100));
      await save(hit);
      const long = '北京'.repeat(100); // 200 characters, 600 bytes
      await expect(client.searchSingleIndex({ indexName: index, searchParams: { query: long } })).rejects.toMatchObject({ status: 400 });
      expect(await seqs(long)).toEqual([hit.seq]);
    });

    it('records over 10 KB: refused by the stand-in, their text cut by the adapter', async () => {
      const text = `开头 ${'长'.repeat(3990)} 结尾`; // ~12 KB of UTF-8
      await expect(client.saveObjects({ indexName: index, objects: [{ objectID: 'big', text, conversationId: 'c1' }] })).rejects.toMatchObject({ status: 400 });
      await expect(client.getObject({ indexName: index, objectID: 'big' })).rejects.toMatchObject({ status: 404 });
      const r = record('c1', text);
      await save(r);
      expect(await seqs('开头')).toEqual([r.seq]);
      expect(await seqs('结尾')).toEqual([]); // the end did not fit
      const stored = await client.getObject({ indexName: index, objectID: r.objectID, attributesToRetrieve: ['*'] });
      expect(Buffer.byteLength(JSON.stringify(stored))).toBeLessThanOrEqual(10_000);
    });
  });

  describe('writes', () => {
    it('deleteRecords, deleteBy, deleteObject and clearObjects remove records', async () => {
      const rs = ['c1', 'c1', 'c2', 'c3'].map((c) => record(c, 'doomed words'));
      await save(...rs);
      await deleteRecords({ ...cfg, indexName: index }, [rs[0]!.objectID, 'not-there']);
      expect(await seqs('doomed')).toEqual([rs[1]!.seq, rs[2]!.seq, rs[3]!.seq]);
      await client.deleteBy({ indexName: index, deleteByParams: { filters: 'conversationId:c2' } });
      expect(await seqs('doomed')).toEqual([rs[1]!.seq, rs[3]!.seq]);
      await expect(client.deleteBy({ indexName: index, deleteByParams: {} })).rejects.toMatchObject({ status: 400 });
      await client.deleteObject({ indexName: index, objectID: rs[1]!.objectID });
      expect(await seqs('doomed')).toEqual([rs[3]!.seq]);
      await client.clearObjects({ indexName: index });
      expect(await seqs('doomed')).toEqual([]);
      expect((await client.getSettings({ indexName: index })).searchableAttributes).toEqual(['text']); // clear keeps settings
    });

    it('a save replaces the record (an edit is found by its new text only); partial updates merge', async () => {
      const r = record('c1', 'old wording');
      await save(r);
      await save({ ...r, text: 'new wording', version: 2 });
      expect(await seqs('old')).toEqual([]);
      expect(await seqs('new')).toEqual([r.seq]);
      await client.partialUpdateObject({ indexName: index, objectID: r.objectID, attributesToUpdate: { version: { _operation: 'Increment', value: 1 }, text: 'newest wording' } });
      expect(await client.getObject({ indexName: index, objectID: r.objectID, attributesToRetrieve: ['*'] })).toMatchObject({ version: 3, text: 'newest wording', seq: r.seq });
      // The index's attributesToRetrieve setting (the adapter's) applies when a read names none.
      expect(await client.getObject({ indexName: index, objectID: r.objectID })).toEqual({ objectID: r.objectID, conversationId: 'c1', seq: r.seq });
      await client.partialUpdateObject({ indexName: index, objectID: 'ghost', attributesToUpdate: { text: 'x' }, createIfNotExists: false });
      await expect(client.getObject({ indexName: index, objectID: 'ghost' })).rejects.toMatchObject({ status: 404 });
      const { results } = await client.getObjects({ requests: [{ indexName: index, objectID: r.objectID, attributesToRetrieve: ['seq'] }, { indexName: index, objectID: 'ghost' }] });
      expect(results).toEqual([{ objectID: r.objectID, seq: r.seq }, null]);
    });

    it('batch actions apply in order and reject a malformed batch without applying any of it', async () => {
      await client.batch({ indexName: index, batchWriteParams: { requests: [
        { action: 'addObject', body: { objectID: 'x1', text: 'batch one', conversationId: 'c1' } },
        { action: 'updateObject', body: { objectID: 'x2', text: 'batch two', conversationId: 'c1' } },
        { action: 'partialUpdateObjectNoCreate', body: { objectID: 'x3', text: 'never' } },
        { action: 'deleteObject', body: { objectID: 'x1' } },
      ] } });
      const ids = async () => (await client.searchSingleIndex({ indexName: index, searchParams: { query: '' } })).hits.map((h) => h.objectID).sort();
      expect(await ids()).toEqual(['x2']);
      await expect(client.batch({ indexName: index, batchWriteParams: { requests: [
        { action: 'addObject', body: { objectID: 'x4', text: 'valid' } },
        { action: 'updateObject', body: { text: 'no id' } },
      ] } })).rejects.toMatchObject({ status: 400 });
      expect(await ids()).toEqual(['x2']);
      const other = `${index}_other`;
      const res = await client.multipleBatch({ requests: [
        { action: 'addObject', indexName: index, body: { objectID: 'm1', text: 'multi' } },
        { action: 'addObject', indexName: other, body: { objectID: 'm2', text: 'multi' } },
      ] });
      expect(Object.keys(res.taskID).sort()).toEqual([index, other].sort());
      const { results } = await client.search({ requests: [{ indexName: index, query: 'multi' }, { indexName: other, query: 'multi' }] });
      expect(results.map((r) => 'hits' in r && r.hits.map((h: { objectID: string }) => h.objectID))).toEqual([['m1'], ['m2']]);
      await client.deleteIndex({ indexName: other });
      expect((await client.listIndices()).items.map((i) => i.name)).not.toContain(other);
      await expect(client.searchSingleIndex({ indexName: other, searchParams: { query: 'multi' } })).rejects.toMatchObject({ status: 404 });
    });

    it('replaceAllObjects (copy settings to a temporary index, fill it, move it over) keeps settings and swaps records', async () => {
      await save(record('c1', 'before rebuild'));
      await client.replaceAllObjects({ indexName: index, objects: [{ ...record('c1', 'after rebuild') }], batchSize: 10 });
      expect((await find('rebuild')).hits.map((h: { highlight: string }) => h.highlight)).toEqual(['after <em>rebuild</em>']);
      expect((await client.getSettings({ indexName: index })).customRanking).toEqual(['desc(createdAt)']);
      expect((await client.listIndices()).items.map((i) => i.name).filter((name) => name.startsWith(`${index}_tmp`))).toEqual([]);
    });

    it('settings round trip; null resets one', async () => {
      await client.setSettings({ indexName: index, indexSettings: { customRanking: ['asc(seq)'], hitsPerPage: 7 } });
      const s = await client.getSettings({ indexName: index });
      expect(s).toMatchObject({ customRanking: ['asc(seq)'], hitsPerPage: 7, searchableAttributes: ['text'], queryLanguages: ['zh', 'ja', 'en'], attributesForFaceting: ['filterOnly(conversationId)', 'filterOnly(senderId)', 'filterOnly(type)'] });
      await client.setSettings({ indexName: index, indexSettings: { hitsPerPage: null as unknown as number } });
      expect((await client.getSettings({ indexName: index })).hitsPerPage).toBe(20);
      await expect(client.getSettings({ indexName: 'does-not-exist' })).rejects.toMatchObject({ status: 404 });
    });

    it('the adapter finds nothing, without failing, before the index exists', async () => {
      expect(await searchMessages({ ...cfg, indexName: 'never-created' }, { query: 'x', conversationIds: ['c1'], page: 0, hitsPerPage: 5 })).toEqual({ hits: [], page: 0, nbPages: 0 });
    });
  });

  it('persists indices, settings and records across a restart; tasks are published once on disk', async () => {
    const r = record('c1', '持久化 survives restarts');
    const { taskID } = (await client.saveObjects({ indexName: index, objects: [{ ...r }] }))[0]!;
    expect((await client.waitForTask({ indexName: index, taskID })).status).toBe('published');
    await emulator.close();
    await start(Number(new URL(emulator.url).port));
    expect(await seqs('持久化')).toEqual([r.seq]);
    expect(await seqs('surv')).toEqual([r.seq]);
    expect((await client.getSettings({ indexName: index })).customRanking).toEqual(['desc(createdAt)']);
    const [next] = await client.saveObjects({ indexName: index, objects: [{ objectID: 'after', text: 'x' }] });
    expect(next!.taskID).toBeGreaterThan(taskID); // task ids continue
    await expect(client.getTask({ indexName: index, taskID: next!.taskID + 100 })).rejects.toMatchObject({ status: 404 });
  });
});

/**
 * Local stand-in for Algolia's Search REST API, as the official v5 client
 * (`@algolia/client-search`, `algoliasearch`) speaks it, so the Worker's
 * adapter only changes its hosts (`ALGOLIA_HOSTS`).
 *
 * - Auth: `x-algolia-application-id` + `x-algolia-api-key`, as headers or query
 *   parameters; anything else → 403 like Algolia. Bodies are JSON whatever the
 *   content type (the client sends `text/plain` to skip CORS preflights), gzip allowed.
 * - Writes: `POST /1/indexes/{i}/batch` (addObject, updateObject,
 *   partialUpdateObject[NoCreate], deleteObject, delete, clear), `POST
 *   /1/indexes/*\/batch`, `POST /1/indexes/{i}` (auto objectID), `PUT|DELETE
 *   /1/indexes/{i}/{id}`, `POST /1/indexes/{i}/{id}/partial`, `POST …/clear`,
 *   `POST …/deleteByQuery`, `PUT …/settings`, `POST …/operation` (copy, move:
 *   what `replaceAllObjects` uses), `DELETE /1/indexes/{i}`.
 * - Reads: `POST /1/indexes/{i}/query`, `POST /1/indexes/*\/queries`, `GET
 *   /1/indexes/{i}/{id}`, `POST /1/indexes/*\/objects`, `GET …/settings`,
 *   `GET /1/indexes`.
 * - Tasks: writes apply at once (searchable immediately) and answer a
 *   `taskID`; `GET /1/indexes/{i}/task/{id}` (and `/1/task/{id}`) says
 *   `published` once the state holding that write is on disk, `notPublished`
 *   before — so `waitForTask` means durable.
 * - Errors as Algolia sends them: `{message, status}`. Like Algolia, responses
 *   drop control characters (U+0000–U+001F, U+007F) from strings — newlines included.
 * - State (indices, settings, records, the task counter) persists in
 *   `stateFile`; search semantics live in algolia-engine.ts.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { AlgoliaError, AlgoliaIndex, OPERATIONS, type AlgoliaRecord, type Settings } from './algolia-engine.ts';
import { readBody } from './http.ts';
import { stateFile } from './state-file.ts';

export interface AlgoliaEmulator { url: string; close(): Promise<void> }
export interface AlgoliaEmulatorOptions {
  port: number; host?: string; appId: string; apiKey: string;
  /** JSON file for persistence. */
  stateFile: string;
  /** Largest record accepted, as minified JSON: Algolia's plans allow 10 KB (Build) to 100 KB. Default 10,000. */
  maxRecordBytes?: number;
  log?: (event: Record<string, unknown>) => void;
}

interface SavedIndex { name: string; createdAt: string; updatedAt: string; settings: Settings; records: AlgoliaRecord[] }
type Body = Record<string, unknown>;
type Reply = { status: number; json: unknown };

/** What getSettings shows for settings never set (a few of Algolia's defaults). */
const DEFAULT_SETTINGS: Settings = { hitsPerPage: 20, paginationLimitedTo: 1000, highlightPreTag: '<em>', highlightPostTag: '</em>', attributesForFaceting: [], customRanking: [] };
/** Second path segments that name an index operation rather than an objectID. */
const INDEX_ROUTES = new Set(['batch', 'query', 'clear', 'deleteByQuery', 'settings', 'task', 'operation']);
const WRITE_ACTIONS = new Set(['addObject', 'updateObject', 'partialUpdateObject', 'partialUpdateObjectNoCreate', 'deleteObject', 'delete', 'clear']);

/** Algolia removes (does not escape) these from every string it returns ("Data sanitization" guide). */
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;

const fail = (status: number, message: string): never => { throw new AlgoliaError(status, message); };
const isObject = (v: unknown): v is Body => v !== null && typeof v === 'object' && !Array.isArray(v);
const now = () => new Date().toISOString();

export async function startAlgoliaEmulator(opts: AlgoliaEmulatorOptions): Promise<AlgoliaEmulator> {
  const log = opts.log ?? (() => {});
  const indices = new Map<string, AlgoliaIndex>();
  let nextTaskID = 1;
  let publishedBelow = 1;

  const state = stateFile(opts.stateFile, () => ({
    nextTaskID,
    indices: [...indices.values()].map((i): SavedIndex => ({ name: i.name, createdAt: i.createdAt, updatedAt: i.updatedAt, settings: i.settings, records: [...i.records.values()] })),
  }), (error) => log({ event: 'algolia.persist_failed', error: String(error) }));
  const saved = (await state.load()) as { nextTaskID: number; indices: SavedIndex[] } | undefined;
  for (const s of saved?.indices ?? []) {
    const index = new AlgoliaIndex(s.name);
    index.setSettings(s.settings, true);
    for (const r of s.records) index.save(r);
    index.createdAt = s.createdAt;
    index.updatedAt = s.updatedAt;
    indices.set(s.name, index);
  }
  nextTaskID = publishedBelow = saved?.nextTaskID ?? 1;

  /** Numbers a write; its task is published when a save started after it has finished. */
  function task(): number {
    const id = nextTaskID++;
    void state.save().then(() => { publishedBelow = Math.max(publishedBelow, id + 1); });
    return id;
  }
  const existing = (name: string) => indices.get(name) ?? fail(404, 'Index does not exist');
  const writable = (name: string) => {
    let index = indices.get(name);
    if (!index) indices.set(name, (index = new AlgoliaIndex(name)));
    return index;
  };

  const maxRecordBytes = opts.maxRecordBytes ?? 10_000;
  /** Checks a batch entry before anything of the batch is applied. */
  function checkAction(r: unknown, position = 0): { action: string; body: Body; indexName?: string } {
    if (!isObject(r) || typeof r.action !== 'string' || !WRITE_ACTIONS.has(r.action)) return fail(400, `Invalid batch action: ${JSON.stringify(isObject(r) ? r.action : r)}`);
    const body = r.body ?? {};
    if (!isObject(body)) return fail(400, 'The body of a batch request must be an object');
    if (body.objectID !== undefined && typeof body.objectID !== 'string') return fail(400, 'objectID must be a string');
    if (r.action !== 'addObject' && r.action !== 'delete' && r.action !== 'clear' && !body.objectID) return fail(400, `${r.action} requires an objectID`);
    for (const v of Object.values(body)) {
      if (isObject(v) && '_operation' in v && !OPERATIONS.has(String(v._operation))) fail(400, `Unsupported _operation "${String(v._operation)}"`);
    }
    const size = Buffer.byteLength(JSON.stringify(body));
    if (size > maxRecordBytes) fail(400, `Record at the position ${position} objectID=${String(body.objectID)} is too big size=${size}/${maxRecordBytes} bytes`);
    return { action: r.action, body, indexName: typeof r.indexName === 'string' ? r.indexName : undefined };
  }
  function apply(indexName: string, { action, body }: { action: string; body: Body }): string | undefined {
    const objectID = (body.objectID as string | undefined) ?? (action === 'addObject' ? randomUUID() : undefined);
    if (action === 'addObject' || action === 'updateObject') writable(indexName).save({ ...body, objectID: objectID! });
    else if (action === 'partialUpdateObject') writable(indexName).partialUpdate(objectID!, body, true);
    else if (action === 'partialUpdateObjectNoCreate') indices.get(indexName)?.partialUpdate(objectID!, body, false);
    else if (action === 'deleteObject') indices.get(indexName)?.delete(objectID!);
    else if (action === 'delete') indices.delete(indexName);
    else if (action === 'clear') indices.get(indexName)?.clear();
    return objectID;
  }
  const requestsOf = (body: Body) => (Array.isArray(body.requests) ? body.requests : fail(400, 'requests must be an array'));
  /** A search request's parameters: its fields, plus a URL-encoded `params` string if the caller sent one. */
  const searchParams = ({ params, indexName: _, type: __, ...rest }: Body): Body => {
    const out: Body = { ...rest };
    if (typeof params === 'string') for (const [k, v] of new URLSearchParams(params)) out[k] = v;
    return out;
  };

  async function route(method: string, url: URL, body: Body): Promise<Reply> {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const ok = (json: unknown) => ({ status: 200, json });
    const taskStatus = (id: string | undefined) => {
      const n = Number(id);
      if (!Number.isInteger(n) || n < 1 || n >= nextTaskID) return fail(404, 'Task does not exist');
      return ok({ status: n < publishedBelow ? 'published' : 'notPublished', pendingTask: n >= publishedBelow });
    };
    if (parts[0] !== '1') return fail(404, 'Not found');
    if (parts[1] === 'task' && method === 'GET' && parts.length === 3) return taskStatus(parts[2]);
    if (parts[1] !== 'indexes') return fail(404, `${method} ${url.pathname} is not supported by the local Algolia stand-in`);
    const [, , name, sub, extra] = parts;

    if (name === undefined && method === 'GET') {
      const items = [...indices.values()].map((i) => ({
        name: i.name, createdAt: i.createdAt, updatedAt: i.updatedAt, entries: i.records.size,
        dataSize: 0, fileSize: 0, lastBuildTimeS: 0, numberOfPendingTasks: 0, pendingTask: false,
      }));
      return ok({ items, nbPages: 1 });
    }
    if (name === '*' && method === 'POST' && sub === 'queries') {
      const results = requestsOf(body).map((r: unknown) => {
        if (!isObject(r) || typeof r.indexName !== 'string') return fail(400, 'each request needs an indexName');
        if (r.type === 'facet') return fail(400, 'facet searches are not supported by the local Algolia stand-in');
        return { ...existing(r.indexName).search(searchParams(r)), index: r.indexName };
      });
      return ok({ results });
    }
    if (name === '*' && method === 'POST' && sub === 'objects') {
      const results = requestsOf(body).map((r: unknown) => {
        if (!isObject(r) || typeof r.indexName !== 'string' || typeof r.objectID !== 'string') return fail(400, 'each request needs an indexName and an objectID');
        const index = indices.get(r.indexName);
        const record = index?.records.get(r.objectID);
        return record ? index!.retrieve(record, r.attributesToRetrieve) : null;
      });
      return ok({ results });
    }
    if (name === '*' && method === 'POST' && sub === 'batch') {
      const checked = requestsOf(body).map(checkAction);
      if (checked.some((c) => !c.indexName)) return fail(400, 'each request needs an indexName');
      const objectIDs = checked.map((c) => apply(c.indexName!, c));
      const taskID: Record<string, number> = {};
      for (const c of checked) taskID[c.indexName!] ??= task();
      return ok({ taskID, objectIDs });
    }
    if (!name || name === '*') return fail(404, `${method} ${url.pathname} is not supported by the local Algolia stand-in`);

    if (sub === undefined) {
      if (method === 'POST') {
        const objectID = apply(name, checkAction({ action: 'addObject', body }));
        return { status: 201, json: { createdAt: now(), taskID: task(), objectID } };
      }
      if (method === 'DELETE') {
        indices.delete(name);
        return ok({ taskID: task(), deletedAt: now() });
      }
    }
    if (sub === 'batch' && method === 'POST' && !extra) {
      const checked = requestsOf(body).map(checkAction);
      const objectIDs = checked.map((c) => apply(name, c));
      return ok({ taskID: task(), objectIDs });
    }
    if (sub === 'query' && method === 'POST' && !extra) return ok(existing(name).search(searchParams(body)));
    if (sub === 'clear' && method === 'POST' && !extra) {
      indices.get(name)?.clear();
      return ok({ taskID: task(), updatedAt: now() });
    }
    if (sub === 'deleteByQuery' && method === 'POST' && !extra) {
      if (!['filters', 'facetFilters', 'numericFilters', 'tagFilters'].some((k) => body[k] !== undefined && body[k] !== '')) {
        return fail(400, 'deleteByQuery needs at least one filter');
      }
      const index = indices.get(name);
      for (const r of index?.filtered(body) ?? []) index!.delete(r.objectID);
      return ok({ taskID: task(), updatedAt: now() });
    }
    if (sub === 'settings' && !extra) {
      if (method === 'GET') return ok({ ...DEFAULT_SETTINGS, ...existing(name).settings });
      if (method === 'PUT') {
        writable(name).setSettings(body);
        return ok({ taskID: task(), updatedAt: now() });
      }
    }
    if (sub === 'task' && method === 'GET' && extra) return taskStatus(extra);
    if (sub === 'operation' && method === 'POST' && !extra) {
      const source = existing(name);
      if (typeof body.destination !== 'string' || (body.operation !== 'copy' && body.operation !== 'move')) return fail(400, 'operation must be copy or move, with a destination');
      // A scoped copy only brings those scopes (of which the stand-in keeps settings); a full copy or a move replaces the destination.
      const scope = Array.isArray(body.scope) ? body.scope : undefined;
      const target = scope && body.operation === 'copy' ? writable(body.destination) : new AlgoliaIndex(body.destination);
      if (!scope || body.operation === 'move' || scope.includes('settings')) target.setSettings(structuredClone(source.settings), true);
      if (!scope || body.operation === 'move') for (const r of source.records.values()) target.save(r);
      if (body.operation === 'move') indices.delete(name);
      indices.set(target.name, target);
      return ok({ taskID: task(), updatedAt: now() });
    }
    if (sub !== undefined && (!INDEX_ROUTES.has(sub) || extra === 'partial')) {
      const objectID = sub; // /1/indexes/{i}/{objectID}[/partial]
      if (extra === 'partial' && method === 'POST') {
        const create = url.searchParams.get('createIfNotExists') !== 'false';
        checkAction({ action: 'partialUpdateObject', body: { ...body, objectID } });
        const index = create ? writable(name) : indices.get(name);
        index?.partialUpdate(objectID, body, create);
        return ok({ objectID, taskID: task(), updatedAt: now() });
      }
      if (extra === undefined && method === 'GET') {
        const record = existing(name).records.get(objectID) ?? fail(404, 'ObjectID does not exist');
        return ok(existing(name).retrieve(record, url.searchParams.get('attributesToRetrieve') ?? undefined));
      }
      if (extra === undefined && method === 'PUT') {
        apply(name, checkAction({ action: 'updateObject', body: { ...body, objectID } }));
        return ok({ objectID, taskID: task(), updatedAt: now() });
      }
      if (extra === undefined && method === 'DELETE') {
        indices.get(name)?.delete(objectID);
        return ok({ taskID: task(), deletedAt: now() });
      }
    }
    return fail(404, `${method} ${url.pathname} is not supported by the local Algolia stand-in`);
  }

  const server = http.createServer(async (req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://algolia.local');
    let reply: Reply;
    try {
      const header = (name: string) => req.headers[name] ?? url.searchParams.get(name);
      if (header('x-algolia-application-id') !== opts.appId || header('x-algolia-api-key') !== opts.apiKey) {
        fail(403, 'Invalid Application-ID or API key');
      }
      let raw = await readBody(req);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      let body: unknown = {};
      if (raw.length > 0 && req.method !== 'GET' && req.method !== 'DELETE') {
        try { body = JSON.parse(raw.toString('utf8')); } catch { fail(400, 'Invalid JSON'); }
      }
      if (!isObject(body)) fail(400, 'The body must be a JSON object');
      reply = await route(req.method ?? 'GET', url, body as Body);
    } catch (error) {
      // A SyntaxError is a parameter that should have been JSON (`attributesToRetrieve=[…` in a params string).
      const known = error instanceof AlgoliaError ? error : error instanceof SyntaxError ? new AlgoliaError(400, error.message) : undefined;
      if (!known) log({ event: 'algolia.error', method: req.method, path: url.pathname, error: String(error) });
      const status = known?.status ?? 500;
      reply = { status, json: { message: known?.message ?? 'Internal error', status } };
    }
    log({ event: 'algolia.request', method: req.method, path: url.pathname, status: reply.status, ms: Math.round(performance.now() - started) });
    const text = JSON.stringify(reply.json, (_, v) => (typeof v === 'string' ? v.replace(CONTROL_CHARS, '') : v));
    res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  const host = opts.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async close() {
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
      await state.save();
    },
  };
}

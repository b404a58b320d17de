/**
 * What a Durable Object's SQLite costs: statements, rows read and rows
 * written (what Cloudflare bills), counted per class from every cursor's
 * `rowsRead`/`rowsWritten`. With the `SQL_STATS` var set, `instrument(storage,
 * name, env)` gives a storage whose `sql.exec` counts (otherwise the storage
 * itself: counting costs a little on every statement); the totals live in
 * `globalThis.__beehiveSqlStats`, where the benchmark reads them through the
 * inspector.
 *
 * A cursor's counts grow while it is consumed, so each is summed at the next
 * statement of the same object (by then the code that ran it has read it),
 * or when the totals are read.
 */
export interface SqlCounts {
  statements: number;
  rowsRead: number;
  rowsWritten: number;
}

type Registry = Record<string, SqlCounts> & { settle?: () => void };
const g = globalThis as typeof globalThis & { __beehiveSqlStats?: Registry };
const registry: Registry = (g.__beehiveSqlStats ??= {} as Registry);
const unsettled: Array<{ cursor: SqlStorageCursor<Record<string, SqlStorageValue>>; into: SqlCounts }> = [];

function settle(): void {
  for (const { cursor, into } of unsettled.splice(0)) {
    into.rowsRead += cursor.rowsRead;
    into.rowsWritten += cursor.rowsWritten;
  }
}
Object.defineProperty(registry, 'settle', { value: settle, enumerable: false });

/** `storage` with its `sql.exec` counted under `name` (every other member passes through), if `SQL_STATS` is set. */
export function instrument(storage: DurableObjectStorage, name: string, env: { SQL_STATS: string }): DurableObjectStorage {
  if (!env.SQL_STATS) return storage;
  const counts = (registry[name] ??= { statements: 0, rowsRead: 0, rowsWritten: 0 });
  const real = storage.sql;
  const sql = new Proxy(real, {
    get(target, prop) {
      if (prop !== 'exec') {
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      }
      return (query: string, ...bindings: unknown[]) => {
        settle();
        const cursor = target.exec(query, ...bindings);
        counts.statements += 1;
        unsettled.push({ cursor, into: counts });
        return cursor;
      };
    },
  });
  return new Proxy(storage, {
    get(target, prop) {
      if (prop === 'sql') return sql;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

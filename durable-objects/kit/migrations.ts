/**
 * Append-only schema migrations for a Durable Object's SQLite storage, run in
 * the constructor under blockConcurrencyWhile. Never edit a shipped entry:
 * add a new one.
 */
export function migrateSql(storage: DurableObjectStorage, steps: readonly string[]): void {
  storage.sql.exec('CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY)');
  const done = storage.sql.exec<{ v: number | null }>('SELECT max(version) AS v FROM _migrations').one().v ?? 0;
  for (let version = done + 1; version <= steps.length; version++) {
    storage.transactionSync(() => {
      storage.sql.exec(steps[version - 1]!);
      storage.sql.exec('INSERT INTO _migrations (version) VALUES (?)', version);
    });
  }
}

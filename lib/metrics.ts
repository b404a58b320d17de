/**
 * Metrics as Workers Analytics Engine datapoints (binding `METRICS`), for an
 * operator to chart with the SQL API (docs/operations.md). One dataset, one
 * row per event; `index1` and `blob1` are the kind, the kind's string fields
 * follow as blob2, blob3, … and its numbers as double1, double2, … in the
 * order LAYOUT lists them — the docs' queries rely on that order, so append
 * new fields, never reorder.
 *
 *   metric(env, 'http', { method: 'GET', route: '/api/v1/users/:id', status: 200, ms: 12 });
 *
 * Writing is fire-and-forget and never throws: metrics must not fail the
 * request or the Durable Object operation that records them.
 */

const LAYOUT = {
  /** One per Worker request (request-context middleware). `route` is the matched pattern, never the raw path. */
  http: { blobs: ['method', 'route'], doubles: ['status', 'ms'] },
  /** One per committed message (ConversationDO): its type, and the time from receipt to commit. */
  message: { blobs: ['type'], doubles: ['ms'] },
  /** One per delivery to a user (UserDO): how it came (`rpc`, `qstash`, `sync`), to how many devices, how long after commit. */
  delivery: { blobs: ['path'], doubles: ['devices', 'ms'] },
  /** One per fan-out of a message (ConversationDO): `rpc` or `qstash`, and the members it reaches. */
  fanout: { blobs: ['mode'], doubles: ['members'] },
  /** A socket opened or closed: `device` or `live`, `open` or `close`, and the sockets its DO holds afterwards. */
  socket: { blobs: ['socket', 'event'], doubles: ['held'] },
} as const;

type Layout = typeof LAYOUT;
export type MetricKind = keyof Layout;
/** The fields of one datapoint of `K`: its blobs as strings, its doubles as numbers. */
export type MetricPoint<K extends MetricKind> = { [F in Layout[K]['blobs'][number]]: string } & { [F in Layout[K]['doubles'][number]]: number };

/** What `metric` needs of an environment: the binding, absent where no dataset is configured. */
export interface MetricsEnv {
  METRICS?: AnalyticsEngineDataset;
}

export function metric<K extends MetricKind>(env: MetricsEnv, kind: K, point: MetricPoint<K>): void {
  if (!env.METRICS) return;
  const layout = LAYOUT[kind];
  const fields = point as Record<string, string | number>;
  try {
    env.METRICS.writeDataPoint({
      indexes: [kind],
      blobs: [kind, ...layout.blobs.map((f) => String(fields[f]))],
      doubles: layout.doubles.map((f) => Number(fields[f])),
    });
  } catch {
    // Analytics Engine drops what it cannot take; so do we.
  }
}

/**
 * The relationship of two users — requests both ways, the friendship, blocks —
 * changes one transaction at a time.
 *
 * Why: each rule reads several rows before it writes (is there a block? a
 * friendship? a request from them?). Under READ COMMITTED two transactions
 * can both read "nothing yet" and then both write: two simultaneous mutual
 * requests would leave two pending requests instead of one friendship, and a
 * block racing an accept could leave a friendship behind the block. Every
 * transaction that changes a pair therefore first takes this lock; winners
 * among racing answers are still decided by conditional UPDATEs.
 *
 * It is transaction-scoped (released by COMMIT/ROLLBACK, never leaked by a
 * dropped connection) and keyed by the unordered pair. A hash collision
 * between two pairs only makes them wait for each other.
 */
import { sql } from 'drizzle-orm';
import type { Database, Tx } from '../../services/db.ts';

/** What the social queries need: a database or a transaction. */
export type Queryable = Pick<Database, 'select' | 'insert' | 'update' | 'delete' | 'execute'>;

export function pairKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

export async function lockPair(tx: Tx, a: string, b: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`social:${pairKey(a, b)}`}, 0))`);
}

/**
 * The typed outbox. Work that must leave the object after a commit — the
 * Postgres flush, the fan-out to members' UserDOs, search indexing, file
 * references, webhooks — is a *consumer* of the stream with a cursor in the
 * `outbox` table: "done up to seq N". An append writes no job rows; each
 * consumer takes the entries after its cursor in batches, hands them to its
 * sink with keys derived from `kind:conversation:seq` (so the sink can tell a
 * repeat), and moves its cursor only once the sink took them. A failure backs
 * off and the one alarm retries; alarms and calls run at least once, sinks
 * are idempotent, so a repeat changes nothing.
 *
 * The same cursors bound the hot window: nothing is pruned that a consumer
 * still needs.
 */
import { writeLog } from '../../lib/log.ts';
import type { AlarmClock } from '../kit/alarms.ts';
import { entriesIn } from './event-log.ts';
import type { Deps, Entry } from './state.ts';

export type ConsumerResult = { ok: true } | { ok: false; error: string };

export interface Consumer {
  readonly name: string;
  /** Entries per run. */
  readonly batch: number;
  /** 0: runs right after the append that gave it work; otherwise waits this long, so appends batch up. */
  readonly delayMs: number;
  /** Delay before retry number `attempt` (1 = first retry). */
  backoffMs(attempt: number): number;
  /** How far it may go (the file consumer waits for Postgres); defaults to the end of the stream. */
  upTo?(outbox: Outbox): number;
  /** Whether an entry concerns it at all (the others are skipped without a call). */
  wants?(entry: Entry): boolean;
  /**
   * Its cursor is written with the next checkpoint (another consumer's advance, the alarm) rather than on
   * every batch: after a restart it repeats at most what came since, which its idempotent sink ignores.
   */
  lazyCursor?: boolean;
  run(d: Deps, entries: Entry[]): Promise<ConsumerResult>;
}

interface Cursor {
  doneSeq: number;
  attempts: number;
  nextAt: number | null;
  lastError: string | null;
}

const WAKE_SOON_MS = 10;

export class Outbox {
  private readonly cursors = new Map<string, Cursor>();
  private readonly running = new Map<string, Promise<void>>();
  /** Lazy cursors moved since the last checkpoint. */
  private readonly dirty = new Set<string>();
  private readonly d: Deps;
  private readonly alarm: AlarmClock;
  readonly consumers: Consumer[];
  /** Called after a consumer moved its cursor (the hot window may shrink, later consumers may go). */
  onAdvance: (name: string) => void = () => {};

  constructor(d: Deps, alarm: AlarmClock, consumers: Consumer[]) {
    this.d = d;
    this.alarm = alarm;
    this.consumers = consumers;
    for (const r of d.storage.sql.exec<{ consumer: string; done_seq: number; attempts: number; next_at: number | null; last_error: string | null }>('SELECT * FROM outbox')) {
      this.cursors.set(r.consumer, { doneSeq: r.done_seq, attempts: r.attempts, nextAt: r.next_at, lastError: r.last_error });
    }
    // Every consumer has its cursor before the first append: a new one serves what is appended from now on.
    for (const c of consumers) this.cursor(c.name);
  }

  cursor(name: string): Cursor {
    let c = this.cursors.get(name);
    if (!c) {
      // A consumer added after entries exist starts at the end.
      c = { doneSeq: this.d.st.conv.lastSeq, attempts: 0, nextAt: null, lastError: null };
      this.cursors.set(name, c);
      this.save(name, c);
    }
    return c;
  }

  done(name: string): number {
    return this.cursor(name).doneSeq;
  }

  /** After an append: immediate consumers start now (their failures retry by alarm); delayed ones by alarm. */
  appended(now = Date.now()): void {
    for (const c of this.consumers) {
      if (c.delayMs === 0) this.kick(c);
      else this.alarm.wakeBy(now + c.delayMs);
    }
  }

  /** Runs `c` in the background unless it is running already (a run goes on until nothing is left). */
  kick(c: Consumer): void {
    if (this.running.has(c.name) || this.cursor(c.name).nextAt !== null) return;
    const run = this.drain(c).finally(() => this.running.delete(c.name));
    this.running.set(c.name, run);
    this.d.ctx.waitUntil(run);
  }

  /** From `alarm()`: every consumer that has work and whose retry time has come. */
  async runDue(now = Date.now()): Promise<void> {
    const due = this.consumers.filter((c) => this.hasWork(c) && (this.cursor(c.name).nextAt ?? 0) <= now);
    for (const c of due) this.cursor(c.name).nextAt = null;
    await Promise.all(due.map((c) => this.running.get(c.name) ?? (this.kick(c), this.running.get(c.name))));
  }

  /**
   * Registers a consumer at run time (a webhook). One without a cursor starts at the end of the stream:
   * it serves what is appended from now on.
   */
  add(c: Consumer): void {
    if (this.consumers.some((x) => x.name === c.name)) return;
    this.consumers.push(c);
    this.cursor(c.name);
    if (this.hasWork(c)) this.alarm.wakeBy(Math.max(this.cursor(c.name).nextAt ?? 0, Date.now() + WAKE_SOON_MS));
  }

  /** Unregisters a consumer and forgets its cursor; a run in flight finishes its call and records nothing. */
  remove(name: string): void {
    const i = this.consumers.findIndex((x) => x.name === name);
    if (i >= 0) this.consumers.splice(i, 1);
    this.cursors.delete(name);
    this.dirty.delete(name);
    this.d.storage.sql.exec('DELETE FROM outbox WHERE consumer = ?', name);
  }

  /** When the alarm must next fire for the outbox, if at all. */
  nextWake(now = Date.now()): number | null {
    let next: number | null = null;
    for (const c of this.consumers) {
      if (!this.hasWork(c) || this.running.has(c.name)) continue;
      const at = this.cursor(c.name).nextAt ?? now + Math.max(c.delayMs, WAKE_SOON_MS);
      next = next === null ? at : Math.min(next, at);
    }
    return next;
  }

  hasWork(c: Consumer): boolean {
    return this.cursor(c.name).doneSeq < this.limitOf(c);
  }

  private limitOf(c: Consumer): number {
    return Math.min(this.d.st.conv.lastSeq, c.upTo?.(this) ?? Infinity);
  }

  private async drain(c: Consumer): Promise<void> {
    for (;;) {
      if (!this.consumers.includes(c)) return; // removed meanwhile
      const cur = this.cursor(c.name);
      const limit = this.limitOf(c);
      if (cur.doneSeq >= limit) return;
      const to = Math.min(limit, cur.doneSeq + c.batch);
      const entries = entriesIn(this.d.st, this.d.storage.sql, cur.doneSeq + 1, to).filter((e) => c.wants?.(e) ?? true);
      let result: ConsumerResult;
      try {
        result = entries.length ? await c.run(this.d, entries) : { ok: true };
      } catch (err) {
        result = { ok: false, error: String(err) };
      }
      if (!this.consumers.includes(c)) return;
      if (!result.ok) return this.failed(c, result.error);
      this.advance(c.name, to);
    }
  }

  private advance(name: string, doneSeq: number): void {
    const cur = this.cursor(name);
    const wasClean = cur.attempts === 0 && cur.nextAt === null;
    Object.assign(cur, { doneSeq: Math.max(cur.doneSeq, doneSeq), attempts: 0, nextAt: null, lastError: null });
    if (wasClean && this.consumers.find((c) => c.name === name)?.lazyCursor) this.dirty.add(name);
    else {
      this.save(name, cur);
      this.checkpoint();
    }
    this.onAdvance(name);
  }

  /** Writes the lazy cursors that moved. */
  checkpoint(): void {
    for (const name of this.dirty) {
      const cur = this.cursors.get(name);
      if (cur) this.save(name, cur);
    }
    this.dirty.clear();
  }

  private failed(c: Consumer, error: string): void {
    const cur = this.cursor(c.name);
    cur.attempts += 1;
    cur.nextAt = Date.now() + c.backoffMs(cur.attempts);
    cur.lastError = error.slice(0, 500);
    this.save(c.name, cur);
    writeLog('warn', 'outbox.retry', { consumer: c.name, conversationId: this.d.st.conv.id, attempt: cur.attempts, retryAt: cur.nextAt, error: cur.lastError });
    this.alarm.wakeBy(cur.nextAt);
  }

  private save(name: string, c: Cursor): void {
    this.d.storage.sql.exec(
      `INSERT INTO outbox (consumer, done_seq, attempts, next_at, last_error) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (consumer) DO UPDATE SET done_seq = excluded.done_seq, attempts = excluded.attempts, next_at = excluded.next_at, last_error = excluded.last_error`,
      name, c.doneSeq, c.attempts, c.nextAt, c.lastError,
    );
  }

  /** Operations view: every consumer's cursor and retry state. */
  status(): Record<string, Cursor> {
    for (const c of this.consumers) this.cursor(c.name);
    return Object.fromEntries(this.cursors);
  }

  /** Test hook: waits for the consumers running now. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all(this.running.values());
  }
}

/** Exponential backoff from `baseMs`, capped at `capMs`. */
export const backoff = (baseMs: number, capMs: number) => (attempt: number) => Math.min(capMs, baseMs * 2 ** (attempt - 1));

/**
 * Drops what every consumer has passed and Postgres holds, keeping the newest
 * `keep` seqs; messages that still await their expiry stay (the alarm
 * expires them here), as do older messages loaded back whose last change has
 * not reached Postgres yet, and entries Postgres refused (quarantined).
 */
/** Pruning waits until this many seqs (at most a quarter of the window) can go at once: a few statements per batch, not per message. */
const PRUNE_STEP = 64;

export function prune(d: Deps, outbox: Outbox, keep: number, pgConsumer: string): void {
  const { st, storage } = d;
  const sql = storage.sql;
  const pgDone = outbox.done(pgConsumer);
  const bound = Math.min(st.conv.lastSeq - keep + 1, ...outbox.consumers.map((c) => outbox.done(c.name) + 1));
  if (bound - st.conv.hotFrom < Math.min(PRUNE_STEP, Math.ceil(keep / 4))) return;
  const base = sql.exec<{ n: number | null }>('SELECT max(msg_no) AS n FROM messages WHERE seq >= ? AND seq < ?', st.conv.hotFrom, bound).one().n;
  storage.transactionSync(() => {
    // Entries Postgres refused for good stay: it will never have them, so the reads below hotFrom take them from here.
    const kept = 'seq NOT IN (SELECT seq FROM quarantine WHERE consumer = ?)';
    sql.exec(`DELETE FROM messages WHERE seq < ? AND version <= ? AND (expires_at IS NULL OR gone IS NOT NULL) AND ${kept}`, bound, pgDone, pgConsumer);
    sql.exec(`DELETE FROM events WHERE seq < ? AND ${kept}`, bound, pgConsumer);
    sql.exec('UPDATE state SET hot_from = ?, hot_msg_base = ? WHERE id = 1', bound, base ?? st.conv.hotMsgBase);
  });
  st.conv.hotFrom = bound;
  if (base !== null) st.conv.hotMsgBase = base;
  for (const seq of st.recent.keys()) if (seq < bound) st.recent.delete(seq);
}

/**
 * One alarm, many timers. A Durable Object has a single alarm; each piece of
 * deferred work (outbox consumers, retries, message expiry, presence
 * heartbeats) says when it next needs to run, and the alarm is kept at the
 * earliest of those. The time last set is remembered, so asking for a later
 * time than the one already set costs no storage call. `alarm()` itself
 * recomputes what is due and what comes next: it must be idempotent, since
 * alarms run at least once.
 */
export class AlarmClock {
  private at: number | null = null;
  private readonly storage: DurableObjectStorage;

  constructor(storage: DurableObjectStorage) {
    this.storage = storage;
  }

  /** Reads the alarm already set (call once, in the constructor's blockConcurrencyWhile). */
  async load(): Promise<void> {
    this.at = await this.storage.getAlarm();
  }

  /** The alarm fires no later than `when` (epoch ms). */
  wakeBy(when: number): void {
    if (this.at !== null && this.at <= when) return;
    this.at = when;
    void this.storage.setAlarm(when);
  }

  /** At the start of `alarm()`: the alarm that woke us is spent. */
  fired(): void {
    this.at = null;
  }

  /** Nothing is pending any more. */
  async clear(): Promise<void> {
    this.at = null;
    await this.storage.deleteAlarm();
  }
}

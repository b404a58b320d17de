/**
 * Structured JSON logs: one object per line with a timestamp (`t`), a level
 * and an event name, plus whatever the caller binds (the request id, the
 * user, the conversation). The level also picks the console method, so
 * Workers Logs files each line under the right level.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

type Fields = Record<string, unknown>;

/** `log(event, fields)` logs at `info`; `.warn` / `.error` at theirs; `.with` binds more fields. */
export interface Logger {
  (event: string, fields?: Fields): void;
  warn(event: string, fields?: Fields): void;
  error(event: string, fields?: Fields): void;
  with(fields: Fields): Logger;
}

const CONSOLE = { debug: console.debug, info: console.log, warn: console.warn, error: console.error } as const;

/** Writes one line; for code that has no logger of its own. */
export function writeLog(level: Level, event: string, fields: Fields = {}): void {
  CONSOLE[level](JSON.stringify({ t: new Date().toISOString(), level, event, ...fields }));
}

export function logger(base: Fields = {}): Logger {
  const log = ((event: string, fields?: Fields) => writeLog('info', event, { ...base, ...fields })) as Logger;
  log.warn = (event, fields) => writeLog('warn', event, { ...base, ...fields });
  log.error = (event, fields) => writeLog('error', event, { ...base, ...fields });
  log.with = (fields) => logger({ ...base, ...fields });
  return log;
}

/**
 * What went wrong, as text for a log field. Error-like events (the Neon
 * pool's `ErrorEvent`, a WebSocket's `error`) are not `Error`s and would
 * print as "[object ErrorEvent]": their message is taken instead.
 */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message ? `${err.name}: ${err.message}` : err.name;
  if (typeof err === 'object' && err !== null) {
    const { message, error } = err as { message?: unknown; error?: unknown };
    if (typeof message === 'string' && message) return message;
    if (error !== undefined && error !== err) return errorText(error);
    try {
      return JSON.stringify(err);
    } catch {
      /* fall through */
    }
  }
  return String(err);
}

/** Structured JSON logs: one object per line, always with the request id. */
export type Logger = (event: string, fields?: Record<string, unknown>) => void;

export function logger(base: Record<string, unknown>): Logger {
  return (event, fields) => {
    console.log(JSON.stringify({ t: new Date().toISOString(), event, ...base, ...fields }));
  };
}

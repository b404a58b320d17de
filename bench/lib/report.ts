/**
 * Results: what each scenario measured, as JSON (bench/results/latest.json)
 * and as a Markdown table (bench/results/latest.md). A latency cell reads
 * `p50 / p90 / p99 / max` in milliseconds; the ratio column is Beehive ÷
 * ceiling (for latencies: how many times longer; for rates: the fraction of
 * the ceiling reached).
 */
import type { Correctness } from './flow.ts';
import type { LatencySummary } from './histogram.ts';

export type Cell = number | LatencySummary | string | null;

export interface Row {
  metric: string;
  unit: string;
  beehive: Cell;
  /** The same figure for the relay ceiling, where one exists. */
  ceiling?: Cell;
  note?: string;
}

export interface Section {
  id: string;
  title: string;
  /** What was run: counts, durations, windows (and any scaling-down). */
  scale: string;
  rows: Row[];
  correctness?: Correctness;
  ceilingCorrectness?: Correctness;
  skipped?: string;
  error?: string;
  seconds?: number;
  /** Resident memory of the workerd processes when the scenario ended. */
  after?: string;
  /** Column headers other than "Beehive" and "ceiling" (e.g. for the harness's own figures). */
  labels?: { beehive?: string; ceiling?: string; noRatio?: boolean };
}

export interface Results {
  startedAt: string;
  totalSeconds: number;
  ok: boolean;
  failures: string[];
  machine: Record<string, string>;
  target: string;
  notes: string[];
  correctness: Correctness;
  sections: Section[];
}

export const emptyCorrectness = (): Correctness => ({ lost: 0, duplicated: 0, outOfOrder: 0, unacked: 0, errors: {} });

export function addCorrectness(into: Correctness, c: Correctness | undefined): void {
  if (!c) return;
  into.lost += c.lost;
  into.duplicated += c.duplicated;
  into.outOfOrder += c.outOfOrder;
  into.unacked += c.unacked;
  for (const [k, v] of Object.entries(c.errors)) into.errors[k] = (into.errors[k] ?? 0) + v;
}

export const isClean = (c: Correctness): boolean =>
  c.lost === 0 && c.duplicated === 0 && c.outOfOrder === 0 && c.unacked === 0 && Object.keys(c.errors).length === 0;

const isLatency = (c: Cell | undefined): c is LatencySummary => typeof c === 'object' && c !== null && 'p50' in c;

function num(x: number): string {
  if (!Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

function cell(c: Cell | undefined): string {
  if (c === undefined || c === null) return '—';
  if (typeof c === 'string') return c;
  if (typeof c === 'number') return num(c);
  if (c.count === 0) return 'no samples';
  return `${num(c.p50)} / ${num(c.p90)} / ${num(c.p99)} / ${num(c.max)}`;
}

function ratio(b: Cell, c: Cell | undefined): string {
  const r = (x: number, y: number) => (y > 0 ? `${num(x / y)}×` : '—');
  if (typeof b === 'number' && typeof c === 'number') return r(b, c);
  if (isLatency(b) && isLatency(c) && b.count && c.count) return [r(b.p50, c.p50), r(b.p90, c.p90), r(b.p99, c.p99), r(b.max, c.max)].join(' / ');
  return '';
}

export function correctnessLine(c: Correctness): string {
  const errors = Object.entries(c.errors).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none';
  const verdict = isClean(c) ? 'OK' : '**FAILED**';
  return `${verdict} — lost ${c.lost}, duplicated ${c.duplicated}, out of order ${c.outOfOrder}, unacked ${c.unacked}, error frames: ${errors}`;
}

export function toMarkdown(r: Results): string {
  const out: string[] = [];
  out.push(`# Beehive benchmark — ${r.startedAt}`, '');
  out.push(`**${r.ok ? 'PASSED' : 'FAILED'}** in ${num(r.totalSeconds)} s against ${r.target}.`);
  if (r.failures.length) for (const f of r.failures) out.push(`- ✘ ${f}`);
  out.push('', `Correctness over every message of the run (Beehive and ceiling): ${correctnessLine(r.correctness)}`, '');
  out.push('Machine: ' + Object.entries(r.machine).map(([k, v]) => `${k} ${v}`).join(' · '), '');
  for (const n of r.notes) out.push(`- ${n}`);
  out.push('', 'Latency cells: `p50 / p90 / p99 / max` in ms. Ratio: Beehive ÷ ceiling (the relay: plain `ws` on Node, no auth, no storage).', '');
  for (const s of r.sections) {
    out.push(`## ${s.title}`, '');
    out.push(`_${s.scale}_${s.seconds !== undefined ? ` (${num(s.seconds)} s${s.after ? `; workerd RSS after: ${s.after}` : ''})` : ''}`, '');
    if (s.skipped) out.push(`Skipped: ${s.skipped}`, '');
    if (s.error) out.push(`**Error:** ${s.error}`, '');
    if (s.rows.length) {
      out.push(`| metric | unit | ${s.labels?.beehive ?? 'Beehive'} | ${s.labels?.ceiling ?? 'ceiling'} | ratio | note |`, '| --- | --- | --- | --- | --- | --- |');
      for (const row of s.rows) {
        out.push(`| ${row.metric} | ${row.unit} | ${cell(row.beehive)} | ${cell(row.ceiling)} | ${s.labels?.noRatio ? '' : ratio(row.beehive, row.ceiling)} | ${row.note ?? ''} |`);
      }
      out.push('');
    }
    if (s.correctness) out.push(`Correctness (Beehive): ${correctnessLine(s.correctness)}  `);
    if (s.ceilingCorrectness) out.push(`Correctness (ceiling): ${correctnessLine(s.ceilingCorrectness)}`);
    out.push('');
  }
  return out.join('\n');
}

/**
 * Latency histograms (HdrHistogram, 3 significant digits). Values are
 * recorded in microseconds and reported in milliseconds.
 */
import * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export class Latency {
  private readonly h = hdr.build({
    lowestDiscernibleValue: 1, // 1 µs
    highestTrackableValue: 3_600_000_000, // 1 h in µs
    numberOfSignificantValueDigits: 3,
  });

  /** Records one duration given in milliseconds. */
  record(ms: number): void {
    this.h.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.h.totalCount;
  }

  summary(): LatencySummary {
    const ms = (us: number) => Math.round(us) / 1000;
    if (this.h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
    return {
      count: this.h.totalCount,
      p50: ms(this.h.getValueAtPercentile(50)),
      p90: ms(this.h.getValueAtPercentile(90)),
      p99: ms(this.h.getValueAtPercentile(99)),
      max: ms(this.h.maxValue),
      mean: ms(this.h.mean),
    };
  }
}

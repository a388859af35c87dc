// Latency samples and their percentiles, and the one clock every bench process shares.

/**
 * Milliseconds on CLOCK_MONOTONIC. process.hrtime is the same clock in every process on the
 * machine, so a time taken here and one taken in the socket clients' process can be subtracted.
 */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** A growable list of samples (ms) in a Float64Array: millions of them stay cheap. */
export class Samples {
  private buffer: Float64Array;
  private size = 0;

  constructor(capacity = 1_024) {
    this.buffer = new Float64Array(capacity);
  }

  get count(): number {
    return this.size;
  }

  add(value: number): void {
    if (this.size === this.buffer.length) {
      const grown = new Float64Array(Math.max(16, this.buffer.length * 2));
      grown.set(this.buffer);
      this.buffer = grown;
    }
    this.buffer[this.size++] = value;
  }

  addAll(values: Float64Array): void {
    for (const value of values) this.add(value);
  }

  /** A copy of the samples (for sending to another process). */
  values(): Float64Array {
    return this.buffer.slice(0, this.size);
  }

  summary(): LatencySummary {
    return summarize(this.buffer.subarray(0, this.size));
  }
}

export type LatencySummary = {
  count: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  mean_ms: number;
};

/** Nearest-rank percentiles (sorts a copy). */
export function summarize(values: Float64Array): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => {
    if (sorted.length === 0) return 0;
    const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
    return round(sorted[index] ?? 0, 2);
  };
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    count: sorted.length,
    p50_ms: at(0.5),
    p90_ms: at(0.9),
    p99_ms: at(0.99),
    p999_ms: at(0.999),
    max_ms: round(sorted[sorted.length - 1] ?? 0, 2),
    mean_ms: round(sorted.length === 0 ? 0 : sum / sorted.length, 2),
  };
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

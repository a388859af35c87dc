// Reading the processes' own metrics: the Prometheus text of the worker's and the web's
// /metrics and of this process' registry (where the placement service records its batches),
// parsed into series, so a phase's per-stage figures are the difference of two scrapes.
import { metrics } from "@spotx/platform/metrics";

export type Series = { name: string; labels: Record<string, string>; value: number };
export type Scrape = Series[];

export function parsePrometheus(text: string): Scrape {
  const out: Series[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const [, name = "", , body = "", raw = ""] = match;
    const labels: Record<string, string> = {};
    for (const pair of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] ?? ""] = pair[2] ?? "";
    }
    const value = raw === "+Inf" ? Number.POSITIVE_INFINITY : Number(raw);
    out.push({ name, labels, value });
  }
  return out;
}

export async function scrapeHttp(port: number): Promise<Scrape> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
      signal: AbortSignal.timeout(5_000),
    });
    return parsePrometheus(await response.text());
  } catch {
    return [];
  }
}

export async function scrapeSelf(): Promise<Scrape> {
  return parsePrometheus(await metrics.registry.metrics());
}

const matches = (s: Series, name: string, where: Record<string, string>) =>
  s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v);

/** Sum of a counter or gauge's series (optionally only those with the given labels). */
export function total(scrape: Scrape, name: string, where: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of scrape) if (matches(s, name, where)) sum += s.value;
  return sum;
}

export function has(scrape: Scrape, name: string): boolean {
  return scrape.some((s) => s.name === name || s.name.startsWith(`${name}_`));
}

export type HistogramDelta = {
  count: number;
  mean: number;
  /** Upper bucket bounds holding the 50th and 99th percentile (Prometheus' precision). */
  p50_le: number;
  p99_le: number;
};

/**
 * What a histogram recorded between two scrapes, summed over its label sets: the count, the
 * mean, and the bucket bounds the p50 and p99 fall in (a histogram knows no finer).
 */
export function histogramDelta(
  before: Scrape,
  after: Scrape,
  name: string,
  scale = 1,
): HistogramDelta | null {
  const buckets = new Map<number, number>();
  const add = (scrape: Scrape, sign: number) => {
    for (const s of scrape) {
      if (s.name !== `${name}_bucket`) continue;
      const le = s.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(s.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + sign * s.value);
    }
  };
  add(after, 1);
  add(before, -1);
  const count = total(after, `${name}_count`) - total(before, `${name}_count`);
  const sum = total(after, `${name}_sum`) - total(before, `${name}_sum`);
  if (count <= 0) return null;
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const bound = (q: number) => {
    for (const [le, cumulative] of sorted) if (cumulative >= q * count) return le * scale;
    return Number.POSITIVE_INFINITY;
  };
  return { count, mean: (sum / count) * scale, p50_le: bound(0.5), p99_le: bound(0.99) };
}

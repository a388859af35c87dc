// The pipeline's figures from two scrapes of every process's /metrics, a couple of seconds
// apart, computed the way Prometheus computes them from the same series (so the console and a
// Grafana board agree): rates are counter increases over the interval (a counter that went down
// was reset by a restart, and its new value is the increase), quantiles are read from the
// increase of each histogram bucket, interpolated linearly inside the bucket that holds them.
import type { Sample } from "@spotx/api/admin/metrics-scrape";

/** One process's samples of the wanted metrics, keyed by metric name. */
export type Scrape = ReadonlyMap<string, readonly Sample[]>;

/** The samples of `name` whose labels include every one in `match`. */
export function samplesOf(
  scrape: Scrape,
  name: string,
  match: Readonly<Record<string, string>> = {},
): Sample[] {
  return (scrape.get(name) ?? []).filter((s) =>
    Object.entries(match).every(([key, value]) => s.labels[key] === value),
  );
}

const labelKey = (labels: Readonly<Record<string, string>>, without: string) =>
  Object.entries(labels)
    .filter(([key]) => key !== without)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${value}`)
    .join(",");

/** How much a counter grew between two readings (a reset counts from zero). */
export function counterIncrease(before: number, after: number): number {
  return after >= before ? after - before : after;
}

/**
 * The increase of a counter summed over its matching series, between two scrapes of one
 * process. Series absent before (created meanwhile) count from zero.
 */
export function increaseOf(
  before: Scrape,
  after: Scrape,
  name: string,
  match: Readonly<Record<string, string>> = {},
): number {
  const previous = new Map(samplesOf(before, name, match).map((s) => [labelKey(s.labels, ""), s]));
  let total = 0;
  for (const sample of samplesOf(after, name, match)) {
    const was = previous.get(labelKey(sample.labels, ""))?.value ?? 0;
    total += counterIncrease(was, sample.value);
  }
  return total;
}

/** A histogram's cumulative bucket counts: upper bound `le` → observations at or below it. */
export type Buckets = Map<number, number>;

/** The increase of each bucket of `<name>_bucket` (matching series summed) between two scrapes. */
export function bucketIncrease(
  before: Scrape,
  after: Scrape,
  name: string,
  match: Readonly<Record<string, string>> = {},
): Buckets {
  const bucketName = `${name}_bucket`;
  const buckets: Buckets = new Map();
  const previous = new Map(
    samplesOf(before, bucketName, match).map((s) => [labelKey(s.labels, ""), s.value]),
  );
  for (const sample of samplesOf(after, bucketName, match)) {
    // Prometheus writes the last bound "+Inf", which Number() does not read.
    const le = sample.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(sample.labels.le);
    if (Number.isNaN(le)) continue;
    const was = previous.get(labelKey(sample.labels, "")) ?? 0;
    buckets.set(le, (buckets.get(le) ?? 0) + counterIncrease(was, sample.value));
  }
  return buckets;
}

/** Adds one process's bucket increases into a running total (many processes, one histogram). */
export function addBuckets(into: Buckets, from: Buckets): Buckets {
  for (const [le, count] of from) into.set(le, (into.get(le) ?? 0) + count);
  return into;
}

/**
 * The q-quantile (0 < q < 1) of the observations counted in cumulative buckets, as Prometheus'
 * histogram_quantile: the bucket holding the rank, interpolated linearly from its lower bound
 * (0 for the first). A rank in the +Inf bucket answers the highest finite bound. Null when
 * nothing was observed.
 */
export function histogramQuantile(q: number, buckets: Buckets): number | null {
  const bounds = [...buckets.entries()].sort(([a], [b]) => a - b);
  const total = bounds.find(([le]) => le === Number.POSITIVE_INFINITY)?.[1] ?? bounds.at(-1)?.[1];
  if (total === undefined || total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of bounds) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return lowerBound;
      const inBucket = count - lowerCount;
      if (inBucket <= 0) return le;
      return lowerBound + (le - lowerBound) * ((rank - lowerCount) / inBucket);
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

/** Rounds a figure for display: three significant digits, whole numbers from 100 up. */
export function roundFigure(value: number | null): number | null {
  if (value === null || !Number.isFinite(value)) return null;
  if (value === 0) return 0;
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value))));
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

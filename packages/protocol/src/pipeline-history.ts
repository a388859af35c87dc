// The operator console's last hour of pipeline samples: which points a history keeps, and how
// the histories of several web instances become one. Every instance samples the whole cluster,
// so any instance's point at a moment is as good as another's: the union over instances, one
// point per time step, fills the gaps of an instance that was down or has just started. Recent
// points keep the live resolution (one per 2 s for the last five minutes); older ones one per
// 10 s, so an hour is about 480 points. Pure, and shared by the web server (its ring buffer,
// the merge) and the console (which applies the same rule to what it keeps).

/** How far back a history goes. */
export const HISTORY_SPAN_MS = 60 * 60_000;
/** Points this recent keep the live resolution… */
export const HISTORY_FINE_MS = 5 * 60_000;
/** …one per this step… */
export const HISTORY_FINE_STEP_MS = 2_000;
/** …and older points one per this step. */
export const HISTORY_COARSE_STEP_MS = 10_000;

/**
 * The points of `points` a history keeps at `now`: none older than the span (or later than
 * `now`), and the earliest point of each step — a fine step in the last five minutes, a coarse
 * one before. The input need not be ordered; the answer is, by time. Thinning what was thinned
 * keeps the same points as long as `now` stands still, and only drops more as it moves on.
 */
export function thinHistory<T extends { time: number }>(points: readonly T[], now: number): T[] {
  const sorted = [...points].sort((a, b) => a.time - b.time);
  const kept: T[] = [];
  let lastBucket: string | null = null;
  for (const point of sorted) {
    const age = now - point.time;
    if (age > HISTORY_SPAN_MS || age < 0 || !Number.isFinite(point.time)) continue;
    const bucket =
      age > HISTORY_FINE_MS
        ? `c${Math.floor(point.time / HISTORY_COARSE_STEP_MS)}`
        : `f${Math.floor(point.time / HISTORY_FINE_STEP_MS)}`;
    if (bucket === lastBucket) continue;
    lastBucket = bucket;
    kept.push(point);
  }
  return kept;
}

/** The union of several instances' histories at `now`, one point per step (thinHistory). */
export function mergeHistories<T extends { time: number }>(
  histories: ReadonlyArray<readonly T[]>,
  now: number,
): T[] {
  return thinHistory(histories.flat(), now);
}

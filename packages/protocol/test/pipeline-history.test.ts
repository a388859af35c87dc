// The operator console's pipeline history rule: every 2 s point of the last five minutes, one
// per 10 s before, nothing older than an hour; and the merge of several web instances' histories
// — one point per step, each instance filling the other's gaps.
import { describe, expect, it } from "vitest";
import {
  HISTORY_COARSE_STEP_MS,
  HISTORY_FINE_MS,
  HISTORY_FINE_STEP_MS,
  HISTORY_SPAN_MS,
  mergeHistories,
  thinHistory,
} from "../src/pipeline-history";

/** A whole number of coarse steps, so that the buckets fall on round times. */
const NOW = 10_000_000;

/** Points every `stepMs` from `fromAgeMs` ago to `toAgeMs` ago, shifted by `offsetMs`. */
function series(fromAgeMs: number, toAgeMs: number, stepMs: number, offsetMs = 0, tag = "") {
  const points: Array<{ time: number; tag: string }> = [];
  for (let age = fromAgeMs; age >= toAgeMs; age -= stepMs) {
    points.push({ time: NOW - age + offsetMs, tag });
  }
  return points;
}

const times = (points: ReadonlyArray<{ time: number }>) => points.map((p) => p.time);

describe("a pipeline history", () => {
  it("keeps every 2 s point of the last five minutes, one per 10 s before, none past the hour", () => {
    // 70 minutes of samples every 2 s, as an instance with a console open takes them.
    const kept = thinHistory(series(70 * 60_000, 0, 2_000), NOW);
    const fine = kept.filter((p) => NOW - p.time <= HISTORY_FINE_MS);
    const coarse = kept.filter((p) => NOW - p.time > HISTORY_FINE_MS);
    expect(fine).toHaveLength(151); // ages 0, 2, … 300 s
    expect(times(fine)).toEqual(times(series(HISTORY_FINE_MS, 0, HISTORY_FINE_STEP_MS)));
    // Ages 302 … 3600 s: the 10 s steps 640 … 969, each by its first point.
    expect(coarse).toHaveLength(330);
    expect(coarse[0]?.time).toBe(NOW - HISTORY_SPAN_MS);
    for (const p of coarse) expect(p.time % HISTORY_COARSE_STEP_MS).toBe(0);
    expect(kept).toHaveLength(481);
  });

  it("orders what it is given and drops points from the future", () => {
    const kept = thinHistory(
      [{ time: NOW - 4_000 }, { time: NOW + 2_000 }, { time: NOW - 10_000 }, { time: NOW }],
      NOW,
    );
    expect(times(kept)).toEqual([NOW - 10_000, NOW - 4_000, NOW]);
  });

  it("keeps what it kept while the time stands, and only drops more as it moves on", () => {
    const once = thinHistory(series(70 * 60_000, 0, 2_000), NOW);
    expect(thinHistory(once, NOW)).toEqual(once);
    const later = thinHistory(once, NOW + 60_000);
    expect(later.every((p) => once.includes(p))).toBe(true);
    // A minute on: 30 fine points became coarse (one in five kept) and six 10 s steps aged out.
    expect(later.length).toBeLessThan(once.length);
    expect(later[0]?.time).toBe(NOW + 60_000 - HISTORY_SPAN_MS);
  });
});

describe("merging instances' histories", () => {
  it("fills one instance's gap with another's points, one point per step", () => {
    // Instance a ran from 10 to 4 minutes ago; b started 5 minutes ago, sampling 700 ms later in
    // each step. Between 5 and 4 minutes ago both have a point in every 2 s step.
    const a = series(10 * 60_000, 4 * 60_000, 2_000, 0, "a");
    const b = series(5 * 60_000, 0, 2_000, 700, "b");
    const merged = mergeHistories([b, a], NOW);

    const steps = merged.map((p) =>
      NOW - p.time > HISTORY_FINE_MS
        ? `c${Math.floor(p.time / HISTORY_COARSE_STEP_MS)}`
        : `f${Math.floor(p.time / HISTORY_FINE_STEP_MS)}`,
    );
    expect(new Set(steps).size).toBe(merged.length);
    expect(times(merged)).toEqual([...times(merged)].sort((x, y) => x - y));
    // Older than b's first sample: a's points, one per 10 s.
    const older = merged.filter((p) => NOW - p.time > HISTORY_FINE_MS);
    expect(older.map((p) => p.tag)).toEqual(Array(30).fill("a"));
    // Where both sampled, a's (the earlier in each step); after a stopped, b's.
    const overlap = merged.filter((p) => {
      const age = NOW - p.time;
      return age <= HISTORY_FINE_MS && age >= 4 * 60_000;
    });
    expect(overlap.map((p) => p.tag)).toEqual(Array(31).fill("a"));
    const recent = merged.filter((p) => NOW - p.time < 4 * 60_000);
    expect(recent.length).toBeGreaterThan(100);
    expect(recent.every((p) => p.tag === "b")).toBe(true);
  });

  it("is the same whatever the order of the instances", () => {
    const a = series(30 * 60_000, 0, 10_000, 300, "a");
    const b = series(20 * 60_000, 0, 2_000, 1_100, "b");
    expect(times(mergeHistories([a, b], NOW))).toEqual(times(mergeHistories([b, a], NOW)));
  });
});

// Several generators share one open-loop schedule: each offers rate / n from the same start,
// shifted by its slot, and together they issue the rate evenly; their reports add up.
import { describe, expect, it } from "vitest";
import { combineOpenLoops, runOpenLoop } from "../src/open-loop";
import { nowMs } from "../src/stats";

describe("a shared open-loop schedule", () => {
  it("two loops at half the rate, shifted by one slot, interleave into the full rate", async () => {
    const rate = 200; // in all: one command every 5 ms
    const due: number[] = [];
    const startAtMs = nowMs() + 50;
    const parts = await Promise.all(
      [0, 1].map((slot) =>
        runOpenLoop({
          rate: rate / 2,
          durationMs: 500,
          maxInFlight: 100,
          startAtMs,
          offsetMs: (slot * 1_000) / rate,
          issue: async (dueMs) => {
            due.push(dueMs - startAtMs);
          },
        }),
      ),
    );
    due.sort((a, b) => a - b);
    expect(due).toHaveLength(100);
    expect(due.slice(0, 4).map((d) => Math.round(d))).toEqual([0, 5, 10, 15]);
    const gaps = due.slice(1).map((d, i) => d - (due[i] ?? 0));
    expect(Math.min(...gaps)).toBeCloseTo(5, 6);
    expect(Math.max(...gaps)).toBeCloseTo(5, 6);

    const combined = combineOpenLoops(parts);
    expect(combined.offered_per_sec).toBe(rate);
    expect(combined.issued).toBe(100);
    expect(combined.issued_per_sec).toBe((parts[0]?.report.issued_per_sec as number) * 2);
  });

  it("gives up at twice the phase's length when the in-flight cap holds it back, and says how many it never issued", async () => {
    const started = nowMs();
    const { report } = await runOpenLoop({
      rate: 100,
      durationMs: 300,
      maxInFlight: 1,
      issue: () => new Promise((resolve) => setTimeout(resolve, 150)),
    });
    expect(nowMs() - started).toBeLessThan(1_000);
    expect(report.issued + report.not_issued).toBe(30);
    expect(report.not_issued).toBeGreaterThan(20);
    expect(report.capped_ticks).toBeGreaterThan(0);
  });

  it("pools the loops' start lateness instead of averaging their percentiles", () => {
    const report = (late: number[]) => ({
      report: {
        offered_per_sec: 10,
        duration_s: 1,
        issued: late.length,
        issued_per_sec: late.length,
        late_p50_ms: 0,
        late_p99_ms: 0,
        late_max_ms: 0,
        late_over_10ms: late.filter((l) => l > 10).length,
        capped_ticks: 0,
        not_issued: 0,
      },
      lateness: Float64Array.from(late),
    });
    const combined = combineOpenLoops([report(Array.from({ length: 99 }, () => 1)), report([250])]);
    expect(combined.issued).toBe(100);
    expect(combined.late_max_ms).toBe(250);
    expect(combined.late_p99_ms).toBe(1);
    expect(combined.late_over_10ms).toBe(1);
  });
});

// The console's rates and quantiles from two scrapes, as Prometheus computes them from the same
// series: counter increases (a reset counts from zero), bucket increases summed over processes,
// and histogram_quantile's linear interpolation inside the bucket holding the rank.
import { parseMetrics } from "@spotx/api/admin/metrics-scrape";
import { describe, expect, it } from "vitest";
import {
  addBuckets,
  bucketIncrease,
  counterIncrease,
  histogramQuantile,
  increaseOf,
  roundFigure,
} from "../src/server/pipeline-figures";

const scrape = (lines: string[]) =>
  parseMetrics(
    lines.join("\n"),
    new Set([
      "spotx_engine_commands_total",
      "spotx_gate_request_seconds_bucket",
      "spotx_placement_batch_size_sum",
    ]),
  );

describe("counter increases", () => {
  it("is the difference, or the new value after a restart reset the counter", () => {
    expect(counterIncrease(100, 130)).toBe(30);
    expect(counterIncrease(100, 12)).toBe(12);
  });

  it("sums the matching series and counts a series created meanwhile from zero", () => {
    const before = scrape([
      'spotx_engine_commands_total{market="BTC_USDT",mode="live",outcome="applied"} 100',
      'spotx_engine_commands_total{market="BTC_USDT",mode="replay",outcome="applied"} 50',
    ]);
    const after = scrape([
      'spotx_engine_commands_total{market="BTC_USDT",mode="live",outcome="applied"} 160',
      'spotx_engine_commands_total{market="BTC_USDT",mode="replay",outcome="applied"} 90',
      'spotx_engine_commands_total{market="ETH_USDT",mode="live",outcome="applied"} 5',
    ]);
    expect(
      increaseOf(before, after, "spotx_engine_commands_total", {
        mode: "live",
        outcome: "applied",
      }),
    ).toBe(65);
  });
});

describe("histogram quantiles", () => {
  const buckets = (pairs: Array<[number, number]>) => new Map(pairs);

  it("interpolates inside the bucket that holds the rank", () => {
    // 100 observations: 50 ≤ 1 ms, 40 in (1, 5] ms, 10 in (5, 10] ms.
    const b = buckets([
      [0.001, 50],
      [0.005, 90],
      [0.01, 100],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    expect(histogramQuantile(0.5, b)).toBeCloseTo(0.001, 9);
    // Rank 99 is the 9th of 10 in (5, 10] ms: 5 + 5 × 9/10 = 9.5 ms.
    expect(histogramQuantile(0.99, b)).toBeCloseTo(0.0095, 9);
    // Rank 25 of the first bucket, from 0: 0.5 ms.
    expect(histogramQuantile(0.25, b)).toBeCloseTo(0.0005, 9);
  });

  it("answers the highest finite bound for a rank in the +Inf bucket, and null for nothing", () => {
    const b = buckets([
      [0.1, 1],
      [Number.POSITIVE_INFINITY, 10],
    ]);
    expect(histogramQuantile(0.99, b)).toBe(0.1);
    expect(histogramQuantile(0.99, buckets([[Number.POSITIVE_INFINITY, 0]]))).toBeNull();
  });

  it("reads the increase of one route's buckets, summed over two processes", () => {
    const route = 'route="POST /spot/orders"';
    const web1Before = scrape([
      `spotx_gate_request_seconds_bucket{le="0.005",${route}} 10`,
      `spotx_gate_request_seconds_bucket{le="+Inf",${route}} 10`,
      'spotx_gate_request_seconds_bucket{le="0.005",route="GET /spot/time"} 500',
      'spotx_gate_request_seconds_bucket{le="+Inf",route="GET /spot/time"} 500',
    ]);
    const web1After = scrape([
      `spotx_gate_request_seconds_bucket{le="0.005",${route}} 19`,
      `spotx_gate_request_seconds_bucket{le="+Inf",${route}} 20`,
      'spotx_gate_request_seconds_bucket{le="0.005",route="GET /spot/time"} 900',
      'spotx_gate_request_seconds_bucket{le="+Inf",route="GET /spot/time"} 900',
    ]);
    const web2Before = scrape([]);
    const web2After = scrape([
      `spotx_gate_request_seconds_bucket{le="0.005",${route}} 0`,
      `spotx_gate_request_seconds_bucket{le="+Inf",${route}} 10`,
    ]);
    const total = addBuckets(
      bucketIncrease(web1Before, web1After, "spotx_gate_request_seconds", {
        route: "POST /spot/orders",
      }),
      bucketIncrease(web2Before, web2After, "spotx_gate_request_seconds", {
        route: "POST /spot/orders",
      }),
    );
    expect([...total]).toEqual([
      [0.005, 9],
      [Number.POSITIVE_INFINITY, 20],
    ]);
    // 9 of 20 at or under 5 ms: the median is in the +Inf bucket, reported as 5 ms.
    expect(histogramQuantile(0.5, total)).toBe(0.005);
  });
});

describe("rounding for display", () => {
  it("keeps three significant digits (whole numbers from 100 up), nothing that is not a number", () => {
    expect(roundFigure(1234.5678)).toBe(1235);
    expect(roundFigure(12.3456)).toBe(12.3);
    expect(roundFigure(0.0123456)).toBe(0.0123);
    expect(roundFigure(0)).toBe(0);
    expect(roundFigure(null)).toBeNull();
    expect(roundFigure(Number.NaN)).toBeNull();
  });
});

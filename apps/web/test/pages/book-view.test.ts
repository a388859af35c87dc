// The order book panel's and depth chart's arithmetic: grouping by price step (bids down,
// asks up), cumulative depth, the spread, and the depth chart's series and paths.
import type { BookLevel } from "@spotx/protocol";
import { describe, expect, it } from "vitest";
import {
  bookView,
  depthPaths,
  depthSeries,
  groupLevels,
  priceSteps,
  spreadOf,
} from "../../src/lib/book-view";

const btc = { pricePrecision: 2, amountPrecision: 4 };
const asks: BookLevel[] = [
  ["30000.01", "0.5"],
  ["30000.09", "0.25"],
  ["30000.1", "1"],
  ["30001", "2"],
];
const bids: BookLevel[] = [
  ["29999.99", "0.4"],
  ["29999.91", "0.1"],
  ["29999.9", "0.3"],
  ["29998", "5"],
];

describe("grouping by price step", () => {
  it("offers steps of 1, 10, 100 and 1000 ticks at the market's precision", () => {
    expect(priceSteps(btc).map((s) => s.label)).toEqual(["0.01", "0.1", "1", "10"]);
  });

  it("rounds asks up and bids down to the step, summing lots exactly", () => {
    expect(groupLevels(asks, "ask", 10n, 10, btc)).toEqual([
      { priceTicks: 3_000_010n, lots: 17_500n }, // 30000.01 + .09 + .10 → 30000.10
      { priceTicks: 3_000_100n, lots: 20_000n },
    ]);
    expect(groupLevels(bids, "bid", 10n, 10, btc)).toEqual([
      { priceTicks: 2_999_990n, lots: 8_000n }, // 29999.99 + .91 + .90 → 29999.90
      { priceTicks: 2_999_800n, lots: 50_000n },
    ]);
  });

  it("keeps at most `rows` groups, best first, and skips zero amounts", () => {
    const withZero: BookLevel[] = [...bids, ["29999.95", "0"]];
    expect(groupLevels(withZero, "bid", 1n, 2, btc).map((g) => g.priceTicks)).toEqual([
      2_999_999n,
      2_999_991n,
    ]);
  });
});

describe("the book panel's rows", () => {
  it("adds cumulative amounts from the best price out, with bar shares of the deepest side", () => {
    const view = bookView({ bids, asks }, 1n, 3, btc);
    expect(view.asks.map((r) => [r.price, r.amount, r.cumulative])).toEqual([
      ["30000.01", "0.5", "0.5"],
      ["30000.09", "0.25", "0.75"],
      ["30000.1", "1", "1.75"],
    ]);
    expect(view.bids.map((r) => r.cumulative)).toEqual(["0.4", "0.5", "0.8"]);
    // The deepest cumulative shown (1.75) is the full bar.
    expect(view.asks[2]?.depthShare).toBe(1);
    expect(view.bids[0]?.depthShare).toBeCloseTo(0.2285, 4);
  });

  it("gives the spread from the ungrouped book, exactly, with its percent of the ask", () => {
    expect(spreadOf({ bids, asks }, btc)).toEqual({ price: "0.02", percent: "0.00" });
    expect(spreadOf({ bids: [["99", "1"]], asks: [["100", "1"]] }, btc)).toEqual({
      price: "1",
      percent: "1.00",
    });
    expect(spreadOf({ bids: [], asks }, btc)).toBeNull();
  });
});

describe("the depth chart", () => {
  it("accumulates each side outwards, within 5 % of the mid price at most", () => {
    const series = depthSeries(
      {
        bids: [
          ["99", "1"],
          ["98", "2"],
          ["50", "9"],
        ],
        asks: [["101", "1.5"]],
      },
      btc,
      500n,
    );
    expect(series).not.toBeNull();
    expect(series?.bids).toEqual([
      { priceTicks: 9_900n, cumulativeLots: 10_000n },
      { priceTicks: 9_800n, cumulativeLots: 30_000n },
    ]);
    expect(series?.asks).toEqual([{ priceTicks: 10_100n, cumulativeLots: 15_000n }]);
    expect(series?.lowTicks).toBe(9_500n);
    expect(series?.highTicks).toBe(10_500n);
    expect(series?.deepestLots).toBe(30_000n);
    expect(depthSeries({ bids: [], asks: [] }, btc)).toBeNull();
  });

  it("spans only as far as the book's nearest levels reach (plus a tenth), when that is closer", () => {
    const series = depthSeries(
      {
        bids: [
          ["99", "1"],
          ["98", "2"],
        ],
        asks: [["101", "3"]],
      },
      btc,
      500n,
    );
    // Mid 100.00; the farthest level shown is 2.00 away → 2.00 + 0.20 + one tick.
    expect(series?.lowTicks).toBe(9_779n);
    expect(series?.highTicks).toBe(10_221n);
    const fewer = depthSeries(
      {
        bids: [
          ["99", "1"],
          ["98", "2"],
        ],
        asks: [["101", "3"]],
      },
      btc,
      500n,
      1,
    );
    expect(fewer?.bids).toEqual([{ priceTicks: 9_900n, cumulativeLots: 10_000n }]);
  });

  it("draws steps: each level holds its depth until the next price", () => {
    const series = depthSeries(
      {
        bids: [
          ["99", "1"],
          ["98", "2"],
        ],
        asks: [["101", "3"]],
      },
      btc,
      500n,
    );
    if (!series) throw new Error("no series");
    // Drawn over 95.00 … 105.00, for round pixel numbers.
    const { bid, ask } = depthPaths({ ...series, lowTicks: 9_500n, highTicks: 10_500n }, 100, 30);
    // Prices 95…105 across 100 px; depth 3 lots-worth is the full 30 px.
    expect(bid).toBe("M40.0,30 L40.0,30.0 L40.0,20.0 L30.0,20.0 L30.0,0.0 L0.0,0.0 L0.0,30 Z");
    expect(ask).toBe("M60.0,30 L60.0,30.0 L60.0,0.0 L100.0,0.0 L100.0,30 Z");
  });
});

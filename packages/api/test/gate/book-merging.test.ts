// GET /spot/order_book's `interval` as arithmetic: the step in ticks from its text (a positive
// multiple of the tick, "0" for none, anything else refused), bids rounded down to their step,
// asks up, amounts summed exactly in lots, and a side read to its depth losing only the level
// the unread rest could still add to.
import type { BookLevel } from "@spotx/protocol";
import { describe, expect, it } from "vitest";
import { mergeBook, mergeSide, mergeStep } from "../../src/gate/book-merging";
import { GateError } from "../../src/gate/errors";
import type { GateMarket } from "../../src/gate/market-directory";

// A 0.01 tick and a 0.0001 lot, as BTC_USDT's.
const BTC = { symbol: "BTC_USDT", pricePrecision: 2, amountPrecision: 4 } as GateMarket;

function refusal(interval: string): { label: string; message: string } | null {
  try {
    mergeStep(interval, BTC);
    return null;
  } catch (error) {
    if (!(error instanceof GateError)) throw error;
    return { label: error.label, message: error.message };
  }
}

describe("the interval", () => {
  it("is a whole number of ticks: 0 for none, 10 for 0.1, 1000 for 10", () => {
    expect(mergeStep("0", BTC)).toBe(0n);
    expect(mergeStep("0.01", BTC)).toBe(1n);
    expect(mergeStep("0.1", BTC)).toBe(10n);
    expect(mergeStep("1", BTC)).toBe(100n);
    expect(mergeStep("10", BTC)).toBe(1_000n);
    expect(mergeStep("0.50", BTC)).toBe(50n);
    expect(mergeStep("0.0500", BTC)).toBe(5n);
  });

  it("refuses what is not a positive multiple of the tick with INVALID_PARAM_VALUE", () => {
    const expected = {
      label: "INVALID_PARAM_VALUE",
      message: `invalid interval: "0" (no merging) or a positive multiple of BTC_USDT's tick 0.01`,
    };
    for (const bad of ["0.001", "0.015", "-1", "1e2", "abc", "", " 1", "1,5", ".5", "01"]) {
      expect(refusal(bad), bad).toEqual(expected);
    }
  });
});

describe("merging", () => {
  const bids: BookLevel[] = [
    ["30000.55", "0.1"],
    ["30000.5", "0.2"],
    ["30000.49", "1.0001"],
    ["30000", "3"],
    ["29999.99", "0.0001"],
    ["29990", "5"],
  ];
  const asks: BookLevel[] = [
    ["30000.56", "0.3"],
    ["30000.6", "0.5"],
    ["30000.61", "0.0002"],
    ["30001", "2"],
    ["30001.01", "0.7"],
  ];

  it("rounds bids down and asks up to the step, summing the amounts of each step", () => {
    expect(mergeBook({ bids, asks }, 10n, BTC, 400, 100)).toEqual({
      bids: [
        ["30000.5", "0.3"],
        ["30000.4", "1.0001"],
        ["30000", "3"],
        ["29999.9", "0.0001"],
        ["29990", "5"],
      ],
      asks: [
        ["30000.6", "0.8"],
        ["30000.7", "0.0002"],
        ["30001", "2"],
        ["30001.1", "0.7"],
      ],
    });
    expect(mergeBook({ bids, asks }, 100n, BTC, 400, 100)).toEqual({
      bids: [
        ["30000", "4.3001"],
        ["29999", "0.0001"],
        ["29990", "5"],
      ],
      asks: [
        ["30001", "2.8002"],
        ["30002", "0.7"],
      ],
    });
    expect(mergeBook({ bids, asks }, 1_000n, BTC, 400, 100)).toEqual({
      bids: [
        ["30000", "4.3001"],
        ["29990", "5.0001"],
      ],
      asks: [["30010", "3.5002"]],
    });
  });

  it("answers `limit` merged levels, and the tick itself changes nothing", () => {
    expect(mergeBook({ bids, asks }, 100n, BTC, 400, 2)).toEqual({
      bids: [
        ["30000", "4.3001"],
        ["29999", "0.0001"],
      ],
      asks: [
        ["30001", "2.8002"],
        ["30002", "0.7"],
      ],
    });
    expect(mergeBook({ bids, asks }, 1n, BTC, 400, 100)).toEqual({ bids, asks });
  });

  it("leaves out a side's last step when the side filled the depth read (more may lie beyond)", () => {
    // Read 3 deep: the third level's step may hold more unread levels, so it is left out.
    const read = { bids: bids.slice(0, 3), asks: asks.slice(0, 3) };
    expect(mergeBook(read, 100n, BTC, 3, 100)).toEqual({ bids: [], asks: [] });
    expect(mergeBook(read, 10n, BTC, 3, 100)).toEqual({
      bids: [["30000.5", "0.3"]],
      asks: [["30000.6", "0.8"]],
    });
    // Fewer levels than read: the side is whole, every step is exact.
    expect(mergeBook(read, 10n, BTC, 4, 100)).toEqual({
      bids: [
        ["30000.5", "0.3"],
        ["30000.4", "1.0001"],
      ],
      asks: [
        ["30000.6", "0.8"],
        ["30000.7", "0.0002"],
      ],
    });
  });

  it("keeps amounts beyond a float's precision exact", () => {
    const deep = { symbol: "X_Y", pricePrecision: 2, amountPrecision: 8 } as GateMarket;
    const levels: BookLevel[] = [
      ["1.01", "90071992.54740993"],
      ["1.02", "0.00000001"],
    ];
    expect(mergeSide(levels, "asks", 100n, deep, false)).toEqual([["2", "90071992.54740994"]]);
  });

  it("refuses levels that are not best first (an invariant, not input)", () => {
    expect(() =>
      mergeSide(
        [
          ["10", "1"],
          ["12", "1"],
        ],
        "bids",
        1n,
        BTC,
        false,
      ),
    ).toThrow(/not best first/);
  });
});

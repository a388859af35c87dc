// The market maker's decisions with BTC_USDT's rules (price 2 decimals, amount 4, minimum
// 0.0001 BTC and 1 USDT) and a scripted source of randomness: the reference wanders but is
// pulled home, quotes stand on a fixed grid above the minimums, only what changed is
// re-quoted (a crossing quote first), and taker orders respect the minimums.
import { describe, expect, it } from "vitest";
import {
  gridTicks,
  ladder,
  notionalText,
  quoteChanges,
  quotedMarket,
  type RandomInt,
  takerFlow,
  wander,
} from "../src/quoting";

const btc = quotedMarket({
  id: "BTC_USDT",
  precision: 2,
  amount_precision: 4,
  min_base_amount: "0.0001",
  min_quote_amount: "1",
});
/** Always the lowest value, or always the highest. */
const low: RandomInt = (a) => a;
const high: RandomInt = (_, b) => b;

describe("the market's rules as integers", () => {
  it("reads gate.io's pair into ticks, lots and a minimum value in ticks × lots", () => {
    expect(btc).toEqual({
      symbol: "BTC_USDT",
      pricePrecision: 2,
      amountPrecision: 4,
      minLots: 1n,
      minNotional: 1_000_000n, // 1 USDT = 100 ticks-per-USDT × 10,000 lots-per-BTC
    });
    expect(notionalText(50_000_000n, btc)).toBe("50");
  });
});

describe("wander", () => {
  it("moves at most the step and is pulled back towards the anchor", () => {
    const anchor = 6_500_000n; // 65,000.00
    expect(wander(anchor, anchor, high)).toBe(6_502_600n); // +4 bps
    expect(wander(anchor, anchor, low)).toBe(6_497_400n); // −4 bps
    // Far above the anchor, a step up is outweighed by the pull back.
    const far = 7_000_000n;
    expect(wander(far, anchor, high)).toBeLessThan(far);
    let price = anchor;
    for (let i = 0; i < 5_000; i++) price = wander(price, anchor, high);
    // Always stepping up settles where the pull balances the step: within 2 % of the anchor.
    expect(price).toBeLessThan((anchor * 102n) / 100n);
  });
});

describe("ladder", () => {
  it("quotes levels on a fixed grid, bids below and asks above, sized from the minimums", () => {
    const grid = gridTicks(6_500_000n); // 3 bps of 65,000 = 19.50
    expect(grid).toBe(1_950n);
    const quotes = ladder(6_500_000n, btc, 3, low, { grid });
    expect(quotes.map((q) => [q.side, q.priceTicks])).toEqual([
      ["buy", 6_497_400n], // 64,974.00: the grid step at or below 65,000 − 19.50
      ["sell", 6_503_250n], // 65,032.50: the grid step at or above 65,000 + 19.50
      ["buy", 6_495_450n],
      ["sell", 6_505_200n],
      ["buy", 6_493_500n],
      ["sell", 6_507_150n],
    ]);
    for (const q of quotes) {
      expect(q.priceTicks % grid).toBe(0n);
      // Each is at least the minimum value: 50 minimum orders' worth (50 USDT) per unit.
      expect(q.priceTicks * q.lots).toBeGreaterThanOrEqual(50n * btc.minNotional);
      expect(q.lots).toBeGreaterThanOrEqual(btc.minLots);
    }
    // A small move of the reference keeps most levels where they were.
    const moved = ladder(6_500_500n, btc, 3, low, { grid });
    const before = new Set(quotes.map((q) => `${q.side}${q.priceTicks}`));
    expect(
      moved.filter((q) => before.has(`${q.side}${q.priceTicks}`)).length,
    ).toBeGreaterThanOrEqual(4);
  });
});

describe("quoteChanges", () => {
  const wanted = ladder(6_500_000n, btc, 2, low, { grid: 1_950n });

  it("places only missing levels and cancels only stale ones", () => {
    const resting = [
      { id: "1", side: "buy" as const, priceTicks: 6_497_400n },
      { id: "2", side: "buy" as const, priceTicks: 6_400_000n },
    ];
    const { cancel, place } = quoteChanges(resting, wanted, 10);
    expect(cancel.map((q) => q.id)).toEqual(["2"]);
    expect(place.map((q) => q.priceTicks)).toEqual([6_503_250n, 6_495_450n, 6_505_200n]);
  });

  it("keeps to the limit per cycle, but always cancels a quote that would cross the new ladder", () => {
    const resting = [
      { id: "far", side: "buy" as const, priceTicks: 6_000_000n },
      { id: "near", side: "buy" as const, priceTicks: 6_490_000n },
      { id: "crossing", side: "buy" as const, priceTicks: 6_510_000n },
    ];
    const { cancel, place } = quoteChanges(resting, wanted, 1);
    expect(cancel.map((q) => q.id)).toEqual(["crossing"]);
    expect(place).toHaveLength(1);
  });
});

describe("takerFlow", () => {
  it("trades in some cycles only, above the minimums", () => {
    expect(takerFlow(6_500_000n, btc, high, 40)).toBeNull(); // a roll of 100 is above 40 %
    const buy = takerFlow(6_500_000n, btc, low, 40);
    expect(buy).toEqual({ side: "buy", spend: 10_000_000n }); // 10 USDT
    const sell = takerFlow(6_500_000n, btc, (_, b) => (b === 100 ? 1 : b), 40);
    expect(sell).toEqual({ side: "sell", lots: 8n }); // 50 USDT at 65,000 → 0.0008 BTC (rounded up)
  });
});

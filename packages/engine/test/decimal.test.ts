// The edge conversions: decimal strings ↔ ticks, lots and minor units, exactly or not at all;
// and the market configuration checks that keep every engine product a safe integer.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decimalToUnits,
  MarketScale,
  parseDecimal,
  parseStep,
  unitsToDecimal,
} from "../src/decimal";
import { MarketConfigError, resolveMarket } from "../src/market";
import type { MarketConfig } from "../src/types";

describe("parseDecimal", () => {
  it("reads plain non-negative decimals", () => {
    expect(parseDecimal("30000")).toEqual({ mantissa: 30000n, scale: 0 });
    expect(parseDecimal("0.01")).toEqual({ mantissa: 1n, scale: 2 });
    expect(parseDecimal("1.50")).toEqual({ mantissa: 150n, scale: 2 });
    expect(parseDecimal("0")).toEqual({ mantissa: 0n, scale: 0 });
  });

  it("refuses signs, exponents, spaces, leading zeros and bare points", () => {
    for (const text of [
      "",
      "-1",
      "+1",
      "1e3",
      " 1",
      "1 ",
      "007",
      ".5",
      "5.",
      "1.2.3",
      "0x10",
      "NaN",
      "1,5",
    ]) {
      expect(parseDecimal(text), text).toBeUndefined();
    }
    expect(parseDecimal("1".repeat(65))).toBeUndefined();
  });
});

describe("decimalToUnits / unitsToDecimal", () => {
  it("converts exactly at the given decimals, allowing only zero digits beyond them", () => {
    expect(decimalToUnits("30000.01", 2)).toEqual({ ok: true, value: 3000001n });
    expect(decimalToUnits("1.5", 2)).toEqual({ ok: true, value: 150n });
    expect(decimalToUnits("1.500", 2)).toEqual({ ok: true, value: 150n });
    expect(decimalToUnits("30000.001", 2)).toEqual({ ok: false, error: "INVALID_PRECISION" });
    expect(decimalToUnits("abc", 2)).toEqual({ ok: false, error: "INVALID_NUMBER" });
    // Far beyond 2^53: still exact, as bigint.
    expect(decimalToUnits("123456789012345678901.123456789", 9)).toEqual({
      ok: true,
      value: 123456789012345678901123456789n,
    });
  });

  it("prints units back, trimming trailing zeros unless fixed", () => {
    expect(unitsToDecimal(3000001n, 2)).toBe("30000.01");
    expect(unitsToDecimal(150, 2)).toBe("1.5");
    expect(unitsToDecimal(150, 2, true)).toBe("1.50");
    expect(unitsToDecimal(3000000, 2)).toBe("30000");
    expect(unitsToDecimal(5, 8)).toBe("0.00000005");
    expect(unitsToDecimal(-5, 2)).toBe("-0.05");
    expect(unitsToDecimal(0, 6)).toBe("0");
    expect(() => unitsToDecimal(0.5, 2)).toThrow(RangeError);
  });

  it("round-trips any integer at any scale", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        fc.integer({ min: 0, max: 18 }),
        (units, decimals) => {
          expect(decimalToUnits(unitsToDecimal(units, decimals), decimals)).toEqual({
            ok: true,
            value: units,
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it("reads step sizes in their fewest decimals", () => {
    expect(parseStep("0.01")).toEqual({ units: 1n, decimals: 2 });
    expect(parseStep("0.050")).toEqual({ units: 5n, decimals: 2 });
    expect(parseStep("10")).toEqual({ units: 10n, decimals: 0 });
    expect(parseStep("0")).toBeUndefined();
  });
});

describe("MarketScale (BTC_USDT)", () => {
  it("refuses a quote asset too coarse for tick × lot, saying what would work", () => {
    // tick 0.01 USDT × lot 0.000001 BTC = 0.00000001 USDT: a 6-decimal USDT cannot hold it.
    expect(() => new MarketScale("0.01", "0.000001", 8, 6)).toThrow(/≥ 8 decimals/);
  });

  it("maps prices, amounts and fills exactly when the ledger keeps USDT at 8 decimals", () => {
    const scale = new MarketScale("0.01", "0.000001", 8, 8);
    expect(scale.quotePerTickLot).toBe(1n);
    expect(scale.basePerLot).toBe(100n);
    expect(scale.priceToTicks("30000.01")).toEqual({ ok: true, value: 3000001 });
    expect(scale.priceToTicks("30000.001")).toEqual({ ok: false, error: "INVALID_PRECISION" });
    expect(scale.amountToLots("0.000001")).toEqual({ ok: true, value: 1 });
    expect(scale.amountToLots("0.0000001")).toEqual({ ok: false, error: "INVALID_PRECISION" });
    // 0.000001 BTC at 30000.01 = 0.03000001 USDT = 3000001 minor units at 8 decimals.
    expect(scale.notional(3000001, 1)).toBe(3000001n);
    expect(scale.minorToQuote(3000001)).toBe("0.03000001");
    expect(scale.lotsToBaseMinor(1)).toBe(100n);
    expect(scale.ticksToPrice(3000001)).toBe("30000.01");
    expect(scale.lotsToAmount(1500000)).toBe("1.5");
    expect(scale.quoteToMinor("300.5")).toEqual({ ok: true, value: 30050000000 });
    expect(scale.baseToMinor("0.5")).toEqual({ ok: true, value: 50000000 });
    expect(scale.minorToBase(50000000)).toBe("0.5");
  });

  it("works with USDT at 6 decimals when the lot is coarse enough (0.0001 BTC)", () => {
    const scale = new MarketScale("0.01", "0.0001", 8, 6);
    // 0.01 × 0.0001 = 0.000001 USDT = exactly one minor unit.
    expect(scale.quotePerTickLot).toBe(1n);
    // 0.5 BTC at 30000.00 = 15000 USDT.
    expect(scale.minorToQuote(scale.notional(3000000, 5000))).toBe("15000");
  });

  it("supports ticks that are not a power of ten (0.05)", () => {
    const scale = new MarketScale("0.05", "0.001", 8, 6);
    expect(scale.priceToTicks("30000.05")).toEqual({ ok: true, value: 600001 });
    expect(scale.priceToTicks("30000.03")).toEqual({ ok: false, error: "INVALID_PRECISION" });
    expect(scale.ticksToPrice(600001)).toBe("30000.05");
    // one tick (0.05) × one lot (0.001) = 0.00005 USDT = 50 minor units
    expect(scale.quotePerTickLot).toBe(50n);
  });

  it("refuses amounts beyond 2^53 − 1 steps", () => {
    const scale = new MarketScale("0.01", "0.000001", 8, 8);
    expect(scale.amountToLots("99999999999")).toEqual({ ok: false, error: "OUT_OF_RANGE" });
  });
});

const BTC_USDT: MarketConfig = {
  symbol: "BTC_USDT",
  tickSize: "0.01",
  lotSize: "0.000001",
  baseDecimals: 8,
  quoteDecimals: 8,
  minNotional: 100_000_000,
  maxPrice: 100_000_000,
  maxQuantity: 90_000_000,
  priceBandBps: 1_000,
  maxOpenOrdersPerUser: 200,
};

describe("resolveMarket", () => {
  it("accepts a config whose largest fill fits in a safe integer", () => {
    const market = resolveMarket(BTC_USDT);
    expect(market.quotePerTickLot).toBe(1);
    // 1,000,000.00 USDT × 90 BTC = 9e7 USDT = 9e15 minor units ≤ 2^53 − 1
    expect(market.maxQuoteAmount).toBe(9_000_000_000_000_000);
    expect(market.minQuantity).toBe(1);
  });

  it("refuses bounds under which a fill's quote amount could pass 2^53", () => {
    expect(() => resolveMarket({ ...BTC_USDT, maxQuantity: 100_000_000 })).toThrow(
      MarketConfigError,
    );
    expect(() => resolveMarket({ ...BTC_USDT, maxQuantity: 100_000_000 })).toThrow(/2\^53/);
  });

  it("refuses missing or malformed limits and too many orders for the level totals", () => {
    expect(() => resolveMarket({ ...BTC_USDT, maxPrice: 0 })).toThrow(/maxPrice/);
    expect(() => resolveMarket({ ...BTC_USDT, maxOpenOrdersPerUser: 1.5 })).toThrow(
      /maxOpenOrdersPerUser/,
    );
    expect(() => resolveMarket({ ...BTC_USDT, maxOrders: 200_000_000 })).toThrow(/maxOrders/);
    expect(() => resolveMarket({ ...BTC_USDT, tickSize: "0.001", quoteDecimals: 6 })).toThrow(
      /decimals/,
    );
    expect(() => resolveMarket({ ...BTC_USDT, symbol: "" })).toThrow(/symbol/);
  });
});

// Unit conversions and fee rounding, with the demo markets' real numbers.
import { describe, expect, it } from "vitest";
import { isLedgerError } from "../src/errors";
import {
  feeFor,
  formatMinor,
  lotsToBaseMinor,
  marketScales,
  parseDecimal,
  quoteMinorFor,
} from "../src/units";

// BTC_USDT: BTC 8 decimals, USDT 6; price precision 2 (tick 0.01 USDT), amount precision 4 (lot 0.0001 BTC).
const btcUsdt = {
  symbol: "BTC_USDT",
  base: "BTC",
  quote: "USDT",
  baseDecimals: 8,
  quoteDecimals: 6,
  pricePrecision: 2,
  amountPrecision: 4,
};
const scales = marketScales(btcUsdt);

describe("market scales", () => {
  it("makes one BTC_USDT lot 10,000 satoshi and one tick × lot one micro-USDT", () => {
    expect(scales).toEqual({ baseMinorPerLot: 10_000n, quoteMinorPerTickLot: 1n });
  });

  it("converts 0.0100 BTC at 30,000.00 USDT to 1,000,000 sat and 300 USDT", () => {
    const lots = parseDecimal("0.01", 4); // 100 lots
    const ticks = parseDecimal("30000", 2); // 3,000,000 ticks
    expect(lotsToBaseMinor(lots, scales)).toBe(1_000_000n);
    expect(quoteMinorFor(ticks, lots, scales)).toBe(300_000_000n);
    expect(formatMinor(quoteMinorFor(ticks, lots, scales), 6)).toBe("300");
  });

  it("scales quote by 10^(quote − price − amount) when the precisions leave room", () => {
    const wide = marketScales({ ...btcUsdt, pricePrecision: 1, amountPrecision: 3 });
    expect(wide).toEqual({ baseMinorPerLot: 100_000n, quoteMinorPerTickLot: 100n });
    // 0.001 BTC at 30,000.0: 1 lot × 300,000 ticks × 100 = 30,000,000 = 30 USDT.
    expect(quoteMinorFor(300_000n, 1n, wide)).toBe(30_000_000n);
  });

  it("rejects a market whose precisions do not fit its assets' decimals", () => {
    for (const bad of [
      { ...btcUsdt, amountPrecision: 9 },
      { ...btcUsdt, pricePrecision: 3, amountPrecision: 4 },
    ]) {
      let error: unknown;
      try {
        marketScales(bad);
      } catch (caught) {
        error = caught;
      }
      expect(isLedgerError(error, "INVALID_PARAM_VALUE")).toBe(true);
    }
  });
});

describe("fees", () => {
  it("charges 0.2 % of 0.01 BTC exactly: 2,000 sat", () => {
    expect(feeFor(1_000_000n, 2_000)).toBe(2_000n);
  });

  it("rounds a fractional fee up: 0.2 % of 3.000001 USDT is 6,001 micro-USDT, not 6,000.002", () => {
    expect(feeFor(3_000_001n, 2_000)).toBe(6_001n);
  });

  it("never favours the exchange by a whole minor unit or more", () => {
    for (const received of [1n, 7n, 999n, 3_000_001n, 123_456_789n, 10n ** 15n + 3n]) {
      for (const ppm of [0, 1, 999, 1_000, 2_000, 100_000]) {
        const fee = feeFor(received, ppm);
        const exact = received * BigInt(ppm); // fee × 10^6 exactly
        expect(fee * 1_000_000n >= exact).toBe(true);
        expect(fee * 1_000_000n - exact < 1_000_000n).toBe(true);
        expect(fee <= received).toBe(true);
      }
    }
  });

  it("charges nothing at a zero rate and one unit on a single received unit", () => {
    expect(feeFor(1_000_000n, 0)).toBe(0n);
    expect(feeFor(1n, 2_000)).toBe(1n);
  });
});

describe("decimal strings", () => {
  it("formats minor units as gate.io decimal strings", () => {
    expect(formatMinor(150_000_000n, 8)).toBe("1.5");
    expect(formatMinor(1n, 8)).toBe("0.00000001");
    expect(formatMinor(0n, 6)).toBe("0");
    expect(formatMinor(-2_500n, 3)).toBe("-2.5");
    expect(formatMinor(42n, 0)).toBe("42");
  });

  it("parses decimal strings into units and refuses excess precision", () => {
    expect(parseDecimal("0.0001", 4)).toBe(1n);
    expect(parseDecimal("30000.10", 2)).toBe(3_000_010n);
    expect(parseDecimal("1.50000", 2)).toBe(150n);
    let error: unknown;
    try {
      parseDecimal("0.00001", 4);
    } catch (caught) {
      error = caught;
    }
    expect(isLedgerError(error, "INVALID_PRECISION")).toBe(true);
    expect(() => parseDecimal("1e5", 2)).toThrow(/not a decimal/);
  });
});

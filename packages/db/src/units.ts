// The one place amounts change units. Balances and ledger entries are in asset minor units;
// orders carry prices in ticks and amounts in lots. Two exponents connect them:
//   base minor  = lots × 10^(base.decimals − amount_precision)
//   quote minor = ticks × lots × 10^(quote.decimals − price_precision − amount_precision)
// Both must be ≥ 0 (checked here and by the markets_precision trigger), so no conversion rounds.
import { LedgerError } from "./errors";
import { requireBigint, requireObject, requireText } from "./input";

/** A decimals/precision count: a whole number from 0 to 36. */
function requireSmallInt(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 36) {
    throw new LedgerError("INVALID_PARAM_VALUE", `${what} must be a whole number from 0 to 36`);
  }
  return value;
}

export type MarketUnits = {
  symbol: string;
  base: string;
  quote: string;
  baseDecimals: number;
  quoteDecimals: number;
  pricePrecision: number;
  amountPrecision: number;
};

export type MarketScales = {
  /** Base minor units per lot. */
  baseMinorPerLot: bigint;
  /** Quote minor units per (tick × lot). */
  quoteMinorPerTickLot: bigint;
};

/** The scaling exponents of a market; a LedgerError when a precision does not fit its assets. */
export function marketScales(market: MarketUnits): MarketScales {
  const m = requireObject(market, "market");
  for (const key of [
    "baseDecimals",
    "quoteDecimals",
    "pricePrecision",
    "amountPrecision",
  ] as const) {
    requireSmallInt(m[key], key);
  }
  for (const key of ["symbol", "base", "quote"] as const) requireText(m[key], key, 40);
  const baseExponent = market.baseDecimals - market.amountPrecision;
  const quoteExponent = market.quoteDecimals - market.pricePrecision - market.amountPrecision;
  if (!Number.isInteger(baseExponent) || baseExponent < 0) {
    throw new LedgerError(
      "INVALID_PARAM_VALUE",
      `market ${market.symbol}: amount precision ${market.amountPrecision} exceeds ${market.base}'s ${market.baseDecimals} decimals`,
    );
  }
  if (!Number.isInteger(quoteExponent) || quoteExponent < 0) {
    throw new LedgerError(
      "INVALID_PARAM_VALUE",
      `market ${market.symbol}: price precision ${market.pricePrecision} + amount precision ${market.amountPrecision} exceeds ${market.quote}'s ${market.quoteDecimals} decimals`,
    );
  }
  return {
    baseMinorPerLot: 10n ** BigInt(baseExponent),
    quoteMinorPerTickLot: 10n ** BigInt(quoteExponent),
  };
}

/** Scales as marketScales makes them: two positive bigints. */
function requireScales(scales: unknown): MarketScales {
  const s = requireObject(scales, "scales");
  return {
    baseMinorPerLot: requireBigint(s.baseMinorPerLot, "baseMinorPerLot", { min: 1n }),
    quoteMinorPerTickLot: requireBigint(s.quoteMinorPerTickLot, "quoteMinorPerTickLot", {
      min: 1n,
    }),
  };
}

export function lotsToBaseMinor(lots: bigint, scales: MarketScales): bigint {
  requireBigint(lots, "lots", { min: 0n });
  return lots * requireScales(scales).baseMinorPerLot;
}

/** The quote value of `lots` at `priceTicks`, in quote minor units (exact; may exceed int8). */
export function quoteMinorFor(priceTicks: bigint, lots: bigint, scales: MarketScales): bigint {
  requireBigint(priceTicks, "priceTicks", { min: 0n });
  requireBigint(lots, "lots", { min: 0n });
  return priceTicks * lots * requireScales(scales).quoteMinorPerTickLot;
}

export const PPM = 1_000_000n;

/**
 * The fee on an amount received: ceil(received × ppm / 1,000,000). Rounding up favours the
 * exchange by less than one minor unit; the fee never exceeds what is received (ppm ≤ 100,000).
 */
export function feeFor(received: bigint, ppm: number | bigint): bigint {
  requireBigint(received, "received", { min: 0n, max: 2n ** 127n });
  if (typeof ppm === "number" && !Number.isSafeInteger(ppm)) {
    throw new LedgerError("INVALID_PARAM_VALUE", `fee rate ${ppm} ppm is not a whole number`);
  }
  const rate = typeof ppm === "number" ? BigInt(ppm) : requireBigint(ppm, "fee rate");
  if (rate < 0n || rate > PPM) {
    throw new LedgerError("INVALID_PARAM_VALUE", `fee rate ${rate} ppm out of range`);
  }
  return (received * rate + PPM - 1n) / PPM;
}

/** Minor units as gate.io's decimal string: 150000000n with 8 decimals → "1.5". */
export function formatMinor(minor: bigint, decimals: number): string {
  requireBigint(minor, "amount", { min: -(2n ** 127n), max: 2n ** 127n });
  requireSmallInt(decimals, "decimals");
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = decimals > 0 ? digits.slice(digits.length - decimals).replace(/0+$/, "") : "";
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * A non-negative decimal string in units of 10^-decimals: "0.01" with 4 decimals → 100n.
 * More fractional digits than `decimals` (other than trailing zeros) is INVALID_PRECISION.
 */
export function parseDecimal(text: string, decimals: number): bigint {
  requireSmallInt(decimals, "decimals");
  if (typeof text !== "string" || text.length > 100) {
    throw new LedgerError(
      "INVALID_PARAM_VALUE",
      "a decimal number is a string of up to 100 characters",
    );
  }
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new LedgerError("INVALID_PARAM_VALUE", `"${text}" is not a decimal number`);
  const whole = match[1] ?? "0";
  const fraction = (match[2] ?? "").replace(/0+$/, "");
  if (fraction.length > decimals) {
    throw new LedgerError(
      "INVALID_PRECISION",
      `"${text}" has more than ${decimals} decimal places`,
    );
  }
  return BigInt(whole + fraction.padEnd(decimals, "0"));
}

// The one place amounts change units. Balances and ledger entries are in asset minor units;
// orders carry prices in ticks and amounts in lots. Two exponents connect them:
//   base minor  = lots × 10^(base.decimals − amount_precision)
//   quote minor = ticks × lots × 10^(quote.decimals − price_precision − amount_precision)
// Both must be ≥ 0 (checked here and by the markets_precision trigger), so no conversion rounds.
import { invariant, LedgerError } from "./errors";

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

export function lotsToBaseMinor(lots: bigint, scales: MarketScales): bigint {
  return lots * scales.baseMinorPerLot;
}

/** The quote value of `lots` at `priceTicks`, in quote minor units (exact). */
export function quoteMinorFor(priceTicks: bigint, lots: bigint, scales: MarketScales): bigint {
  return priceTicks * lots * scales.quoteMinorPerTickLot;
}

export const PPM = 1_000_000n;

/**
 * The fee on an amount received: ceil(received × ppm / 1,000,000). Rounding up favours the
 * exchange by less than one minor unit; the fee never exceeds what is received (ppm ≤ 100,000).
 */
export function feeFor(received: bigint, ppm: number | bigint): bigint {
  const rate = BigInt(ppm);
  invariant(received >= 0n, () => `fee on a negative amount ${received}`);
  invariant(rate >= 0n && rate <= PPM, () => `fee rate ${rate} ppm out of range`);
  return (received * rate + PPM - 1n) / PPM;
}

/** Minor units as gate.io's decimal string: 150000000n with 8 decimals → "1.5". */
export function formatMinor(minor: bigint, decimals: number): string {
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

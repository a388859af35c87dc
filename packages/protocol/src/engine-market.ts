// A market's row in PostgreSQL as the engine's MarketConfig. Placement checks orders against
// the same bounds before holding funds, so an order the API accepts is one the engine can
// take (the engine checks again: it trusts no one).
import { type MarketConfig, unitsToDecimal } from "@spotx/engine";

/** The market columns (and asset decimals) the engine needs. */
export type MarketRules = {
  symbol: string;
  baseDecimals: number;
  quoteDecimals: number;
  pricePrecision: number;
  amountPrecision: number;
  /** Lots. */
  minBaseLots: bigint;
  /** Quote minor units. */
  minQuoteAmount: bigint;
  priceBandBps: number;
  maxOpenOrdersPerUser: number;
};

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The largest price (ticks) and quantity (lots) a market accepts. The engine needs
 * maxPrice × maxQuantity × quotePerTickLot ≤ 2^53 − 1 so every fill is a safe integer; the
 * budget is split evenly between the two (BTC_USDT: 949,062.87 USDT and 9,490.6287 BTC).
 */
export function engineBounds(rules: MarketRules): {
  quotePerTickLot: bigint;
  maxPrice: bigint;
  maxQuantity: bigint;
  maxQuoteAmount: bigint;
} {
  const exponent = rules.quoteDecimals - rules.pricePrecision - rules.amountPrecision;
  if (exponent < 0) throw new RangeError(`${rules.symbol}: precisions exceed the quote decimals`);
  const quotePerTickLot = 10n ** BigInt(exponent);
  const budget = MAX_SAFE / quotePerTickLot;
  const maxQuantity = sqrt(budget);
  const maxPrice = budget / maxQuantity;
  return {
    quotePerTickLot,
    maxPrice,
    maxQuantity,
    maxQuoteAmount: maxPrice * maxQuantity * quotePerTickLot,
  };
}

function sqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (x * x > n) x -= 1n;
  while ((x + 1n) * (x + 1n) <= n) x += 1n;
  return x;
}

export function engineMarketConfig(rules: MarketRules): MarketConfig {
  const bounds = engineBounds(rules);
  return {
    symbol: rules.symbol,
    tickSize: unitsToDecimal(1n, rules.pricePrecision),
    lotSize: unitsToDecimal(1n, rules.amountPrecision),
    baseDecimals: rules.baseDecimals,
    quoteDecimals: rules.quoteDecimals,
    minQuantity: Number(rules.minBaseLots),
    minNotional: Number(rules.minQuoteAmount),
    maxPrice: Number(bounds.maxPrice),
    maxQuantity: Number(bounds.maxQuantity),
    maxQuoteAmount: Number(bounds.maxQuoteAmount),
    priceBandBps: rules.priceBandBps,
    maxOpenOrdersPerUser: rules.maxOpenOrdersPerUser,
  };
}

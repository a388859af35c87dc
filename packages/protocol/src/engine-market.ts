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
  /** The tick as a number of price units (ticks), ≥ 1; absent = 1 (docs/decisions/006). */
  priceStepTicks?: bigint;
  /** The lot as a number of amount units (lots), ≥ 1; absent = 1. */
  amountStepLots?: bigint;
  /**
   * The engine rules the market had when it listed, kept once its rules first change; null or
   * absent while they never changed (then they are the current ones). See listingMarketConfig.
   */
  listed?: ListedRules | null;
};

/** What a rules change can move, as the market listed with it. */
export type ListedRules = { minBaseLots: bigint; minQuoteAmount: bigint; priceBandBps: number };

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
    ...(rules.priceStepTicks !== undefined && rules.priceStepTicks !== 1n
      ? { priceStep: Number(rules.priceStepTicks) }
      : {}),
    ...(rules.amountStepLots !== undefined && rules.amountStepLots !== 1n
      ? { quantityStep: Number(rules.amountStepLots) }
      : {}),
  };
}

/**
 * The config a market's engine STARTS from when it has no snapshot and replays its orders topic
 * from the beginning: the rules it listed with, not the current row's. The row holds the rules
 * of the last change settlement applied; replaying the commands from before that change under
 * them would refuse or cancel what the live engine did not, and the events would differ. The
 * `rules` commands in the log bring the engine to the current rules at the same points as
 * before. (Snapshots carry their config, steps included, so a restore needs nothing of this.)
 */
export function listingMarketConfig(rules: MarketRules): MarketConfig {
  const { listed, priceStepTicks: _p, amountStepLots: _a, ...unchanged } = rules;
  return engineMarketConfig({ ...unchanged, ...(listed ?? {}) });
}

// A market's configuration checked once, with the bounds that keep every engine product a
// safe integer (so the hot path needs no bigint): price × quantity × quotePerTickLot, level
// totals and price-band products are all proven ≤ 2^53 − 1 here.
import { MarketScale } from "./decimal";
import { MAX_INDEXED_SLOTS } from "./slot-index";
import type { MarketConfig } from "./types";

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Orders one book can hold: a slot is named in 24 bits of an index bucket. */
export const MAX_ORDERS = MAX_INDEXED_SLOTS;
const BPS = 10_000;

export interface ResolvedMarket {
  readonly config: Readonly<MarketConfig>;
  readonly scale: MarketScale;
  readonly quotePerTickLot: number;
  readonly minQuantity: number;
  readonly minNotional: number;
  readonly maxPrice: number;
  readonly maxQuantity: number;
  readonly maxQuoteAmount: number;
  readonly priceBandBps: number;
  readonly maxOpenOrdersPerUser: number;
  readonly maxOrders: number;
  /** Ticks a price must be a multiple of (1: any whole tick). */
  readonly priceStep: number;
  /** Lots a quantity must be a multiple of (1: any whole lot). */
  readonly quantityStep: number;
}

export class MarketConfigError extends Error {
  override readonly name = "MarketConfigError";
}

function requireInteger(name: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new MarketConfigError(`${name} must be a safe integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/** Checks a market config and derives its integer bounds; throws MarketConfigError. */
export function resolveMarket(config: MarketConfig): ResolvedMarket {
  if (typeof config.symbol !== "string" || config.symbol.length === 0) {
    throw new MarketConfigError("symbol is required");
  }
  let scale: MarketScale;
  try {
    scale = new MarketScale(
      config.tickSize,
      config.lotSize,
      config.baseDecimals,
      config.quoteDecimals,
    );
  } catch (error) {
    throw new MarketConfigError(`${config.symbol}: ${(error as Error).message}`);
  }
  if (scale.quotePerTickLot > MAX_SAFE) {
    throw new MarketConfigError(`${config.symbol}: quote minor units per tick × lot too large`);
  }
  const quotePerTickLot = Number(scale.quotePerTickLot);
  const minQuantity = requireInteger("minQuantity", config.minQuantity ?? 1, 1);
  const minNotional = requireInteger("minNotional", config.minNotional, 0);
  const maxPrice = requireInteger("maxPrice", config.maxPrice, 1);
  const maxQuantity = requireInteger("maxQuantity", config.maxQuantity, 1);
  const priceBandBps = requireInteger("priceBandBps", config.priceBandBps, 0);
  const maxOpenOrdersPerUser = requireInteger(
    "maxOpenOrdersPerUser",
    config.maxOpenOrdersPerUser,
    1,
  );
  if (minQuantity > maxQuantity) {
    throw new MarketConfigError(`${config.symbol}: minQuantity exceeds maxQuantity`);
  }
  const priceStep = requireInteger("priceStep", config.priceStep ?? 1, 1);
  const quantityStep = requireInteger("quantityStep", config.quantityStep ?? 1, 1);
  if (priceStep > maxPrice) {
    throw new MarketConfigError(`${config.symbol}: priceStep exceeds maxPrice, no price would fit`);
  }
  if (quantityStep > maxQuantity) {
    throw new MarketConfigError(
      `${config.symbol}: quantityStep exceeds maxQuantity, no amount would fit`,
    );
  }

  const maxNotional = BigInt(maxPrice) * BigInt(maxQuantity) * scale.quotePerTickLot;
  if (maxNotional > MAX_SAFE) {
    throw new MarketConfigError(
      `${config.symbol}: maxPrice × maxQuantity × quotePerTickLot = ${maxNotional} exceeds ` +
        "2^53 − 1; lower maxPrice or maxQuantity so every fill's quote amount is a safe integer",
    );
  }
  const maxQuoteAmount = requireInteger(
    "maxQuoteAmount",
    config.maxQuoteAmount ?? Number(maxNotional),
    1,
  );
  if (BigInt(maxPrice) * BigInt(BPS + priceBandBps) > MAX_SAFE) {
    throw new MarketConfigError(`${config.symbol}: maxPrice too large for the price band check`);
  }
  const defaultMaxOrders = Math.min(MAX_ORDERS, Math.floor(Number.MAX_SAFE_INTEGER / maxQuantity));
  const maxOrders = requireInteger("maxOrders", config.maxOrders ?? defaultMaxOrders, 1);
  if (maxOrders > MAX_ORDERS) {
    throw new MarketConfigError(`${config.symbol}: maxOrders above the engine's ${MAX_ORDERS}`);
  }
  if (BigInt(maxOrders) * BigInt(maxQuantity) > MAX_SAFE) {
    throw new MarketConfigError(
      `${config.symbol}: maxOrders × maxQuantity exceeds 2^53 − 1, so a level total could too`,
    );
  }
  return {
    config: Object.freeze({ ...config }),
    scale,
    quotePerTickLot,
    minQuantity,
    minNotional,
    maxPrice,
    maxQuantity,
    maxQuoteAmount,
    priceBandBps,
    maxOpenOrdersPerUser,
    maxOrders,
    priceStep,
    quantityStep,
  };
}

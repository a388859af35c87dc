// The market maker's decisions, pure and in integers: a reference price that wanders (a
// random step each cycle, pulled back towards where it started so it never drifts out of the
// market's price band), the ladder of quotes around it (whole ticks and lots, every quote
// above the market's minimums), which resting quotes to cancel and which to place, and the
// occasional taker order. Randomness comes in as a function, so tests replay it.
import { decimalToUnits, unitsToDecimal } from "@spotx/engine";

/** A market as gate.io's currency_pairs describes it, converted to integers once. */
export type QuotedMarket = {
  symbol: string;
  pricePrecision: number;
  amountPrecision: number;
  /** Lots. */
  minLots: bigint;
  /** The minimum order value in ticks × lots (units of 10^-(pricePrecision + amountPrecision) quote). */
  minNotional: bigint;
};

export type Quote = { side: "buy" | "sell"; priceTicks: bigint; lots: bigint };
export type RestingQuote = { id: string; side: "buy" | "sell"; priceTicks: bigint };

/** A uniform random integer in [low, high]: the caller's source of randomness. */
export type RandomInt = (low: number, high: number) => number;

export const mathRandomInt: RandomInt = (low, high) =>
  low + Math.floor(Math.random() * (high - low + 1));

/** gate.io's pair (precision, amount_precision, min_base_amount, min_quote_amount) as integers. */
export function quotedMarket(pair: {
  id: string;
  precision: number;
  amount_precision: number;
  min_base_amount: string;
  min_quote_amount: string;
}): QuotedMarket {
  const minLots = decimalToUnits(pair.min_base_amount || "0", pair.amount_precision);
  const scale = pair.precision + pair.amount_precision;
  const minNotional = decimalToUnits(pair.min_quote_amount || "0", scale);
  return {
    symbol: pair.id,
    pricePrecision: pair.precision,
    amountPrecision: pair.amount_precision,
    minLots: minLots.ok && minLots.value > 0n ? minLots.value : 1n,
    // A minimum finer than a tick × lot cannot be expressed: one unit is the least order anyway.
    minNotional: minNotional.ok ? minNotional.value : 1n,
  };
}

/**
 * One step of the reference price: a random move of up to `stepBps` basis points, plus a
 * pull of 1/`pull` of the distance back to `anchor`. Never below one tick.
 */
export function wander(
  reference: bigint,
  anchor: bigint,
  random: RandomInt,
  stepBps = 4,
  pull = 40n,
): bigint {
  const move = (reference * BigInt(random(-stepBps, stepBps))) / 10_000n;
  const back = (anchor - reference) / pull;
  const next = reference + move + back;
  return next > 0n ? next : 1n;
}

/**
 * The price grid the ladder stands on: `stepBps` of the anchor price, at least one tick. Fixed
 * per market, so a small move of the reference re-quotes a level or two, not the whole ladder.
 */
export function gridTicks(anchor: bigint, stepBps = 3n): bigint {
  const grid = (anchor * stepBps) / 10_000n;
  return grid > 0n ? grid : 1n;
}

/**
 * The ladder of quotes around `reference`: `levels` bids below and asks above on the grid, the
 * nearest at least one grid step away, each a random size of 1–8 units, where a unit is the
 * larger of the market's minimum amount and `unitNotionalMinimums` minimum orders' worth.
 */
export function ladder(
  reference: bigint,
  m: QuotedMarket,
  levels: number,
  random: RandomInt,
  options: { grid?: bigint; unitNotionalMinimums?: bigint } = {},
): Quote[] {
  const grid = options.grid ?? gridTicks(reference);
  const unitNotional = m.minNotional * (options.unitNotionalMinimums ?? 50n);
  const bestBid = ((reference - grid) / grid) * grid;
  const bestAsk = ceilDiv(reference + grid, grid) * grid;
  const quotes: Quote[] = [];
  for (let i = 0n; i < BigInt(levels); i++) {
    for (const [side, price] of [
      ["buy", bestBid - i * grid],
      ["sell", bestAsk + i * grid],
    ] as const) {
      if (price <= 0n) continue;
      const unit = maxOf(m.minLots, ceilDiv(unitNotional, price));
      quotes.push({ side, priceTicks: price, lots: unit * BigInt(random(1, 8)) });
    }
  }
  return quotes;
}

/**
 * What to change: resting quotes whose price is no longer on the ladder are cancelled, ladder
 * prices with no resting quote are placed — at most `limit` of each per cycle (keeping the
 * request rate modest; the rest follow next cycle). Farthest stale quotes go first.
 */
export function quoteChanges(
  resting: readonly RestingQuote[],
  wanted: readonly Quote[],
  limit: number,
): { cancel: RestingQuote[]; place: Quote[] } {
  const key = (side: string, price: bigint) => `${side}:${price}`;
  const wantedKeys = new Set(wanted.map((q) => key(q.side, q.priceTicks)));
  const restingKeys = new Set(resting.map((q) => key(q.side, q.priceTicks)));
  const best = (side: "buy" | "sell") => {
    const prices = wanted.filter((q) => q.side === side).map((q) => q.priceTicks);
    return prices.length === 0
      ? null
      : prices.reduce((a, b) => (side === "buy" ? maxOf(a, b) : a < b ? a : b));
  };
  const bestBid = best("buy");
  const bestAsk = best("sell");
  const distance = (q: RestingQuote) => {
    const edge = q.side === "buy" ? bestBid : bestAsk;
    if (edge === null) return 0n;
    return q.priceTicks > edge ? q.priceTicks - edge : edge - q.priceTicks;
  };
  const stale = resting
    .filter((q) => !wantedKeys.has(key(q.side, q.priceTicks)))
    .sort((a, b) => (distance(b) > distance(a) ? 1 : distance(b) < distance(a) ? -1 : 0));
  // A resting quote that would cross the new ladder must go before anything is placed.
  const crossing = stale.filter(
    (q) =>
      (q.side === "buy" && bestAsk !== null && q.priceTicks >= bestAsk) ||
      (q.side === "sell" && bestBid !== null && q.priceTicks <= bestBid),
  );
  const cancel = [...new Set([...crossing, ...stale])].slice(0, Math.max(limit, crossing.length));
  const place = wanted.filter((q) => !restingKeys.has(key(q.side, q.priceTicks))).slice(0, limit);
  return { cancel, place };
}

export type TakerOrder = { side: "buy"; spend: bigint } | { side: "sell"; lots: bigint };

/**
 * Now and then (`chancePercent` of cycles) a market order against the ladder: a buy spends,
 * or a sell sells, a random 1–5 minimum-order units (in ticks × lots for a buy's spend, in
 * lots for a sell at the reference price).
 */
export function takerFlow(
  reference: bigint,
  m: QuotedMarket,
  random: RandomInt,
  chancePercent = 40,
): TakerOrder | null {
  if (random(1, 100) > chancePercent) return null;
  const units = BigInt(random(1, 5));
  const notional = m.minNotional * 10n * units;
  if (random(0, 1) === 0) return { side: "buy", spend: notional };
  return { side: "sell", lots: maxOf(m.minLots, ceilDiv(notional, reference)) };
}

export const priceText = (ticks: bigint, m: QuotedMarket) =>
  unitsToDecimal(ticks, m.pricePrecision);
export const lotsText = (lots: bigint, m: QuotedMarket) => unitsToDecimal(lots, m.amountPrecision);
/** A spend in ticks × lots as a quote decimal string (exact). */
export const notionalText = (units: bigint, m: QuotedMarket) =>
  unitsToDecimal(units, m.pricePrecision + m.amountPrecision);

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

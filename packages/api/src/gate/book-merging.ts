// gate.io's order book `interval` (GET /spot/order_book): levels merged into price steps, a
// multiple of the market's tick — bids rounded down to their step, asks up, amounts summed.
// The arithmetic is on integer ticks and lots; strings are parsed once and formatted once.
import { decimalToUnits } from "@spotx/engine";
import { type BookLevel, lotsText, type MarketPrecision, priceText } from "@spotx/protocol";
import { BOOK_DEPTH } from "./book-keeper";
import { GateError } from "./errors";

/**
 * Levels read per side to merge from: what market data keeps (and the database fallback
 * returns). A side that fills it may go deeper, so its last merged level may be partial.
 */
export const MERGED_FROM_DEPTH = BOOK_DEPTH;

/**
 * `interval` as a step in ticks: 0n for no merging ("0", the default), else a positive whole
 * number of ticks. Anything else is INVALID_PARAM_VALUE.
 */
export function mergeStep(interval: string, m: MarketPrecision): bigint {
  const step = decimalToUnits(interval, m.pricePrecision);
  if (!step.ok) {
    throw new GateError(
      "INVALID_PARAM_VALUE",
      `invalid interval: "0" (no merging) or a positive multiple of ${m.symbol}'s tick ${priceText(1n, m)}`,
    );
  }
  return step.value;
}

/** A level's text in units of `decimals`: the book's own strings are always exact. */
function units(text: string, decimals: number): bigint {
  const converted = decimalToUnits(text, decimals);
  if (!converted.ok) throw new Error(`book level ${text} is not at ${decimals} decimals`);
  return converted.value;
}

/**
 * One side's levels (best first, as read) merged into `step`-tick levels, best first. When the
 * side was `truncated` (levels beyond those read may exist), its last merged level could miss
 * some of them, so it is left out: every level answered is exact.
 */
export function mergeSide(
  levels: readonly BookLevel[],
  side: "bids" | "asks",
  step: bigint,
  m: MarketPrecision,
  truncated: boolean,
): BookLevel[] {
  if (step <= 0n) throw new RangeError(`merge step ${step} is not positive`);
  const merged: Array<[price: bigint, lots: bigint]> = [];
  for (const [price, amount] of levels) {
    const ticks = units(price, m.pricePrecision);
    const bucket = side === "bids" ? (ticks / step) * step : ((ticks + step - 1n) / step) * step;
    const lots = units(amount, m.amountPrecision);
    const last = merged.at(-1);
    if (last && last[0] === bucket) {
      last[1] += lots;
      continue;
    }
    // Rounding keeps the order, so a step's levels are adjacent: a level out of order is a bug.
    if (last && (side === "bids" ? bucket > last[0] : bucket < last[0])) {
      throw new Error(`${m.symbol} ${side} are not best first at ${price}`);
    }
    merged.push([bucket, lots]);
  }
  if (truncated) merged.pop();
  return merged.map(([ticks, lots]) => [priceText(ticks, m), lotsText(lots, m)]);
}

/**
 * The book's best `limit` merged levels per side, from `book` read `readDepth` levels deep.
 */
export function mergeBook(
  book: { bids: readonly BookLevel[]; asks: readonly BookLevel[] },
  step: bigint,
  m: MarketPrecision,
  readDepth: number,
  limit: number,
): { bids: BookLevel[]; asks: BookLevel[] } {
  return {
    bids: mergeSide(book.bids, "bids", step, m, book.bids.length >= readDepth).slice(0, limit),
    asks: mergeSide(book.asks, "asks", step, m, book.asks.length >= readDepth).slice(0, limit),
  };
}

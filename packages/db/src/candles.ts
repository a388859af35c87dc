// Candles: which bucket a trade falls into, and a batch's trades folded into its own candles.
// Settlement upserts those into the `candles` table in the statement that advances the market's
// sequence, so a trade is counted exactly once however often its event is delivered.
import { LedgerError } from "./errors";
import { showValue } from "./input";
import { CANDLE_INTERVALS } from "./schema";

export { CANDLE_INTERVALS } from "./schema";
export type CandleInterval = (typeof CANDLE_INTERVALS)[number];

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Fixed-length intervals, floored from the Unix epoch (UTC). */
const FIXED: Partial<Record<CandleInterval, number>> = {
  "10s": 10 * SECOND,
  "1m": MINUTE,
  "5m": 5 * MINUTE,
  "15m": 15 * MINUTE,
  "30m": 30 * MINUTE,
  "1h": HOUR,
  "4h": 4 * HOUR,
  "8h": 8 * HOUR,
  "1d": DAY,
};

// 1970-01-01 was a Thursday: weeks counted from the epoch would start on Thursdays, so weekly
// buckets are floored from Monday 1970-01-05 instead (gate.io's and most charts' week).
const FIRST_MONDAY = 4 * DAY;
const WEEK = 7 * DAY;

export function isCandleInterval(value: unknown): value is CandleInterval {
  return typeof value === "string" && (CANDLE_INTERVALS as readonly string[]).includes(value);
}

/**
 * The start of the candle of `interval` that contains `time`: floored from the Unix epoch for
 * 10s … 1d, Monday 00:00 UTC for 7d, the first of the month 00:00 UTC for 30d.
 */
export function candleStart(interval: CandleInterval, time: Date): Date {
  if (!isCandleInterval(interval)) {
    throw new LedgerError("INVALID_PARAM_VALUE", `unknown candle interval ${showValue(interval)}`);
  }
  const ms = time instanceof Date ? time.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new LedgerError("INVALID_PARAM_VALUE", "invalid time");
  const fixed = FIXED[interval];
  if (fixed !== undefined) return new Date(Math.floor(ms / fixed) * fixed);
  if (interval === "7d") {
    return new Date(Math.floor((ms - FIRST_MONDAY) / WEEK) * WEEK + FIRST_MONDAY);
  }
  return new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), 1));
}

/** A trade as candles need it (applied trades only, in sequence order). */
export type CandleTrade = {
  seq: bigint;
  priceTicks: bigint;
  baseAmount: bigint;
  quoteAmount: bigint;
  time: Date;
};

type Bucket = {
  interval: CandleInterval;
  start: Date;
  open: bigint;
  high: bigint;
  low: bigint;
  close: bigint;
  base: bigint;
  quote: bigint;
  trades: number;
  lastSeq: bigint;
};

/** The batch's own candles, one per (interval, start), folded in sequence order. */
export function batchCandles(trades: readonly CandleTrade[]): Bucket[] {
  const buckets = new Map<string, Bucket>();
  for (const trade of trades) {
    for (const interval of CANDLE_INTERVALS) {
      const start = candleStart(interval, trade.time);
      const key = `${interval}:${start.getTime()}`;
      const bucket = buckets.get(key);
      if (!bucket) {
        buckets.set(key, {
          interval,
          start,
          open: trade.priceTicks,
          high: trade.priceTicks,
          low: trade.priceTicks,
          close: trade.priceTicks,
          base: trade.baseAmount,
          quote: trade.quoteAmount,
          trades: 1,
          lastSeq: trade.seq,
        });
        continue;
      }
      if (trade.priceTicks > bucket.high) bucket.high = trade.priceTicks;
      if (trade.priceTicks < bucket.low) bucket.low = trade.priceTicks;
      bucket.close = trade.priceTicks;
      bucket.base += trade.baseAmount;
      bucket.quote += trade.quoteAmount;
      bucket.trades += 1;
      bucket.lastSeq = trade.seq;
    }
  }
  return [...buckets.values()];
}

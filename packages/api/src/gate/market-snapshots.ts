// The public market views market data keeps in Redis (book, ticker), read through the Redis
// circuit breaker, with PostgreSQL as the fallback when a snapshot is absent (market data not
// running, the key expired) or Redis is down: the same numbers, computed from settled state.
import { breakers, isServiceUnavailable } from "@spotx/platform/breakers";
import {
  type BookLevel,
  type BookSnapshot,
  baseText,
  changePercentText,
  lotsText,
  priceText,
  quoteText,
  type TickerMessage,
} from "@spotx/protocol";
import { sql } from "drizzle-orm";
import type { GateServices } from "./call";
import type { GateMarket } from "./market-directory";

/** gate.io's ticker object (TickerMessage without market data's own `time`). */
export type TickerObject = Omit<TickerMessage, "time">;

/** A Redis JSON snapshot, or null when absent or Redis is unavailable. */
async function readSnapshot<T>(services: GateServices, key: string): Promise<T | null> {
  try {
    const text = await breakers.redis.run(() => services.redis.get(key));
    return text === null ? null : (JSON.parse(text) as T);
  } catch (error) {
    if (isServiceUnavailable(error)) return null;
    throw error;
  }
}

/** The book at a sequence number, best levels first (at most `depth` per side). */
export async function bookSnapshot(
  services: GateServices,
  m: GateMarket,
  depth: number,
): Promise<BookSnapshot> {
  const cached = await readSnapshot<BookSnapshot>(services, services.names.redis.book(m.symbol));
  if (cached)
    return { ...cached, bids: cached.bids.slice(0, depth), asks: cached.asks.slice(0, depth) };
  return bookFromDatabase(services, m, depth);
}

/** The resting orders settlement has applied, summed per level, at market_sequences.last_seq. */
async function bookFromDatabase(
  services: GateServices,
  m: GateMarket,
  depth: number,
): Promise<BookSnapshot> {
  return services.db.transaction(
    async (tx) => {
      const seq = await tx.execute<{ last_seq: bigint }>(
        sql`SELECT last_seq FROM market_sequences WHERE market = ${m.symbol}`,
      );
      const levels = await tx.execute<{ side: "buy" | "sell"; price: bigint; lots: bigint }>(sql`
        (SELECT 'buy' AS side, price_ticks AS price, SUM(amount - filled_base_lots)::int8 AS lots
           FROM orders WHERE market = ${m.symbol} AND status = 'open' AND side = 'buy'
          GROUP BY price_ticks ORDER BY price_ticks DESC LIMIT ${depth})
        UNION ALL
        (SELECT 'sell', price_ticks, SUM(amount - filled_base_lots)::int8
           FROM orders WHERE market = ${m.symbol} AND status = 'open' AND side = 'sell'
          GROUP BY price_ticks ORDER BY price_ticks ASC LIMIT ${depth})`);
      const level = (r: { price: bigint; lots: bigint }): BookLevel => [
        priceText(r.price, m),
        lotsText(r.lots, m),
      ];
      const bids = levels.rows.filter((r) => r.side === "buy").map(level);
      const asks = levels.rows.filter((r) => r.side === "sell").map(level);
      return {
        market: m.symbol,
        seq: Number(seq.rows[0]?.last_seq ?? 0n),
        time: Date.now(),
        bids,
        asks,
      };
    },
    // One snapshot of both reads: the levels are exactly the book at that sequence number.
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
}

export async function ticker(services: GateServices, m: GateMarket): Promise<TickerObject> {
  const cached = await readSnapshot<TickerMessage>(services, services.names.redis.ticker(m.symbol));
  if (cached) {
    const { time: _time, ...object } = cached;
    return object;
  }
  return tickerFromDatabase(services, m);
}

/** The rolling 24 h ticker from the 1-minute candles, the last trade and the best levels. */
async function tickerFromDatabase(services: GateServices, m: GateMarket): Promise<TickerObject> {
  const since = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 1_439 * 60_000);
  const [window, last, best] = await Promise.all([
    services.db.execute<{
      open: bigint | null;
      high: bigint | null;
      low: bigint | null;
      base: bigint;
      quote: bigint;
    }>(sql`
      SELECT (ARRAY_AGG(open ORDER BY start_time))[1] AS open, MAX(high) AS high, MIN(low) AS low,
             COALESCE(SUM(base_amount), 0)::int8 AS base, COALESCE(SUM(quote_amount), 0)::int8 AS quote
        FROM candles WHERE market = ${m.symbol} AND interval = '1m' AND start_time >= ${since}`),
    services.db.execute<{ price: bigint }>(sql`
      SELECT price_ticks AS price FROM trades WHERE market = ${m.symbol} ORDER BY id DESC LIMIT 1`),
    services.db.execute<{ bid: bigint | null; ask: bigint | null }>(sql`
      SELECT MAX(price_ticks) FILTER (WHERE side = 'buy') AS bid,
             MIN(price_ticks) FILTER (WHERE side = 'sell') AS ask
        FROM orders WHERE market = ${m.symbol} AND status = 'open'`),
  ]);
  const day = window.rows[0];
  const lastPrice = last.rows[0]?.price ?? null;
  const known = (ticks: bigint | null | undefined) =>
    ticks === null || ticks === undefined ? "" : priceText(ticks, m);
  return {
    currency_pair: m.symbol,
    last: known(lastPrice),
    lowest_ask: known(best.rows[0]?.ask),
    highest_bid: known(best.rows[0]?.bid),
    change_percentage:
      day?.open !== null && day?.open !== undefined && lastPrice !== null
        ? changePercentText(day.open, lastPrice)
        : "0",
    base_volume: baseText(day?.base ?? 0n, m),
    quote_volume: quoteText(day?.quote ?? 0n, m),
    high_24h: known(day?.high ?? lastPrice),
    low_24h: known(day?.low ?? lastPrice),
  };
}

// markets.ticker: the 24-hour ticker market data keeps in Redis (refreshed as trades happen).
// When market data is not running (the key expires within seconds of it stopping), the same
// figures are computed from what settlement wrote: the 1-minute candles of the last 24 hours,
// the last trade, and the best open orders — so the answer is never invented, only older.
import { type Database, loadMarket, type MarketSpec } from "@spotx/db";
import {
  baseText,
  changePercentText,
  priceText,
  quoteText,
  type TickerMessage,
} from "@spotx/protocol";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { publicProcedure } from "../../trpc";
import { marketField } from "../fields";
import { cachedMarketData } from "./market-data-cache";

export const tickerInput = z.strictObject({ market: marketField });

export const tickerView = z.object({
  market: z.string(),
  /** Prices are "" when unknown (no trade yet, an empty side). */
  last: z.string(),
  lowestAsk: z.string(),
  highestBid: z.string(),
  /** Percent change over 24 h, two decimals ("-2.03"). */
  changePercentage: z.string(),
  baseVolume: z.string(),
  quoteVolume: z.string(),
  high24h: z.string(),
  low24h: z.string(),
  /** When the figures were taken (ms). */
  time: z.number().int(),
  /** `live`: market data's own; `settled`: computed from PostgreSQL (market data not running). */
  source: z.enum(["live", "settled"]),
});
export type TickerView = z.infer<typeof tickerView>;

const MINUTE = 60_000;

function fromMessage(message: TickerMessage, source: TickerView["source"]): TickerView {
  return {
    market: message.currency_pair,
    last: message.last,
    lowestAsk: message.lowest_ask,
    highestBid: message.highest_bid,
    changePercentage: message.change_percentage,
    baseVolume: message.base_volume,
    quoteVolume: message.quote_volume,
    high24h: message.high_24h,
    low24h: message.low_24h,
    time: message.time,
    source,
  };
}

/** The ticker as market data computes it (feed.ts), from the settled 1-minute candles. */
export async function settledTicker(
  db: Database,
  m: MarketSpec,
  now: number,
): Promise<TickerMessage> {
  const windowStart = new Date(Math.floor(now / MINUTE) * MINUTE - 1_439 * MINUTE);
  const figures = await db.transaction(
    async (tx) => {
      const day = await tx.execute<{
        open: bigint | null;
        high: bigint | null;
        low: bigint | null;
        base: string | null;
        quote: string | null;
      }>(sql`
        SELECT (array_agg(open ORDER BY start_time))[1] AS open, max(high) AS high, min(low) AS low,
               sum(base_amount)::text AS base, sum(quote_amount)::text AS quote
          FROM candles
         WHERE market = ${m.symbol} AND interval = '1m' AND start_time >= ${windowStart}`);
      const last = await tx.execute<{ close: bigint }>(sql`
        SELECT close FROM candles WHERE market = ${m.symbol} AND interval = '1m'
         ORDER BY start_time DESC LIMIT 1`);
      const best = await tx.execute<{ bid: bigint | null; ask: bigint | null }>(sql`
        SELECT max(price_ticks) FILTER (WHERE side = 'buy') AS bid,
               min(price_ticks) FILTER (WHERE side = 'sell') AS ask
          FROM orders WHERE market = ${m.symbol} AND status = 'open' AND type = 'limit'`);
      return { day: day.rows[0], last: last.rows[0]?.close ?? null, best: best.rows[0] };
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
  const known = (ticks: bigint | null | undefined) =>
    ticks !== null && ticks !== undefined && ticks > 0n ? priceText(ticks, m) : "";
  const last = figures.last;
  const open = figures.day?.open ?? null;
  return {
    currency_pair: m.symbol,
    last: known(last),
    lowest_ask: known(figures.best?.ask),
    highest_bid: known(figures.best?.bid),
    change_percentage: open !== null && last !== null ? changePercentText(open, last) : "0",
    base_volume: baseText(BigInt(figures.day?.base ?? "0"), m),
    quote_volume: quoteText(BigInt(figures.day?.quote ?? "0"), m),
    // A quiet day: the range is the last price (as market data says it).
    high_24h: known(figures.day?.high ?? last),
    low_24h: known(figures.day?.low ?? last),
    time: now,
  };
}

export const ticker = publicProcedure
  .input(tickerInput)
  .output(tickerView)
  .query(async ({ ctx, input }) => {
    const market = await loadMarket(ctx.db, input.market);
    const key = ctx.services.names.redis.ticker(market.symbol);
    const cached = await cachedMarketData<TickerMessage>(ctx.services, key);
    if (cached !== null) return fromMessage(cached, "live");
    return fromMessage(await settledTicker(ctx.db, market, Date.now()), "settled");
  });

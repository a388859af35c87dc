// Market data's starting point for the markets of newly assigned partitions: what settlement
// had applied, read from PostgreSQL in one REPEATABLE READ transaction, so the book, trades,
// candles and ticker window are all as of the same last_seq, with the events-topic offset to
// resume reading from.
import { CANDLE_INTERVALS, type Database, isCandleInterval, loadMarkets } from "@spotx/db";
import { sql } from "drizzle-orm";
import type { Candle, FeedBootstrap, FeedMarket, RecentTrade, Side } from "./feed";
import { RECENT_TRADES } from "./feed";

export type MarketStart = {
  market: FeedMarket;
  bootstrap: FeedBootstrap;
  /** The offset of the last message settlement applied for the market; null before any. */
  lastOffset: bigint | null;
};

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** Raw queries return timestamptz as text (drizzle parses only its own selects). */
type Timestamp = Date | string;
const millis = (value: Timestamp) => new Date(value).getTime();

type CandleRow = {
  market: string;
  interval: string;
  start_time: Timestamp;
  open: bigint;
  high: bigint;
  low: bigint;
  close: bigint;
  base_amount: bigint;
  quote_amount: bigint;
  trades: number;
  last_seq: bigint;
};

function candleOf(row: CandleRow): Candle | null {
  if (!isCandleInterval(row.interval)) return null;
  return {
    interval: row.interval,
    start: millis(row.start_time),
    open: Number(row.open),
    high: Number(row.high),
    low: Number(row.low),
    close: Number(row.close),
    base: row.base_amount,
    quote: row.quote_amount,
    trades: row.trades,
    lastSeq: Number(row.last_seq),
  };
}

/** Every market symbol in the database (the caller keeps those of its partitions). */
export async function marketSymbols(db: Database): Promise<string[]> {
  const found = await db.execute<{ symbol: string }>(
    sql`SELECT symbol FROM markets ORDER BY symbol`,
  );
  return found.rows.map((r) => r.symbol);
}

/**
 * Reads the starting state of `symbols` as settlement left them. `now` bounds the 24 h ticker
 * window. Markets missing from the database are absent from the answer.
 */
export async function loadMarketStarts(
  db: Database,
  symbols: readonly string[],
  now: number,
): Promise<Map<string, MarketStart>> {
  if (symbols.length === 0) return new Map();
  return db.transaction(
    async (tx) => {
      const specs = await loadMarkets(tx, symbols);
      const names = [...specs.keys()];
      const list = sql.param(names);
      const sequences = await tx.execute<{
        market: string;
        last_seq: bigint;
        last_epoch: bigint;
        last_offset: bigint | null;
      }>(sql`
        SELECT market, last_seq, last_epoch, last_offset
          FROM market_sequences WHERE market = ANY(${list}::text[])`);
      // Resting limit orders are the book; an order is `open` from its acceptance on, and its
      // remaining lots are what it has not filled.
      const levels = await tx.execute<{ market: string; side: Side; price: bigint; lots: bigint }>(
        sql`
        SELECT market, side, price_ticks AS price, sum(amount - filled_base_lots)::int8 AS lots
          FROM orders
         WHERE market = ANY(${list}::text[]) AND status = 'open' AND type = 'limit'
         GROUP BY market, side, price_ticks
        HAVING sum(amount - filled_base_lots) > 0`,
      );
      const trades = await tx.execute<{
        market: string;
        id: bigint;
        price_ticks: bigint;
        qty_lots: bigint;
        taker_side: Side;
        created_at: Timestamp;
      }>(sql`
        SELECT m.market, t.id, t.price_ticks, t.qty_lots, t.taker_side, t.created_at
          FROM unnest(${list}::text[]) AS m(market)
         CROSS JOIN LATERAL (
               SELECT id, price_ticks, qty_lots, taker_side, created_at FROM trades
                WHERE trades.market = m.market ORDER BY id DESC LIMIT ${RECENT_TRADES}) AS t`);
      const candles = await tx.execute<CandleRow>(sql`
        SELECT m.market, c.*
          FROM unnest(${list}::text[]) AS m(market)
         CROSS JOIN unnest(${sql.param([...CANDLE_INTERVALS])}::text[]) AS i(interval)
         CROSS JOIN LATERAL (
               SELECT interval, start_time, open, high, low, close, base_amount, quote_amount,
                      trades, last_seq
                 FROM candles
                WHERE candles.market = m.market AND candles.interval = i.interval
                ORDER BY start_time DESC LIMIT 2) AS c`);
      const windowStart = new Date(Math.floor(now / MINUTE_MS) * MINUTE_MS - DAY_MS + MINUTE_MS);
      const minutes = await tx.execute<CandleRow>(sql`
        SELECT market, interval, start_time, open, high, low, close, base_amount, quote_amount,
               trades, last_seq
          FROM candles
         WHERE market = ANY(${list}::text[]) AND interval = '1m' AND start_time >= ${windowStart}`);

      const starts = new Map<string, MarketStart>();
      for (const [symbol, spec] of specs) {
        const sequence = sequences.rows.find((r) => r.market === symbol);
        const recent: RecentTrade[] = trades.rows
          .filter((r) => r.market === symbol)
          .map((r) => ({
            id: Number(r.id),
            time: millis(r.created_at),
            takerSide: r.taker_side,
            price: Number(r.price_ticks),
            lots: Number(r.qty_lots),
          }))
          .sort((a, b) => a.id - b.id);
        const ofMarket = (rows: CandleRow[]) =>
          rows
            .filter((r) => r.market === symbol)
            .map(candleOf)
            .filter((c): c is Candle => c !== null);
        starts.set(symbol, {
          market: {
            symbol,
            base: spec.base,
            quote: spec.quote,
            pricePrecision: spec.pricePrecision,
            amountPrecision: spec.amountPrecision,
            baseDecimals: spec.baseDecimals,
            quoteDecimals: spec.quoteDecimals,
            baseMinorPerLot: spec.baseMinorPerLot,
          },
          bootstrap: {
            seq: Number(sequence?.last_seq ?? 0n),
            epoch: sequence?.last_epoch ?? 0n,
            levels: levels.rows
              .filter((r) => r.market === symbol)
              .map((r) => ({ side: r.side, price: Number(r.price), lots: Number(r.lots) })),
            trades: recent,
            candles: ofMarket(candles.rows),
            minutes: ofMarket(minutes.rows),
          },
          lastOffset: sequence?.last_offset ?? null,
        });
      }
      return starts;
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
}

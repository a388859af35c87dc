// markets.depth: the order book, best levels first. Market data's snapshot in Redis is the live
// book (with the engine sequence it reflects); without it, the book is rebuilt from PostgreSQL's
// open orders, which equal the engine's book at the market's last settled sequence (see
// docs/decisions/002) — read in one snapshot with that sequence.
import { type Database, loadMarket, type MarketSpec } from "@spotx/db";
import { type BookLevel, type BookSnapshot, lotsText, priceText } from "@spotx/protocol";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { publicProcedure } from "../../trpc";
import { limitField, marketField } from "../fields";
import { cachedMarketData } from "./market-data-cache";

export const depthInput = z.strictObject({
  market: marketField,
  /** Levels per side. */
  limit: limitField(400, 50),
});

const level = z.tuple([z.string(), z.string()]);

export const depthView = z.object({
  market: z.string(),
  /** The last engine sequence number the book includes (0 before any). */
  seq: z.number().int(),
  time: z.number().int(),
  /** [price, amount]: bids descending, asks ascending. */
  bids: z.array(level),
  asks: z.array(level),
  source: z.enum(["live", "settled"]),
});
export type DepthView = z.infer<typeof depthView>;

async function settledBook(db: Database, m: MarketSpec, limit: number): Promise<BookSnapshot> {
  return db.transaction(
    async (tx) => {
      const seq = await tx.execute<{ last_seq: bigint }>(
        sql`SELECT last_seq FROM market_sequences WHERE market = ${m.symbol}`,
      );
      const levels = await tx.execute<{ side: "buy" | "sell"; price: bigint; lots: string }>(sql`
        SELECT side, price_ticks AS price, sum(amount - filled_base_lots)::text AS lots
          FROM orders
         WHERE market = ${m.symbol} AND status = 'open' AND type = 'limit'
         GROUP BY side, price_ticks`);
      type Row = (typeof levels.rows)[number];
      const ascending = (a: Row, b: Row) => (a.price < b.price ? -1 : a.price > b.price ? 1 : 0);
      const side = (which: "buy" | "sell") =>
        levels.rows
          .filter((row) => row.side === which && BigInt(row.lots) > 0n)
          .sort(which === "sell" ? ascending : (a, b) => ascending(b, a))
          .slice(0, limit)
          .map((row): BookLevel => [priceText(row.price, m), lotsText(BigInt(row.lots), m)]);
      return {
        market: m.symbol,
        seq: Number(seq.rows[0]?.last_seq ?? 0n),
        time: Date.now(),
        bids: side("buy"),
        asks: side("sell"),
      };
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
}

export const depth = publicProcedure
  .input(depthInput)
  .output(depthView)
  .query(async ({ ctx, input }) => {
    const market = await loadMarket(ctx.db, input.market);
    const key = ctx.services.names.redis.book(market.symbol);
    const live = await cachedMarketData<BookSnapshot>(ctx.services, key);
    const book = live ?? (await settledBook(ctx.db, market, input.limit));
    return {
      market: market.symbol,
      seq: book.seq,
      time: book.time,
      bids: book.bids.slice(0, input.limit),
      asks: book.asks.slice(0, input.limit),
      source: live ? "live" : "settled",
    };
  });

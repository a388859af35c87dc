// markets.trades: a market's public trades, newest first, from PostgreSQL (settlement writes
// each exactly once). A trade's id is its engine sequence number, so `before` pages backwards
// through history without gaps or repeats.
import { loadMarket, schema } from "@spotx/db";
import { lotsText, priceText } from "@spotx/protocol";
import { and, desc, eq, lt } from "drizzle-orm";
import { z } from "zod";
import { publicProcedure } from "../../trpc";
import { idField, limitField, marketField, page } from "../fields";

export const tradesInput = z.strictObject({
  market: marketField,
  limit: limitField(1_000, 100),
  /** Trades with a smaller id than this (the previous page's nextCursor). */
  before: idField.optional(),
});

export const publicTrade = z.object({
  id: z.string(),
  /** The engine's time of the match (ms). */
  time: z.number().int(),
  /** The taker's side. */
  side: z.enum(["buy", "sell"]),
  price: z.string(),
  amount: z.string(),
});

export const tradesPage = page(publicTrade);

export const trades = publicProcedure
  .input(tradesInput)
  .output(tradesPage)
  .query(async ({ ctx, input }) => {
    const market = await loadMarket(ctx.db, input.market);
    const t = schema.trades;
    const rows = await ctx.db
      .select({
        id: t.id,
        time: t.createdAt,
        side: t.takerSide,
        price: t.priceTicks,
        lots: t.qtyLots,
      })
      .from(t)
      .where(
        and(
          eq(t.market, market.symbol),
          input.before === undefined ? undefined : lt(t.id, BigInt(input.before)),
        ),
      )
      .orderBy(desc(t.id))
      .limit(input.limit + 1);
    const items = rows.slice(0, input.limit).map((row) => ({
      id: String(row.id),
      time: row.time.getTime(),
      side: row.side,
      price: priceText(row.price, market),
      amount: lotsText(row.lots, market),
    }));
    const last = items.at(-1);
    return { items, nextCursor: rows.length > input.limit && last ? last.id : null };
  });

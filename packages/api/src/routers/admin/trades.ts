// admin.trades.search: trades of any market, filtered by market, user (as maker or taker), order
// and time, newest first, a page at a time (keyset on the trade time, market and id).
import { schema } from "@spotx/db";
import { and, desc, eq, gte, lte, or, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { MarketUnits } from "../../admin/market-units";
import {
  cursorId,
  cursorTimestamp,
  decodeCursor,
  entityId,
  marketSymbol,
  pageFrom,
  pageInput,
  pageOf,
  timeRange,
} from "../../admin/schemas";
import { operatorProcedure } from "../../trpc";

type TradeRow = typeof schema.trades.$inferSelect;

export const adminTrade = z.object({
  market: z.string(),
  id: z.bigint(),
  seq: z.bigint(),
  price: z.string(),
  /** In the base asset. */
  amount: z.string(),
  /** price × amount, in the quote asset. */
  total: z.string(),
  takerSide: z.enum(["buy", "sell"]),
  makerOrderId: z.bigint(),
  takerOrderId: z.bigint(),
  makerUserId: z.bigint(),
  takerUserId: z.bigint(),
  /** The buyer's fee, in the base asset. */
  buyerFee: z.string(),
  /** The seller's fee, in the quote asset. */
  sellerFee: z.string(),
  transferId: z.bigint(),
  createdAt: z.date(),
});
export type AdminTrade = z.infer<typeof adminTrade>;

export function presentTrade(t: TradeRow, units: MarketUnits): AdminTrade {
  const market = units.market(t.market);
  return {
    market: t.market,
    id: t.id,
    seq: t.seq,
    price: units.price(t.market, t.priceTicks),
    amount: units.lots(t.market, t.qtyLots),
    total: units.amount(market.quote, t.quoteAmount),
    takerSide: t.takerSide,
    makerOrderId: t.makerOrderId,
    takerOrderId: t.takerOrderId,
    makerUserId: t.makerUserId,
    takerUserId: t.takerUserId,
    buyerFee: units.amount(market.base, t.buyerFee),
    sellerFee: units.amount(market.quote, t.sellerFee),
    transferId: t.transferId,
    createdAt: t.createdAt,
  };
}

export const searchTradesInput = z
  .object({
    market: marketSymbol.optional(),
    userId: entityId.optional(),
    orderId: entityId.optional(),
    ...timeRange,
    ...pageInput,
  })
  .prefault({});

export const searchTradesProcedure = operatorProcedure
  .input(searchTradesInput)
  .output(pageOf(adminTrade))
  .query(async ({ ctx, input }) => {
    const { trades } = schema;
    let after: SQL | undefined;
    if (input.cursor !== undefined) {
      const [time, market, id] = decodeCursor(input.cursor, 3);
      // Rows strictly after the last one shown in (created_at, market, id) descending order; the
      // time is PostgreSQL's own text of it, microseconds included.
      after = sql`(${trades.createdAt}, ${trades.market}, ${trades.id}) < (${cursorTimestamp(time)}::timestamptz, ${market ?? ""}, ${cursorId(id)})`;
    }
    const where: (SQL | undefined)[] = [
      input.market === undefined ? undefined : eq(trades.market, input.market),
      input.userId === undefined
        ? undefined
        : or(eq(trades.makerUserId, input.userId), eq(trades.takerUserId, input.userId)),
      input.orderId === undefined
        ? undefined
        : or(eq(trades.makerOrderId, input.orderId), eq(trades.takerOrderId, input.orderId)),
      input.from === undefined ? undefined : gte(trades.createdAt, input.from),
      input.to === undefined ? undefined : lte(trades.createdAt, input.to),
      after,
    ];
    const [rows, units] = await Promise.all([
      ctx.db
        .select({ trade: trades, at: sql<string>`${trades.createdAt}::text` })
        .from(trades)
        .where(and(...where))
        .orderBy(desc(trades.createdAt), desc(trades.market), desc(trades.id))
        .limit(input.limit + 1),
      MarketUnits.load(ctx.db),
    ]);
    return pageFrom(
      rows,
      input.limit,
      (row) => presentTrade(row.trade, units),
      (row) => [row.at, row.trade.market, row.trade.id.toString()],
    );
  });

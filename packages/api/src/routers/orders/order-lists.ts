// orders.open and orders.history: the signed-in user's own orders from PostgreSQL, newest
// first, a page at a time (the cursor is the last order id of the previous page; ids only grow).
import { loadMarket, schema } from "@spotx/db";
import { and, desc, eq, gte, inArray, lt, lte } from "drizzle-orm";
import { z } from "zod";
import { ApiError } from "../../errors";
import { protectedProcedure } from "../../trpc";
import { idField, limitField, marketField, page, unixSeconds } from "../fields";
import { orderView, toOrderViews } from "./order-view";

export const openOrdersInput = z
  .strictObject({
    market: marketField.optional(),
    limit: limitField(500, 100),
    cursor: idField.optional(),
  })
  .default({ limit: 100 });

export const orderHistoryInput = z
  .strictObject({
    market: marketField.optional(),
    side: z.enum(["buy", "sell"]).optional(),
    /** Orders placed at or after / before this time (seconds). */
    from: unixSeconds.optional(),
    to: unixSeconds.optional(),
    limit: limitField(500, 100),
    cursor: idField.optional(),
  })
  .default({ limit: 100 });

export const ordersPage = page(orderView);

const LIVE = ["pending", "open"] as const;
const ENDED = ["closed", "cancelled", "rejected"] as const;

export const open = protectedProcedure
  .input(openOrdersInput)
  .output(ordersPage)
  .query(async ({ ctx, input }) => {
    // An unknown market is a mistake to say, not an empty list (gate.io: INVALID_CURRENCY_PAIR).
    if (input.market !== undefined) await loadMarket(ctx.db, input.market);
    const o = schema.orders;
    const rows = await ctx.db
      .select()
      .from(o)
      .where(
        and(
          eq(o.userId, ctx.session.userId),
          inArray(o.status, [...LIVE]),
          input.market === undefined ? undefined : eq(o.market, input.market),
          input.cursor === undefined ? undefined : lt(o.id, BigInt(input.cursor)),
        ),
      )
      .orderBy(desc(o.id))
      .limit(input.limit + 1);
    return ordersPageOf(ctx.db, rows, input.limit);
  });

export const history = protectedProcedure
  .input(orderHistoryInput)
  .output(ordersPage)
  .query(async ({ ctx, input }) => {
    if (input.from !== undefined && input.to !== undefined && input.from > input.to) {
      throw new ApiError("INVALID_PARAM_VALUE", "from is after to");
    }
    if (input.market !== undefined) await loadMarket(ctx.db, input.market);
    const o = schema.orders;
    const rows = await ctx.db
      .select()
      .from(o)
      .where(
        and(
          eq(o.userId, ctx.session.userId),
          inArray(o.status, [...ENDED]),
          input.market === undefined ? undefined : eq(o.market, input.market),
          input.side === undefined ? undefined : eq(o.side, input.side),
          input.from === undefined ? undefined : gte(o.createdAt, new Date(input.from * 1000)),
          input.to === undefined ? undefined : lte(o.createdAt, new Date(input.to * 1000)),
          input.cursor === undefined ? undefined : lt(o.id, BigInt(input.cursor)),
        ),
      )
      .orderBy(desc(o.id))
      .limit(input.limit + 1);
    return ordersPageOf(ctx.db, rows, input.limit);
  });

async function ordersPageOf(
  db: Parameters<typeof toOrderViews>[0],
  rows: (typeof schema.orders.$inferSelect)[],
  limit: number,
) {
  const items = await toOrderViews(db, rows.slice(0, limit));
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? last.id : null };
}

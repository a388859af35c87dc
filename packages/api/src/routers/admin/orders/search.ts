// admin.orders.search: orders of any user, filtered by user, market, status, side, type, client
// text and time, newest first, a page at a time (keyset on the order id, so pages stay stable
// while orders keep arriving).
import { type Order, schema } from "@spotx/db";
import { and, desc, eq, gte, inArray, lt, lte, type SQL } from "drizzle-orm";
import { z } from "zod";
import { MarketUnits } from "../../../admin/market-units";
import {
  cursorId,
  decodeCursor,
  entityId,
  marketSymbol,
  pageFrom,
  pageInput,
  pageOf,
  timeRange,
} from "../../../admin/schemas";
import { operatorProcedure } from "../../../trpc";

export const ORDER_STATUSES = ["pending", "open", "closed", "cancelled", "rejected"] as const;

export const adminOrder = z.object({
  id: z.bigint(),
  userId: z.bigint(),
  market: z.string(),
  side: z.enum(["buy", "sell"]),
  type: z.enum(["limit", "market"]),
  timeInForce: z.enum(["gtc", "ioc", "poc", "fok"]),
  /** Null for a market order. */
  price: z.string().nullable(),
  /** In the base asset, or in the quote asset for a market buy (see amountAsset). */
  amount: z.string(),
  amountAsset: z.string(),
  filledAmount: z.string(),
  filledTotal: z.string(),
  fee: z.string(),
  feeAsset: z.string(),
  holdAsset: z.string(),
  hold: z.string(),
  holdRemaining: z.string(),
  status: z.enum(ORDER_STATUSES),
  finishAs: z.string(),
  text: z.string().nullable(),
  rejectReason: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type AdminOrder = z.infer<typeof adminOrder>;

export function presentOrder(o: Order, units: MarketUnits): AdminOrder {
  const market = units.market(o.market);
  const quoteAmount = o.type === "market" && o.side === "buy";
  return {
    id: o.id,
    userId: o.userId,
    market: o.market,
    side: o.side,
    type: o.type,
    timeInForce: o.timeInForce,
    price: o.priceTicks === null ? null : units.price(o.market, o.priceTicks),
    amount: quoteAmount ? units.amount(market.quote, o.amount) : units.lots(o.market, o.amount),
    amountAsset: quoteAmount ? market.quote : market.base,
    filledAmount: units.lots(o.market, o.filledBaseLots),
    filledTotal: units.amount(market.quote, o.filledQuote),
    fee: units.amount(o.feeAsset, o.fee),
    feeAsset: o.feeAsset,
    holdAsset: o.holdAsset,
    hold: units.amount(o.holdAsset, o.holdAmount),
    holdRemaining: units.amount(o.holdAsset, o.holdRemaining),
    status: o.status,
    finishAs: o.finishAs,
    text: o.text,
    rejectReason: o.rejectReason,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
  };
}

export const searchOrdersInput = z
  .object({
    userId: entityId.optional(),
    market: marketSymbol.optional(),
    status: z.array(z.enum(ORDER_STATUSES)).min(1).max(5).optional(),
    side: z.enum(["buy", "sell"]).optional(),
    type: z.enum(["limit", "market"]).optional(),
    /** The client's order text (gate.io's `text`, "t-…"). */
    text: z.string().min(1).max(30).optional(),
    ...timeRange,
    ...pageInput,
  })
  .prefault({});

export const searchOrdersProcedure = operatorProcedure
  .input(searchOrdersInput)
  .output(pageOf(adminOrder))
  .query(async ({ ctx, input }) => {
    const { orders } = schema;
    const where: (SQL | undefined)[] = [
      input.userId === undefined ? undefined : eq(orders.userId, input.userId),
      input.market === undefined ? undefined : eq(orders.market, input.market),
      input.status === undefined ? undefined : inArray(orders.status, input.status),
      input.side === undefined ? undefined : eq(orders.side, input.side),
      input.type === undefined ? undefined : eq(orders.type, input.type),
      input.text === undefined ? undefined : eq(orders.text, input.text),
      input.from === undefined ? undefined : gte(orders.createdAt, input.from),
      input.to === undefined ? undefined : lte(orders.createdAt, input.to),
      input.cursor === undefined
        ? undefined
        : lt(orders.id, cursorId(decodeCursor(input.cursor, 1)[0])),
    ];
    const [rows, units] = await Promise.all([
      ctx.db
        .select()
        .from(orders)
        .where(and(...where))
        .orderBy(desc(orders.id))
        .limit(input.limit + 1),
      MarketUnits.load(ctx.db),
    ]);
    return pageFrom(
      rows,
      input.limit,
      (o) => presentOrder(o, units),
      (o) => [o.id.toString()],
    );
  });

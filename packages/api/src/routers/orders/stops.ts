// Stop-limit orders for the trade page: gate.io's price-triggered orders (the REST door's
// /spot/price_orders) through the same trading service — orders.placeStop, orders.stops and
// orders.cancelStop. A stop waits with nothing held; when the market's last trade price reaches
// its trigger, the engine fires it and its limit order is placed like any other (held then: if
// the funds are gone it ends `failed`, with the reason). Every create and cancel is announced on
// Redis exactly as the REST door announces it (announcePriceOrderChanges).
//
// The trigger rule: given, or — left out — the classic stop, by side: a buy fires when the last
// price rises to the trigger (">="), a sell when it falls to it ("<="). The answer always carries
// the rule, so the page can say it in words ("when last price ≥ 70,000"). A take-profit style
// order (buy on a dip, sell on a rise) gives the rule. Like gate.io, a trigger the last price
// already meets is not refused: the stop fires on the next trade.
import { loadMarket, loadMarkets, type MarketSpec, schema } from "@spotx/db";
import type { PriceOrder } from "@spotx/db/price-orders";
import { logger } from "@spotx/platform/logger";
import { lotsText, priceText, quoteText } from "@spotx/protocol";
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { Context } from "../../context";
import { ApiError } from "../../errors";
import { announcePriceOrderChanges } from "../../trading/price-order-announcements";
import { activeProcedure, protectedProcedure } from "../../trpc";
import { decimalField, idField, limitField, marketField } from "../fields";

const log = logger("orders.stops");

export const placeStopInput = z.strictObject({
  market: marketField,
  side: z.enum(["buy", "sell"]),
  /** The last trade price that fires it. */
  triggerPrice: decimalField,
  /** ">=": fires at or above the trigger; "<=": at or below. Absent: buy ">=", sell "<=". */
  rule: z.enum([">=", "<="]).optional(),
  /** The limit price of the order placed when it fires. */
  price: decimalField,
  /** In the base asset. */
  amount: decimalField,
  /** Of the order placed when it fires (gtc by default). */
  timeInForce: z.enum(["gtc", "ioc"]).optional(),
  /** Seconds it waits before expiring; absent or 0: never. */
  expiration: z
    .number()
    .int()
    .min(0)
    .max(365 * 86_400)
    .optional(),
});

export const stopsInput = z.strictObject({
  market: marketField,
  /** How many of the most recently finished stops to show with the waiting ones. */
  limit: limitField(100, 20),
});

export const cancelStopInput = z.strictObject({ id: idField });

export const stopView = z.object({
  id: z.string(),
  market: z.string(),
  side: z.enum(["buy", "sell"]),
  /** `limit` from this page; a `market` one may have been placed through the REST API. */
  type: z.enum(["limit", "market"]),
  triggerPrice: z.string(),
  rule: z.enum([">=", "<="]),
  /** Limit price; null for a market order. */
  price: z.string().nullable(),
  /** In the base asset, except a market buy's: the quote amount to spend (gate.io's rule). */
  amount: z.string(),
  amountAsset: z.string(),
  timeInForce: z.enum(["gtc", "ioc", "poc", "fok"]),
  /** gate.io's statuses: `open` while it waits (or has fired and its order is being placed). */
  status: z.enum(["open", "cancelled", "finish", "failed", "expired"]),
  /** Why it ended (cancelled by the user, expired, the placement's refusal); null while open. */
  reason: z.string().nullable(),
  /** The order placed when it fired. */
  firedOrderId: z.string().nullable(),
  createTime: z.number().int(),
  finishTime: z.number().int().nullable(),
  /** When it expires, if it does. */
  expireTime: z.number().int().nullable(),
});
export type StopView = z.infer<typeof stopView>;

export function toStopView(p: PriceOrder, m: MarketSpec): StopView {
  const marketBuy = p.type === "market" && p.side === "buy";
  return {
    id: String(p.id),
    market: p.market,
    side: p.side,
    type: p.type,
    triggerPrice: priceText(p.triggerPriceTicks, m),
    rule: p.rule === "gte" ? ">=" : "<=",
    price: p.priceTicks === null ? null : priceText(p.priceTicks, m),
    amount: marketBuy ? quoteText(p.amount, m) : lotsText(p.amount, m),
    amountAsset: marketBuy ? m.quote : m.base,
    timeInForce: p.timeInForce,
    status: p.status === "triggered" ? "open" : p.status,
    reason: p.reason,
    firedOrderId: p.firedOrderId === null ? null : String(p.firedOrderId),
    createTime: p.createdAt.getTime(),
    finishTime: p.finishedAt === null ? null : p.finishedAt.getTime(),
    expireTime: p.expiresAt === null ? null : p.expiresAt.getTime(),
  };
}

async function toStopViews(ctx: Context, rows: readonly PriceOrder[]): Promise<StopView[]> {
  const markets = await loadMarkets(ctx.db, [...new Set(rows.map((row) => row.market))]);
  return rows.map((row) => {
    const m = markets.get(row.market);
    if (!m) throw new Error(`stop order ${row.id}: market ${row.market} not found`);
    return toStopView(row, m);
  });
}

const announcer = (ctx: Context) => ({ redis: ctx.services.redis, names: ctx.services.names, log });

export const placeStop = activeProcedure
  .input(placeStopInput)
  .output(stopView)
  .mutation(async ({ ctx, input }) => {
    const created = await ctx.services.trading.placePriceOrder(ctx.session.userId, {
      market: input.market,
      trigger: {
        price: input.triggerPrice,
        rule: input.rule ?? (input.side === "buy" ? ">=" : "<="),
        ...(input.expiration !== undefined ? { expiration: input.expiration } : {}),
      },
      put: {
        type: "limit",
        side: input.side,
        price: input.price,
        amount: input.amount,
        ...(input.timeInForce !== undefined ? { timeInForce: input.timeInForce } : {}),
        // gate.io's put.text says where it came from, as an order's text does (`web`).
        text: "web",
      },
    });
    await announcePriceOrderChanges(announcer(ctx), [created]);
    return toStopView(created, await loadMarket(ctx.db, created.market));
  });

export const stops = protectedProcedure
  .input(stopsInput)
  .output(z.object({ waiting: z.array(stopView), finished: z.array(stopView) }))
  .query(async ({ ctx, input }) => {
    // An unknown market is a mistake to say, not an empty list (gate.io: INVALID_CURRENCY_PAIR).
    const m = await loadMarket(ctx.db, input.market);
    const p = schema.priceOrders;
    const mine = and(eq(p.userId, ctx.session.userId), eq(p.market, m.symbol));
    // At most MAX_OPEN_PRICE_ORDERS wait per user and market: all of them, newest first.
    const waiting = await ctx.db
      .select()
      .from(p)
      .where(and(mine, inArray(p.status, ["open", "triggered"])))
      .orderBy(desc(p.id));
    const finished = await ctx.db
      .select()
      .from(p)
      .where(and(mine, inArray(p.status, ["cancelled", "finish", "failed", "expired"])))
      .orderBy(sql`${p.finishedAt} DESC NULLS LAST`, desc(p.id))
      .limit(input.limit);
    return {
      waiting: waiting.map((row) => toStopView(row, m)),
      finished: finished.map((row) => toStopView(row, m)),
    };
  });

export const cancelStop = activeProcedure
  .input(cancelStopInput)
  .output(stopView)
  .mutation(async ({ ctx, input }) => {
    const userId = ctx.session.userId;
    const id = BigInt(input.id);
    const [cancelled] = await ctx.services.trading.cancelPriceOrders(userId, { id });
    if (cancelled) {
      await announcePriceOrderChanges(announcer(ctx), [cancelled]);
      const [view] = await toStopViews(ctx, [cancelled]);
      if (!view) throw new Error(`stop order ${id} could not be presented`);
      return view;
    }
    // Not cancelled: someone else's (not found either), or it fired or ended first.
    const p = schema.priceOrders;
    const [found] = await ctx.db
      .select({ status: p.status })
      .from(p)
      .where(and(eq(p.id, id), eq(p.userId, userId)))
      .limit(1);
    if (!found) throw new ApiError("ORDER_NOT_FOUND", `stop order ${id} not found`);
    throw new ApiError(
      "ORDER_CLOSED",
      found.status === "triggered"
        ? `stop order ${id} has fired; its order is being placed`
        : `stop order ${id} is ${found.status === "finish" ? "finished" : found.status}`,
    );
  });

// An order as the trader's pages show it: amounts and prices as decimal strings at the market's
// precision, spotx's own statuses (gate.io's plus `pending`, not yet accepted by the engine, and
// `rejected`), times in ms.
import { type Database, loadMarkets, type MarketSpec, type Order } from "@spotx/db";
import { averagePriceText, baseText, lotsText, priceText, quoteText } from "@spotx/protocol";
import { z } from "zod";

export const orderView = z.object({
  id: z.string(),
  /** The client order id ("t-…"), when given. */
  text: z.string().nullable(),
  market: z.string(),
  side: z.enum(["buy", "sell"]),
  type: z.enum(["limit", "market"]),
  timeInForce: z.enum(["gtc", "ioc", "poc", "fok"]),
  /** Limit price; null for a market order. */
  price: z.string().nullable(),
  /** In the base asset, except a market buy's: the quote amount to spend (gate.io's rule). */
  amount: z.string(),
  /** Which asset `amount` and `left` are in. */
  amountAsset: z.string(),
  left: z.string(),
  filledAmount: z.string(),
  filledTotal: z.string(),
  /** "0" before the first fill. */
  avgDealPrice: z.string(),
  fee: z.string(),
  feeAsset: z.string(),
  status: z.enum(["pending", "open", "closed", "cancelled", "rejected"]),
  /**
   * `delisted`: cancelled by the market's delisting; `market_rules`: cancelled by a rules change
   * (off the new tick or lot). gate.io's wire says "cancelled" for both.
   */
  finishAs: z.enum([
    "open",
    "filled",
    "cancelled",
    "ioc",
    "poc",
    "fok",
    "stp",
    "rejected",
    "delisted",
    "market_rules",
  ]),
  rejectReason: z.string().nullable(),
  createTime: z.number().int(),
  updateTime: z.number().int(),
});
export type OrderView = z.infer<typeof orderView>;

export function toOrderView(order: Order, m: MarketSpec): OrderView {
  const marketBuy = order.type === "market" && order.side === "buy";
  const amountText = marketBuy ? quoteText : lotsText;
  const left = marketBuy ? order.amount - order.filledQuote : order.amount - order.filledBaseLots;
  return {
    id: String(order.id),
    text: order.text,
    market: order.market,
    side: order.side,
    type: order.type,
    timeInForce: order.timeInForce,
    price: order.priceTicks === null ? null : priceText(order.priceTicks, m),
    amount: amountText(order.amount, m),
    amountAsset: marketBuy ? m.quote : m.base,
    left: amountText(left > 0n ? left : 0n, m),
    filledAmount: lotsText(order.filledBaseLots, m),
    filledTotal: quoteText(order.filledQuote, m),
    avgDealPrice: averagePriceText(order.filledQuote, order.filledBaseLots, m),
    fee: order.feeAsset === m.base ? baseText(order.fee, m) : quoteText(order.fee, m),
    feeAsset: order.feeAsset,
    status: order.status,
    finishAs: order.finishAs,
    rejectReason: order.rejectReason,
    createTime: order.createdAt.getTime(),
    updateTime: order.updatedAt.getTime(),
  };
}

/** The markets of `orders`, to present them. */
export async function marketsOf(
  db: Database,
  rows: readonly { market: string }[],
): Promise<Map<string, MarketSpec>> {
  return loadMarkets(db, [...new Set(rows.map((row) => row.market))]);
}

/** Presents orders; every order's market exists (a foreign key), so none is left out. */
export async function toOrderViews(db: Database, orders: readonly Order[]): Promise<OrderView[]> {
  const markets = await marketsOf(db, orders);
  return orders.map((order) => {
    const market = markets.get(order.market);
    if (!market) throw new Error(`order ${order.id}: market ${order.market} not found`);
    return toOrderView(order, market);
  });
}

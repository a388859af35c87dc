// Trading for settlement tests: place orders through the real ledger and build engine events.
import { sql } from "drizzle-orm";
import type { Database } from "../src/client";
import type { MarketSpec } from "../src/markets";
import type { Order } from "../src/orders";
import { placeOrderHold } from "../src/placement";
import type { SettlementEvent, TradeEvent } from "../src/settlement";
import { parseDecimal, quoteMinorFor } from "../src/units";

export async function placeLimit(
  db: Database,
  market: MarketSpec,
  userId: bigint,
  side: "buy" | "sell",
  amount: string,
  price: string,
): Promise<Order> {
  const placed = await placeOrderHold(db, {
    userId,
    market: market.symbol,
    side,
    type: "limit",
    priceTicks: parseDecimal(price, market.pricePrecision),
    amount: parseDecimal(amount, market.amountPrecision),
  });
  return placed.order;
}

export async function placeMarket(
  db: Database,
  market: MarketSpec,
  userId: bigint,
  side: "buy" | "sell",
  /** Quote units to spend for a buy, base units to sell for a sell. */
  amount: string,
): Promise<Order> {
  const placed = await placeOrderHold(db, {
    userId,
    market: market.symbol,
    side,
    type: "market",
    amount: parseDecimal(amount, side === "buy" ? market.quoteDecimals : market.amountPrecision),
  });
  return placed.order;
}

let tradeIds = 0n;

/** A trade event between a resting maker and an incoming taker, at the maker's price. */
export function tradeEvent(
  market: MarketSpec,
  seq: bigint,
  maker: Order,
  taker: Order,
  amount: string,
  price: string,
): TradeEvent {
  const priceTicks = parseDecimal(price, market.pricePrecision);
  const qtyLots = parseDecimal(amount, market.amountPrecision);
  tradeIds += 1n;
  return {
    kind: "trade",
    seq,
    tradeId: tradeIds,
    makerOrderId: maker.id,
    takerOrderId: taker.id,
    makerUserId: maker.userId,
    takerUserId: taker.userId,
    takerSide: taker.side,
    priceTicks,
    qtyLots,
    quoteAmount: quoteMinorFor(priceTicks, qtyLots, market),
    time: new Date("2025-01-02T03:04:05.678Z"),
  };
}

export async function lastSeq(db: Database, market: string): Promise<bigint> {
  const found = await db.execute<{ last_seq: bigint }>(
    sql`SELECT last_seq FROM market_sequences WHERE market = ${market}`,
  );
  return found.rows[0]?.last_seq ?? 0n;
}

export async function orderRow(db: Database, id: bigint) {
  const found = await db.execute<{
    status: string;
    finish_as: string;
    filled_base_lots: bigint;
    filled_quote: bigint;
    fee: bigint;
    hold_remaining: bigint;
    reject_reason: string | null;
  }>(sql`SELECT status, finish_as, filled_base_lots, filled_quote, fee, hold_remaining, reject_reason
           FROM orders WHERE id = ${id}`);
  return found.rows[0];
}

export type { SettlementEvent };

// Placing an order: in one transaction, hold the funds the order may spend (available →
// locked), insert the order and insert the outbox row that will carry it to the engine. Nothing
// reaches Kafka that is not already durable here, and no order exists without its hold.
import { sql } from "drizzle-orm";
import type { Database } from "./client";
import { LedgerError } from "./errors";
import { holdFunds, requireActiveUser, retryTransaction, type TransferOutcome } from "./ledger";
import { loadMarket, type MarketSpec } from "./markets";
import { orders, outbox } from "./schema";
import type { Side } from "./settlement";
import { lotsToBaseMinor, quoteMinorFor } from "./units";

export type Order = typeof orders.$inferSelect;
export type OrderType = "limit" | "market";
export type TimeInForce = "gtc" | "ioc" | "poc" | "fok";

export type PlaceOrderInput = {
  userId: bigint;
  market: string;
  side: Side;
  type: OrderType;
  /** Defaults to gtc for limit orders and ioc for market orders. */
  timeInForce?: TimeInForce;
  /** Limit price in ticks; absent for market orders. */
  priceTicks?: bigint | null;
  /** Lots; for a market buy, quote minor units to spend. */
  amount: bigint;
  /** Client order id (gate.io `text`), unique per user. */
  text?: string | null;
  stpAct?: "cn" | "co" | "cb" | null;
  /** The command to publish, written to the outbox in the same transaction. */
  outbox?: {
    topic: string;
    /** Defaults to the market symbol, so one market's commands stay in order. */
    key?: string;
    headers?: Record<string, string>;
    payload: (order: Order) => unknown;
  };
};

/** jsonb cannot hold bigint: amounts travel as decimal strings, as on gate.io's wire. */
export function jsonSafe(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v)));
}

export type PlacedOrder = { order: Order; hold: TransferOutcome; outboxId: bigint | null };

/** What an order must lock: the most it can spend. Fees are never held (they come out of what is received). */
export function orderHold(
  market: MarketSpec,
  order: { side: Side; type: OrderType; priceTicks: bigint | null; amount: bigint },
): { asset: string; amount: bigint } {
  if (order.side === "buy") {
    if (order.type === "market") return { asset: market.quote, amount: order.amount };
    return {
      asset: market.quote,
      amount: quoteMinorFor(order.priceTicks ?? 0n, order.amount, market),
    };
  }
  return { asset: market.base, amount: lotsToBaseMinor(order.amount, market) };
}

function validate(market: MarketSpec, input: PlaceOrderInput) {
  const bad = (message: string) => new LedgerError("INVALID_PARAM_VALUE", message);
  if (market.status !== "trading") {
    throw new LedgerError("INVALID_CURRENCY_PAIR", `${market.symbol} is halted`);
  }
  if (input.amount <= 0n) throw bad("amount must be positive");
  const tif = input.timeInForce ?? (input.type === "limit" ? "gtc" : "ioc");
  if (input.type === "limit") {
    if (input.priceTicks === undefined || input.priceTicks === null || input.priceTicks <= 0n) {
      throw bad("a limit order needs a positive price");
    }
    if (input.amount < market.minBaseLots) {
      throw new LedgerError("AMOUNT_TOO_LITTLE", `amount is below ${market.symbol}'s minimum`);
    }
    if (quoteMinorFor(input.priceTicks, input.amount, market) < market.minQuoteAmount) {
      throw new LedgerError("AMOUNT_TOO_LITTLE", `order value is below ${market.symbol}'s minimum`);
    }
  } else {
    if (input.priceTicks !== undefined && input.priceTicks !== null) {
      throw bad("a market order has no price");
    }
    if (tif !== "ioc" && tif !== "fok") throw bad("a market order is ioc or fok");
    const minimum = input.side === "buy" ? market.minQuoteAmount : market.minBaseLots;
    if (input.amount < minimum) {
      throw new LedgerError("AMOUNT_TOO_LITTLE", `amount is below ${market.symbol}'s minimum`);
    }
  }
  return tif;
}

/**
 * Places an order: holds its funds (BALANCE_NOT_ENOUGH when available is short), inserts it
 * as `pending` with a database-assigned id, and writes its outbox row — one transaction.
 */
export async function placeOrderHold(db: Database, input: PlaceOrderInput): Promise<PlacedOrder> {
  return retryTransaction(() =>
    db.transaction(async (tx) => {
      const market = await loadMarket(tx, input.market);
      const timeInForce = validate(market, input);
      await requireActiveUser(tx, input.userId);
      const priceTicks = input.type === "limit" ? (input.priceTicks ?? null) : null;
      const hold = orderHold(market, { ...input, priceTicks });
      const inserted = await tx
        .insert(orders)
        .values({
          userId: input.userId,
          market: market.symbol,
          side: input.side,
          type: input.type,
          timeInForce,
          priceTicks,
          amount: input.amount,
          feeAsset: input.side === "buy" ? market.base : market.quote,
          holdAsset: hold.asset,
          holdAmount: hold.amount,
          holdRemaining: hold.amount,
          text: input.text ?? null,
          stpAct: input.stpAct ?? null,
        })
        .onConflictDoNothing({ target: [orders.userId, orders.text], where: sql`text IS NOT NULL` })
        .returning();
      const order = inserted[0];
      if (!order) {
        throw new LedgerError(
          "INVALID_PARAM_VALUE",
          `text ${input.text} is already used by another order`,
        );
      }
      const held = await holdFunds(tx, {
        userId: input.userId,
        asset: hold.asset,
        amount: hold.amount,
        ref: `order:${order.id}:hold`,
        kind: "order_hold",
      });
      let outboxId: bigint | null = null;
      if (input.outbox) {
        const written = await tx
          .insert(outbox)
          .values({
            topic: input.outbox.topic,
            key: input.outbox.key ?? market.symbol,
            payload: jsonSafe(input.outbox.payload(order)),
            headers: input.outbox.headers ?? {},
          })
          .returning({ id: outbox.id });
        outboxId = written[0]?.id ?? null;
      }
      return { order, hold: held, outboxId };
    }),
  );
}

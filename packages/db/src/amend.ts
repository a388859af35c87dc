// An amend request (gate.io's PATCH /spot/orders/{id}): one transaction that queues the engine's
// amend command on the outbox and, when the amended order could spend more than it holds, locks
// the difference first — so the engine never works an order its hold cannot pay for. The engine
// decides what the amend does (it may trade, cancel the order, or refuse); settlement applies
// its answer: the hold then becomes exactly what the order still needs and the rest returns to
// available, or on a refusal what this request reserved returns (settlement.ts, order_amended /
// amend_rejected).
//
// One amend at a time per order: while the engine has not answered one, the next is told to wait
// (`busy`). What a request must reserve is bounded by the order as PostgreSQL knows it — fills
// the engine made but settlement has not applied yet only lower what the order needs — and that
// bound holds only when no other amend is between the row and the engine.
import { sql } from "drizzle-orm";
import type { Database } from "./client";
import { LedgerError } from "./errors";
import { holdFunds, retryTransaction } from "./ledger";
import type { MarketSpec } from "./markets";
import { type OrderRow, orderFromRow } from "./order-rows";
import { jsonSafe, type Order } from "./orders";
import { lotsToBaseMinor, quoteMinorFor } from "./units";

export type AmendRequest = {
  userId: bigint;
  orderId: bigint;
  /** The new limit price in ticks; null keeps it. */
  priceTicks: bigint | null;
  /** The order's new WHOLE amount in lots (gate.io's meaning); null keeps it. */
  amount: bigint | null;
  /** gate.io's amend_text, kept on the order. */
  amendText: string | null;
  /** The orders topic, and the engine command to queue (built from the order found). */
  topic: string;
  command: (order: Order) => unknown;
};

export type AmendOutcome =
  /** Queued: the order as it stands, with what the request reserved. */
  | { status: "queued"; order: Order }
  /** An earlier amend of the order is still with the engine. */
  | { status: "busy"; order: Order };

/** The most a resting order can still spend once amended as asked, at the worst fill price. */
function reserveFor(order: Order, request: AmendRequest, market: MarketSpec): bigint {
  const amount = request.amount ?? order.amount;
  const left = amount - order.filledBaseLots;
  if (left <= 0n) return 0n; // the engine cancels it
  if (order.side === "sell") return lotsToBaseMinor(left, market);
  // Until the engine applies the amend, the order may still fill at its old price; after, at
  // its new one: the hold must cover what is left at the higher of the two.
  const old = order.priceTicks ?? 0n;
  const price = request.priceTicks ?? old;
  return quoteMinorFor(price > old ? price : old, left, market);
}

export async function requestAmend(
  db: Database,
  market: MarketSpec,
  request: AmendRequest,
): Promise<AmendOutcome> {
  return retryTransaction(() =>
    db.transaction(async (tx) => {
      const found = await tx.execute<OrderRow>(sql`
        SELECT * FROM orders
         WHERE id = ${request.orderId} AND user_id = ${request.userId}
           AND market = ${market.symbol}
           FOR UPDATE`);
      const row = found.rows[0];
      if (!row) {
        throw new LedgerError("ORDER_NOT_FOUND", `no order ${request.orderId} in ${market.symbol}`);
      }
      const order = orderFromRow(row);
      if (order.status !== "pending" && order.status !== "open") {
        throw new LedgerError("ORDER_CLOSED", `order ${order.id} is already ${order.status}`);
      }
      if (order.type !== "limit") {
        throw new LedgerError("INVALID_PARAM_VALUE", "only a limit order can be amended");
      }
      if (order.amendPending) return { status: "busy", order };

      const reserve = reserveFor(order, request, market) - order.holdRemaining;
      const extra = reserve > 0n ? reserve : 0n;
      const queued = await tx.execute<{ id: bigint }>(sql`
        INSERT INTO outbox (topic, key, payload)
        VALUES (${request.topic}, ${market.symbol},
                ${JSON.stringify(jsonSafe(request.command(order)))}::jsonb)
        RETURNING id`);
      const outboxId = queued.rows[0]?.id;
      if (extra > 0n) {
        await holdFunds(tx, {
          userId: order.userId,
          asset: order.holdAsset,
          amount: extra,
          ref: `order:${order.id}:amend-hold:${outboxId}`,
          kind: "order_hold",
        });
      }
      const updated = await tx.execute<OrderRow>(sql`
        UPDATE orders
           SET hold_amount = hold_amount + ${extra}, hold_remaining = hold_remaining + ${extra},
               amend_reserved = ${extra}, amend_pending = true,
               amend_text = coalesce(${request.amendText}::text, amend_text), updated_at = now()
         WHERE id = ${order.id}
        RETURNING *`);
      const amended = updated.rows[0];
      if (!amended) throw new LedgerError("ORDER_NOT_FOUND", `order ${order.id} vanished`);
      return { status: "queued", order: orderFromRow(amended) };
    }),
  );
}

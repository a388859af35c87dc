// gate.io's price-triggered orders (`/spot/price_orders`) in PostgreSQL. Nothing is held while
// one waits (GATE_API_MORE.md, spotx's decisions). Its life:
//   - created `open`, with the engine's `arm` command on the outbox, in one transaction;
//   - cancelled or expired while `open`: the status changes and a `disarm` command is queued, in
//     one transaction — whichever of that and the engine's firing reaches the row first wins;
//   - fired by the engine in the market's sequence: settlement marks it `triggered` in the batch
//     that applies the `fired` event (settlement.ts), only if it is still `open`;
//   - then placed (placeTriggered): its order is held, recorded and queued like any other, and
//     the price order ends `finish` with `fired_order_id` — or, if the placement is refused (the
//     funds are not there), `failed` with the refusal in `reason` — in one transaction that
//     takes the row only while it is `triggered`, so it happens once.
import { sql } from "drizzle-orm";
import type { Database } from "./client";
import { isLedgerError, LedgerError } from "./errors";
import { jsonSafe, type PlaceOrderInput } from "./orders";
import { placeOrderHold } from "./placement";
import type { priceOrders } from "./schema";

export type PriceOrder = typeof priceOrders.$inferSelect;

type PriceOrderRow = {
  id: bigint;
  user_id: bigint;
  market: string;
  trigger_price_ticks: bigint;
  rule: PriceOrder["rule"];
  expiration_seconds: number;
  expires_at: Date | string | null;
  side: PriceOrder["side"];
  type: PriceOrder["type"];
  price_ticks: bigint | null;
  amount: bigint;
  time_in_force: PriceOrder["timeInForce"];
  text: string | null;
  status: PriceOrder["status"];
  reason: string | null;
  fired_order_id: bigint | null;
  fired_seq: bigint | null;
  created_at: Date | string;
  finished_at: Date | string | null;
};

const date = (value: Date | string | null) => (value === null ? null : new Date(value));

export function priceOrderFromRow(r: PriceOrderRow): PriceOrder {
  return {
    id: r.id,
    userId: r.user_id,
    market: r.market,
    triggerPriceTicks: r.trigger_price_ticks,
    rule: r.rule,
    expirationSeconds: r.expiration_seconds,
    expiresAt: date(r.expires_at),
    side: r.side,
    type: r.type,
    priceTicks: r.price_ticks,
    amount: r.amount,
    timeInForce: r.time_in_force,
    text: r.text,
    status: r.status,
    reason: r.reason,
    firedOrderId: r.fired_order_id,
    firedSeq: r.fired_seq,
    createdAt: new Date(r.created_at),
    finishedAt: date(r.finished_at),
  };
}

/** The outbox side of a change: the orders topic and the command for one price order. */
export type PriceOrderCommand = { topic: string; command: (order: PriceOrder) => unknown };

export type NewPriceOrder = {
  userId: bigint;
  market: string;
  triggerPriceTicks: bigint;
  rule: PriceOrder["rule"];
  /** 0: never expires. */
  expirationSeconds: number;
  side: PriceOrder["side"];
  type: PriceOrder["type"];
  priceTicks: bigint | null;
  amount: bigint;
  timeInForce: PriceOrder["timeInForce"];
  text: string | null;
  /** Most open price orders the user may have in the market. */
  maxOpen: number;
};

const payload = (arm: PriceOrderCommand, order: PriceOrder) =>
  JSON.stringify(jsonSafe(arm.command(order)));

/** Records an open price order and queues its `arm` command, in one transaction. */
export async function createPriceOrder(
  db: Database,
  input: NewPriceOrder,
  arm: PriceOrderCommand,
): Promise<PriceOrder | "too_many"> {
  return db.transaction(async (tx) => {
    // Counted under the user's row lock, so concurrent creations cannot overshoot the cap.
    await tx.execute(sql`SELECT 1 FROM users WHERE id = ${input.userId} FOR UPDATE`);
    // Under the market's row lock (shared): a delisting (which takes it exclusively) either sees
    // this price order open, and its settlement ends it, or this one sees the market closed.
    const market = await tx.execute<{ status: string }>(
      sql`SELECT status FROM markets WHERE symbol = ${input.market} FOR SHARE`,
    );
    if (market.rows[0]?.status === "closed") {
      throw new LedgerError("MARKET_CLOSED", `${input.market} was delisted: it takes no orders`);
    }
    const open = await tx.execute<{ n: number }>(sql`
      SELECT count(*)::int AS n FROM price_orders
       WHERE user_id = ${input.userId} AND market = ${input.market}
         AND status IN ('open', 'triggered')`);
    if ((open.rows[0]?.n ?? 0) >= input.maxOpen) return "too_many";
    const inserted = await tx.execute<PriceOrderRow>(sql`
      INSERT INTO price_orders (user_id, market, trigger_price_ticks, rule, expiration_seconds,
                                expires_at, side, type, price_ticks, amount, time_in_force, text)
      VALUES (${input.userId}, ${input.market}, ${input.triggerPriceTicks}, ${input.rule},
              ${input.expirationSeconds},
              CASE WHEN ${input.expirationSeconds}::int > 0
                   THEN now() + make_interval(secs => ${input.expirationSeconds}::int) END,
              ${input.side}, ${input.type}, ${input.priceTicks}, ${input.amount},
              ${input.timeInForce}, ${input.text})
      RETURNING *`);
    const row = inserted.rows[0];
    if (!row) throw new Error("price order insert returned nothing");
    const order = priceOrderFromRow(row);
    await tx.execute(sql`
      INSERT INTO outbox (topic, key, payload)
      VALUES (${arm.topic}, ${order.market}, ${payload(arm, order)}::jsonb)`);
    return order;
  });
}

/**
 * Ends open price orders — `cancelled` by the user, or `expired` — and queues a `disarm` for each,
 * in one transaction; answers those it ended (one that already fired or ended is left alone).
 */
export async function endPriceOrders(
  db: Database,
  which: {
    status: "cancelled" | "expired";
    userId?: bigint;
    id?: bigint;
    market?: string;
    /** For expiry: those whose expires_at is at or before this. */
    expiredBy?: Date;
    limit?: number;
  },
  disarm: PriceOrderCommand,
): Promise<PriceOrder[]> {
  return db.transaction(async (tx) => {
    const ended = await tx.execute<PriceOrderRow>(sql`
      UPDATE price_orders SET status = ${which.status}, finished_at = now(),
             reason = ${which.status === "expired" ? "expired" : "cancelled by the user"}
       WHERE id IN (
         SELECT id FROM price_orders
          WHERE status = 'open'
            ${which.userId === undefined ? sql`` : sql`AND user_id = ${which.userId}`}
            ${which.id === undefined ? sql`` : sql`AND id = ${which.id}`}
            ${which.market === undefined ? sql`` : sql`AND market = ${which.market}`}
            ${
              which.expiredBy === undefined
                ? sql``
                : sql`AND expires_at <= ${which.expiredBy.toISOString()}::timestamptz`
            }
          ORDER BY id
          LIMIT ${which.limit ?? 1000}
          FOR UPDATE SKIP LOCKED)
      RETURNING *`);
    const orders = ended.rows.map(priceOrderFromRow).sort((a, b) => (a.id < b.id ? -1 : 1));
    if (orders.length > 0) {
      await tx.execute(sql`
        INSERT INTO outbox (topic, key, payload)
        SELECT ${disarm.topic}, x.key, x.payload
          FROM unnest(${sql.param(orders.map((o) => o.market))}::text[],
                      ${sql.param(orders.map((o) => payload(disarm, o)))}::jsonb[])
               AS x(key, payload)`);
    }
    return orders;
  });
}

/**
 * Places the orders of triggered price orders (the given ones, or any waiting: after a crash
 * between settlement and this step). Each in its own transaction that takes the row only while it
 * is `triggered` (SKIP LOCKED: another worker at it leaves it alone), so each is placed once.
 * Answers the price orders it finished or failed.
 */
export async function placeTriggered(
  db: Database,
  options: {
    ids?: readonly bigint[];
    limit?: number;
    /** The order to place for a price order (its outbox command included). */
    order: (priceOrder: PriceOrder) => PlaceOrderInput;
  },
): Promise<PriceOrder[]> {
  const waiting = await db.execute<{ id: bigint }>(sql`
    SELECT id FROM price_orders
     WHERE status = 'triggered'
       ${options.ids === undefined ? sql`` : sql`AND id = ANY(${sql.param([...options.ids])}::bigint[])`}
     ORDER BY fired_seq, id
     LIMIT ${options.limit ?? 500}`);
  const done: PriceOrder[] = [];
  for (const { id } of waiting.rows) {
    const finished = await db.transaction(async (tx) => {
      const taken = await tx.execute<PriceOrderRow>(sql`
        SELECT * FROM price_orders WHERE id = ${id} AND status = 'triggered'
           FOR UPDATE SKIP LOCKED`);
      const row = taken.rows[0];
      if (!row) return null;
      const priceOrder = priceOrderFromRow(row);
      let firedOrderId: bigint | null = null;
      let reason: string | null = null;
      try {
        // A savepoint: a refused placement rolls back alone and the price order records why.
        const placed = await tx.transaction((sp) =>
          placeOrderHold(sp as unknown as Database, options.order(priceOrder)),
        );
        firedOrderId = placed.order.id;
      } catch (error) {
        if (!isLedgerError(error)) throw error;
        reason = `${error.label}: ${error.message}`;
      }
      const updated = await tx.execute<PriceOrderRow>(sql`
        UPDATE price_orders
           SET status = ${firedOrderId === null ? "failed" : "finish"},
               fired_order_id = ${firedOrderId}, reason = ${reason ?? "triggered"},
               finished_at = now()
         WHERE id = ${id}
        RETURNING *`);
      const after = updated.rows[0];
      return after ? priceOrderFromRow(after) : null;
    });
    if (finished) done.push(finished);
  }
  return done;
}

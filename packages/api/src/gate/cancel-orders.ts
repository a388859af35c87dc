// DELETE /spot/orders/{order_id} and DELETE /spot/orders (cancel all). In spotx only the engine
// ends orders (docs/decisions/002): a cancel is a command through the outbox and Kafka, settled
// like any event. gate.io answers with the order already cancelled, so these wait — at most
// `cancelWaitMs` (2 s by default) — until settlement has applied the cancel (its announcement on
// Redis wakes them), then answer with the orders as they stand. Past the wait the answer shows
// an order still `open`: the cancel is queued and will happen; a later GET shows it cancelled
// (or filled, if a trade got there first).
import { type Order, schema } from "@spotx/db";
import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { callerOf, type GateCall, type GateServices, ok } from "./call";
import { orderObject } from "./order-object";
import { LIVE, orderIdPath } from "./order-queries";
import { accountParam, pairParam, parseParams, sideParam } from "./request-params";

const cancelQuery = z.strictObject({ currency_pair: pairParam, account: accountParam.optional() });

const ended = (order: Order) => !(LIVE as readonly string[]).includes(order.status);

/** The rows of `ids` once all have ended, or as they stand when the wait runs out. */
async function settledOrders(services: GateServices, userId: bigint, ids: readonly bigint[]) {
  const { orders } = schema;
  const read = () =>
    services.db
      .select()
      .from(orders)
      .where(and(eq(orders.userId, userId), inArray(orders.id, [...ids])))
      .orderBy(orders.id);
  let latest: Order[] = [];
  await services.settled.waitFor(
    ids,
    async () => {
      latest = await read();
      return latest.every(ended);
    },
    services.cancelWaitMs,
  );
  return latest;
}

export async function cancelOrder(call: GateCall) {
  const { services } = call;
  const { userId } = callerOf(call);
  const { order_id } = parseParams(orderIdPath, call.params);
  const q = parseParams(cancelQuery, call.query);
  const m = await services.markets.market(q.currency_pair);
  const order = await services.trading.cancelOrder(userId, { market: m.symbol, orderId: order_id });
  const [settled] = await settledOrders(services, userId, [order.id]);
  return ok(orderObject(settled ?? order, m));
}

const cancelAllQuery = z.strictObject({
  currency_pair: pairParam.optional(),
  side: sideParam.optional(),
  account: accountParam.optional(),
});

export async function cancelAllOrders(call: GateCall) {
  const { services } = call;
  const { userId } = callerOf(call);
  const q = parseParams(cancelAllQuery, call.query);
  const { orders } = schema;
  const symbols = q.currency_pair
    ? [(await services.markets.market(q.currency_pair)).symbol]
    : (
        await services.db
          .selectDistinct({ market: orders.market })
          .from(orders)
          .where(and(eq(orders.userId, userId), inArray(orders.status, [...LIVE])))
      ).map((row) => row.market);
  const cancelled: Order[] = [];
  for (const market of symbols) {
    cancelled.push(...(await services.trading.cancelAll(userId, { market, side: q.side })));
  }
  if (cancelled.length === 0) return ok([]);
  const settled = await settledOrders(
    services,
    userId,
    cancelled.map((o) => o.id),
  );
  const markets = await services.markets.markets();
  return ok(
    settled.flatMap((order) => {
      const m = markets.get(order.market);
      return m ? [orderObject(order, m)] : [];
    }),
  );
}

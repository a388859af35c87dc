// The caller's orders: one by id or client text (GET /spot/orders/{order_id}), a page of one
// market's open or finished orders (GET /spot/orders), and every open order grouped by pair
// (GET /spot/open_orders). Newest first; `pending` orders count as open (see order-object.ts).
import { schema } from "@spotx/db";
import { and, count, desc, eq, gte, inArray, lt, type SQL } from "drizzle-orm";
import { z } from "zod";
import { callerOf, type GateCall, ok } from "./call";
import { GateError } from "./errors";
import { orderObject } from "./order-object";
import {
  accountParam,
  intParam,
  orderIdOrText,
  pageOffset,
  pairParam,
  parseParams,
  secondsParam,
  sideParam,
} from "./request-params";

export const LIVE = ["pending", "open"] as const;
export const ENDED = ["closed", "cancelled", "rejected"] as const;

/** An order id or its client text, as gate.io accepts in the path. */
export const orderIdPath = z.object({
  order_id: orderIdOrText,
});

const getOrderQuery = z.strictObject({
  currency_pair: pairParam,
  account: accountParam.optional(),
});

export async function getOrder(call: GateCall) {
  const { services } = call;
  const { userId } = callerOf(call);
  const { order_id } = parseParams(orderIdPath, call.params);
  const q = parseParams(getOrderQuery, call.query);
  const m = await services.markets.market(q.currency_pair);
  const order = await services.trading.findOrder(userId, m.symbol, order_id);
  return ok(orderObject(order, m));
}

const listOrdersQuery = z.strictObject({
  currency_pair: pairParam,
  status: z.enum(["open", "finished"]),
  page: intParam(1, 100_000).default(1),
  limit: intParam(1, 1000).default(100),
  account: accountParam.optional(),
  from: secondsParam.optional(),
  to: secondsParam.optional(),
  side: sideParam.optional(),
});

export async function listOrders(call: GateCall) {
  const { services } = call;
  const { userId } = callerOf(call);
  const q = parseParams(listOrdersQuery, call.query);
  if (q.status === "open" && q.limit > 100) {
    throw new GateError("INVALID_PARAM_VALUE", "invalid limit: at most 100 open orders a page");
  }
  if (q.from !== undefined && q.to !== undefined && q.from > q.to) {
    throw new GateError("INVALID_PARAM_VALUE", "from must not be after to");
  }
  const m = await services.markets.market(q.currency_pair);
  const { orders } = schema;
  const conditions: Array<SQL | undefined> = [
    eq(orders.userId, userId),
    eq(orders.market, m.symbol),
    inArray(orders.status, q.status === "open" ? [...LIVE] : [...ENDED]),
    q.side ? eq(orders.side, q.side) : undefined,
    q.from !== undefined ? gte(orders.createdAt, new Date(q.from * 1000)) : undefined,
    q.to !== undefined ? lt(orders.createdAt, new Date((q.to + 1) * 1000)) : undefined,
  ];
  const rows = await services.db
    .select()
    .from(orders)
    .where(and(...conditions))
    .orderBy(desc(orders.id))
    .limit(q.limit)
    .offset(pageOffset(q.page, q.limit));
  return ok(rows.map((order) => orderObject(order, m)));
}

const openOrdersQuery = z.strictObject({
  page: intParam(1, 100_000).default(1),
  limit: intParam(1, 100).default(100),
  account: accountParam.optional(),
});

export async function listOpenOrders(call: GateCall) {
  const { services } = call;
  const { userId } = callerOf(call);
  const q = parseParams(openOrdersQuery, call.query);
  const offset = pageOffset(q.page, q.limit);
  const { orders } = schema;
  const live = and(eq(orders.userId, userId), inArray(orders.status, [...LIVE]));
  const totals = await services.db
    .select({ market: orders.market, total: count() })
    .from(orders)
    .where(live)
    .groupBy(orders.market)
    .orderBy(orders.market);
  const markets = await services.markets.markets();
  const groups = await Promise.all(
    totals.map(async ({ market, total }) => {
      const m = markets.get(market) ?? (await services.markets.market(market));
      const rows = await services.db
        .select()
        .from(orders)
        .where(and(live, eq(orders.market, market)))
        .orderBy(desc(orders.id))
        .limit(q.limit)
        .offset(offset);
      return { currency_pair: market, total, orders: rows.map((o) => orderObject(o, m)) };
    }),
  );
  return ok(groups.filter((g) => g.orders.length > 0));
}

// gate.io's batch endpoints: POST /spot/batch_orders, /spot/cancel_batch_orders and
// /spot/amend_batch_orders. A batch is refused as a whole only for its shape (not an array, too
// many pairs or orders, mixed accounts); past that every item is the single endpoint's work — the
// same handler or trading-service call, the same checks and labels — and answers on its own line,
// in request order, with `succeeded` and, when it failed, its `label` and `message`. The answer is
// 200 even when items failed. Items run concurrently, so placements and cancels of one batch are
// group-committed together.
import { type Order, schema } from "@spotx/db";
import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { amendBody, amendOne } from "./amend-order";
import { callerOf, type GateCall, type GateServices, ok } from "./call";
import { GateError, toGateError } from "./errors";
import { orderObject } from "./order-object";
import { LIVE } from "./order-queries";
import { placeOrder } from "./place-order";
import { accountParam, noQuery, orderIdOrText, pairParam, parseParams } from "./request-params";

/** gate.io's limits: at most 4 pairs and 10 orders a pair in a create batch. */
export const MAX_BATCH_PAIRS = 4;
export const MAX_BATCH_ORDERS_PER_PAIR = 10;
export const MAX_CANCEL_BATCH = 20;
export const MAX_AMEND_BATCH = 5;

type Failure = { label: string; message: string };

function failure(services: GateServices, error: unknown, route: string): Failure {
  const refused = toGateError(error, services.log, { route });
  return { label: refused.label, message: refused.message };
}

function items(body: unknown, most: number, what: string): Record<string, unknown>[] {
  if (!Array.isArray(body)) {
    throw new GateError("INVALID_PARAM_VALUE", `the body must be a JSON array of ${what}`);
  }
  if (body.length === 0) throw new GateError("INVALID_PARAM_VALUE", `the batch has no ${what}`);
  if (body.length > most) {
    throw new GateError("TOO_MANY_ORDERS", `at most ${most} ${what} in one batch`);
  }
  return body.map((item) => (typeof item === "object" && item !== null ? item : {})) as Record<
    string,
    unknown
  >[];
}

const field = (item: Record<string, unknown>, name: string) =>
  typeof item[name] === "string" ? (item[name] as string) : undefined;

/** POST /spot/batch_orders: create orders, each as POST /spot/orders would. */
export async function placeBatchOrders(call: GateCall) {
  const { services } = call;
  callerOf(call);
  parseParams(noQuery, call.query);
  const orders = items(call.body, MAX_BATCH_PAIRS * MAX_BATCH_ORDERS_PER_PAIR, "orders");
  const perPair = new Map<string, number>();
  const accounts = new Set<string>();
  for (const item of orders) {
    const pair = String(item.currency_pair ?? "");
    perPair.set(pair, (perPair.get(pair) ?? 0) + 1);
    accounts.add(String(item.account ?? "spot"));
  }
  if (perPair.size > MAX_BATCH_PAIRS) {
    throw new GateError(
      "TOO_MANY_CURRENCY_PAIRS",
      `a batch spans at most ${MAX_BATCH_PAIRS} currency pairs, not ${perPair.size}`,
    );
  }
  for (const [pair, count] of perPair) {
    if (count > MAX_BATCH_ORDERS_PER_PAIR) {
      throw new GateError(
        "TOO_MANY_ORDERS",
        `at most ${MAX_BATCH_ORDERS_PER_PAIR} orders a pair in one batch; ${count} in ${pair}`,
      );
    }
  }
  if (accounts.size > 1) {
    throw new GateError("MIXED_ACCOUNT_TYPE", "every order of a batch uses the same account");
  }
  const results = await Promise.all(
    orders.map(async (item) => {
      const text = field(item, "text") ?? "";
      try {
        if (text === "") {
          throw new GateError("MISSING_REQUIRED_PARAM", "every order of a batch needs a text");
        }
        const placed = await placeOrder({ ...call, query: {}, body: item });
        const order = placed.body as { id: string };
        return { ...order, order_id: order.id, succeeded: true, label: "", message: "" };
      } catch (error) {
        return {
          order_id: "",
          text,
          amend_text: "-",
          currency_pair: field(item, "currency_pair") ?? "",
          succeeded: false,
          ...failure(services, error, "POST /spot/batch_orders"),
        };
      }
    }),
  );
  return ok(results);
}

const cancelItem = z.object({
  currency_pair: pairParam,
  id: orderIdOrText,
  account: z.union([accountParam, z.literal("")]).optional(),
  action_mode: z.enum(["ACK", "RESULT", "FULL"]).optional(),
});

/** POST /spot/cancel_batch_orders: cancel orders by id or text, in any pairs. */
export async function cancelBatchOrders(call: GateCall) {
  const { services } = call;
  const { userId } = callerOf(call);
  parseParams(noQuery, call.query);
  const asked = items(call.body, MAX_CANCEL_BATCH, "orders");
  const results = await Promise.all(
    asked.map(async (item) => {
      const pair = field(item, "currency_pair") ?? "";
      const id = field(item, "id") ?? "";
      try {
        const c = parseParams(cancelItem, item);
        const m = await services.markets.market(c.currency_pair);
        const order = await services.trading.cancelOrder(userId, {
          market: m.symbol,
          orderId: c.id,
        });
        return { order, pair: m.symbol, id };
      } catch (error) {
        return { pair, id, failed: failure(services, error, "POST /spot/cancel_batch_orders") };
      }
    }),
  );
  const queued = results.flatMap((r) => ("order" in r && r.order ? [r.order] : []));
  const ended = await settledOrders(services, userId, queued);
  return ok(
    results.map((r) => {
      if ("failed" in r && r.failed) {
        return {
          currency_pair: r.pair,
          id: r.id,
          text: "",
          succeeded: false,
          ...r.failed,
          account: "",
        };
      }
      const order = "order" in r ? r.order : undefined;
      const now = order ? (ended.get(order.id) ?? order) : undefined;
      return {
        currency_pair: r.pair,
        id: String(order?.id ?? r.id),
        text: now?.text ?? "",
        succeeded: true,
        label: "",
        message: "",
        account: "",
      };
    }),
  );
}

/** The orders as they stand once all have ended, or when the cancel wait runs out. */
async function settledOrders(
  services: GateServices,
  userId: bigint,
  orders: readonly Order[],
): Promise<Map<bigint, Order>> {
  const byId = new Map<bigint, Order>();
  if (orders.length === 0) return byId;
  const ids = orders.map((o) => o.id);
  const { orders: table } = schema;
  await services.settled.waitFor(
    ids,
    async () => {
      const rows = await services.db
        .select()
        .from(table)
        .where(and(eq(table.userId, userId), inArray(table.id, ids)));
      for (const row of rows) byId.set(row.id, row);
      return rows.every((row) => !(LIVE as readonly string[]).includes(row.status));
    },
    services.cancelWaitMs,
  );
  return byId;
}

const amendItem = amendBody.omit({ currency_pair: true }).extend({
  order_id: orderIdOrText,
  currency_pair: pairParam,
});

/** POST /spot/amend_batch_orders: up to 5 amends, each as PATCH /spot/orders/{id} would. */
export async function amendBatchOrders(call: GateCall) {
  const { services } = call;
  const { userId } = callerOf(call);
  parseParams(noQuery, call.query);
  const asked = items(call.body, MAX_AMEND_BATCH, "amends");
  const results = await Promise.all(
    asked.map(async (item) => {
      const text = field(item, "order_id") ?? "";
      try {
        const a = parseParams(amendItem, item);
        if (a.amount !== undefined && a.price !== undefined) {
          throw new GateError(
            "INVALID_PARAM_VALUE",
            "an amend_batch_orders item changes the amount or the price, not both",
          );
        }
        const m = await services.markets.market(a.currency_pair);
        const order = await amendOne(services, userId, m, {
          orderId: a.order_id,
          amount: a.amount,
          price: a.price,
          amendText: a.amend_text,
        });
        const answer = orderObject(order, m);
        return { ...answer, order_id: answer.id, succeeded: true, label: "", message: "" };
      } catch (error) {
        return {
          order_id: text,
          text: "",
          amend_text: field(item, "amend_text") ?? "-",
          currency_pair: field(item, "currency_pair") ?? "",
          succeeded: false,
          ...failure(services, error, "POST /spot/amend_batch_orders"),
        };
      }
    }),
  );
  return ok(results);
}

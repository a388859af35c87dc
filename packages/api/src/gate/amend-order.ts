// PATCH /spot/orders/{order_id}: gate.io's amend. The trading service checks the new price and
// amount against the market's rules, locks what the amended order could spend beyond its hold,
// and queues the engine's amend command; the engine decides (lowering only the amount keeps the
// order's place; a new price or a larger amount sends it to the back of its new level; an amount
// at or below what filled cancels it) and settlement makes the hold follow. Like a cancel, the
// answer waits — at most `cancelWaitMs` — for settlement to apply the engine's answer, and shows
// the order as it then stands, with the request's `amend_text`.
//
// One amend of an order is with the engine at a time: a second one waits for the first to be
// settled (TOO_MANY_REQUESTS if that takes longer than the wait).
import { type Order, schema } from "@spotx/db";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { callerOf, type GateCall, type GateServices, ok } from "./call";
import { GateError } from "./errors";
import type { GateMarket } from "./market-directory";
import { orderObject } from "./order-object";
import { orderIdPath } from "./order-queries";
import { accountParam, decimalText, pairParam, parseParams } from "./request-params";

const amendText = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,31}$/, 'must be 1 to 31 letters, digits, "_", "." or "-"');
const actionMode = z.enum(["ACK", "RESULT", "FULL"]);

const patchQuery = z.strictObject({
  currency_pair: pairParam.optional(),
  account: accountParam.optional(),
});

export const amendBody = z.strictObject({
  currency_pair: pairParam.optional(),
  account: accountParam.optional(),
  amount: decimalText.optional(),
  price: decimalText.optional(),
  amend_text: amendText.optional(),
  action_mode: actionMode.optional(),
});

/** What one amend asks, once the pair is known (PATCH and each amend_batch_orders item). */
export type AmendAsk = {
  orderId: string;
  amount: string | undefined;
  price: string | undefined;
  amendText: string | undefined;
};

/** Amends one order and answers it as settlement leaves it (or as it stands after the wait). */
export async function amendOne(
  services: GateServices,
  userId: bigint,
  m: GateMarket,
  ask: AmendAsk,
): Promise<Order> {
  if (ask.amount === undefined && ask.price === undefined) {
    throw new GateError("MISSING_REQUIRED_PARAM", "an amend needs amount, price or both");
  }
  const request = {
    market: m.symbol,
    orderId: ask.orderId,
    ...(ask.price !== undefined ? { price: ask.price } : {}),
    ...(ask.amount !== undefined ? { amount: ask.amount } : {}),
    ...(ask.amendText !== undefined ? { amendText: ask.amendText } : {}),
  };
  const deadline = Date.now() + services.cancelWaitMs;
  let outcome = await services.trading.amendOrder(userId, request);
  while (outcome.status === "busy") {
    const id = outcome.order.id;
    const settledEarlier = await services.settled.waitFor(
      [id],
      async () => !(await readOrder(services, userId, id))?.amendPending,
      deadline - Date.now(),
    );
    if (!settledEarlier) {
      throw new GateError(
        "TOO_MANY_REQUESTS",
        `an earlier amend of order ${id} is still with the matching engine; try again shortly`,
      );
    }
    outcome = await services.trading.amendOrder(userId, request);
  }
  const id = outcome.order.id;
  let latest: Order = outcome.order;
  await services.settled.waitFor(
    [id],
    async () => {
      latest = (await readOrder(services, userId, id)) ?? latest;
      return !latest.amendPending;
    },
    Math.max(deadline - Date.now(), 0),
  );
  return latest;
}

async function readOrder(services: GateServices, userId: bigint, id: bigint) {
  const { orders } = schema;
  const [order] = await services.db
    .select()
    .from(orders)
    .where(and(eq(orders.id, id), eq(orders.userId, userId)))
    .limit(1);
  return order;
}

export async function amendOrder(call: GateCall) {
  const { services } = call;
  const { userId } = callerOf(call);
  const { order_id } = parseParams(orderIdPath, call.params);
  const q = parseParams(patchQuery, call.query);
  if (typeof call.body !== "object" || call.body === null || Array.isArray(call.body)) {
    throw new GateError("INVALID_PARAM_VALUE", "the body must be a JSON object");
  }
  const body = parseParams(amendBody, call.body as Record<string, unknown>);
  // gate.io: the body's currency_pair wins over the query's; one of them must name it.
  const pair = body.currency_pair ?? q.currency_pair;
  if (pair === undefined) {
    throw new GateError("MISSING_REQUIRED_PARAM", "missing required parameter: currency_pair");
  }
  const m = await services.markets.market(pair);
  const order = await amendOne(services, userId, m, {
    orderId: order_id,
    amount: body.amount,
    price: body.price,
    amendText: body.amend_text,
  });
  return ok(orderObject(order, m));
}

// POST /spot/orders: gate.io's create-order body, placed through the trading service (checks,
// hold, order and outbox row in one transaction), answered 201 with the Order at once — before
// the engine has seen it, so its status is `open`. A post-only order that would take liquidity
// at the book as it stands is refused up front with POC_FILL_IMMEDIATELY; the engine checks
// again and ends one that slips through with finish_as `poc`.
import { decimalToUnits } from "@spotx/engine";
import { z } from "zod";
import { callerOf, type GateCall } from "./call";
import { GateError } from "./errors";
import type { GateMarket } from "./market-directory";
import { bookSnapshot } from "./market-snapshots";
import { orderObject } from "./order-object";
import { decimalText, noQuery, parseParams } from "./request-params";

export const createOrderBody = z.object({
  currency_pair: z.string().min(1).max(40),
  type: z.enum(["limit", "market"]).default("limit"),
  account: z.literal("spot", { error: 'only the "spot" account exists' }).default("spot"),
  side: z.enum(["buy", "sell"]),
  amount: decimalText,
  price: decimalText.optional(),
  time_in_force: z.enum(["gtc", "ioc", "poc", "fok"]).optional(),
  text: z
    .string()
    .regex(
      /^t-[A-Za-z0-9_.-]{1,28}$/,
      'must be "t-" followed by 1 to 28 letters, digits, "_", "." or "-"',
    )
    .optional(),
  iceberg: z.literal("0", { error: "iceberg orders are not supported" }).optional(),
  auto_borrow: z
    .literal(false, { error: "spotx has no margin: auto_borrow must be false" })
    .optional(),
  auto_repay: z
    .literal(false, { error: "spotx has no margin: auto_repay must be false" })
    .optional(),
  stp_act: z.enum(["cn", "co", "cb", "-"]).optional(),
  action_mode: z.enum(["ACK", "RESULT", "FULL"]).optional(),
});
export type CreateOrderBody = z.input<typeof createOrderBody>;

export async function placeOrder(call: GateCall) {
  const { services } = call;
  const { userId } = callerOf(call);
  if (typeof call.body !== "object" || call.body === null || Array.isArray(call.body)) {
    throw new GateError("INVALID_PARAM_VALUE", "the body must be a JSON object");
  }
  parseParams(noQuery, call.query);
  const body = parseParams(createOrderBody, call.body as Record<string, unknown>);
  const m = await services.markets.market(body.currency_pair);
  if (body.time_in_force === "poc" && body.type === "limit" && body.price !== undefined) {
    await refuseTakingPostOnly(call, m, body.side, body.price);
  }
  const placed = await services.trading.placeOrder(
    userId,
    {
      market: m.symbol,
      side: body.side,
      type: body.type,
      amount: body.amount,
      price: body.price,
      timeInForce: body.time_in_force,
      text: body.text,
      stpAct: body.stp_act === "-" ? undefined : body.stp_act,
    },
    "apiv4",
  );
  return { status: 201, body: orderObject(placed.order, m) };
}

async function refuseTakingPostOnly(
  call: GateCall,
  m: GateMarket,
  side: "buy" | "sell",
  priceText: string,
) {
  const price = decimalToUnits(priceText, m.pricePrecision);
  if (!price.ok) return; // the trading service names what is wrong with it
  const book = await bookSnapshot(call.services, m, 1);
  const best = side === "buy" ? book.asks[0] : book.bids[0];
  if (!best) return;
  const bestTicks = decimalToUnits(best[0], m.pricePrecision);
  if (!bestTicks.ok) return;
  const takes = side === "buy" ? price.value >= bestTicks.value : price.value <= bestTicks.value;
  if (takes) {
    throw new GateError(
      "POC_FILL_IMMEDIATELY",
      `a post-only ${side} at ${priceText} would take the best ${side === "buy" ? "ask" : "bid"} ${best[0]}`,
    );
  }
}

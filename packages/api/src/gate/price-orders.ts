// gate.io's price-triggered orders (`/spot/price_orders`, GATE_API_MORE.md): create (201 `{id}`),
// list, get, cancel one and cancel all. The trading service checks and records them; a worker
// fires them when the engine's last trade price reaches the trigger. `triggered` (fired, its order
// being placed) shows as `open`. Every change made here is announced on Redis for the
// `spot.priceorders` WebSocket channel (price-order-feed.ts); the worker announces its own.
//
// Decisions where gate.io is loose: `account` (query or `put.account`) takes gate's `normal` and
// spotx's own name `spot` for the one account spotx has, and answers `normal`; `margin` and
// `unified` are refused. A market put's `time_in_force` may be gate's default `gtc` (SDKs and ccxt
// send it): a market order never rests, so it is placed — and shown — as `ioc`. A put without a
// `text` (gate.io's "source" field) is labelled `api`.
import { schema } from "@spotx/db";
import type { PriceOrder } from "@spotx/db/price-orders";
import { unitsToDecimal } from "@spotx/engine";
import { and, desc, eq, inArray, type SQL } from "drizzle-orm";
import { z } from "zod";
import { announcePriceOrderChanges } from "../trading/price-order-announcements";
import { callerOf, type GateCall, type GateServices, ok } from "./call";
import { GateError } from "./errors";
import type { GateMarket } from "./market-directory";
import {
  decimalText,
  idParam,
  intParam,
  MAX_PAGE_OFFSET,
  noQuery,
  pairParam,
  parseParams,
} from "./request-params";

/** gate.io's SpotPriceTriggeredOrder. */
export type PriceOrderObject = {
  trigger: { price: string; rule: ">=" | "<="; expiration: number };
  put: {
    type: "limit" | "market";
    side: "buy" | "sell";
    price: string;
    amount: string;
    account: "normal";
    time_in_force: "gtc" | "ioc";
    auto_borrow: false;
    auto_repay: false;
    text: string;
  };
  market: string;
  id: number;
  user: number;
  ctime: number;
  ftime: number;
  fired_order_id: number;
  status: "open" | "cancelled" | "finish" | "failed" | "expired";
  reason: string;
};

export const OPEN_PRICE_ORDERS = ["open", "triggered"] as const;
export const FINISHED_PRICE_ORDERS = ["cancelled", "finish", "failed", "expired"] as const;

const seconds = (date: Date | null) => (date === null ? 0 : Math.floor(date.getTime() / 1000));

export function priceOrderObject(p: PriceOrder, m: GateMarket): PriceOrderObject {
  const marketBuy = p.type === "market" && p.side === "buy";
  return {
    trigger: {
      price: unitsToDecimal(p.triggerPriceTicks, m.pricePrecision),
      rule: p.rule === "gte" ? ">=" : "<=",
      expiration: p.expirationSeconds,
    },
    put: {
      type: p.type,
      side: p.side,
      price: p.priceTicks === null ? "0" : unitsToDecimal(p.priceTicks, m.pricePrecision),
      // A market buy spends quote (gate.io's rule, as for normal orders).
      amount: unitsToDecimal(p.amount, marketBuy ? m.quoteDecimals : m.amountPrecision),
      account: "normal",
      // Puts are gtc or ioc only (the trading service refuses the others).
      time_in_force: p.timeInForce === "gtc" ? "gtc" : "ioc",
      auto_borrow: false,
      auto_repay: false,
      text: p.text ?? "",
    },
    market: p.market,
    id: Number(p.id),
    user: Number(p.userId),
    ctime: seconds(p.createdAt),
    ftime: seconds(p.finishedAt),
    fired_order_id: p.firedOrderId === null ? 0 : Number(p.firedOrderId),
    status: p.status === "triggered" ? "open" : p.status,
    reason: p.reason ?? "",
  };
}

/** The one account spotx has, by gate.io's name for it here (`normal`) or spotx's (`spot`). */
const accountName = z.enum(["normal", "spot"], {
  error: 'only the spot account ("normal") exists: no margin or unified accounts',
});

const createBody = z.object({
  market: pairParam,
  trigger: z.object({
    price: decimalText,
    rule: z.enum([">=", "<="]),
    /** Seconds; absent or 0: it never expires (ccxt may leave it out). */
    expiration: z.number({ error: "must be a whole number of seconds" }).int().min(0).optional(),
  }),
  put: z.object({
    type: z.enum(["limit", "market"]).default("limit"),
    side: z.enum(["buy", "sell"]),
    price: decimalText.optional(),
    amount: decimalText,
    account: accountName.default("normal"),
    time_in_force: z.enum(["gtc", "ioc"]).optional(),
    auto_borrow: z
      .literal(false, { error: "spotx has no margin: auto_borrow must be false" })
      .optional(),
    auto_repay: z
      .literal(false, { error: "spotx has no margin: auto_repay must be false" })
      .optional(),
    text: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,31}$/, 'must be 1 to 31 letters, digits, "_", "." or "-"')
      .optional(),
  }),
});

/** POST /spot/price_orders: 201 `{id}`. */
export async function createPriceOrder(call: GateCall) {
  const { services } = call;
  const { userId } = callerOf(call);
  if (typeof call.body !== "object" || call.body === null || Array.isArray(call.body)) {
    throw new GateError("INVALID_PARAM_VALUE", "the body must be a JSON object");
  }
  parseParams(noQuery, call.query);
  const body = parseParams(createBody, call.body as Record<string, unknown>);
  const m = await services.markets.market(body.market);
  const { put } = body;
  const created = await services.trading.placePriceOrder(userId, {
    market: m.symbol,
    trigger: {
      price: body.trigger.price,
      rule: body.trigger.rule,
      expiration: body.trigger.expiration,
    },
    put: {
      type: put.type,
      side: put.side,
      price: put.price,
      amount: put.amount,
      timeInForce: put.type === "market" && put.time_in_force === "gtc" ? "ioc" : put.time_in_force,
      text: put.text ?? "api",
    },
  });
  await announcePriceOrderChanges(services, [created]);
  return { status: 201, body: { id: Number(created.id) } };
}

const listQuery = z.strictObject({
  status: z.enum(["open", "finished"]),
  market: pairParam.optional(),
  account: accountName.optional(),
  limit: intParam(1, 100).default(100),
  offset: intParam(0, MAX_PAGE_OFFSET).default(0),
});

/** GET /spot/price_orders: the caller's open or finished ones, newest first. */
export async function listPriceOrders(call: GateCall) {
  const { services } = call;
  const { userId } = callerOf(call);
  const q = parseParams(listQuery, call.query);
  const m = q.market === undefined ? undefined : await services.markets.market(q.market);
  const { priceOrders } = schema;
  const conditions: Array<SQL | undefined> = [
    eq(priceOrders.userId, userId),
    inArray(
      priceOrders.status,
      q.status === "open" ? [...OPEN_PRICE_ORDERS] : [...FINISHED_PRICE_ORDERS],
    ),
    m ? eq(priceOrders.market, m.symbol) : undefined,
  ];
  const rows = await services.db
    .select()
    .from(priceOrders)
    .where(and(...conditions))
    .orderBy(desc(priceOrders.id))
    .limit(q.limit)
    .offset(q.offset);
  return ok(await objects(services, rows));
}

async function objects(services: GateServices, rows: readonly PriceOrder[]) {
  const markets = await services.markets.markets();
  const answer: PriceOrderObject[] = [];
  for (const row of rows) {
    const m = markets.get(row.market) ?? (await services.markets.market(row.market));
    answer.push(priceOrderObject(row, m));
  }
  return answer;
}

const idPath = z.object({ order_id: idParam });

/** The caller's price order, or 404 ORDER_NOT_FOUND (someone else's is not found either). */
async function ownPriceOrder(call: GateCall, userId: bigint): Promise<PriceOrder> {
  const { order_id } = parseParams(idPath, call.params);
  const { priceOrders } = call.services.db.query;
  const found = await priceOrders.findFirst({
    where: (p, { and, eq }) => and(eq(p.id, order_id), eq(p.userId, userId)),
  });
  if (!found) throw new GateError("ORDER_NOT_FOUND", `price-triggered order ${order_id} not found`);
  return found;
}

/** GET /spot/price_orders/{order_id}. */
export async function getPriceOrder(call: GateCall) {
  const { userId } = callerOf(call);
  parseParams(noQuery, call.query);
  const found = await ownPriceOrder(call, userId);
  const [object] = await objects(call.services, [found]);
  return ok(object);
}

/** DELETE /spot/price_orders/{order_id}: the order, now cancelled; ORDER_CLOSED when not open. */
export async function cancelPriceOrder(call: GateCall) {
  const { services } = call;
  const { userId } = callerOf(call);
  parseParams(noQuery, call.query);
  const found = await ownPriceOrder(call, userId);
  const [cancelled] = await services.trading.cancelPriceOrders(userId, { id: found.id });
  if (!cancelled) {
    // It fired (its order is being placed, or was) or ended before the cancel reached it.
    const now = (await ownPriceOrder(call, userId)).status;
    throw new GateError(
      "ORDER_CLOSED",
      now === "triggered"
        ? `price-triggered order ${found.id} has fired; its order is being placed`
        : `price-triggered order ${found.id} is ${now === "finish" ? "finished" : now}`,
    );
  }
  await announcePriceOrderChanges(services, [cancelled]);
  const [object] = await objects(services, [cancelled]);
  return ok(object);
}

const cancelAllQuery = z.strictObject({
  market: pairParam.optional(),
  account: accountName.optional(),
});

/** DELETE /spot/price_orders: cancels every open one (of a market); answers those cancelled. */
export async function cancelAllPriceOrders(call: GateCall) {
  const { services } = call;
  const { userId } = callerOf(call);
  const q = parseParams(cancelAllQuery, call.query);
  const { priceOrders } = schema;
  // Market by market: at most MAX_OPEN_PRICE_ORDERS wait in each, so each cancel is bounded.
  const markets = q.market
    ? [(await services.markets.market(q.market)).symbol]
    : (
        await services.db
          .selectDistinct({ market: priceOrders.market })
          .from(priceOrders)
          .where(and(eq(priceOrders.userId, userId), eq(priceOrders.status, "open")))
          .orderBy(priceOrders.market)
      ).map((row) => row.market);
  const cancelled: PriceOrder[] = [];
  for (const market of markets) {
    cancelled.push(...(await services.trading.cancelPriceOrders(userId, { market })));
  }
  await announcePriceOrderChanges(services, cancelled);
  return ok(await objects(services, cancelled));
}

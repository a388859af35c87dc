// Orders as the ledger places them: the input of a placement and the stored row. Placing
// (placement.ts) holds the funds the order may spend, inserts the order and the outbox row that
// carries it to the engine, in one transaction: nothing reaches Kafka that is not already
// durable here, and no order exists without its hold.
import { LedgerError } from "./errors";
import type { orders } from "./schema";
import type { Side } from "./settlement";

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

/**
 * jsonb cannot hold bigint: amounts travel as decimal strings, as on gate.io's wire. A value
 * JSON cannot carry (a cycle) or jsonb cannot (a NUL in a string) is INVALID_PARAM_VALUE; `undefined` stays undefined.
 */
export function jsonSafe(value: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v));
  } catch {
    throw new LedgerError("INVALID_PARAM_VALUE", "the value cannot be written as JSON");
  }
  // PostgreSQL's jsonb cannot hold a NUL character in a string.
  if (text?.includes("\\u0000")) {
    throw new LedgerError("INVALID_PARAM_VALUE", "the value contains a NUL character");
  }
  return text === undefined ? undefined : JSON.parse(text);
}

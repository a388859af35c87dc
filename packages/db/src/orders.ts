// Orders as the ledger places them: the input of a placement and the stored row. Placing
// (placement.ts) holds the funds the order may spend, inserts the order and the outbox row that
// carries it to the engine, in one transaction: nothing reaches Kafka that is not already
// durable here, and no order exists without its hold.
import { sql } from "drizzle-orm";
import type { Database } from "./client";
import { LedgerError } from "./errors";
import { requireDate, requireId, requireMarketSymbol, requireObject, requireText } from "./input";
import { type OrderRow, orderFromRow } from "./order-rows";
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

/**
 * How long after an order finished its client text still names it. gate.io's documents
 * disagree (30 min after creation, only while open, 1 h after finishing); spotx takes the last
 * (GATE_API_MORE.md, "spotx's decisions").
 */
export const TEXT_LOOKUP_AFTER_FINISH_MS = 3_600_000;

/** A client text as a lookup names it: whose, in which pair. */
export type TextName = { userId: bigint; market: string; text: string };

/** The most names one ordersByText call takes. */
const MAX_TEXT_NAMES = 5_000;

/**
 * The orders client texts name, one answer per name in input order: the user's newest order in
 * the pair with that text among those still live or finished within TEXT_LOOKUP_AFTER_FINISH_MS
 * of `now` (a text is a label: several orders may carry it), or undefined. One statement for any
 * number of names.
 */
export async function ordersByText(
  db: Database,
  names: readonly TextName[],
  now: Date,
): Promise<(Order | undefined)[]> {
  if (!Array.isArray(names)) {
    throw new LedgerError("INVALID_PARAM_VALUE", "client texts are named by a list");
  }
  if (names.length > MAX_TEXT_NAMES) {
    throw new LedgerError("INVALID_PARAM_VALUE", `at most ${MAX_TEXT_NAMES} client texts a call`);
  }
  const checked = names.map((raw) => {
    const name = requireObject(raw, "client text");
    return {
      userId: requireId(name.userId, "userId"),
      market: requireMarketSymbol(name.market),
      text: requireText(name.text, "text", 64),
    };
  });
  const at = requireDate(now, "now");
  if (checked.length === 0) return [];
  const cutoff = new Date(at.getTime() - TEXT_LOOKUP_AFTER_FINISH_MS);
  const found = await db.execute<OrderRow>(sql`
    SELECT DISTINCT ON (o.user_id, o.market, o.text) o.*
      FROM unnest(${sql.param(checked.map((n) => n.userId))}::bigint[],
                  ${sql.param(checked.map((n) => n.market))}::text[],
                  ${sql.param(checked.map((n) => n.text))}::text[]) AS x(user_id, market, text)
      JOIN orders o ON o.user_id = x.user_id AND o.market = x.market AND o.text = x.text
     WHERE o.status IN ('pending', 'open') OR o.updated_at >= ${cutoff.toISOString()}::timestamptz
     ORDER BY o.user_id, o.market, o.text, o.id DESC`);
  const key = (n: { userId: bigint; market: string; text: string | null }) =>
    `${n.userId}\u0000${n.market}\u0000${n.text}`;
  const byName = new Map(
    found.rows.map((row) => {
      const order = orderFromRow(row);
      return [key(order), order];
    }),
  );
  return checked.map((n) => byName.get(key(n)));
}

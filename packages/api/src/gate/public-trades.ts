// GET /spot/trades: a market's trades from PostgreSQL, newest first. `last_id` pages through
// them: with `reverse=true` the trades before it (older), else those after it (newer, the
// `limit` right after it); `from`/`to` bound the time (seconds), `page` skips `limit`-sized pages.
import { lotsText, priceText } from "@spotx/protocol";
import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { type GateCall, ok } from "./call";
import { GateError } from "./errors";
import type { GateMarket } from "./market-directory";
import {
  boolParam,
  idParam,
  intParam,
  pageOffset,
  pairParam,
  parseParams,
  secondsParam,
} from "./request-params";

const tradesQuery = z.object({
  currency_pair: pairParam,
  limit: intParam(1, 1000).default(100),
  last_id: idParam.optional(),
  reverse: boolParam.default(false),
  from: secondsParam.optional(),
  to: secondsParam.optional(),
  page: intParam(1, 100_000).default(1),
});

export type TradeRow = {
  id: bigint;
  created_ms: string;
  taker_side: "buy" | "sell";
  price_ticks: bigint;
  qty_lots: bigint;
};

/** gate.io's create_time_ms of a timestamp column: milliseconds, the microseconds after the point. */
export function createdMs(column: SQL = sql`created_at`): SQL {
  return sql`to_char(EXTRACT(EPOCH FROM ${column}) * 1000, 'FM9999999999999990.000')`;
}

export function timeFields(createdMs: string) {
  return {
    create_time: createdMs.split(".")[0]?.slice(0, -3) ?? "0",
    create_time_ms: createdMs,
  };
}

export function tradeObject(row: TradeRow, m: GateMarket) {
  return {
    id: String(row.id),
    ...timeFields(row.created_ms),
    currency_pair: m.symbol,
    side: row.taker_side,
    amount: lotsText(row.qty_lots, m),
    price: priceText(row.price_ticks, m),
  };
}

/** Time bounds (seconds, both inclusive) as a condition on a timestamp column. */
export function timeRange(
  from: number | undefined,
  to: number | undefined,
  column: SQL = sql`created_at`,
): SQL {
  if (from !== undefined && to !== undefined && from > to) {
    throw new GateError("INVALID_PARAM_VALUE", "from must not be after to");
  }
  return sql`${from === undefined ? sql`TRUE` : sql`${column} >= to_timestamp(${from})`}
         AND ${to === undefined ? sql`TRUE` : sql`${column} < to_timestamp(${to + 1})`}`;
}

export async function listTrades({ services, query }: GateCall) {
  const q = parseParams(tradesQuery, query);
  const m = await services.markets.market(q.currency_pair);
  const after = q.last_id !== undefined && !q.reverse;
  const idBound =
    q.last_id === undefined ? sql`TRUE` : after ? sql`id > ${q.last_id}` : sql`id < ${q.last_id}`;
  const offset = pageOffset(q.page, q.limit);
  const rows = await services.db.execute<TradeRow>(sql`
    SELECT id, ${createdMs()} AS created_ms, taker_side, price_ticks, qty_lots
      FROM trades
     WHERE market = ${m.symbol} AND ${idBound} AND ${timeRange(q.from, q.to)}
     ORDER BY id ${after ? sql`ASC` : sql`DESC`}
     LIMIT ${q.limit} OFFSET ${offset}`);
  const trades = rows.rows.map((row) => tradeObject(row, m));
  return ok(after ? trades.reverse() : trades);
}

// GET /spot/candlesticks: a market's candles from PostgreSQL (settlement folds every trade into
// them), oldest first, as gate.io's rows of strings
// [t, quote volume, close, high, low, open, base volume, window closed]. Either the last `limit`
// candles or those starting within `from`…`to` — gate.io refuses both together, and so do we.
import { CANDLE_INTERVALS, candleStart } from "@spotx/db";
import { baseText, priceText, quoteText } from "@spotx/protocol";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { type GateCall, ok } from "./call";
import { GateError } from "./errors";
import { intParam, pairParam, parseParams, secondsParam } from "./request-params";

const candlesQuery = z.object({
  currency_pair: pairParam,
  interval: z.enum(CANDLE_INTERVALS).default("30m"),
  limit: intParam(1, 1000).optional(),
  from: secondsParam.optional(),
  to: secondsParam.optional(),
});

export async function listCandlesticks({ services, query }: GateCall) {
  const q = parseParams(candlesQuery, query);
  const m = await services.markets.market(q.currency_pair);
  const ranged = q.from !== undefined || q.to !== undefined;
  if (ranged && q.limit !== undefined) {
    throw new GateError("INVALID_PARAM_VALUE", "limit cannot be combined with from and to");
  }
  if (q.from !== undefined && q.to !== undefined && q.from > q.to) {
    throw new GateError("INVALID_PARAM_VALUE", "from must not be after to");
  }
  const limit = q.limit ?? (ranged ? 1000 : 100);
  const bounds = sql`${q.from === undefined ? sql`TRUE` : sql`start_time >= to_timestamp(${q.from})`}
                 AND ${q.to === undefined ? sql`TRUE` : sql`start_time <= to_timestamp(${q.to})`}`;
  const rows = await services.db.execute<{
    start_ms: string;
    open: bigint;
    high: bigint;
    low: bigint;
    close: bigint;
    base_amount: bigint;
    quote_amount: bigint;
  }>(sql`
    SELECT * FROM (
      SELECT (EXTRACT(EPOCH FROM start_time) * 1000)::int8::text AS start_ms,
             open, high, low, close, base_amount, quote_amount
        FROM candles
       WHERE market = ${m.symbol} AND interval = ${q.interval} AND ${bounds}
       ORDER BY start_time ${ranged ? sql`ASC` : sql`DESC`}
       LIMIT ${limit}) c
     ORDER BY start_ms::int8 ASC`);
  const current = candleStart(q.interval, new Date()).getTime();
  return ok(
    rows.rows.map((c) => {
      const start = Number(c.start_ms);
      return [
        String(Math.floor(start / 1000)),
        quoteText(c.quote_amount, m),
        priceText(c.close, m),
        priceText(c.high, m),
        priceText(c.low, m),
        priceText(c.open, m),
        baseText(c.base_amount, m),
        String(start < current),
      ];
    }),
  );
}

// GET /spot/my_trades: the caller's fills, newest first — each trade once per side the caller
// was on, with their side, role, order and the fee they paid (in what they received).
import { baseText, lotsText, priceText, quoteText } from "@spotx/protocol";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { callerOf, type GateCall, ok } from "./call";
import { GateError } from "./errors";
import { createdMs, timeFields, timeRange } from "./public-trades";
import {
  accountParam,
  idParam,
  intParam,
  pageOffset,
  pairParam,
  parseParams,
  secondsParam,
} from "./request-params";

const myTradesQuery = z.strictObject({
  currency_pair: pairParam.optional(),
  limit: intParam(1, 1000).default(100),
  page: intParam(1, 100_000).default(1),
  order_id: idParam.optional(),
  account: accountParam.optional(),
  from: secondsParam.optional(),
  to: secondsParam.optional(),
});

type FillRow = {
  id: bigint;
  market: string;
  created_ms: string;
  role: "maker" | "taker";
  order_id: bigint;
  taker_side: "buy" | "sell";
  price_ticks: bigint;
  qty_lots: bigint;
  buyer_fee: bigint;
  seller_fee: bigint;
  text: string | null;
};

export async function listMyTrades(call: GateCall) {
  const { services } = call;
  const { userId } = callerOf(call);
  const q = parseParams(myTradesQuery, call.query);
  const offset = pageOffset(q.page, q.limit);
  const market = q.currency_pair ? await services.markets.market(q.currency_pair) : null;
  if (q.order_id !== undefined && !market) {
    throw new GateError("MISSING_REQUIRED_PARAM", "order_id needs currency_pair");
  }
  const inMarket = market ? sql`AND t.market = ${market.symbol}` : sql``;
  // One branch per role, each on its (user, market, id) index.
  const rows = await services.db.execute<FillRow>(sql`
    SELECT f.id, f.market, ${createdMs(sql`f.created_at`)} AS created_ms, f.role, f.order_id,
           f.taker_side, f.price_ticks, f.qty_lots, f.buyer_fee, f.seller_fee, o.text
      FROM (
        SELECT t.*, 'maker' AS role, t.maker_order_id AS order_id FROM trades t
         WHERE t.maker_user_id = ${userId} ${inMarket}
        UNION ALL
        SELECT t.*, 'taker' AS role, t.taker_order_id AS order_id FROM trades t
         WHERE t.taker_user_id = ${userId} ${inMarket}
      ) f
      JOIN orders o ON o.id = f.order_id
     WHERE ${q.order_id === undefined ? sql`TRUE` : sql`f.order_id = ${q.order_id}`}
       AND ${timeRange(q.from, q.to, sql`f.created_at`)}
     ORDER BY f.created_at DESC, f.market, f.id DESC, f.role
     LIMIT ${q.limit} OFFSET ${offset}`);
  const markets = await services.markets.markets();
  return ok(
    rows.rows.flatMap((row) => {
      const m = markets.get(row.market);
      if (!m) return [];
      const side =
        row.role === "taker" ? row.taker_side : row.taker_side === "buy" ? "sell" : "buy";
      return [
        {
          id: String(row.id),
          ...timeFields(row.created_ms),
          currency_pair: row.market,
          side,
          role: row.role,
          amount: lotsText(row.qty_lots, m),
          price: priceText(row.price_ticks, m),
          order_id: String(row.order_id),
          fee: side === "buy" ? baseText(row.buyer_fee, m) : quoteText(row.seller_fee, m),
          fee_currency: side === "buy" ? m.base : m.quote,
          point_fee: "0",
          gt_fee: "0",
          amend_text: "-",
          text: row.text ?? "",
        },
      ];
    }),
  );
}

// orders.fills: the signed-in user's own trades (gate.io's my_trades), newest first, each with
// the user's side, role, price, amount and the fee they paid (in what they received). A
// self-trade is two fills, one per role. Paged by an opaque cursor over (time, market, trade id,
// role), the order they are listed in.
import { loadMarket, loadMarkets } from "@spotx/db";
import { baseText, lotsText, priceText, quoteText } from "@spotx/protocol";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { ApiError } from "../../errors";
import { protectedProcedure } from "../../trpc";
import { idField, isTimestampText, limitField, marketField, page } from "../fields";

export const fillsInput = z
  .strictObject({
    market: marketField.optional(),
    /** Only this order's fills. */
    orderId: idField.optional(),
    limit: limitField(500, 100),
    cursor: z.string().max(200).optional(),
  })
  .default({ limit: 100 });

export const fillView = z.object({
  /** The trade id (unique per market). */
  tradeId: z.string(),
  market: z.string(),
  orderId: z.string(),
  side: z.enum(["buy", "sell"]),
  role: z.enum(["maker", "taker"]),
  price: z.string(),
  amount: z.string(),
  /** price × amount in the quote asset. */
  total: z.string(),
  fee: z.string(),
  feeAsset: z.string(),
  time: z.number().int(),
});
export const fillsPage = page(fillView);

/** Where a page ends: the last fill's sort key, exactly as PostgreSQL has it. */
const cursorShape = z.tuple([
  z.string().max(40).refine(isTimestampText),
  z.string().max(25),
  // Up to 18 digits, like idField: always within int8.
  z.string().regex(/^[0-9]{1,18}$/),
  z.union([z.literal(0), z.literal(1)]),
]);

function readCursor(cursor: string) {
  try {
    return cursorShape.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    throw new ApiError("INVALID_PARAM_VALUE", "cursor: not one this API gave out");
  }
}

type FillRow = {
  market: string;
  id: bigint;
  time_ms: bigint;
  time_key: string;
  price_ticks: bigint;
  qty_lots: bigint;
  quote_amount: bigint;
  role: "maker" | "taker";
  role_rank: 0 | 1;
  side: "buy" | "sell";
  order_id: bigint;
  fee: bigint;
};

export const fills = protectedProcedure
  .input(fillsInput)
  .output(fillsPage)
  .query(async ({ ctx, input }) => {
    const userId = ctx.session.userId;
    // An unknown market is a mistake to say, not an empty list (gate.io: INVALID_CURRENCY_PAIR).
    if (input.market !== undefined) await loadMarket(ctx.db, input.market);
    const market = input.market ?? null;
    const orderId = input.orderId === undefined ? null : BigInt(input.orderId);
    const after = input.cursor === undefined ? null : readCursor(input.cursor);
    const rows = await ctx.db.execute<FillRow>(sql`
      SELECT * FROM (
        SELECT market, id, created_at AS traded_at, created_at::text AS time_key,
               floor(extract(epoch FROM created_at) * 1000)::int8 AS time_ms, price_ticks, qty_lots,
               quote_amount, 'taker' AS role, 0 AS role_rank, taker_side::text AS side,
               taker_order_id AS order_id,
               CASE WHEN taker_side = 'buy' THEN buyer_fee ELSE seller_fee END AS fee
          FROM trades
         WHERE taker_user_id = ${userId} AND (${market}::text IS NULL OR market = ${market})
        UNION ALL
        SELECT market, id, created_at, created_at::text,
               floor(extract(epoch FROM created_at) * 1000)::int8, price_ticks, qty_lots, quote_amount,
               'maker', 1, CASE WHEN taker_side = 'buy' THEN 'sell' ELSE 'buy' END,
               maker_order_id,
               CASE WHEN taker_side = 'buy' THEN seller_fee ELSE buyer_fee END
          FROM trades
         WHERE maker_user_id = ${userId} AND (${market}::text IS NULL OR market = ${market})
      ) fills
      WHERE (${orderId}::int8 IS NULL OR order_id = ${orderId})
        AND (${after === null}
             OR (traded_at, market, id, role_rank) < (${after?.[0] ?? null}::timestamptz,
                                                 ${after?.[1] ?? null}::text,
                                                 ${after?.[2] ?? null}::int8,
                                                 ${after?.[3] ?? null}::int4))
      ORDER BY traded_at DESC, market DESC, id DESC, role_rank DESC
      LIMIT ${input.limit + 1}`);
    const shown = rows.rows.slice(0, input.limit);
    const markets = await loadMarkets(ctx.db, [...new Set(shown.map((row) => row.market))]);
    const items = shown.map((row) => {
      const m = markets.get(row.market);
      if (!m) throw new Error(`trade ${row.market}/${row.id}: market not found`);
      return {
        tradeId: String(row.id),
        market: row.market,
        orderId: String(row.order_id),
        side: row.side,
        role: row.role,
        price: priceText(row.price_ticks, m),
        amount: lotsText(row.qty_lots, m),
        total: quoteText(row.quote_amount, m),
        // The buyer pays its fee in the base asset it receives, the seller in quote.
        fee: row.side === "buy" ? baseText(row.fee, m) : quoteText(row.fee, m),
        feeAsset: row.side === "buy" ? m.base : m.quote,
        time: Number(row.time_ms),
      };
    });
    const last = shown.at(-1);
    const nextCursor =
      rows.rows.length > input.limit && last
        ? Buffer.from(
            JSON.stringify([last.time_key, last.market, String(last.id), last.role_rank]),
          ).toString("base64url")
        : null;
    return { items, nextCursor };
  });

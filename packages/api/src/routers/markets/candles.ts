// markets.candles: OHLC candles from PostgreSQL, where settlement folds each trade in exactly
// once (all 11 of gate.io's intervals). Oldest first, as charts draw them; the newest `limit`
// candles in the range asked for. A candle is closed once its window has passed.
import { CANDLE_INTERVALS, type CandleInterval, candleStart, loadMarket, schema } from "@spotx/db";
import { baseText, priceText, quoteText } from "@spotx/protocol";
import { and, desc, eq, gte, lte } from "drizzle-orm";
import { z } from "zod";
import { ApiError } from "../../errors";
import { publicProcedure } from "../../trpc";
import { limitField, marketField, unixSeconds } from "../fields";

export const candlesInput = z.strictObject({
  market: marketField,
  interval: z.enum(CANDLE_INTERVALS),
  limit: limitField(1_000, 200),
  /** Candles starting at or after this time (seconds). */
  from: unixSeconds.optional(),
  /** Candles starting at or before this time (seconds). */
  to: unixSeconds.optional(),
});

export const candleView = z.object({
  /** The window's start (seconds), gate.io's `t`. */
  time: z.number().int(),
  open: z.string(),
  high: z.string(),
  low: z.string(),
  close: z.string(),
  baseVolume: z.string(),
  quoteVolume: z.string(),
  trades: z.number().int(),
  closed: z.boolean(),
});

export const candles = publicProcedure
  .input(candlesInput)
  .output(z.array(candleView))
  .query(async ({ ctx, input }) => {
    if (input.from !== undefined && input.to !== undefined && input.from > input.to) {
      throw new ApiError("INVALID_PARAM_VALUE", "from is after to");
    }
    const market = await loadMarket(ctx.db, input.market);
    const c = schema.candles;
    const rows = await ctx.db
      .select()
      .from(c)
      .where(
        and(
          eq(c.market, market.symbol),
          eq(c.interval, input.interval),
          input.from === undefined ? undefined : gte(c.startTime, new Date(input.from * 1000)),
          input.to === undefined ? undefined : lte(c.startTime, new Date(input.to * 1000)),
        ),
      )
      .orderBy(desc(c.startTime))
      .limit(input.limit);
    const current = candleStart(input.interval as CandleInterval, new Date()).getTime();
    return rows.reverse().map((row) => ({
      time: Math.floor(row.startTime.getTime() / 1000),
      open: priceText(row.open, market),
      high: priceText(row.high, market),
      low: priceText(row.low, market),
      close: priceText(row.close, market),
      baseVolume: baseText(row.baseAmount, market),
      quoteVolume: quoteText(row.quoteAmount, market),
      trades: row.trades,
      closed: row.startTime.getTime() < current,
    }));
  });

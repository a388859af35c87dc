// Markets as traders see them: the pair, its precisions, minimums and fees, in gate.io's
// decimal-string form.
import { schema } from "@spotx/db";
import { unitsToDecimal } from "@spotx/engine";
import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import { publicProcedure, router } from "../trpc";

export const marketSummary = z.object({
  symbol: z.string(),
  base: z.string(),
  quote: z.string(),
  pricePrecision: z.number().int(),
  amountPrecision: z.number().int(),
  minBaseAmount: z.string(),
  minQuoteAmount: z.string(),
  makerFeePercent: z.string(),
  takerFeePercent: z.string(),
  status: z.enum(["trading", "halted"]),
});
export type MarketSummary = z.infer<typeof marketSummary>;

/** A fee in parts per million as gate.io's percent string: 2000 ppm → "0.2". */
const ppmToPercent = (ppm: number) => unitsToDecimal(BigInt(ppm), 4);

export const marketsRouter = router({
  list: publicProcedure.output(z.array(marketSummary)).query(async ({ ctx }) => {
    const quoteAsset = schema.assets;
    const rows = await ctx.db
      .select({ market: schema.markets, quoteDecimals: quoteAsset.decimals })
      .from(schema.markets)
      .innerJoin(quoteAsset, eq(quoteAsset.symbol, schema.markets.quote))
      .orderBy(asc(schema.markets.symbol));
    return rows.map(({ market, quoteDecimals }) => ({
      symbol: market.symbol,
      base: market.base,
      quote: market.quote,
      pricePrecision: market.pricePrecision,
      amountPrecision: market.amountPrecision,
      minBaseAmount: unitsToDecimal(market.minBaseLots, market.amountPrecision),
      minQuoteAmount: unitsToDecimal(market.minQuoteAmount, quoteDecimals),
      makerFeePercent: ppmToPercent(market.makerFeePpm),
      takerFeePercent: ppmToPercent(market.takerFeePpm),
      status: market.status,
    }));
  }),
});

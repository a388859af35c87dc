// markets.list and markets.get: markets as traders see them — the pair, its precisions,
// minimums and fees in gate.io's decimal-string form, and whether it trades now (halted in the
// database or by an operator's live halt in etcd).
import { type Database, schema } from "@spotx/db";
import { unitsToDecimal } from "@spotx/engine";
import { asc, eq } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { z } from "zod";
import { ApiError } from "../../errors";
import type { HaltSource } from "../../trading/trading-service";
import { publicProcedure } from "../../trpc";
import { marketField } from "../fields";

export const marketSummary = z.object({
  symbol: z.string(),
  base: z.string(),
  quote: z.string(),
  pricePrecision: z.number().int(),
  amountPrecision: z.number().int(),
  /** The decimals the ledger keeps each asset in (fees and balances are whole minor units). */
  baseDecimals: z.number().int(),
  quoteDecimals: z.number().int(),
  minBaseAmount: z.string(),
  minQuoteAmount: z.string(),
  makerFeePercent: z.string(),
  takerFeePercent: z.string(),
  /** `closed`: delisted — no orders; its history (trades, candles, orders) stays on its page. */
  status: z.enum(["trading", "halted", "closed"]),
  /** Why an operator halted it (null when trading, or halted without a reason). */
  haltReason: z.string().nullable(),
});
export type MarketSummary = z.infer<typeof marketSummary>;

/** A fee in parts per million as gate.io's percent string: 2000 ppm → "0.2". */
const ppmToPercent = (ppm: number) => unitsToDecimal(BigInt(ppm), 4);

async function marketSummaries(
  db: Database,
  halts: HaltSource,
  symbol?: string,
): Promise<MarketSummary[]> {
  const quoteAsset = schema.assets;
  const baseAsset = alias(schema.assets, "base_asset");
  const rows = await db
    .select({
      market: schema.markets,
      baseDecimals: baseAsset.decimals,
      quoteDecimals: quoteAsset.decimals,
    })
    .from(schema.markets)
    .innerJoin(quoteAsset, eq(quoteAsset.symbol, schema.markets.quote))
    .innerJoin(baseAsset, eq(baseAsset.symbol, schema.markets.base))
    .where(symbol === undefined ? undefined : eq(schema.markets.symbol, symbol))
    .orderBy(asc(schema.markets.symbol));
  return rows.map(({ market, baseDecimals, quoteDecimals }) => {
    const halt = halts.get(market.symbol);
    const halted = market.status === "halted" || halt.halted;
    return {
      symbol: market.symbol,
      base: market.base,
      quote: market.quote,
      pricePrecision: market.pricePrecision,
      amountPrecision: market.amountPrecision,
      baseDecimals,
      quoteDecimals,
      minBaseAmount: unitsToDecimal(market.minBaseLots, market.amountPrecision),
      minQuoteAmount: unitsToDecimal(market.minQuoteAmount, quoteDecimals),
      makerFeePercent: ppmToPercent(market.makerFeePpm),
      takerFeePercent: ppmToPercent(market.takerFeePpm),
      status: market.status === "closed" ? "closed" : halted ? "halted" : "trading",
      haltReason: halted ? halt.reason : null,
    };
  });
}

export const list = publicProcedure
  .output(z.array(marketSummary))
  .query(({ ctx }) => marketSummaries(ctx.db, ctx.services.halts));

export const get = publicProcedure
  .input(z.strictObject({ market: marketField }))
  .output(marketSummary)
  .query(async ({ ctx, input }) => {
    const [found] = await marketSummaries(ctx.db, ctx.services.halts, input.market);
    if (!found) throw new ApiError("INVALID_CURRENCY_PAIR", `unknown market ${input.market}`);
    return found;
  });

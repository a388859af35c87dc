// admin.markets.setFees: changes a market's maker and taker fees. Fees are charged by settlement,
// which reads the market's rates in each batch's transaction, so trades settled after the change
// pay the new rates; placement holds no fee (fees come out of what is received), so orders
// already resting need nothing done. Rates are percentages with up to four decimals (ppm), at
// most 10 %.
import { schema } from "@spotx/db";
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { unknownMarket } from "../../../admin/market-halts";
import { auditOperatorAction } from "../../../admin/operator-audit";
import { decimalText, marketSymbol, percentIn, reason } from "../../../admin/schemas";
import { operatorProcedure } from "../../../trpc";
import { adminMarket, loadAdminMarkets, ppmPercent } from "./list";

export const setFeesInput = z.object({
  symbol: marketSymbol,
  makerFeePercent: decimalText,
  takerFeePercent: decimalText,
  reason,
});

export const setFeesProcedure = operatorProcedure
  .input(setFeesInput)
  .output(adminMarket)
  .mutation(async ({ ctx, input }) => {
    const fees = { min: 0n, max: 100_000n };
    const makerFeePpm = percentIn(input.makerFeePercent, 4, "makerFeePercent", fees);
    const takerFeePpm = percentIn(input.takerFeePercent, 4, "takerFeePercent", fees);
    await ctx.db.transaction(async (tx) => {
      const found = await tx.execute<{ maker_fee_ppm: number; taker_fee_ppm: number }>(
        sql`SELECT maker_fee_ppm, taker_fee_ppm FROM markets WHERE symbol = ${input.symbol} FOR UPDATE`,
      );
      const before = found.rows[0];
      if (!before) throw unknownMarket(input.symbol);
      await tx
        .update(schema.markets)
        .set({ makerFeePpm, takerFeePpm })
        .where(eq(schema.markets.symbol, input.symbol));
      await auditOperatorAction(tx, ctx, {
        action: "market.fees",
        subject: `market:${input.symbol}`,
        reason: input.reason,
        before: {
          makerFeePercent: ppmPercent(before.maker_fee_ppm),
          takerFeePercent: ppmPercent(before.taker_fee_ppm),
        },
        after: {
          makerFeePercent: ppmPercent(makerFeePpm),
          takerFeePercent: ppmPercent(takerFeePpm),
        },
      });
    });
    const [market] = await loadAdminMarkets(ctx.db, ctx.services.etcd, ctx.services.names, [
      input.symbol,
    ]);
    if (!market) throw unknownMarket(input.symbol);
    return market;
  });

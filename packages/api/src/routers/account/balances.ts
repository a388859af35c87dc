// account.balances: the user's balance in every listed asset (zero where they never held any),
// available and locked (held for open orders and pending withdrawals), as decimal strings.
import { schema } from "@spotx/db";
import { unitsToDecimal } from "@spotx/engine";
import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import { protectedProcedure } from "../../trpc";

export const balanceView = z.object({
  asset: z.string(),
  name: z.string(),
  available: z.string(),
  locked: z.string(),
  /** Bumped on every change (gate.io's update_id). */
  updateId: z.string(),
});

export const balances = protectedProcedure.output(z.array(balanceView)).query(async ({ ctx }) => {
  const { assets, balances: b } = schema;
  const rows = await ctx.db
    .select({
      asset: assets.symbol,
      name: assets.name,
      decimals: assets.decimals,
      available: b.available,
      locked: b.locked,
      updateId: b.updateId,
    })
    .from(assets)
    .leftJoin(b, and(eq(b.asset, assets.symbol), eq(b.userId, ctx.session.userId)))
    .orderBy(asc(assets.symbol));
  return rows.map((row) => ({
    asset: row.asset,
    name: row.name,
    available: unitsToDecimal(row.available ?? 0n, row.decimals),
    locked: unitsToDecimal(row.locked ?? 0n, row.decimals),
    updateId: String(row.updateId ?? 0n),
  }));
});

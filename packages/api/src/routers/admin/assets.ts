// admin.assets.list / admin.assets.create: the assets markets are listed on. An asset is a symbol,
// a name and its decimals (0 to 9: a balance, int8 minor units, must hold a billion whole units —
// MAX_ASSET_DECIMALS); its system accounts come with it (a trigger), and its decimals never change
// once it exists. Created in the transaction that writes the audit row; ASSET_EXISTS for a symbol
// that is taken. Deposits and withdrawals start enabled, as for the seeded assets.
import { createAsset, MAX_ASSET_DECIMALS, schema } from "@spotx/db";
import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import { auditOperatorAction } from "../../admin/operator-audit";
import { assetSymbol, reason } from "../../admin/schemas";
import { operatorProcedure } from "../../trpc";

export const adminAsset = z.object({
  symbol: z.string(),
  name: z.string(),
  decimals: z.number().int(),
  depositEnabled: z.boolean(),
  withdrawEnabled: z.boolean(),
  createdAt: z.date(),
});
export type AdminAsset = z.infer<typeof adminAsset>;

export const createAssetInput = z.object({
  symbol: assetSymbol,
  name: z
    .string()
    .trim()
    .min(1, "give the asset a name")
    .max(100)
    .refine((text) => !text.includes("\u0000"), "must not contain NUL"),
  decimals: z
    .number()
    .int("must be a whole number")
    .min(0, "must be 0 or more")
    .max(
      MAX_ASSET_DECIMALS,
      `at most ${MAX_ASSET_DECIMALS}: a balance must hold a billion whole units in int8 minor units`,
    ),
  reason,
});

export const listAssetsProcedure = operatorProcedure
  .output(z.array(adminAsset))
  .query(({ ctx }) => ctx.db.select().from(schema.assets).orderBy(asc(schema.assets.symbol)));

export const createAssetProcedure = operatorProcedure
  .input(createAssetInput)
  .output(adminAsset)
  .mutation(({ ctx, input }) =>
    ctx.db.transaction(async (tx) => {
      await createAsset(tx, { symbol: input.symbol, name: input.name, decimals: input.decimals });
      const [row] = await tx
        .select()
        .from(schema.assets)
        .where(eq(schema.assets.symbol, input.symbol));
      if (!row) throw new Error(`asset ${input.symbol} vanished after it was created`);
      await auditOperatorAction(tx, ctx, {
        action: "asset.create",
        subject: `asset:${row.symbol}`,
        reason: input.reason,
        before: null,
        after: {
          symbol: row.symbol,
          name: row.name,
          decimals: row.decimals,
          depositEnabled: row.depositEnabled,
          withdrawEnabled: row.withdrawEnabled,
        },
      });
      return row;
    }),
  );

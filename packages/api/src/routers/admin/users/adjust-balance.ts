// admin.users.adjustBalance: an operator's correction of a user's available balance — a credit
// or a debit against the asset's adjustment account — with a reason, and optionally the
// reconciliation finding it corrects. The ledger does it under the user's fenced account lock
// and writes the audit row (balance before and after, reason, origin) in the same transaction.
// `idempotencyKey` (a UUID the console makes once per form) turns a double submit into one
// adjustment: the second answers `duplicate` and changes nothing. An operator's own balance is
// adjusted by another operator (SELF_ACTION_FORBIDDEN, audited).
import { adjustWithLock, LedgerError, parseDecimal, schema } from "@spotx/db";
import { breakers } from "@spotx/platform/breakers";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { MarketUnits } from "../../../admin/market-units";
import { auditOrigin } from "../../../admin/operator-audit";
import { assetSymbol, decimalText, entityId, reason } from "../../../admin/schemas";
import { unlessOwnAccount } from "../../../admin/self-action";
import { operatorProcedure } from "../../../trpc";

export const adjustBalanceInput = z.object({
  userId: entityId,
  asset: assetSymbol,
  direction: z.enum(["credit", "debit"]),
  /** How much, in the asset's units (at most its decimals). */
  amount: decimalText,
  reason,
  idempotencyKey: z.uuid(),
  /** The reconciliation finding this corrects. */
  findingId: entityId.optional(),
});

export const adjustBalanceOutput = z.object({
  transferId: z.bigint(),
  duplicate: z.boolean(),
  balance: z.object({ asset: z.string(), available: z.string(), locked: z.string() }),
});

export const adjustBalanceProcedure = operatorProcedure
  .input(adjustBalanceInput)
  .output(adjustBalanceOutput)
  .mutation(async ({ ctx, input }) => {
    const units = await MarketUnits.load(ctx.db);
    let decimals: number;
    try {
      decimals = units.decimals(input.asset);
    } catch {
      throw new LedgerError("INVALID_PARAM_VALUE", `unknown asset ${input.asset}`);
    }
    const amount = parseDecimal(input.amount, decimals);
    if (amount === 0n) throw new LedgerError("INVALID_PARAM_VALUE", "amount must be positive");
    const { redis, locks } = ctx.services;
    // The account lock lives in Redis: an unavailable Redis fails fast here.
    await breakers.redis.run(() => redis.ping());
    const signed = input.direction === "credit" ? amount : -amount;
    const outcome = await unlessOwnAccount(
      ctx,
      {
        action: "ledger.adjust",
        subject: `user:${input.userId}`,
        userId: input.userId,
        details: { asset: input.asset, amount: signed, reason: input.reason },
      },
      () =>
        adjustWithLock(ctx.db, locks, {
          userId: input.userId,
          asset: input.asset,
          amount: signed,
          reason: input.reason,
          operatorId: ctx.session.userId,
          ref: `admin:${input.idempotencyKey}`,
          findingId: input.findingId,
          origin: auditOrigin(ctx.request),
        }),
    );
    const found = await ctx.db
      .select({ available: schema.balances.available, locked: schema.balances.locked })
      .from(schema.balances)
      .where(and(eq(schema.balances.userId, input.userId), eq(schema.balances.asset, input.asset)));
    const balance = found[0] ?? { available: 0n, locked: 0n };
    return {
      transferId: outcome.transferId,
      duplicate: outcome.duplicate,
      balance: {
        asset: input.asset,
        available: units.amount(input.asset, balance.available),
        locked: units.amount(input.asset, balance.locked),
      },
    };
  });

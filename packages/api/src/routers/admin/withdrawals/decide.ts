// admin.withdrawals.approve / admin.withdrawals.reject: the operator's decision on a pending
// withdrawal, made by the ledger under the user's account lock (fenced): approving pays the held
// amount out, rejecting returns it to the user's available balance. The ledger writes the audit
// row in the same transaction — with the balance before and after, the reason and where the
// request came from. Deciding the same way twice is answered with the first decision
// (`duplicate`); the other way is WITHDRAWAL_DECIDED. An operator's own withdrawal is decided by
// another operator (SELF_ACTION_FORBIDDEN, audited).
import { decideWithdrawal, LedgerError, schema } from "@spotx/db";
import { breakers } from "@spotx/platform/breakers";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { auditOrigin, type OperatorContext } from "../../../admin/operator-audit";
import { entityId, reason } from "../../../admin/schemas";
import { unlessOwnAccount } from "../../../admin/self-action";
import { operatorProcedure } from "../../../trpc";
import { adminWithdrawal, loadWithdrawals } from "./queue";

export const approveWithdrawalInput = z.object({ withdrawalId: entityId });
export const rejectWithdrawalInput = z.object({ withdrawalId: entityId, reason });

export const decisionOutput = z.object({
  withdrawal: adminWithdrawal,
  /** True when it had been decided this way already: nothing changed this time. */
  duplicate: z.boolean(),
});

async function decide(
  ctx: OperatorContext,
  decision: { withdrawalId: bigint } & (
    | { decision: "approve" }
    | { decision: "reject"; reason: string }
  ),
) {
  const { redis, locks } = ctx.services;
  const owner = await ctx.db
    .select({ userId: schema.withdrawals.userId })
    .from(schema.withdrawals)
    .where(eq(schema.withdrawals.id, decision.withdrawalId));
  // The account lock lives in Redis: an unavailable Redis fails fast here, not inside the lock.
  await breakers.redis.run(() => redis.ping());
  const outcome = await unlessOwnAccount(
    ctx,
    {
      action: `withdrawal.${decision.decision}`,
      subject: `withdrawal:${decision.withdrawalId}`,
      // Unknown: the ledger answers NOT_FOUND.
      userId: owner[0]?.userId ?? null,
    },
    () =>
      decideWithdrawal(ctx.db, locks, {
        ...decision,
        operatorId: ctx.session.userId,
        origin: auditOrigin(ctx.request),
      }),
  );
  const page = await loadWithdrawals(ctx.db, { id: outcome.withdrawal.id, limit: 1 });
  const withdrawal = page.items[0];
  if (!withdrawal) {
    throw new LedgerError("NOT_FOUND", `withdrawal ${decision.withdrawalId} does not exist`);
  }
  return { withdrawal, duplicate: outcome.duplicate };
}

export const approveWithdrawalProcedure = operatorProcedure
  .input(approveWithdrawalInput)
  .output(decisionOutput)
  .mutation(({ ctx, input }) =>
    decide(ctx, { withdrawalId: input.withdrawalId, decision: "approve" }),
  );

export const rejectWithdrawalProcedure = operatorProcedure
  .input(rejectWithdrawalInput)
  .output(decisionOutput)
  .mutation(({ ctx, input }) =>
    decide(ctx, { withdrawalId: input.withdrawalId, decision: "reject", reason: input.reason }),
  );

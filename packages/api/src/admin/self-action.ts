// Four eyes: no operator acts on their own account — decides their own withdrawal, adjusts their
// own balance, changes their own status (or role). The console refuses with SELF_ACTION_FORBIDDEN
// and the refusal itself is audited (`<action>.refused`, in a transaction of its own, since the
// action writes nothing): an operator trying is worth knowing about. The ledger refuses the same
// in its own functions (adjust, decideWithdrawal), which is audited here the same way.
import { isLedgerError } from "@spotx/db";
import { ApiError } from "../errors";
import { auditOperatorAction, type OperatorContext } from "./operator-audit";

export type OwnAccountAction = {
  /** The action refused, as the audit log names it (`withdrawal.approve`, `ledger.adjust`…). */
  action: string;
  subject: string;
  /** The account the action would touch; null when unknown (the ledger will answer). */
  userId: bigint | null;
  details?: Record<string, unknown>;
};

async function recordRefusal(ctx: OperatorContext, attempted: OwnAccountAction): Promise<void> {
  await ctx.db.transaction((tx) =>
    auditOperatorAction(tx, ctx, {
      action: `${attempted.action}.refused`,
      subject: attempted.subject,
      before: null,
      after: null,
      details: { ...attempted.details, label: "SELF_ACTION_FORBIDDEN" },
    }),
  );
}

/**
 * Runs `act` unless it touches the operator's own account; refuses (and audits the refusal)
 * when it does — here, or when the ledger refuses it itself.
 */
export async function unlessOwnAccount<T>(
  ctx: OperatorContext,
  attempted: OwnAccountAction,
  act: () => Promise<T>,
): Promise<T> {
  if (attempted.userId === ctx.session.userId) {
    await recordRefusal(ctx, attempted);
    throw new ApiError(
      "SELF_ACTION_FORBIDDEN",
      "an operator cannot act on their own account; another operator must",
    );
  }
  try {
    return await act();
  } catch (error) {
    if (isLedgerError(error, "SELF_ACTION_FORBIDDEN")) await recordRefusal(ctx, attempted);
    throw error;
  }
}

// Withdrawals: a request locks the amount (available → locked) and records it as pending; an
// operator then approves it (locked → the external account: the money leaves) or rejects it
// (locked → available). Each transition happens exactly once, under the account's fenced lock.
import type { LockService } from "@spotx/platform/locks";
import { sql } from "drizzle-orm";
import { type AuditOrigin, parseAuditOrigin } from "./audit-origin";
import type { Database, Transaction } from "./client";
import { invariant, LedgerError } from "./errors";
import { checkFence, type Fence, withAccountLock } from "./fencing";
import {
  requireAmount,
  requireAssetSymbol,
  requireId,
  requireObject,
  requireOneOf,
  requireText,
} from "./input";
import {
  assertAccountFence,
  holdFunds,
  postTransfer,
  requireActiveUser,
  requireAsset,
  requireOperator,
  retryTransaction,
  systemAccountId,
  type TransferOutcome,
  userAccountId,
  writeAudit,
} from "./ledger";
import { withdrawals } from "./schema";

export type Withdrawal = typeof withdrawals.$inferSelect;
export type WithdrawalOutcome = {
  withdrawal: Withdrawal;
  duplicate: boolean;
  transfer?: TransferOutcome;
};

async function lockWithdrawal(tx: Transaction, id: bigint): Promise<Withdrawal> {
  const found = await tx
    .select()
    .from(withdrawals)
    .where(sql`${withdrawals.id} = ${id}`)
    .for("update");
  const withdrawal = found[0];
  if (!withdrawal) throw new LedgerError("NOT_FOUND", `withdrawal ${id} does not exist`);
  return withdrawal;
}

/**
 * Asks to withdraw: holds the amount and records a pending withdrawal. Idempotent by `ref`
 * (the client's key): the same request again returns the first withdrawal.
 */
export async function requestWithdrawal(
  db: Database,
  input: { userId: bigint; asset: string; amount: bigint; address: string; ref: string },
): Promise<WithdrawalOutcome> {
  const raw = requireObject(input, "withdrawal");
  input = {
    userId: requireId(raw.userId, "userId"),
    asset: requireAssetSymbol(raw.asset),
    amount: requireAmount(raw.amount, "withdrawal amount"),
    address: requireText(raw.address, "address", 200),
    ref: requireText(raw.ref, "ref", 200),
  };
  return retryTransaction(() =>
    db.transaction(async (tx) => {
      const asset = await requireAsset(tx, input.asset);
      if (!asset.withdraw_enabled) {
        throw new LedgerError("INVALID_PARAM_VALUE", `withdrawals of ${input.asset} are disabled`);
      }
      await requireActiveUser(tx, input.userId);
      const inserted = await tx
        .insert(withdrawals)
        .values({
          userId: input.userId,
          asset: input.asset,
          amount: input.amount,
          address: input.address,
          ref: input.ref,
        })
        .onConflictDoNothing({ target: withdrawals.ref })
        .returning();
      const withdrawal = inserted[0];
      if (!withdrawal) {
        const existing = await tx
          .select()
          .from(withdrawals)
          .where(sql`${withdrawals.ref} = ${input.ref}`);
        const first = existing[0];
        invariant(first, `withdrawal ${input.ref} vanished`);
        if (
          first.userId !== input.userId ||
          first.asset !== input.asset ||
          first.amount !== input.amount ||
          first.address !== input.address
        ) {
          throw new LedgerError(
            "IDEMPOTENCY_CONFLICT",
            `withdrawal reference ${input.ref} was already used for a different request`,
          );
        }
        return { withdrawal: first, duplicate: true };
      }
      const transfer = await holdFunds(tx, {
        userId: input.userId,
        asset: input.asset,
        amount: input.amount,
        ref: `withdrawal:${withdrawal.id}:hold`,
        kind: "withdrawal_hold",
      });
      return { withdrawal, duplicate: false, transfer };
    }),
  );
}

type Decision = ({ decision: "approve" } | { decision: "reject"; reason: string }) & {
  /** Where the operator's request came from, for the audit row. */
  origin?: AuditOrigin | null;
};

export type DecideWithdrawalInput = Decision & {
  withdrawalId: bigint;
  operatorId: bigint;
  /** The fence of the `account:<userId>` lock held by the caller. */
  fence: Fence;
};

/**
 * The operator's decision on a pending withdrawal, under the account lock's fence. Approving
 * pays the locked amount out to the external account; rejecting returns it to available.
 * Deciding the same way again is a no-op; deciding the other way is WITHDRAWAL_DECIDED.
 */
/** Checks a decision's fields (all but the fence). */
function parseDecision(input: unknown): Decision & { withdrawalId: bigint; operatorId: bigint } {
  const raw = requireObject(input, "decision");
  const withdrawalId = requireId(raw.withdrawalId, "withdrawalId");
  const operatorId = requireId(raw.operatorId, "operatorId");
  const decision = requireOneOf(raw.decision, ["approve", "reject"] as const, "decision");
  const origin = parseAuditOrigin(raw.origin);
  return decision === "approve"
    ? { withdrawalId, operatorId, decision, origin }
    : {
        withdrawalId,
        operatorId,
        decision,
        reason: requireText(raw.reason, "reason", 500),
        origin,
      };
}

/** Four eyes: an operator's own withdrawal is decided by another operator. */
function refuseOwnWithdrawal(userId: bigint, operatorId: bigint) {
  if (userId === operatorId) {
    throw new LedgerError(
      "SELF_ACTION_FORBIDDEN",
      `operator ${operatorId} cannot decide their own withdrawal; another operator must`,
    );
  }
}

export async function decideWithdrawalFenced(
  db: Database,
  raw: DecideWithdrawalInput,
): Promise<WithdrawalOutcome> {
  const input = { ...parseDecision(raw), fence: raw.fence };
  return retryTransaction(() =>
    db.transaction(async (tx) => {
      await requireOperator(tx, input.operatorId);
      const withdrawal = await lockWithdrawal(tx, input.withdrawalId);
      refuseOwnWithdrawal(withdrawal.userId, input.operatorId);
      assertAccountFence(input.fence, withdrawal.userId);
      await checkFence(tx, input.fence);
      const target = input.decision === "approve" ? "completed" : "rejected";
      if (withdrawal.status === target) return { withdrawal, duplicate: true };
      if (withdrawal.status !== "pending") {
        throw new LedgerError(
          "WITHDRAWAL_DECIDED",
          `withdrawal ${withdrawal.id} is already ${withdrawal.status}`,
        );
      }
      const accountId = await userAccountId(tx, withdrawal.userId, withdrawal.asset);
      const amount = withdrawal.amount;
      const transfer =
        input.decision === "approve"
          ? await postTransfer(tx, {
              kind: "withdrawal_payout",
              ref: `withdrawal:${withdrawal.id}:payout`,
              entries: [
                { accountId, asset: withdrawal.asset, bucket: "locked", amount: -amount },
                {
                  accountId: await systemAccountId(tx, "external", withdrawal.asset),
                  asset: withdrawal.asset,
                  bucket: "available",
                  amount,
                },
              ],
              userChanges: [{ accountId, available: 0n, locked: -amount }],
              insufficient: () => new Error(`withdrawal ${withdrawal.id}: its hold is missing`),
            })
          : await postTransfer(tx, {
              kind: "withdrawal_return",
              ref: `withdrawal:${withdrawal.id}:return`,
              entries: [
                { accountId, asset: withdrawal.asset, bucket: "locked", amount: -amount },
                { accountId, asset: withdrawal.asset, bucket: "available", amount },
              ],
              userChanges: [{ accountId, available: amount, locked: -amount }],
              insufficient: () => new Error(`withdrawal ${withdrawal.id}: its hold is missing`),
            });
      invariant(!transfer.duplicate, `withdrawal ${withdrawal.id} was paid out while pending`);
      const decided = await tx
        .update(withdrawals)
        .set({
          status: target,
          decidedAt: new Date(),
          decidedBy: input.operatorId,
          reason: input.decision === "reject" ? input.reason : null,
        })
        .where(sql`${withdrawals.id} = ${withdrawal.id}`)
        .returning();
      const updated = decided[0];
      invariant(updated, `withdrawal ${withdrawal.id} not updated`);
      const after = transfer.balances.find((b) => b.asset === withdrawal.asset);
      await writeAudit(tx, {
        actorId: input.operatorId,
        action: input.decision === "approve" ? "withdrawal.approve" : "withdrawal.reject",
        subject: `withdrawal:${withdrawal.id}`,
        details: {
          userId: withdrawal.userId,
          asset: withdrawal.asset,
          amount,
          reason: input.decision === "reject" ? input.reason : null,
          transferId: transfer.transferId,
          fencingToken: input.fence.token,
          before: after
            ? input.decision === "approve"
              ? { available: after.available, locked: after.locked + amount }
              : { available: after.available - amount, locked: after.locked + amount }
            : null,
          after: after ? { available: after.available, locked: after.locked } : null,
          origin: input.origin ?? null,
        },
      });
      return { withdrawal: updated, duplicate: false, transfer };
    }),
  );
}

/** Approves or rejects a withdrawal, taking the `account:<userId>` lock around the write. */
export async function decideWithdrawal(
  db: Database,
  locks: LockService,
  raw: Decision & { withdrawalId: bigint; operatorId: bigint },
): Promise<WithdrawalOutcome> {
  const input = parseDecision(raw);
  const found = await db
    .select({ userId: withdrawals.userId })
    .from(withdrawals)
    .where(sql`${withdrawals.id} = ${input.withdrawalId}`);
  const userId = found[0]?.userId;
  if (userId === undefined) {
    throw new LedgerError("NOT_FOUND", `withdrawal ${input.withdrawalId} does not exist`);
  }
  return withAccountLock(locks, userId, (fence) => decideWithdrawalFenced(db, { ...input, fence }));
}

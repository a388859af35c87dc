// account.requestWithdrawal, account.withdrawals and account.withdrawal: a trader asks to
// withdraw (the amount is held at once; an operator approves or rejects it later) and follows
// its status. A request may carry the client's own key (`clientRef`): the same request again
// returns the first withdrawal instead of holding twice. Keys are per user (stored as
// `u<user>:<key>`), so one trader's key can never collide with, or reveal, another's. A user
// with two-factor sign-in confirms each request with a current code (`totpCode`).
import { randomUUID } from "node:crypto";
import { requestWithdrawal as requestLedgerWithdrawal, schema, type Withdrawal } from "@spotx/db";
import { unitsToDecimal } from "@spotx/engine";
import { and, desc, eq, lt } from "drizzle-orm";
import { z } from "zod";
import { requireCodeFor } from "../../auth/two-factor";
import { ApiError } from "../../errors";
import { activeProcedure, protectedProcedure } from "../../trpc";
import { totpCodeField } from "../auth/two-factor";
import { assetField, decimalField, idField, limitField, page, textField } from "../fields";
import { assetAmount } from "./asset-amount";

export const requestWithdrawalInput = z.strictObject({
  asset: assetField,
  amount: decimalField,
  /** Where to send it (checked by the operator who approves it). */
  address: textField(200).min(1),
  /** The client's idempotency key. */
  clientRef: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "1 to 64 letters, digits, '_', '.' or '-'")
    .optional(),
  /** The authenticator app's current code: required when two-factor sign-in is on. */
  totpCode: totpCodeField.optional(),
});
export type RequestWithdrawalInput = z.input<typeof requestWithdrawalInput>;

export const withdrawalView = z.object({
  id: z.string(),
  asset: z.string(),
  amount: z.string(),
  address: z.string(),
  status: z.enum(["pending", "completed", "rejected"]),
  /** The operator's reason for a rejection. */
  reason: z.string().nullable(),
  clientRef: z.string(),
  requestedAt: z.number().int(),
  decidedAt: z.number().int().nullable(),
});
export type WithdrawalView = z.infer<typeof withdrawalView>;

const refPrefix = (userId: bigint) => `u${userId}:`;

function toWithdrawalView(w: Withdrawal, decimals: number): WithdrawalView {
  const prefix = refPrefix(w.userId);
  return {
    id: String(w.id),
    asset: w.asset,
    amount: unitsToDecimal(w.amount, decimals),
    address: w.address,
    status: w.status,
    reason: w.reason,
    clientRef: w.ref.startsWith(prefix) ? w.ref.slice(prefix.length) : w.ref,
    requestedAt: w.requestedAt.getTime(),
    decidedAt: w.decidedAt?.getTime() ?? null,
  };
}

export const requestWithdrawal = activeProcedure
  .input(requestWithdrawalInput)
  .output(z.object({ withdrawal: withdrawalView, duplicate: z.boolean() }))
  .mutation(async ({ ctx, input }) => {
    const userId = ctx.session.userId;
    const { asset, decimals, amount } = await assetAmount(ctx.db, input.asset, input.amount);
    await requireCodeFor(ctx, "a withdrawal", input.totpCode);
    const outcome = await requestLedgerWithdrawal(ctx.db, {
      userId,
      asset,
      amount,
      address: input.address,
      ref: `${refPrefix(userId)}${input.clientRef ?? randomUUID()}`,
    });
    return {
      withdrawal: toWithdrawalView(outcome.withdrawal, decimals),
      duplicate: outcome.duplicate,
    };
  });

/** The user's withdrawals with their assets' decimals, newest first. */
async function usersWithdrawals(
  db: Parameters<typeof requestLedgerWithdrawal>[0],
  where: Parameters<typeof and>,
  limit: number,
) {
  const { withdrawals: w, assets } = schema;
  return db
    .select({ withdrawal: w, decimals: assets.decimals })
    .from(w)
    .innerJoin(assets, eq(assets.symbol, w.asset))
    .where(and(...where))
    .orderBy(desc(w.id))
    .limit(limit);
}

export const withdrawalsInput = z
  .strictObject({
    status: z.enum(["pending", "completed", "rejected"]).optional(),
    limit: limitField(200, 50),
    cursor: idField.optional(),
  })
  .default({ limit: 50 });

export const withdrawals = protectedProcedure
  .input(withdrawalsInput)
  .output(page(withdrawalView))
  .query(async ({ ctx, input }) => {
    const w = schema.withdrawals;
    const rows = await usersWithdrawals(
      ctx.db,
      [
        eq(w.userId, ctx.session.userId),
        input.status === undefined ? undefined : eq(w.status, input.status),
        input.cursor === undefined ? undefined : lt(w.id, BigInt(input.cursor)),
      ],
      input.limit + 1,
    );
    const items = rows
      .slice(0, input.limit)
      .map((row) => toWithdrawalView(row.withdrawal, row.decimals));
    const last = items.at(-1);
    return { items, nextCursor: rows.length > input.limit && last ? last.id : null };
  });

export const withdrawal = protectedProcedure
  .input(z.strictObject({ id: idField }))
  .output(withdrawalView)
  .query(async ({ ctx, input }) => {
    const w = schema.withdrawals;
    const [row] = await usersWithdrawals(
      ctx.db,
      [eq(w.id, BigInt(input.id)), eq(w.userId, ctx.session.userId)],
      1,
    );
    // Another user's withdrawal is as unknown as one that does not exist.
    if (!row) throw new ApiError("NOT_FOUND", `no withdrawal ${input.id}`);
    return toWithdrawalView(row.withdrawal, row.decimals);
  });

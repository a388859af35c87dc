// admin.withdrawals.queue: withdrawals by status — the approval queue (pending, oldest first,
// with the user's balance of the asset beside each) or the decided ones (newest first) — filtered
// by user and asset, a page at a time.
import { type Database, schema } from "@spotx/db";
import { and, asc, desc, eq, gt, lt, type SQL } from "drizzle-orm";
import { z } from "zod";
import { MarketUnits } from "../../../admin/market-units";
import {
  assetSymbol,
  cursorId,
  decodeCursor,
  entityId,
  pageFrom,
  pageInput,
  pageOf,
} from "../../../admin/schemas";
import { operatorProcedure } from "../../../trpc";

export const WITHDRAWAL_STATUSES = ["pending", "completed", "rejected"] as const;

type WithdrawalRow = typeof schema.withdrawals.$inferSelect;

export const adminWithdrawal = z.object({
  id: z.bigint(),
  userId: z.bigint(),
  email: z.string(),
  asset: z.string(),
  amount: z.string(),
  address: z.string(),
  ref: z.string(),
  status: z.enum(WITHDRAWAL_STATUSES),
  requestedAt: z.date(),
  decidedAt: z.date().nullable(),
  decidedBy: z.bigint().nullable(),
  reason: z.string().nullable(),
  /** The user's balance of the asset now (the pending amount is in `locked`). */
  balance: z.object({ available: z.string(), locked: z.string() }).nullable(),
});
export type AdminWithdrawal = z.infer<typeof adminWithdrawal>;

export function presentWithdrawal(
  w: WithdrawalRow,
  email: string,
  balance: { available: bigint; locked: bigint } | null,
  units: MarketUnits,
): AdminWithdrawal {
  return {
    id: w.id,
    userId: w.userId,
    email,
    asset: w.asset,
    amount: units.amount(w.asset, w.amount),
    address: w.address,
    ref: w.ref,
    status: w.status,
    requestedAt: w.requestedAt,
    decidedAt: w.decidedAt,
    decidedBy: w.decidedBy,
    reason: w.reason,
    balance: balance
      ? {
          available: units.amount(w.asset, balance.available),
          locked: units.amount(w.asset, balance.locked),
        }
      : null,
  };
}

export const withdrawalQueueInput = z
  .object({
    status: z.enum(WITHDRAWAL_STATUSES).default("pending"),
    userId: entityId.optional(),
    asset: assetSymbol.optional(),
    ...pageInput,
  })
  .prefault({});

export async function loadWithdrawals(
  db: Database,
  filter: {
    status?: (typeof WITHDRAWAL_STATUSES)[number];
    userId?: bigint;
    asset?: string;
    id?: bigint;
    cursor?: string;
    limit: number;
  },
) {
  const { withdrawals: w, users, balances } = schema;
  // The queue is worked oldest first; what was decided is read newest first.
  const oldestFirst = filter.status === "pending";
  const from =
    filter.cursor === undefined ? undefined : cursorId(decodeCursor(filter.cursor, 1)[0]);
  const where: (SQL | undefined)[] = [
    filter.status === undefined ? undefined : eq(w.status, filter.status),
    filter.userId === undefined ? undefined : eq(w.userId, filter.userId),
    filter.asset === undefined ? undefined : eq(w.asset, filter.asset),
    filter.id === undefined ? undefined : eq(w.id, filter.id),
    from === undefined ? undefined : oldestFirst ? gt(w.id, from) : lt(w.id, from),
  ];
  const [rows, units] = await Promise.all([
    db
      .select({
        withdrawal: w,
        email: users.email,
        available: balances.available,
        locked: balances.locked,
      })
      .from(w)
      .innerJoin(users, eq(users.id, w.userId))
      .leftJoin(balances, and(eq(balances.userId, w.userId), eq(balances.asset, w.asset)))
      .where(and(...where))
      .orderBy(oldestFirst ? asc(w.id) : desc(w.id))
      .limit(filter.limit + 1),
    MarketUnits.load(db),
  ]);
  return pageFrom(
    rows,
    filter.limit,
    (r) =>
      presentWithdrawal(
        r.withdrawal,
        r.email,
        r.available === null || r.locked === null
          ? null
          : { available: r.available, locked: r.locked },
        units,
      ),
    (r) => [r.withdrawal.id.toString()],
  );
}

export const withdrawalQueueProcedure = operatorProcedure
  .input(withdrawalQueueInput)
  .output(pageOf(adminWithdrawal))
  .query(({ ctx, input }) => loadWithdrawals(ctx.db, input));

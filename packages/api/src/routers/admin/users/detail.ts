// admin.users.detail: one user as an operator needs them at a glance — their balances, live
// orders and latest ended ones, latest fills, latest ledger entries, API keys (never a secret),
// withdrawals and the audit rows about them. Longer histories are a page away:
// admin.orders.search, admin.trades.search, admin.users.ledger, admin.audit.search.
import { LedgerError, schema } from "@spotx/db";
import { and, desc, eq, inArray, notInArray, or } from "drizzle-orm";
import { z } from "zod";
import { MarketUnits } from "../../../admin/market-units";
import { entityId, pageOf } from "../../../admin/schemas";
import { operatorProcedure } from "../../../trpc";
import { auditEntry, loadAudit } from "../audit";
import { adminOrder, presentOrder } from "../orders/search";
import { adminTrade, presentTrade } from "../trades";
import { adminWithdrawal, loadWithdrawals } from "../withdrawals/queue";
import { ledgerEntry, loadLedger } from "./ledger";
import { adminUser } from "./search";

const RECENT = 20;
const LIVE_ORDERS = 200;

export const userDetailOutput = z.object({
  user: adminUser,
  balances: z.array(
    z.object({
      asset: z.string(),
      available: z.string(),
      locked: z.string(),
      updateId: z.bigint(),
      updatedAt: z.date(),
    }),
  ),
  liveOrders: z.array(adminOrder),
  recentOrders: z.array(adminOrder),
  fills: z.array(
    adminTrade.extend({
      /** The user's side of it (both, for a self-trade). */
      role: z.enum(["maker", "taker", "both"]),
    }),
  ),
  ledger: pageOf(ledgerEntry),
  apiKeys: z.array(
    z.object({
      key: z.string(),
      label: z.string(),
      permissions: z.array(z.enum(["read", "trade"])),
      ipAllowlist: z.array(z.string()).nullable(),
      createdAt: z.date(),
      lastUsedAt: z.date().nullable(),
      revokedAt: z.date().nullable(),
    }),
  ),
  withdrawals: z.array(adminWithdrawal),
  audit: pageOf(auditEntry),
});

export const userDetailProcedure = operatorProcedure
  .input(z.object({ userId: entityId }))
  .output(userDetailOutput)
  .query(async ({ ctx, input }) => {
    const { db } = ctx;
    const { users, balances, orders, trades, apiKeys } = schema;
    const found = await db
      .select({
        id: users.id,
        email: users.email,
        role: users.role,
        status: users.status,
        createdAt: users.createdAt,
      })
      .from(users)
      .where(eq(users.id, input.userId));
    const user = found[0];
    if (!user) throw new LedgerError("NOT_FOUND", `user ${input.userId} does not exist`);
    const units = await MarketUnits.load(db);
    const live = ["pending", "open"] as const;
    const [balanceRows, liveRows, recentRows, fillRows, ledger, keyRows, withdrawals, audit] =
      await Promise.all([
        db.select().from(balances).where(eq(balances.userId, user.id)).orderBy(balances.asset),
        db
          .select()
          .from(orders)
          .where(and(eq(orders.userId, user.id), inArray(orders.status, [...live])))
          .orderBy(desc(orders.id))
          .limit(LIVE_ORDERS),
        db
          .select()
          .from(orders)
          .where(and(eq(orders.userId, user.id), notInArray(orders.status, [...live])))
          .orderBy(desc(orders.id))
          .limit(RECENT),
        db
          .select()
          .from(trades)
          .where(or(eq(trades.makerUserId, user.id), eq(trades.takerUserId, user.id)))
          .orderBy(desc(trades.createdAt), desc(trades.id))
          .limit(RECENT),
        loadLedger(db, units, { userId: user.id, limit: RECENT }),
        db.select().from(apiKeys).where(eq(apiKeys.userId, user.id)).orderBy(desc(apiKeys.id)),
        loadWithdrawals(db, { userId: user.id, limit: RECENT }),
        loadAudit(db, { subject: `user:${user.id}`, limit: RECENT }),
      ]);
    return {
      user,
      balances: balanceRows.map((b) => ({
        asset: b.asset,
        available: units.amount(b.asset, b.available),
        locked: units.amount(b.asset, b.locked),
        updateId: b.updateId,
        updatedAt: b.updatedAt,
      })),
      liveOrders: liveRows.map((o) => presentOrder(o, units)),
      recentOrders: recentRows.map((o) => presentOrder(o, units)),
      fills: fillRows.map((t) => ({
        ...presentTrade(t, units),
        role:
          t.makerUserId === user.id && t.takerUserId === user.id
            ? ("both" as const)
            : t.makerUserId === user.id
              ? ("maker" as const)
              : ("taker" as const),
      })),
      ledger,
      apiKeys: keyRows.map((k) => ({
        key: k.key,
        label: k.label,
        permissions: k.permissions,
        ipAllowlist: k.ipAllowlist,
        createdAt: k.createdAt,
        lastUsedAt: k.lastUsedAt,
        revokedAt: k.revokedAt,
      })),
      withdrawals: withdrawals.items,
      audit,
    };
  });

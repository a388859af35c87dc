// admin.users.ledger: a user's ledger entries — every movement of their balances, with the
// transfer it belongs to (kind, reference, time) — newest first, a page at a time.
import { type Database, LedgerError, schema } from "@spotx/db";
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
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

export const ledgerEntry = z.object({
  transferId: z.bigint(),
  idx: z.number().int(),
  kind: z.string(),
  ref: z.string(),
  asset: z.string(),
  bucket: z.enum(["available", "locked"]),
  /** Signed: positive credits the balance, negative debits it. */
  amount: z.string(),
  createdAt: z.date(),
});

export const userLedgerInput = z.object({
  userId: entityId,
  asset: assetSymbol.optional(),
  ...pageInput,
});

export async function loadLedger(
  db: Database,
  units: MarketUnits,
  filter: { userId: bigint; asset?: string; cursor?: string; limit: number },
) {
  const { ledgerEntries: e, accounts: a, transfers: t } = schema;
  let after: SQL | undefined;
  if (filter.cursor !== undefined) {
    const [transfer, idx] = decodeCursor(filter.cursor, 2);
    const position = /^[0-9]{1,5}$/.test(idx ?? "") ? Number(idx) : -1;
    if (position < 0 || position > 32_767) {
      throw new LedgerError("INVALID_PARAM_VALUE", "cursor is not one this list gave out");
    }
    after = sql`(${e.transferId}, ${e.idx}) < (${cursorId(transfer)}, ${position})`;
  }
  const rows = await db
    .select({
      transferId: e.transferId,
      idx: e.idx,
      kind: t.kind,
      ref: t.ref,
      asset: e.asset,
      bucket: e.bucket,
      amount: e.amount,
      createdAt: t.createdAt,
    })
    .from(e)
    .innerJoin(a, eq(a.id, e.accountId))
    .innerJoin(t, eq(t.id, e.transferId))
    .where(
      and(
        eq(a.userId, filter.userId),
        eq(a.kind, "user"),
        filter.asset === undefined ? undefined : eq(e.asset, filter.asset),
        after,
      ),
    )
    .orderBy(desc(e.transferId), desc(e.idx))
    .limit(filter.limit + 1);
  return pageFrom(
    rows,
    filter.limit,
    (r) => ({ ...r, amount: units.amount(r.asset, r.amount) }),
    (r) => [r.transferId.toString(), String(r.idx)],
  );
}

export const userLedgerProcedure = operatorProcedure
  .input(userLedgerInput)
  .output(pageOf(ledgerEntry))
  .query(async ({ ctx, input }) =>
    loadLedger(ctx.db, await MarketUnits.load(ctx.db), {
      userId: input.userId,
      asset: input.asset,
      cursor: input.cursor,
      limit: input.limit,
    }),
  );

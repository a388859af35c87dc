// account.ledger: the user's ledger history — every transfer that touched their accounts,
// newest first, with the entries on their side (signed: + credits, − debits; `available` or
// `locked`). Transfers' references say what caused them (order:<id>:hold, trade:<market>:<id>,
// deposit:…, withdrawal:<id>:…). Paged by transfer id.
import { unitsToDecimal } from "@spotx/engine";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { ApiError } from "../../errors";
import { protectedProcedure } from "../../trpc";
import { assetField, idField, limitField, page } from "../fields";

export const ledgerInput = z
  .strictObject({
    /** Only transfers that moved this asset. */
    asset: assetField.optional(),
    limit: limitField(200, 50),
    /** Transfers older than this one (the previous page's nextCursor). */
    cursor: idField.optional(),
  })
  .default({ limit: 50 });

export const ledgerTransfer = z.object({
  transferId: z.string(),
  kind: z.string(),
  reference: z.string(),
  time: z.number().int(),
  entries: z.array(
    z.object({ asset: z.string(), bucket: z.enum(["available", "locked"]), amount: z.string() }),
  ),
});
export const ledgerPage = page(ledgerTransfer);

type EntryRow = {
  transfer_id: bigint;
  kind: string;
  ref: string;
  time_ms: bigint;
  idx: number;
  asset: string;
  bucket: "available" | "locked";
  amount: bigint;
  decimals: number;
};

export const ledger = protectedProcedure
  .input(ledgerInput)
  .output(ledgerPage)
  .query(async ({ ctx, input }) => {
    const userId = ctx.session.userId;
    const asset = input.asset ?? null;
    if (asset !== null) {
      const known = await ctx.db.execute(sql`SELECT 1 FROM assets WHERE symbol = ${asset}`);
      if (known.rows.length === 0)
        throw new ApiError("INVALID_PARAM_VALUE", `unknown asset ${asset}`);
    }
    const before = input.cursor === undefined ? null : BigInt(input.cursor);
    const rows = await ctx.db.execute<EntryRow>(sql`
      WITH mine AS (
        SELECT id FROM accounts
         WHERE kind = 'user' AND user_id = ${userId} AND (${asset}::text IS NULL OR asset = ${asset})
      ), picked AS (
        SELECT DISTINCT e.transfer_id FROM ledger_entries e
         WHERE e.account_id IN (SELECT id FROM mine)
           AND (${before}::int8 IS NULL OR e.transfer_id < ${before})
         ORDER BY e.transfer_id DESC
         LIMIT ${input.limit + 1}
      )
      SELECT e.transfer_id, t.kind::text AS kind, t.ref,
             floor(extract(epoch FROM t.created_at) * 1000)::int8 AS time_ms, e.idx, e.asset,
             e.bucket::text AS bucket, e.amount, a.decimals
        FROM ledger_entries e
        JOIN picked p ON p.transfer_id = e.transfer_id
        JOIN transfers t ON t.id = e.transfer_id
        JOIN assets a ON a.symbol = e.asset
       WHERE e.account_id IN (SELECT id FROM accounts WHERE kind = 'user' AND user_id = ${userId})
       ORDER BY e.transfer_id DESC, e.idx`);
    const transfers: z.infer<typeof ledgerTransfer>[] = [];
    for (const row of rows.rows) {
      const id = String(row.transfer_id);
      let transfer = transfers.at(-1);
      if (transfer?.transferId !== id) {
        transfer = {
          transferId: id,
          kind: row.kind,
          reference: row.ref,
          time: Number(row.time_ms),
          entries: [],
        };
        transfers.push(transfer);
      }
      transfer.entries.push({
        asset: row.asset,
        bucket: row.bucket,
        amount: unitsToDecimal(row.amount, row.decimals),
      });
    }
    const items = transfers.slice(0, input.limit);
    const last = items.at(-1);
    return { items, nextCursor: transfers.length > input.limit && last ? last.transferId : null };
  });

// Checking a restored copy of the spotx database before trusting it: the ledger reconciliation
// (every balance equals its entries, every hold is explained, every asset sums to zero, every
// market's settled batches cover 1 … last_seq) and the figures to compare with what the source
// last showed. The run is recorded in the copy's reconciliation_runs, like any other.
import { type Database, type ReconciliationRun, runReconciliation } from "@spotx/db";
import { sql } from "drizzle-orm";

export type RestoreCheck = {
  reconciliation: ReconciliationRun;
  users: bigint;
  orders: Record<string, bigint>;
  trades: bigint;
  /** Each market's last settled engine sequence. */
  lastSeq: Record<string, bigint>;
  /** The newest trade and order in the copy: how far it reaches. */
  newestTradeAt: string | null;
  newestOrderAt: string | null;
};

export async function checkRestore(db: Database): Promise<RestoreCheck> {
  // Reconciliation without a lock's fence: the copy is not the live exchange, and its fencing
  // counters live in the live exchange's Redis.
  const reconciliation = await runReconciliation(db);
  const figures = await db.execute<{
    users: bigint;
    trades: bigint;
    orders: Record<string, string> | null;
    sequences: Record<string, string> | null;
    newest_trade: string | null;
    newest_order: string | null;
  }>(sql`
    SELECT (SELECT count(*) FROM users)::int8 AS users,
           (SELECT count(*) FROM trades)::int8 AS trades,
           (SELECT json_object_agg(status, n) FROM
              (SELECT status, count(*)::text AS n FROM orders GROUP BY status) o) AS orders,
           (SELECT json_object_agg(market, last_seq::text) FROM market_sequences) AS sequences,
           (SELECT max(created_at)::text FROM trades) AS newest_trade,
           (SELECT max(created_at)::text FROM orders) AS newest_order`);
  const row = figures.rows[0];
  const bigints = (values: Record<string, string> | null | undefined) =>
    Object.fromEntries(Object.entries(values ?? {}).map(([k, v]) => [k, BigInt(v)]));
  return {
    reconciliation,
    users: row?.users ?? 0n,
    orders: bigints(row?.orders),
    trades: row?.trades ?? 0n,
    lastSeq: bigints(row?.sequences),
    newestTradeAt: row?.newest_trade ?? null,
    newestOrderAt: row?.newest_order ?? null,
  };
}

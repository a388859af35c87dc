// What "the pipeline has drained" means, and the checks that everything came out exactly once:
// shared by the crash, failover and broker-restart tests.
import { type Database, runReconciliation } from "@spotx/db";
import { sql } from "drizzle-orm";
import { expect } from "vitest";
import { waitFor } from "./exchange";

/** The value of a gauge or counter with the given labels in a Prometheus text exposition. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}) {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

export async function workerMetrics(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  return response.text();
}

/**
 * Waits until every command was published, applied by the engine and settled: no unsent
 * outbox row, no order still pending, and each market's settled sequence equal to the
 * engine's (read from the worker's metrics).
 */
export async function drained(db: Database, port: number, markets: string[], timeoutMs = 90_000) {
  await waitFor(
    async () => {
      const counts = await db.execute<{ unsent: bigint; pending: bigint }>(sql`
        SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL)::int8 AS unsent,
               (SELECT count(*) FROM orders WHERE status = 'pending')::int8 AS pending`);
      const row = counts.rows[0];
      if (row === undefined) return false;
      if (row.unsent !== 0n || row.pending !== 0n) return false;
      const text = await workerMetrics(port);
      const settled = await db.execute<{ market: string; last_seq: bigint }>(
        sql`SELECT market, last_seq FROM market_sequences`,
      );
      for (const market of markets) {
        const engineSeq = metricValue(text, "spotx_engine_seq", { market }) ?? 0;
        const settledSeq = settled.rows.find((r) => r.market === market)?.last_seq ?? 0n;
        if (BigInt(engineSeq) !== settledSeq) return false;
      }
      return true;
    },
    { what: "the pipeline to drain", timeoutMs, intervalMs: 250 },
  );
}

/** Every order ended or resting once, every trade settled once, the ledger whole. */
export async function expectExactlyOnce(db: Database) {
  const pending = await db.execute<{ n: bigint }>(
    sql`SELECT count(*)::int8 AS n FROM orders WHERE status = 'pending'`,
  );
  expect(pending.rows[0]?.n).toBe(0n);

  // One trade transfer per trade row, and each order's fills are the sum of its trades.
  const transfers = await db.execute<{ trades: bigint; transfers: bigint }>(sql`
    SELECT (SELECT count(*) FROM trades)::int8 AS trades,
           (SELECT count(*) FROM transfers WHERE kind = 'trade')::int8 AS transfers`);
  expect(transfers.rows[0]?.transfers).toBe(transfers.rows[0]?.trades);
  const fills = await db.execute<{ id: bigint; filled: bigint; traded: bigint }>(sql`
    WITH t AS (
      SELECT maker_order_id AS id, qty_lots FROM trades
      UNION ALL SELECT taker_order_id, qty_lots FROM trades
    )
    SELECT o.id, o.filled_base_lots AS filled, coalesce(sum(t.qty_lots), 0)::int8 AS traded
      FROM orders o LEFT JOIN t ON t.id = o.id
     GROUP BY o.id HAVING o.filled_base_lots <> coalesce(sum(t.qty_lots), 0)`);
  expect(fills.rows).toEqual([]);

  // Nothing still held by an order that ended.
  const held = await db.execute<{ n: bigint }>(sql`
    SELECT count(*)::int8 AS n FROM orders
     WHERE status NOT IN ('pending', 'open') AND hold_remaining <> 0`);
  expect(held.rows[0]?.n).toBe(0n);

  // Every asset's entries sum to zero, every balance equals its entries, every hold explained.
  const run = await runReconciliation(db);
  expect(run.findings).toEqual([]);
}

type SnapshotOrder = { orderId: number; left: number };

/** The engine's book (from its shutdown snapshot) equals the open orders in PostgreSQL. */
export async function expectBookMatchesDatabase(db: Database, market: string) {
  const snapshot = await db.execute<{ seq: bigint; state: Buffer }>(sql`
    SELECT seq, state FROM engine_snapshots WHERE market = ${market} ORDER BY seq DESC, id DESC LIMIT 1`);
  const row = snapshot.rows[0];
  expect(row, `a snapshot of ${market}`).toBeDefined();
  if (!row) return;
  const state = JSON.parse(row.state.toString("utf8")) as {
    engine: { seq: number; bids: SnapshotOrder[]; asks: SnapshotOrder[] };
  };
  const settled = await db.execute<{ last_seq: bigint }>(
    sql`SELECT last_seq FROM market_sequences WHERE market = ${market}`,
  );
  expect(BigInt(state.engine.seq)).toBe(settled.rows[0]?.last_seq);

  const book = [...state.engine.bids, ...state.engine.asks]
    .map((o) => [BigInt(o.orderId), BigInt(o.left)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const open = await db.execute<{ id: bigint; left: bigint }>(sql`
    SELECT id, (amount - filled_base_lots)::int8 AS left FROM orders
     WHERE market = ${market} AND status = 'open' ORDER BY id`);
  expect(book).toEqual(open.rows.map((o) => [o.id, o.left] as const));
}

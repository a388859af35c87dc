// The engine host's book snapshots in PostgreSQL: written every N commands and at shutdown,
// read when a worker takes a market over.
import type { Database } from "@spotx/db";
import { sql } from "drizzle-orm";
import type { HostedSnapshot } from "./hosted-market";

export type StoredSnapshot = {
  market: string;
  seq: bigint;
  /** The orders-topic offset of the last command the snapshot includes. */
  inputOffset: bigint;
  state: HostedSnapshot;
};

/**
 * The latest snapshot of each named market (markets without one are absent) — with `atMost`,
 * the latest whose sequence is at most the market's bound there (markets not in `atMost` are
 * unbounded).
 */
export async function loadLatestSnapshots(
  db: Database,
  markets: readonly string[],
  atMost: ReadonlyMap<string, bigint> = new Map(),
): Promise<Map<string, StoredSnapshot>> {
  if (markets.length === 0) return new Map();
  const bounds = markets.map((m) => atMost.get(m)?.toString() ?? null);
  const found = await db.execute<{
    market: string;
    seq: bigint;
    input_offset: string;
    state: Buffer;
  }>(sql`
    SELECT DISTINCT ON (s.market) s.market, s.seq, s.input_offset, s.state
      FROM unnest(${sql.param([...markets])}::text[], ${sql.param(bounds)}::bigint[]) AS b(market, bound)
      JOIN engine_snapshots s ON s.market = b.market AND (b.bound IS NULL OR s.seq <= b.bound)
     ORDER BY s.market, s.seq DESC, s.id DESC`);
  return new Map(
    found.rows.map((r) => [
      r.market,
      {
        market: r.market,
        seq: r.seq,
        inputOffset: BigInt(r.input_offset),
        state: JSON.parse(r.state.toString("utf8")) as HostedSnapshot,
      },
    ]),
  );
}

/** Stores a snapshot (a repeat of the same market and seq is ignored) and keeps the last few. */
export async function saveSnapshot(
  db: Database,
  snapshot: StoredSnapshot,
  // A new owner starts from a snapshot no newer than what settlement applied (its market data
  // is rebuilt from there), so a few older ones are kept for a settlement that lags.
  keep = 5,
): Promise<void> {
  const state = Buffer.from(JSON.stringify(snapshot.state), "utf8");
  await db.transaction(async (tx) => {
    await tx.execute(sql`
      INSERT INTO engine_snapshots (market, seq, input_offset, state)
      VALUES (${snapshot.market}, ${snapshot.seq}, ${snapshot.inputOffset.toString()}, ${state})
      ON CONFLICT (market, seq) DO NOTHING`);
    await tx.execute(sql`
      DELETE FROM engine_snapshots
       WHERE market = ${snapshot.market}
         AND id NOT IN (SELECT id FROM engine_snapshots WHERE market = ${snapshot.market}
                         ORDER BY seq DESC, id DESC LIMIT ${keep})`);
  });
}

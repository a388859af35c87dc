// What must hold after any fault, once traffic has stopped and the pipeline has drained: every
// acknowledged order exists exactly once and ended or rests consistently with its trades, no
// order was placed twice, no trade was settled twice, holds equal what open orders still need,
// every trader's balances equal the deposits plus the fills, and the ledger reconciles. Each
// check returns findings (sentences) rather than asserting, so a cluster script can report them
// the same way a test does.
import { type Database, runReconciliation } from "@spotx/db";
import { sql } from "drizzle-orm";
import { type ChaosExchange, MARKETS } from "./exchange";
import type { OrderRecord } from "./traffic";
import { waitFor } from "./wait";

/**
 * Waits until every command was published, applied by its market's owner and settled: no unsent
 * outbox row, no order still pending, and each market's settled sequence equal to its engine's.
 * Returns how long that took.
 */
export async function waitDrained(exchange: ChaosExchange, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await waitFor(
    async () => {
      const counts = await exchange.db.execute<{ unsent: bigint; pending: bigint }>(sql`
        SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL)::int8 AS unsent,
               (SELECT count(*) FROM orders WHERE status = 'pending')::int8 AS pending`);
      const row = counts.rows[0];
      if (row?.unsent !== 0n || row.pending !== 0n) return false;
      const engine = await exchange.engineSequences();
      if (engine === null) return false;
      const settled = await exchange.db.execute<{ market: string; last_seq: bigint }>(
        sql`SELECT market, last_seq FROM market_sequences`,
      );
      return MARKETS.every(
        (market) =>
          (settled.rows.find((r) => r.market === market)?.last_seq ?? 0n) ===
          (engine.get(market) ?? 0n),
      );
    },
    { what: "the pipeline to drain", timeoutMs, intervalMs: 100 },
  );
  return Date.now() - started;
}

/** Every invariant, as findings; empty when all hold. */
export async function checkInvariants(
  db: Database,
  orders: readonly OrderRecord[],
  traders: readonly bigint[],
): Promise<string[]> {
  return [
    ...(await checkOrdersExactlyOnce(db, orders)),
    ...(await checkOrdersAgainstTrades(db)),
    ...(await checkTradesSettledOnce(db)),
    ...(await checkHolds(db)),
    ...(await checkBalancesMatchFills(db, traders)),
    ...(await runReconciliation(db)).findings.map(
      (f) =>
        `reconciliation: ${JSON.stringify(f, (_, v) => (typeof v === "bigint" ? String(v) : v))}`,
    ),
  ];
}

/**
 * Each acked order is the one row with its text, its id and owner as acked, not pending; an
 * order refused or found absent has no row; one whose fate stayed unknown has at most one.
 */
export async function checkOrdersExactlyOnce(
  db: Database,
  orders: readonly OrderRecord[],
): Promise<string[]> {
  if (orders.length === 0) return [];
  const texts = sql.join(
    orders.map((o) => sql`${o.text}`),
    sql`, `,
  );
  const found = await db.execute<{ text: string; id: bigint; user_id: bigint; status: string }>(
    sql`SELECT text, id, user_id, status FROM orders WHERE text IN (${texts})`,
  );
  const rows = new Map<string, { id: bigint; user_id: bigint; status: string }[]>();
  for (const row of found.rows) rows.set(row.text, [...(rows.get(row.text) ?? []), row]);
  const findings: string[] = [];
  for (const order of orders) {
    const placed = rows.get(order.text) ?? [];
    if (placed.length > 1) {
      findings.push(
        `${order.text} was placed ${placed.length} times (ids ${placed.map((r) => r.id).join(", ")})`,
      );
      continue;
    }
    const row = placed[0];
    switch (order.outcome) {
      case "acked":
        if (!row) findings.push(`${order.text} was acked as ${order.orderId} but does not exist`);
        else if (row.id !== order.orderId || row.user_id !== order.userId)
          findings.push(
            `${order.text} was acked as ${order.orderId} but is ${row.id} of user ${row.user_id}`,
          );
        else if (row.status === "pending" || row.status === "rejected")
          findings.push(`${order.text} (${row.id}) is ${row.status} after the drain`);
        break;
      case "refused":
      case "not_placed":
        if (row)
          findings.push(
            `${order.text} was ${order.outcome} (${order.refusal ?? "absent"}) but exists as ${row.id}`,
          );
        break;
      case "in_flight":
        findings.push(`${order.text} was still in flight when traffic stopped`);
        break;
      case "unresolved":
        break;
    }
  }
  return findings;
}

/** Fills are the sum of the order's trades, and the status agrees with how much filled. */
export async function checkOrdersAgainstTrades(db: Database): Promise<string[]> {
  const found = await db.execute<{
    id: bigint;
    status: string;
    amount: bigint;
    filled: bigint;
    traded: bigint;
  }>(sql`
    WITH t AS (
      SELECT maker_order_id AS id, qty_lots FROM trades
      UNION ALL SELECT taker_order_id, qty_lots FROM trades
    ), o AS (
      SELECT o.id, o.status::text AS status, o.amount, o.filled_base_lots AS filled,
             coalesce(sum(t.qty_lots), 0)::int8 AS traded
        FROM orders o LEFT JOIN t ON t.id = o.id
       GROUP BY o.id
    )
    SELECT * FROM o
     WHERE filled <> traded
        OR (status = 'closed' AND filled <> amount)
        OR (status IN ('open', 'cancelled') AND filled >= amount)
     ORDER BY id LIMIT 20`);
  return found.rows.map(
    (r) =>
      `order ${r.id} is ${r.status} with ${r.filled} of ${r.amount} lots filled, its trades ${r.traded}`,
  );
}

/** One trade transfer per trade row, never shared: a trade settled twice would show here. */
export async function checkTradesSettledOnce(db: Database): Promise<string[]> {
  const found = await db.execute<{
    trades: bigint;
    transfers: bigint;
    distinct_transfers: bigint;
  }>(sql`
    SELECT (SELECT count(*) FROM trades)::int8 AS trades,
           (SELECT count(*) FROM transfers WHERE kind = 'trade')::int8 AS transfers,
           (SELECT count(DISTINCT transfer_id) FROM trades)::int8 AS distinct_transfers`);
  const row = found.rows[0];
  if (!row) return ["could not count trades"];
  if (row.trades === row.transfers && row.trades === row.distinct_transfers) return [];
  return [
    `${row.trades} trades, ${row.transfers} trade transfers, ${row.distinct_transfers} distinct transfers`,
  ];
}

/** Ended orders hold nothing; each balance's locked part is what its open orders still hold. */
export async function checkHolds(db: Database): Promise<string[]> {
  const ended = await db.execute<{ id: bigint; hold: bigint }>(sql`
    SELECT id, hold_remaining AS hold FROM orders
     WHERE status NOT IN ('pending', 'open') AND hold_remaining <> 0 ORDER BY id LIMIT 20`);
  const locked = await db.execute<{
    user_id: bigint;
    asset: string;
    locked: bigint;
    held: bigint;
  }>(sql`
    SELECT b.user_id, b.asset, b.locked, coalesce(sum(o.hold_remaining), 0)::int8 AS held
      FROM balances b
      LEFT JOIN orders o ON o.user_id = b.user_id AND o.hold_asset = b.asset
                        AND o.status IN ('pending', 'open')
     GROUP BY b.user_id, b.asset, b.locked
    HAVING b.locked <> coalesce(sum(o.hold_remaining), 0)
     ORDER BY b.user_id, b.asset LIMIT 20`);
  return [
    ...ended.rows.map((r) => `order ${r.id} ended but still holds ${r.hold}`),
    ...locked.rows.map(
      (r) => `user ${r.user_id} has ${r.locked} ${r.asset} locked, open orders hold ${r.held}`,
    ),
  ];
}

/**
 * Each trader's balance of each asset (available + locked) equals its deposits plus what its
 * trades moved — computed from the trade rows, not from the ledger's own entries for them.
 */
export async function checkBalancesMatchFills(
  db: Database,
  traders: readonly bigint[],
): Promise<string[]> {
  if (traders.length === 0) return [];
  const users = sql.join(
    traders.map((id) => sql`${id}`),
    sql`, `,
  );
  const found = await db.execute<{
    user_id: bigint;
    asset: string;
    total: bigint;
    expected: bigint;
  }>(sql`
    WITH scale AS (
      SELECT m.symbol, m.base, m.quote,
             (10::numeric ^ (a.decimals - m.amount_precision))::int8 AS base_per_lot
        FROM markets m JOIN assets a ON a.symbol = m.base
    ), parties AS (
      SELECT t.*, s.base, s.quote, t.qty_lots * s.base_per_lot AS base_amount,
             CASE WHEN t.taker_side = 'buy' THEN t.taker_user_id ELSE t.maker_user_id END AS buyer,
             CASE WHEN t.taker_side = 'buy' THEN t.maker_user_id ELSE t.taker_user_id END AS seller
        FROM trades t JOIN scale s ON s.symbol = t.market
    ), moves AS (
      SELECT buyer AS user_id, base AS asset, base_amount - buyer_fee AS delta FROM parties
      UNION ALL SELECT buyer, quote, -quote_amount FROM parties
      UNION ALL SELECT seller, base, -base_amount FROM parties
      UNION ALL SELECT seller, quote, quote_amount - seller_fee FROM parties
      UNION ALL
      SELECT b.user_id, b.asset, e.amount
        FROM balances b
        JOIN ledger_entries e ON e.account_id = b.account_id
        JOIN transfers tr ON tr.id = e.transfer_id AND tr.kind = 'deposit'
    ), sums AS (
      SELECT user_id, asset, sum(delta) AS expected FROM moves GROUP BY user_id, asset
    )
    SELECT b.user_id, b.asset, (b.available + b.locked) AS total,
           coalesce(s.expected, 0)::int8 AS expected
      FROM balances b
      LEFT JOIN sums s ON s.user_id = b.user_id AND s.asset = b.asset
     WHERE b.user_id IN (${users})
     ORDER BY b.user_id, b.asset`);
  return found.rows
    .filter((r) => r.total !== r.expected)
    .map(
      (r) => `user ${r.user_id} holds ${r.total} ${r.asset}, deposits and fills say ${r.expected}`,
    );
}

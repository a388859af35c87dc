// `npm run bench:ledger`: settlement throughput against the stack's PostgreSQL, in a fresh
// database of its own. Trades are applied the way the settlement consumer applies them —
// batches of engine events through applySettlementBatch — each with its transfer, ledger
// entries, balance and order updates, trade row and sequence advance. Setup (users, deposits,
// resting and incoming orders with their holds) is not timed. At the end reconciliation must
// find the ledger clean, so the figures cannot come from a shortcut.
//
// Environment: BENCH_TRADES (default 150000), BENCH_BATCH (default 500), BENCH_USERS (200).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type { Database } from "../src/client";
import { deposit } from "../src/ledger";
import { loadMarket, type MarketSpec } from "../src/markets";
import { runReconciliation } from "../src/reconciliation";
import { assets, markets } from "../src/schema";
import { DEMO_ASSETS, DEMO_MARKETS } from "../src/seed";
import { applySettlementBatch, type TradeEvent } from "../src/settlement";
import { createTestDatabase } from "../src/testing";
import { quoteMinorFor } from "../src/units";

const TRADES = Number(process.env.BENCH_TRADES ?? 150_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const USERS = Number(process.env.BENCH_USERS ?? 200);
const MAKERS_PER_SIDE = 1_000;
const WARMUP_BATCHES = 5;

type BenchOrder = {
  userId: bigint;
  side: "buy" | "sell";
  priceTicks: bigint;
  lots: bigint;
  filled: bigint;
  id: bigint;
};

/** Deterministic randomness, so runs are comparable. */
let state = 42;
const random = () => {
  state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
  return state / 2_147_483_648;
};
const pick = (n: number) => Math.floor(random() * n);

/**
 * Places many orders at once for the setup, keeping the ledger exact: the orders, and one
 * balanced hold transfer moving each user's total hold from available to locked.
 */
async function bulkPlace(db: Database, market: MarketSpec, orders: BenchOrder[], tag: string) {
  await db.transaction(async (tx) => {
    const holdOf = (o: BenchOrder) =>
      o.side === "buy"
        ? { asset: market.quote, amount: quoteMinorFor(o.priceTicks, o.lots, market) }
        : { asset: market.base, amount: o.lots * market.baseMinorPerLot };
    const inserted = await tx.execute<{ id: bigint }>(sql`
      INSERT INTO orders (user_id, market, side, type, time_in_force, price_ticks, amount,
                          fee_asset, hold_asset, hold_amount, hold_remaining, status, finish_as)
      SELECT x.user_id, ${market.symbol}, x.side, 'limit', 'gtc', x.price_ticks, x.amount,
             CASE x.side WHEN 'buy' THEN ${market.base} ELSE ${market.quote} END,
             x.hold_asset, x.hold, x.hold, 'open', 'open'
        FROM unnest(${sql.param(orders.map((o) => o.userId))}::bigint[],
                    ${sql.param(orders.map((o) => o.side))}::order_side[],
                    ${sql.param(orders.map((o) => o.priceTicks))}::bigint[],
                    ${sql.param(orders.map((o) => o.lots))}::bigint[],
                    ${sql.param(orders.map((o) => holdOf(o).asset))}::text[],
                    ${sql.param(orders.map((o) => holdOf(o).amount))}::bigint[])
             WITH ORDINALITY AS x(user_id, side, price_ticks, amount, hold_asset, hold, n)
       ORDER BY x.n
      RETURNING id`);
    inserted.rows.forEach((row, i) => {
      const order = orders[i];
      if (order) order.id = row.id;
    });
    const totals = new Map<string, { userId: bigint; asset: string; amount: bigint }>();
    for (const order of orders) {
      const hold = holdOf(order);
      const key = `${order.userId}:${hold.asset}`;
      const total = totals.get(key) ?? { userId: order.userId, asset: hold.asset, amount: 0n };
      total.amount += hold.amount;
      totals.set(key, total);
    }
    const list = [...totals.values()];
    await tx.execute(sql`
      WITH x AS (
        SELECT * FROM unnest(${sql.param(list.map((t) => t.userId))}::bigint[],
                             ${sql.param(list.map((t) => t.asset))}::text[],
                             ${sql.param(list.map((t) => t.amount))}::bigint[]) AS x(user_id, asset, amount)
      ), t AS (
        INSERT INTO transfers (kind, ref) VALUES ('order_hold', ${`bench:holds:${tag}`}) RETURNING id
      ), moved AS (
        UPDATE balances b SET available = b.available - x.amount, locked = b.locked + x.amount,
                              update_id = b.update_id + 1
          FROM x WHERE b.user_id = x.user_id AND b.asset = x.asset
        RETURNING b.account_id, b.asset, x.amount
      )
      INSERT INTO ledger_entries (transfer_id, idx, account_id, asset, bucket, amount)
      SELECT t.id, (row_number() OVER () - 1)::smallint, m.account_id, m.asset, e.bucket, e.amount
        FROM t, moved m,
             LATERAL (VALUES ('available'::ledger_bucket, -m.amount), ('locked'::ledger_bucket, m.amount)) AS e(bucket, amount)`);
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? 0;
}

async function main() {
  const setupStarted = performance.now();
  const test = await createTestDatabase(undefined, { poolSize: 4 });
  try {
    const db = test.db;
    await db.insert(assets).values([...DEMO_ASSETS]);
    await db.insert(markets).values([...DEMO_MARKETS]);
    const market = await loadMarket(db, "BTC_USDT");
    const users = await db.execute<{ id: bigint }>(sql`
      INSERT INTO users (email, password_hash)
      SELECT 'bench' || n || '@bench.spotx.dev', 'x' FROM generate_series(1, ${USERS}) AS n
      RETURNING id`);
    const userIds = users.rows.map((r) => r.id);
    for (const userId of userIds) {
      await deposit(db, {
        userId,
        asset: "BTC",
        amount: 10_000n * 10n ** 8n,
        ref: `bench:${userId}:BTC`,
      });
      await deposit(db, {
        userId,
        asset: "USDT",
        amount: 1_000_000_000n * 10n ** 6n,
        ref: `bench:${userId}:USDT`,
      });
    }

    // Resting makers around 30,000 USDT, and one incoming taker per trade, filled by it at
    // once. Taker buys bid above the maker's price, so each closes with a surplus to release.
    const user = () => userIds[pick(userIds.length)] ?? 0n;
    const makers: BenchOrder[] = [];
    for (let i = 0; i < MAKERS_PER_SIDE; i++) {
      makers.push({
        userId: user(),
        side: "buy",
        priceTicks: BigInt(2_990_000 + pick(10_000)),
        lots: 1_000_000n,
        filled: 0n,
        id: 0n,
      });
      makers.push({
        userId: user(),
        side: "sell",
        priceTicks: BigInt(3_000_000 + pick(10_000)),
        lots: 1_000_000n,
        filled: 0n,
        id: 0n,
      });
    }
    await bulkPlace(db, market, makers, "makers");
    const takers: { taker: BenchOrder; maker: BenchOrder }[] = [];
    for (let i = 0; i < TRADES; i++) {
      const maker = makers[pick(makers.length)];
      if (!maker) throw new Error("no maker");
      let takerUser = user();
      while (takerUser === maker.userId) takerUser = user();
      const lots = BigInt(1 + pick(50));
      const taker: BenchOrder =
        maker.side === "sell"
          ? {
              userId: takerUser,
              side: "buy",
              priceTicks: maker.priceTicks + BigInt(pick(5_000)),
              lots,
              filled: 0n,
              id: 0n,
            }
          : {
              userId: takerUser,
              side: "sell",
              priceTicks: maker.priceTicks - BigInt(pick(5_000)),
              lots,
              filled: 0n,
              id: 0n,
            };
      takers.push({ taker, maker });
    }
    for (let i = 0; i < takers.length; i += 20_000) {
      await bulkPlace(
        db,
        market,
        takers.slice(i, i + 20_000).map((t) => t.taker),
        `takers:${i}`,
      );
    }
    const events: TradeEvent[] = takers.map(({ taker, maker }, i) => ({
      kind: "trade",
      seq: BigInt(i + 1),
      tradeId: BigInt(i + 1),
      makerOrderId: maker.id,
      takerOrderId: taker.id,
      makerUserId: maker.userId,
      takerUserId: taker.userId,
      takerSide: taker.side,
      priceTicks: maker.priceTicks,
      qtyLots: taker.lots,
      quoteAmount: quoteMinorFor(maker.priceTicks, taker.lots, market),
      time: new Date(),
    }));
    await db.execute(sql`VACUUM ANALYZE`);
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    console.log(
      `setup: ${USERS} users, ${makers.length} resting orders, ${takers.length} incoming orders (${setupSeconds.toFixed(1)} s)`,
    );

    const batchMs: number[] = [];
    let timedTrades = 0;
    let timedMs = 0;
    for (let b = 0; b * BATCH < events.length; b++) {
      const batch = events.slice(b * BATCH, (b + 1) * BATCH);
      const started = performance.now();
      const result = await applySettlementBatch(db, "BTC_USDT", batch);
      const elapsed = performance.now() - started;
      if (!result.ok || result.applied !== batch.length) {
        throw new Error(`batch ${b} not applied: ${JSON.stringify(result, String)}`);
      }
      if (b >= WARMUP_BATCHES) {
        batchMs.push(elapsed);
        timedTrades += batch.length;
        timedMs += elapsed;
      }
    }
    batchMs.sort((x, y) => x - y);

    const counts = await db.execute<{ entries: bigint; trades: bigint }>(sql`
      SELECT (SELECT count(*) FROM ledger_entries)::int8 AS entries, (SELECT count(*) FROM trades)::int8 AS trades`);
    const reconciliation = await runReconciliation(db);
    if (reconciliation.status !== "clean") {
      throw new Error(
        `reconciliation found ${reconciliation.findings.length} mismatches after the bench`,
      );
    }
    const figures = {
      bench: "ledger.settlement",
      trades_per_sec: Math.round((timedTrades / timedMs) * 1000),
      p99_batch_ms: Number(percentile(batchMs, 99).toFixed(1)),
      p50_batch_ms: Number(percentile(batchMs, 50).toFixed(1)),
      max_batch_ms: Number((batchMs[batchMs.length - 1] ?? 0).toFixed(1)),
      batch_size: BATCH,
      trades: events.length,
      timed_trades: timedTrades,
      users: USERS,
      ledger_entries: Number(counts.rows[0]?.entries ?? 0),
      reconciliation: reconciliation.status,
      reconciliation_ms: reconciliation.durationMs,
      node: process.version,
      at: new Date().toISOString(),
    };
    console.log(
      `settled ${timedTrades} trades in ${(timedMs / 1000).toFixed(1)} s: ${figures.trades_per_sec} trades/s, ` +
        `batch of ${BATCH} p50 ${figures.p50_batch_ms} ms, p99 ${figures.p99_batch_ms} ms; reconciliation ${reconciliation.status}`,
    );
    const out = path.resolve(
      path.dirname(fileURLToPath(import.meta.url)),
      "../../../bench-results",
    );
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, "ledger.json"), `${JSON.stringify(figures, null, 2)}\n`);
    console.log(JSON.stringify(figures));
  } finally {
    await test.drop();
  }
}

await main();

// `npm run bench:ledger`: the ledger's throughput against the stack's PostgreSQL, each run in a
// fresh database of its own.
//
// 1. Settlement: trades applied the way the settlement consumer applies them — batches of
//    engine events through applySettlementBatch — each with its transfer, ledger entries,
//    balance and order updates, trade row, candles and sequence advance. Setup (users,
//    deposits, resting and incoming orders with their holds) is not timed; it inserts the
//    orders in bulk. Run twice: with 200 users (whose balance changes often net out inside a
//    batch: fewer balance rows to lock and write) and with 5,000 (most trades touch balance
//    rows no other trade in the batch does).
// 2. Placement: placeOrderHold one at a time and from 16 concurrent callers, and placeOrders in
//    batches of 100 (the group commit the order pipeline uses), every order with its hold,
//    transfer, entries and outbox row.
// At the end of each run reconciliation must find the ledger clean, so no figure can come from
// a shortcut.
//
// Environment: BENCH_TRADES (default 150000), BENCH_BATCH (default 500), BENCH_USERS (200),
// BENCH_USERS_LARGE (5000), BENCH_PLACEMENTS (20000, for the batched placement run).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type { Database } from "../src/client";
import { deposit } from "../src/ledger";
import { loadMarket, type MarketSpec } from "../src/markets";
import type { PlaceOrderInput } from "../src/orders";
import { placeOrderHold, placeOrders } from "../src/placement";
import { runReconciliation } from "../src/reconciliation";
import { assets, markets } from "../src/schema";
import { DEMO_ASSETS, DEMO_MARKETS } from "../src/seed";
import { applySettlementBatch, type TradeEvent } from "../src/settlement";
import { createTestDatabase } from "../src/testing";
import { quoteMinorFor } from "../src/units";

const TRADES = Number(process.env.BENCH_TRADES ?? 150_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const USERS = Number(process.env.BENCH_USERS ?? 200);
const USERS_LARGE = Number(process.env.BENCH_USERS_LARGE ?? 5_000);
const PLACEMENTS = Number(process.env.BENCH_PLACEMENTS ?? 20_000);
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

/** Creates `count` users, each with plenty of BTC and USDT (deposits four at a time). */
async function fundedUsers(db: Database, count: number, tag: string): Promise<bigint[]> {
  const users = await db.execute<{ id: bigint }>(sql`
    INSERT INTO users (email, password_hash)
    SELECT ${tag} || n || '@bench.spotx.dev', 'x' FROM generate_series(1, ${count}::int) AS n
    RETURNING id`);
  const userIds = users.rows.map((r) => r.id);
  for (let i = 0; i < userIds.length; i += 4) {
    await Promise.all(
      userIds.slice(i, i + 4).flatMap((userId) => [
        deposit(db, {
          userId,
          asset: "BTC",
          amount: 10_000n * 10n ** 8n,
          ref: `bench:${userId}:BTC`,
        }),
        deposit(db, {
          userId,
          asset: "USDT",
          amount: 1_000_000_000n * 10n ** 6n,
          ref: `bench:${userId}:USDT`,
        }),
      ]),
    );
  }
  return userIds;
}

type SettlementFigures = {
  trades_per_sec: number;
  p50_batch_ms: number;
  p99_batch_ms: number;
  max_batch_ms: number;
  trades: number;
  timed_trades: number;
  users: number;
  ledger_entries: number;
  reconciliation: string;
  reconciliation_ms: number;
};

async function settlementRun(userCount: number): Promise<SettlementFigures> {
  state = 42; // the same trades, whatever ran before
  const setupStarted = performance.now();
  const test = await createTestDatabase(undefined, { poolSize: 4 });
  try {
    const db = test.db;
    await db.insert(assets).values([...DEMO_ASSETS]);
    await db.insert(markets).values([...DEMO_MARKETS]);
    const market = await loadMarket(db, "BTC_USDT");
    const userIds = await fundedUsers(db, userCount, "bench");

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
    // As the owner: the app role may not vacuum.
    await test.ownerDb.execute(sql`VACUUM ANALYZE`);
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    console.log(
      `setup: ${userCount} users, ${makers.length} resting orders, ${takers.length} incoming orders (${setupSeconds.toFixed(1)} s)`,
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
    const figures: SettlementFigures = {
      trades_per_sec: Math.round((timedTrades / timedMs) * 1000),
      p50_batch_ms: Number(percentile(batchMs, 50).toFixed(1)),
      p99_batch_ms: Number(percentile(batchMs, 99).toFixed(1)),
      max_batch_ms: Number((batchMs[batchMs.length - 1] ?? 0).toFixed(1)),
      trades: events.length,
      timed_trades: timedTrades,
      users: userCount,
      ledger_entries: Number(counts.rows[0]?.entries ?? 0),
      reconciliation: reconciliation.status,
      reconciliation_ms: reconciliation.durationMs,
    };
    console.log(
      `settled ${timedTrades} trades among ${userCount} users in ${(timedMs / 1000).toFixed(1)} s: ${figures.trades_per_sec} trades/s, ` +
        `batch of ${BATCH} p50 ${figures.p50_batch_ms} ms, p99 ${figures.p99_batch_ms} ms; reconciliation ${reconciliation.status} (${reconciliation.durationMs} ms)`,
    );
    return figures;
  } finally {
    await test.drop();
  }
}

type PlacementFigures = {
  place_order_hold_per_sec_1: number;
  place_order_hold_per_sec_16: number;
  place_orders_batch_100_per_sec: number;
  place_orders_batch_100_p50_ms: number;
  place_orders_batch_100_p99_ms: number;
  placement_reconciliation: string;
};

/** placeOrderHold one at a time and from 16 callers; placeOrders in batches of 100. */
async function placementRun(): Promise<PlacementFigures> {
  const test = await createTestDatabase(undefined, { poolSize: 20 });
  try {
    const db = test.db;
    await db.insert(assets).values([...DEMO_ASSETS]);
    await db.insert(markets).values([...DEMO_MARKETS]);
    const userIds = await fundedUsers(db, 1_000, "place");
    let n = 0;
    // A limit buy at 30,000.00 for 0.0001–0.0050 BTC from a random user, half with a client
    // order id, each with the outbox row the pipeline writes.
    const order = (): PlaceOrderInput => {
      n += 1;
      return {
        userId: userIds[pick(userIds.length)] ?? 0n,
        market: "BTC_USDT",
        side: n % 2 === 0 ? "buy" : "sell",
        type: "limit",
        priceTicks: 3_000_000n,
        amount: BigInt(1 + pick(50)),
        text: n % 2 === 0 ? `t-bench-${n}` : null,
        outbox: {
          topic: "spotx.orders",
          payload: (o) => ({ type: "place", orderId: o.id, amount: o.amount }),
        },
      };
    };
    await test.ownerDb.execute(sql`VACUUM ANALYZE`);

    const rate = async (count: number, callers: number) => {
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: callers }, async () => {
          while (next < count) {
            next += 1;
            await placeOrderHold(db, order());
          }
        }),
      );
      return Math.round((count / (performance.now() - started)) * 1000);
    };
    await rate(200, 1); // warm-up
    const one = await rate(2_000, 1);
    const sixteen = await rate(4_000, 16);

    const batchMs: number[] = [];
    for (let placed = 0; placed < PLACEMENTS; placed += 100) {
      const batch = Array.from({ length: 100 }, order);
      const started = performance.now();
      const results = await placeOrders(db, batch);
      batchMs.push(performance.now() - started);
      if (!results.every((r) => r.ok)) throw new Error("a bench order was refused");
    }
    const timed = batchMs.slice(5); // after warm-up
    const totalMs = timed.reduce((sum, ms) => sum + ms, 0);
    timed.sort((x, y) => x - y);
    const reconciliation = await runReconciliation(db);
    if (reconciliation.status !== "clean") {
      throw new Error(
        `reconciliation found ${reconciliation.findings.length} mismatches after placement`,
      );
    }
    const figures: PlacementFigures = {
      place_order_hold_per_sec_1: one,
      place_order_hold_per_sec_16: sixteen,
      place_orders_batch_100_per_sec: Math.round((timed.length * 100 * 1000) / totalMs),
      place_orders_batch_100_p50_ms: Number(percentile(timed, 50).toFixed(1)),
      place_orders_batch_100_p99_ms: Number(percentile(timed, 99).toFixed(1)),
      placement_reconciliation: reconciliation.status,
    };
    console.log(
      `placed orders: placeOrderHold ${one}/s alone, ${sixteen}/s from 16 callers; placeOrders in batches of 100: ` +
        `${figures.place_orders_batch_100_per_sec}/s (batch p50 ${figures.place_orders_batch_100_p50_ms} ms, p99 ${figures.place_orders_batch_100_p99_ms} ms); reconciliation ${reconciliation.status}`,
    );
    return figures;
  } finally {
    await test.drop();
  }
}

async function main() {
  const small = await settlementRun(USERS);
  const large = await settlementRun(USERS_LARGE);
  const placement = await placementRun();
  const figures = {
    bench: "ledger",
    trades_per_sec: small.trades_per_sec,
    trades_per_sec_5k_users: large.trades_per_sec,
    place_orders_per_sec: placement.place_orders_batch_100_per_sec,
    p50_batch_ms: small.p50_batch_ms,
    p99_batch_ms: small.p99_batch_ms,
    max_batch_ms: small.max_batch_ms,
    batch_size: BATCH,
    trades: small.trades,
    timed_trades: small.timed_trades,
    users: small.users,
    ledger_entries: small.ledger_entries,
    reconciliation: small.reconciliation,
    reconciliation_ms: small.reconciliation_ms,
    users_large: large.users,
    p50_batch_ms_5k_users: large.p50_batch_ms,
    p99_batch_ms_5k_users: large.p99_batch_ms,
    reconciliation_5k_users: large.reconciliation,
    ...placement,
    node: process.version,
    at: new Date().toISOString(),
  };
  const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../bench-results");
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, "ledger.json"), `${JSON.stringify(figures, null, 2)}\n`);
  console.log(JSON.stringify(figures));
}

await main();

// Snapshot + replay: a worker killed after more than 10,000 commands is replaced by one that
// loads the latest snapshot and replays only the commands after it — counted exactly — and
// its book is the one the first worker had.
import { partitionForKey } from "@spotx/platform/kafka";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  drained,
  expectBookMatchesDatabase,
  expectExactlyOnce,
  metricValue,
  workerMetrics,
} from "./drain";
import { type Exchange, orderRow, startExchange, waitFor } from "./exchange";

let exchange: Exchange;
beforeAll(async () => {
  exchange = await startExchange();
});
afterAll(async () => {
  await exchange?.stop();
});

/** Runs `count` placements (or cancels) with at most 64 in flight. */
async function pipelined(count: number, work: (i: number) => Promise<unknown>) {
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < count; i++) {
    const p = work(i).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 64) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

describe("a worker restarted after 10,000 commands", () => {
  it("loads the snapshot and replays only the commands after it", {
    timeout: 180_000,
  }, async () => {
    const { trading, db, names } = exchange;
    const env = { ENGINE_SNAPSHOT_EVERY: "10000" };
    const first = exchange.startWorker({ env });
    // Forty traders: a user may hold at most 200 open orders in a market.
    const traders: bigint[] = [];
    for (let i = 0; i < 40; i++) {
      const trader = await exchange.createUser();
      await exchange.fund(trader, "USDT", 10_000_000_000_000n);
      await exchange.fund(trader, "BTC", 100_000_000_000n);
      traders.push(trader);
    }
    const traderOf = (i: number) => traders[i % traders.length] ?? 0n;
    const trader = traderOf(0);

    // 10,000 commands that keep the book small: 5,000 resting orders, each cancelled again.
    const ids: bigint[] = [];
    await pipelined(5_000, async (i) => {
      const placed = await trading.placeOrder(traderOf(i), {
        market: "BTC_USDT",
        side: i % 2 === 0 ? "buy" : "sell",
        type: "limit",
        amount: "0.001",
        price: i % 2 === 0 ? String(29_000 - (i % 50)) : String(31_000 + (i % 50)),
      });
      ids[i] = placed.order.id;
    });
    await waitFor(
      async () => {
        const left = await db.execute<{ n: bigint }>(
          sql`SELECT count(*)::int8 AS n FROM orders WHERE status = 'pending'`,
        );
        return left.rows[0]?.n === 0n;
      },
      { what: "the 5,000 orders to rest", timeoutMs: 60_000 },
    );
    await pipelined(ids.length, (i) =>
      trading.cancelOrder(traderOf(i), { market: "BTC_USDT", orderId: String(ids[i]) }),
    );
    const snapshot = await waitFor(
      async () =>
        (
          await db.execute<{ seq: bigint; input_offset: string }>(sql`
            SELECT seq, input_offset FROM engine_snapshots WHERE market = 'BTC_USDT'
             ORDER BY seq DESC LIMIT 1`)
        ).rows[0],
      { what: "a snapshot after 10,000 commands", timeoutMs: 60_000 },
    );
    expect(Number(snapshot.input_offset)).toBeGreaterThanOrEqual(9_999);

    // 300 more commands after the snapshot, resting orders that stay in the book.
    const resting = new Map<number, bigint>(); // price in whole USDT → order id
    await pipelined(300, async (i) => {
      const placed = await trading.placeOrder(traderOf(i), {
        market: "BTC_USDT",
        side: "buy",
        type: "limit",
        amount: "0.002",
        price: String(28_000 + i),
      });
      resting.set(28_000 + i, placed.order.id);
    });
    await drained(db, await first.port(), ["BTC_USDT"]);
    // The engine commits acknowledged offsets on a timer (ENGINE_OFFSET_COMMIT_INTERVAL_MS):
    // wait until the 300 are committed, so the replacement replays them from the snapshot.
    const committed = await waitFor(
      async () => {
        const offset = await engineCommittedOffset(exchange);
        return offset > BigInt(snapshot.input_offset) + 300n && offset;
      },
      { what: "the engine to commit the offsets of the 300 commands" },
    );

    first.child.kill("SIGKILL");
    await first.exited;
    const second = exchange.startWorker({ env });
    const port = await second.port();
    await drained(db, port, ["BTC_USDT"]);
    // A new command proves the replacement is live, then its count of replayed commands is
    // exactly the commands between the snapshot and what the first worker had committed.
    const probe = await trading.placeOrder(trader, {
      market: "BTC_USDT",
      side: "sell",
      type: "limit",
      amount: "0.002",
      price: "28299",
    });
    await waitFor(async () => (await orderRow(db, probe.order.id))?.status === "closed", {
      what: "the probe to fill against the best restored bid",
    });
    const replayed = metricValue(
      await workerMetrics(port),
      "spotx_engine_replayed_commands_total",
      {
        market: "BTC_USDT",
      },
    );
    expect(replayed).toBe(Number(committed - BigInt(snapshot.input_offset) - 1n));
    expect(replayed).toBeGreaterThanOrEqual(300);
    expect(replayed).toBeLessThan(10_000);
    // The probe took the highest restored bid, 28,299 (the last of the 300).
    expect((await orderRow(db, resting.get(28_299) ?? 0n))?.status).toBe("closed");
    expect((await orderRow(db, resting.get(28_298) ?? 0n))?.status).toBe("open");

    await expectExactlyOnce(db);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    await expectBookMatchesDatabase(db, "BTC_USDT");

    /** The engine group's committed offset on BTC_USDT's partition. */
    async function engineCommittedOffset(ex: Exchange): Promise<bigint> {
      const admin = ex.kafka.admin();
      await admin.connect();
      try {
        const partition = partitionForKey(
          names.kafka.orders.topic,
          "BTC_USDT",
          names.kafka.orders.numPartitions,
        );
        const offsets = await admin.fetchOffsets({
          groupId: names.kafka.groups.engine,
          topics: [names.kafka.orders.topic],
        });
        const found = offsets[0]?.partitions.find((p) => p.partition === partition)?.offset;
        return BigInt(found ?? "-1");
      } finally {
        await admin.disconnect();
      }
    }
  });
});

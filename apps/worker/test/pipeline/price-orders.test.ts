// Price-triggered orders through the whole pipeline, across a crash and a failover: triggers armed
// in the engine (and in its snapshot) before a worker is killed fire after recovery — each exactly
// once, in the market's sequence — and each places exactly one order; one without the funds ends
// `failed`; one cancelled before the price gets there never fires; the ledger stays whole.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drained, expectExactlyOnce } from "./drain";
import { type Exchange, orderRow, startExchange, type WorkerProcess, waitFor } from "./exchange";

let exchange: Exchange;
beforeAll(async () => {
  exchange = await startExchange();
});
afterAll(async () => {
  await exchange?.stop();
});

/** A crossing pair at `price` in BTC_USDT, waited for until both are settled filled. */
async function tradeAt(price: string) {
  const buyer = await exchange.createUser();
  const seller = await exchange.createUser();
  await exchange.fund(buyer, "USDT", 100_000_000_000n);
  await exchange.fund(seller, "BTC", 100_000_000n);
  const sell = await exchange.trading.placeOrder(seller, {
    market: "BTC_USDT",
    side: "sell",
    type: "limit",
    amount: "0.01",
    price,
  });
  const buy = await exchange.trading.placeOrder(buyer, {
    market: "BTC_USDT",
    side: "buy",
    type: "limit",
    amount: "0.01",
    price,
  });
  for (const order of [sell.order, buy.order]) {
    await waitFor(async () => (await orderRow(exchange.db, order.id))?.status === "closed", {
      what: `the trade at ${price} to settle`,
      timeoutMs: 60_000,
    });
  }
}

/** Price orders of a user with what they fired, by id. */
async function priceOrders(userId: bigint) {
  const rows = await exchange.db.execute<{
    id: bigint;
    status: string;
    fired_order_id: bigint | null;
    reason: string | null;
  }>(sql`SELECT id, status, fired_order_id, reason FROM price_orders
          WHERE user_id = ${userId} ORDER BY id`);
  return rows.rows;
}

async function ordersOf(userId: bigint) {
  const rows = await exchange.db.execute<{ id: bigint }>(
    sql`SELECT id FROM orders WHERE user_id = ${userId} ORDER BY id`,
  );
  return rows.rows.map((r) => r.id);
}

/** A buy of 0.01 BTC at 29000 (rests: never crosses the trades below), fired at `at`. */
function buyWhen(userId: bigint, rule: ">=" | "<=", at: string) {
  return exchange.trading.placePriceOrder(userId, {
    market: "BTC_USDT",
    trigger: { price: at, rule },
    put: { type: "limit", side: "buy", price: "29000", amount: "0.01" },
  });
}

async function armedInEngine(port: () => Promise<number>) {
  // Every arm command published and the pipeline caught up: the engine has them.
  await drained(exchange.db, await port(), ["BTC_USDT"]);
}

describe("price-triggered orders across a crash and a failover", () => {
  it("fire exactly once after the worker that armed them is killed and another takes over", {
    timeout: 240_000,
  }, async () => {
    // Snapshots every few events, so the triggers also travel through a snapshot.
    const env = { ENGINE_SNAPSHOT_EVERY: "5", WORKER_LEASE_TTL_SECONDS: "5" };
    const first: WorkerProcess = exchange.startWorker({ id: "worker-a", env });
    await tradeAt("30000");

    const trader = await exchange.createUser();
    await exchange.fund(trader, "USDT", 2_000_000_000n); // 2000 USDT: six buys of 290 fit
    const poor = await exchange.createUser(); // nothing: its order cannot be placed
    const up = [];
    for (const at of ["30100", "30100", "30200", "30300"]) up.push(await buyWhen(trader, ">=", at));
    const down = await buyWhen(trader, "<=", "29500");
    const far = await buyWhen(trader, ">=", "30800");
    const cancelled = await buyWhen(trader, ">=", "30100");
    await buyWhen(poor, ">=", "30100");
    await armedInEngine(first.port);
    expect(await exchange.trading.cancelPriceOrders(trader, { id: cancelled.id })).toHaveLength(1);

    first.child.kill("SIGKILL");
    await first.exited;
    const second = exchange.startWorker({ id: "worker-b", env });

    // Up to 30200: the three ≥ triggers at or below it fire (not 30300, 30800 or the ≤ one).
    await tradeAt("30200");
    await waitFor(
      async () => {
        const rows = await priceOrders(trader);
        return rows.filter((r) => r.status === "finish").length === 3 && rows;
      },
      { what: "three price orders to fire and place", timeoutMs: 60_000 },
    );
    await waitFor(async () => (await priceOrders(poor))[0]?.status === "failed", {
      what: "the unfunded price order to fail",
      timeoutMs: 60_000,
    });
    const failed = (await priceOrders(poor))[0];
    expect(failed?.reason).toMatch(/^BALANCE_NOT_ENOUGH/);
    expect(failed?.fired_order_id).toBeNull();
    expect(await ordersOf(poor)).toEqual([]);

    // Then down to 29400 and up to 30900 (the second worker killed in between, a third takes
    // over): the rest fire; the cancelled one never does.
    await tradeAt("29400");
    await waitFor(
      async () => (await priceOrders(trader)).filter((r) => r.status === "finish").length === 4,
      { what: "the ≤ trigger to fire", timeoutMs: 60_000 },
    );
    await armedInEngine(second.port);
    second.child.kill("SIGKILL");
    await second.exited;
    const third = exchange.startWorker({ id: "worker-c", env });
    await tradeAt("30900");
    const rows = await waitFor(
      async () => {
        const now = await priceOrders(trader);
        return now.filter((r) => r.status === "finish").length === 6 && now;
      },
      { what: "every trigger to have fired", timeoutMs: 60_000 },
    );
    await drained(exchange.db, await third.port(), ["BTC_USDT"]);

    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const p of [...up, down, far]) expect(byId.get(p.id)?.status).toBe("finish");
    expect(byId.get(cancelled.id)?.status).toBe("cancelled");
    // Each fired once: one order each, no order without its price order.
    const fired = rows.flatMap((r) => (r.fired_order_id === null ? [] : [r.fired_order_id]));
    expect(new Set(fired).size).toBe(6);
    expect(await ordersOf(trader)).toEqual([...fired].sort((a, b) => (a < b ? -1 : 1)));
    for (const id of fired) expect((await orderRow(exchange.db, id))?.status).toBe("open");
    await expectExactlyOnce(exchange.db);
  });
});

// The operator's admin router against a whole exchange with a real worker process: the services
// list shows the worker, its health and the markets it owns; the Kafka view shows the pipeline's
// groups with the worker as their member; the lock list shows the worker holding the outbox relay
// lock; a trade is found by trade search; an operator's cancel ends an order through the engine;
// a halt from the console reaches the engine's log; the worker exports its pipeline breakers.
import { randomUUID } from "node:crypto";
import { ApiServices, type Context, createCaller } from "@spotx/api";
import { schema } from "@spotx/db";
import { platformEnv } from "@spotx/platform";
import { createRedis, type Redis } from "@spotx/platform/redis";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Exchange, startExchange, type WorkerProcess, waitFor } from "./pipeline/exchange";

let exchange: Exchange;
let worker: WorkerProcess;
let redis: Redis;
let admin: ReturnType<typeof createCaller>;
let operatorId: bigint;

beforeAll(async () => {
  exchange = await startExchange();
  worker = exchange.startWorker();
  redis = createRedis(platformEnv().REDIS_URL);
  const services = new ApiServices({
    names: exchange.names,
    redis,
    etcd: exchange.etcd,
    halts: exchange.config,
    trading: exchange.trading,
  });
  const [operator] = await exchange.db
    .insert(schema.users)
    .values({ email: `op-${randomUUID()}@test.spotx.dev`, passwordHash: "x", role: "operator" })
    .returning({ id: schema.users.id });
  if (!operator) throw new Error("operator not created");
  operatorId = operator.id;
  const context: Context = {
    db: exchange.db,
    session: {
      userId: operatorId,
      role: "operator",
      status: "active",
      twoFactor: true,
      sessionId: "console-test",
    },
    request: { ip: "198.51.100.7", userAgent: "console-test", requestId: randomUUID() },
    services,
    http: null,
  };
  admin = createCaller(context);
  await worker.port();
}, 90_000);
afterAll(async () => {
  redis?.disconnect();
  await exchange?.stop();
});

async function usdt(userId: bigint) {
  const [row] = await exchange.db
    .select({ available: schema.balances.available, locked: schema.balances.locked })
    .from(schema.balances)
    .where(and(eq(schema.balances.userId, userId), eq(schema.balances.asset, "USDT")));
  return row ?? { available: 0n, locked: 0n };
}

describe("the admin router on a running exchange", () => {
  it("lists the worker with its health, readiness and the markets it owns", async () => {
    const listed = await waitFor(
      async () => {
        const { instances } = await admin.admin.services();
        const found = instances.find((i) => i.id === worker.id);
        return found?.ready.ok && found.markets.length === 2 ? found : null;
      },
      { what: "the worker to be ready and own both markets", timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(listed).toMatchObject({
      kind: "worker",
      pid: worker.child.pid,
      health: { ok: true, httpStatus: 200, error: null },
      ready: { ok: true, httpStatus: 200 },
    });
    expect(listed.markets.map((m) => m.symbol)).toEqual(["BTC_USDT", "ETH_USDT"]);
    expect(listed.markets.every((m) => m.epoch > 0n)).toBe(true);
    for (const dependency of ["postgres", "redis", "etcd", "kafka"]) {
      expect(listed.ready.dependencies[dependency]).toMatchObject({ ok: true });
    }
    expect(listed.health.latencyMs).toBeLessThan(1_500);
  });

  it("shows the pipeline's topics and consumer groups, with the worker as their member", async () => {
    const overview = await waitFor(
      async () => {
        const view = await admin.admin.kafka();
        return view.groups.every((g) => g.state === "Stable" && g.members.length === 1)
          ? view
          : null;
      },
      { what: "the worker's consumer groups to be stable", timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(overview.brokers.length).toBeGreaterThanOrEqual(1);
    expect(overview.missingTopics).toEqual([]);
    expect(overview.topics.map((t) => [t.topic, t.partitions.length])).toEqual([
      [exchange.names.kafka.events.topic, 4],
      [exchange.names.kafka.orders.topic, 4],
    ]);
    const engine = overview.groups.find((g) => g.group === exchange.names.kafka.groups.engine);
    expect(engine?.members[0]?.partitions).toEqual([0, 1, 2, 3]);
    expect(engine?.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);
  });

  it("lists the worker as the holder of the outbox relay lock", async () => {
    const holders = await admin.admin.locks();
    const relay = holders.find((h) => h.resource === exchange.names.locks.outboxRelay);
    expect(relay).toBeDefined();
    expect(relay?.owner).toContain(`:${worker.child.pid}:`);
    expect(relay?.token).toBeGreaterThan(0n);
    expect(relay?.ttlMs).toBeGreaterThan(0);
  });

  it("finds a settled trade, and ends a resting order through the engine when an operator cancels it", async () => {
    const alice = await exchange.createUser();
    const bob = await exchange.createUser();
    await exchange.fund(alice, "USDT", 1_000_000_000n); // 1,000 USDT
    await exchange.fund(bob, "BTC", 10_000_000n); // 0.1 BTC
    const buy = await exchange.trading.placeOrder(alice, {
      market: "BTC_USDT",
      side: "buy",
      type: "limit",
      price: "30000",
      amount: "0.01",
    });
    await waitFor(
      async () => (await admin.admin.orders.search({ userId: alice })).items[0]?.status === "open",
      { what: "alice's buy to rest", timeoutMs: 30_000 },
    );
    await exchange.trading.placeOrder(bob, {
      market: "BTC_USDT",
      side: "sell",
      type: "limit",
      price: "30000",
      amount: "0.01",
    });
    const trades = await waitFor(
      async () => {
        const page = await admin.admin.trades.search({ market: "BTC_USDT", userId: alice });
        return page.items.length === 1 ? page.items : null;
      },
      { what: "the trade to settle", timeoutMs: 30_000 },
    );
    expect(trades[0]).toMatchObject({
      price: "30000",
      amount: "0.01",
      total: "300",
      takerSide: "sell",
      makerUserId: alice,
      takerUserId: bob,
      makerOrderId: buy.order.id,
      buyerFee: "0.00001", // maker 0.1 % of 0.01 BTC
      sellerFee: "0.6", // taker 0.2 % of 300 USDT
    });
    const byOrder = await admin.admin.trades.search({ orderId: buy.order.id });
    expect(byOrder.items.map((t) => t.id)).toEqual([trades[0]?.id]);

    const resting = await exchange.trading.placeOrder(alice, {
      market: "BTC_USDT",
      side: "buy",
      type: "limit",
      price: "29000",
      amount: "0.02",
    });
    await waitFor(
      async () => {
        const [row] = await exchange.db
          .select({ status: schema.orders.status })
          .from(schema.orders)
          .where(eq(schema.orders.id, resting.order.id));
        return row?.status === "open";
      },
      { what: "the second buy to rest", timeoutMs: 30_000 },
    );
    expect((await usdt(alice)).locked).toBe(580_000_000n);
    const cancel = await admin.admin.orders.cancel({
      orderId: resting.order.id,
      reason: "user asked support to cancel",
    });
    expect(cancel).toMatchObject({ cancelRequested: true, order: { status: "open" } });
    const ended = await waitFor(
      async () => {
        const page = await admin.admin.orders.search({ userId: alice, status: ["cancelled"] });
        return page.items[0];
      },
      { what: "the engine to cancel the order", timeoutMs: 30_000 },
    );
    expect(ended).toMatchObject({
      id: resting.order.id,
      finishAs: "cancelled",
      holdRemaining: "0",
    });
    expect(await usdt(alice)).toEqual({ available: 700_000_000n, locked: 0n });
    const [audit] = await exchange.db
      .select()
      .from(schema.auditLog)
      .where(eq(schema.auditLog.subject, `order:${resting.order.id}`));
    expect(audit).toMatchObject({
      id: cancel.auditId,
      action: "order.cancel",
      actorId: operatorId,
    });
    expect(audit?.details).toMatchObject({
      reason: "user asked support to cancel",
      before: { status: "open" },
      origin: { ip: "198.51.100.7" },
    });
    // Cancelling an order that has ended is refused and leaves no audit row.
    await expect(
      admin.admin.orders.cancel({ orderId: resting.order.id, reason: "again" }),
    ).rejects.toMatchObject({ label: "ORDER_CLOSED" });
    const rows = await exchange.db
      .select()
      .from(schema.auditLog)
      .where(eq(schema.auditLog.subject, `order:${resting.order.id}`));
    expect(rows).toHaveLength(1);
  });

  it("a halt from the console reaches the market's engine, and so does the resume", async () => {
    const seq = async () => {
      const found = await exchange.db.execute<{ last_seq: bigint }>(
        sql`SELECT last_seq FROM market_sequences WHERE market = 'ETH_USDT'`,
      );
      return found.rows[0]?.last_seq ?? 0n;
    };
    const before = await seq();
    await admin.admin.markets.halt({ symbol: "ETH_USDT", reason: "maintenance window" });
    // The engine's `halted` event is sequenced and settled like any other.
    await waitFor(async () => (await seq()) === before + 1n, {
      what: "the engine's halted event to settle",
      timeoutMs: 30_000,
    });
    await admin.admin.markets.resume({ symbol: "ETH_USDT", reason: "maintenance done" });
    await waitFor(async () => (await seq()) === before + 2n, {
      what: "the engine's resumed event to settle",
      timeoutMs: 30_000,
    });
    const [market] = await exchange.db
      .select({ status: schema.markets.status })
      .from(schema.markets)
      .where(eq(schema.markets.symbol, "ETH_USDT"));
    expect(market?.status).toBe("trading");
  });

  it("exports its pipeline breakers on /metrics — settlement's PostgreSQL, market data's Redis — and no request breaker", async () => {
    // Settled batches (the trade and halt above) and the taken-over markets' Redis writes have
    // made both; the console's guards page reads these gauges from every instance's /metrics.
    const port = await worker.port();
    const breakerLines = await waitFor(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const lines = text.split("\n").filter((l) => l.startsWith("spotx_breaker_state{"));
        return lines.length >= 2 ? lines : null;
      },
      { what: "the worker's breaker gauges", timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(breakerLines.sort()).toEqual([
      'spotx_breaker_state{dependency="postgres"} 0',
      'spotx_breaker_state{dependency="redis"} 0',
    ]);
  });
});

// Halting a market through etcd: within 1 s placement refuses new orders and the engine, told
// through its own command log, halts too (so a replay halts at the same point); cancels still
// work; resuming restores both.
import { isLedgerError, placeOrders } from "@spotx/db";
import { setMarketHalt } from "@spotx/platform/market-config";
import { decodeEvents, placeCommand } from "@spotx/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue, workerMetrics } from "./drain";
import { balance, type Exchange, orderRow, startExchange, waitFor } from "./exchange";

let exchange: Exchange;
beforeAll(async () => {
  exchange = await startExchange();
});
afterAll(async () => {
  await exchange?.stop();
});

/**
 * When the engine first emitted each kind of event of a market (the message's create time, set
 * by the engine's producer on this machine's clock). The topic is read from its start — it is
 * this exchange's own namespace — so an event produced while the watcher was still being given
 * its partitions is not missed, as it could be when starting from the latest offset.
 */
async function watchEvents(market: string) {
  const seen = new Map<string, number>();
  const consumer = exchange.kafka.consumer({ groupId: `${exchange.namespace}.test-watch` });
  await consumer.connect();
  await consumer.subscribe({ topic: exchange.names.kafka.events.topic, fromBeginning: true });
  const joined = new Promise<void>((resolve) =>
    consumer.on(consumer.events.GROUP_JOIN, () => resolve()),
  );
  await consumer.run({
    eachMessage: async ({ message }) => {
      const decoded = decodeEvents(message.value);
      if (!decoded.ok || decoded.message.market !== market) return;
      for (const event of decoded.message.events) {
        if (!seen.has(event.type)) seen.set(event.type, Number(message.timestamp));
      }
    },
  });
  await joined;
  return { seen, stop: () => consumer.disconnect() };
}

/**
 * Whether placement refuses a market as halted. The probe order is too small to be placed in a
 * trading market, so asking never leaves an order behind: the halt check comes first.
 */
async function refusedAsHalted(userId: bigint): Promise<boolean> {
  try {
    await exchange.trading.placeOrder(userId, {
      market: "BTC_USDT",
      side: "buy",
      type: "limit",
      amount: "0.0001",
      price: "1",
    });
    throw new Error("a probe order below the minimum was placed");
  } catch (error) {
    if (isLedgerError(error, "AMOUNT_TOO_LITTLE")) return false;
    if (isLedgerError(error, "INVALID_CURRENCY_PAIR") && /halted/.test(error.message)) return true;
    throw error;
  }
}

describe("a halt written to etcd", () => {
  it("stops new orders everywhere within 1 s, keeps cancels working, and resume restores trading", {
    timeout: 120_000,
  }, async () => {
    const { trading, db, etcd, names } = exchange;
    const worker = exchange.startWorker();
    const port = await worker.port();
    const trader = await exchange.createUser();
    await exchange.fund(trader, "USDT", 10_000_000_000n);
    const resting = await trading.placeOrder(trader, {
      market: "BTC_USDT",
      side: "buy",
      type: "limit",
      amount: "0.01",
      price: "29000",
    });
    await waitFor(async () => (await orderRow(db, resting.order.id))?.status === "open", {
      what: "the resting order",
      timeoutMs: 30_000,
    });
    await waitFor(
      async () => metricValue(await workerMetrics(port), "spotx_engine_owned_markets") === 2,
      { what: "the worker to own both markets" },
    );
    const events = await watchEvents("BTC_USDT");

    const haltedAt = Date.now();
    await setMarketHalt(etcd, "BTC_USDT", { halted: true, reason: "test halt", by: "test" }, names);
    // This process's placement (it watches etcd like every web instance does).
    await waitFor(() => refusedAsHalted(trader), { what: "placement to refuse", intervalMs: 10 });
    expect(Date.now() - haltedAt).toBeLessThan(1_000);
    // The engine, through its log.
    await waitFor(async () => events.seen.get("halted"), {
      what: "the engine's halted event",
      intervalMs: 10,
    });
    expect((events.seen.get("halted") ?? Number.POSITIVE_INFINITY) - haltedAt).toBeLessThan(1_000);

    // An order that got past the API before the halt reached it is refused by the engine,
    // and its hold comes back.
    const [raced] = await placeOrders(db, [
      {
        userId: trader,
        market: "BTC_USDT",
        side: "buy",
        type: "limit",
        priceTicks: 2_900_000n,
        amount: 100n,
        outbox: { topic: names.kafka.orders.topic, payload: (order) => placeCommand(order) },
      },
    ]);
    if (!raced?.ok) throw new Error("the raced order was not placed");
    await waitFor(async () => (await orderRow(db, raced.order.id))?.status === "rejected", {
      what: "the engine to refuse the raced order",
      timeoutMs: 30_000,
    });
    // Cancels still work in a halted market.
    await trading.cancelOrder(trader, { market: "BTC_USDT", orderId: String(resting.order.id) });
    await waitFor(async () => (await orderRow(db, resting.order.id))?.status === "cancelled", {
      what: "the cancel while halted",
      timeoutMs: 30_000,
    });
    expect(await balance(db, trader, "USDT")).toEqual({ available: 10_000_000_000n, locked: 0n });
    // ETH_USDT was never halted.
    await trading.placeOrder(trader, {
      market: "ETH_USDT",
      side: "buy",
      type: "limit",
      amount: "0.01",
      price: "1900",
    });

    const resumedAt = Date.now();
    await setMarketHalt(
      etcd,
      "BTC_USDT",
      { halted: false, reason: "test over", by: "test" },
      names,
    );
    await waitFor(async () => !(await refusedAsHalted(trader)), {
      what: "placement to accept again",
      intervalMs: 10,
    });
    expect(Date.now() - resumedAt).toBeLessThan(1_000);
    await waitFor(async () => events.seen.get("resumed"), {
      what: "the engine's resumed event",
      intervalMs: 10,
    });
    expect((events.seen.get("resumed") ?? Number.POSITIVE_INFINITY) - resumedAt).toBeLessThan(
      1_000,
    );
    const after = await trading.placeOrder(trader, {
      market: "BTC_USDT",
      side: "buy",
      type: "limit",
      amount: "0.01",
      price: "29000",
    });
    await waitFor(async () => (await orderRow(db, after.order.id))?.status === "open", {
      what: "an order after the resume to rest",
      timeoutMs: 30_000,
    });
    await events.stop();
  });
});

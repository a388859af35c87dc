// Failover: two workers share the markets; one is killed with SIGKILL; its markets are owned by
// the other within the lease TTL + 5 s and trading goes on. Events a zombie stamps with the
// old owner's epoch are ignored by settlement.
import { idempotentProducer } from "@spotx/platform/kafka";
import { type EventMessage, encodeEvents } from "@spotx/protocol";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue, workerMetrics } from "./drain";
import { balance, type Exchange, orderRow, startExchange, waitFor } from "./exchange";

const LEASE_TTL_MS = 5_000;

let exchange: Exchange;
beforeAll(async () => {
  exchange = await startExchange();
});
afterAll(async () => {
  await exchange?.stop();
});

type Owner = { instance: string; epoch: bigint };

async function owner(symbol: string): Promise<Owner | null> {
  const found = await exchange.etcd.get(exchange.names.etcd.marketOwner(symbol)).exec();
  const kv = found.kvs[0];
  if (!kv) return null;
  const record = JSON.parse(kv.value.toString()) as { instance: string };
  return { instance: record.instance, epoch: BigInt(kv.mod_revision) };
}

/** Places a crossing pair and waits until both orders settled as filled. */
async function tradeOnce(market: string, price: string) {
  const buyer = await exchange.createUser();
  const seller = await exchange.createUser();
  await exchange.fund(buyer, "USDT", 100_000_000_000n);
  await exchange.fund(seller, "BTC", 100_000_000n);
  await exchange.fund(seller, "ETH", 1_000_000_000n);
  const sell = await exchange.trading.placeOrder(seller, {
    market,
    side: "sell",
    type: "limit",
    amount: "0.01",
    price,
  });
  const buy = await exchange.trading.placeOrder(buyer, {
    market,
    side: "buy",
    type: "limit",
    amount: "0.01",
    price,
  });
  for (const order of [sell.order, buy.order]) {
    await waitFor(async () => (await orderRow(exchange.db, order.id))?.status === "closed", {
      what: `order ${order.id} in ${market} to fill`,
      timeoutMs: 30_000,
    });
  }
  return { buyer, seller };
}

describe("failover between two workers", () => {
  it("moves a killed worker's markets to the other within the lease TTL + 5 s, and trading goes on", {
    timeout: 120_000,
  }, async () => {
    const workers = [
      exchange.startWorker({ id: "worker-a" }),
      exchange.startWorker({ id: "worker-b" }),
    ];
    const ports = await Promise.all(workers.map((w) => w.port()));

    // Both workers in the group, each market run by exactly one of them and recorded in etcd.
    await waitFor(
      async () => {
        const owned = await Promise.all(
          ports.map(async (port) => {
            const text = await workerMetrics(port);
            return ["BTC_USDT", "ETH_USDT"].filter((m) =>
              text.split("\n").some((l) => l.startsWith(`spotx_engine_market_owned{market="${m}"`)),
            );
          }),
        );
        const takeovers = await Promise.all(
          ports.map(
            async (p) =>
              metricValue(await workerMetrics(p), "spotx_engine_takeovers_total", {
                outcome: "ok",
              }) ?? 0,
          ),
        );
        if (takeovers.some((t) => t === 0)) return false; // the second has not joined yet
        for (const market of ["BTC_USDT", "ETH_USDT"]) {
          const runners = owned.filter((list) => list.includes(market)).length;
          const recorded = await owner(market);
          const expected = workers[owned.findIndex((list) => list.includes(market))]?.id;
          if (runners !== 1 || recorded?.instance !== expected) return false;
        }
        return true;
      },
      { what: "both workers to share the markets", timeoutMs: 60_000, intervalMs: 200 },
    );
    await tradeOnce("BTC_USDT", "30000");

    const before = await owner("BTC_USDT");
    if (!before) throw new Error("BTC_USDT has no owner");
    const victim = workers.find((w) => w.id === before.instance);
    const survivor = workers.find((w) => w.id !== before.instance);
    if (!victim || !survivor) throw new Error("owner is not one of the workers");

    const killedAt = Date.now();
    victim.child.kill("SIGKILL");
    const after = await waitFor(
      async () => {
        const now = await owner("BTC_USDT");
        return now?.instance === survivor.id ? now : null;
      },
      { what: "the survivor to own BTC_USDT", timeoutMs: 30_000, intervalMs: 100 },
    );
    const movedIn = Date.now() - killedAt;
    expect(movedIn).toBeLessThan(LEASE_TTL_MS + 5_000);
    expect(after.epoch).toBeGreaterThan(before.epoch);
    expect((await owner("ETH_USDT"))?.instance).toBe(survivor.id);

    // Trading goes on in both markets, on the survivor.
    const { buyer } = await tradeOnce("BTC_USDT", "30100");
    expect(await balance(exchange.db, buyer, "BTC")).toEqual({ available: 998_000n, locked: 0n });
    await tradeOnce("ETH_USDT", "2000");

    // A zombie of the killed owner publishes an event with the next sequence number under its
    // old epoch: settlement must drop it and not advance the market.
    const sequence = async () =>
      (
        await exchange.db.execute<{ last_seq: bigint }>(
          sql`SELECT last_seq FROM market_sequences WHERE market = 'BTC_USDT'`,
        )
      ).rows[0]?.last_seq ?? 0n;
    const lastSeq = await sequence();
    const zombie: EventMessage = {
      v: 1,
      market: "BTC_USDT",
      epoch: before.epoch.toString(),
      commandId: null,
      input: { partition: 0, offset: "0" },
      time: Date.now(),
      events: [{ type: "halted", seq: Number(lastSeq) + 1, time: Date.now() }],
      reply: null,
    };
    const producer = idempotentProducer(exchange.kafka);
    await producer.connect();
    await producer.send({
      topic: exchange.names.kafka.events.topic,
      messages: [{ key: "BTC_USDT", value: encodeEvents(zombie) }],
    });
    await producer.disconnect();
    const port = await survivor.port();
    await waitFor(
      async () =>
        (metricValue(await workerMetrics(port), "spotx_settlement_events_total", {
          market: "BTC_USDT",
          outcome: "stale_epoch",
        }) ?? 0) >= 1,
      { what: "settlement to see the zombie's event", timeoutMs: 30_000 },
    );
    expect(await sequence()).toBe(lastSeq);

    // The real next events (same sequence numbers the zombie tried) still settle.
    await tradeOnce("BTC_USDT", "30200");
    expect(await sequence()).toBeGreaterThan(lastSeq);
    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(ready.status).toBe(200);
  });
});

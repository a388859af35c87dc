// The window a pipeline without Kafka transactions opens (docs/decisions/004): a worker killed
// after its events were produced — and settled — but before the engine committed the offsets of
// the commands they came from. The next owner applies those commands again and produces their
// events again; settlement must apply each event once. The first worker commits no offset in
// this test (a commit interval longer than the test), so every command it applied falls in the
// window.
import { randomUUID } from "node:crypto";
import { partitionForKey } from "@spotx/platform/kafka";
import { decodeEvents } from "@spotx/protocol";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drained, expectBookMatchesDatabase, expectExactlyOnce } from "./drain";
import { type Exchange, startExchange, waitFor } from "./exchange";

const ORDERS = 600;

let exchange: Exchange;
beforeAll(async () => {
  exchange = await startExchange();
});
afterAll(async () => {
  await exchange?.stop();
});

/** Every events message of the namespace, as (market, first seq) pairs. */
async function eventsOnTopic(): Promise<Array<{ market: string; seq: number }>> {
  const { kafka, names } = exchange;
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(names.kafka.events.topic);
  await admin.disconnect();
  const total = ends.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: names.kafka.events.topic, fromBeginning: true });
  const seen: Array<{ market: string; seq: number }> = [];
  let read = 0;
  await new Promise<void>((resolve) => {
    if (total === 0) resolve();
    void consumer.run({
      eachMessage: async ({ message }) => {
        const decoded = decodeEvents(message.value);
        if (decoded.ok) {
          seen.push({ market: decoded.message.market, seq: decoded.message.events[0]?.seq ?? -1 });
        }
        if (++read >= total) resolve();
      },
    });
  });
  await consumer.disconnect();
  return seen;
}

describe("a worker killed between producing events and committing their offsets", () => {
  it("has its commands applied again by the next owner, and every event settled once", {
    timeout: 180_000,
  }, async () => {
    const { trading, db, kafka, names } = exchange;
    const first = exchange.startWorker({
      env: { ENGINE_OFFSET_COMMIT_INTERVAL_MS: "600000" },
    });
    const buyer = await exchange.createUser();
    const seller = await exchange.createUser();
    await exchange.fund(buyer, "USDT", 1_000_000_000_000n);
    await exchange.fund(seller, "BTC", 10_000_000_000n);
    await first.port();

    // Crossing pairs: every second order trades.
    for (let i = 0; i < ORDERS; i++) {
      const sell = i % 2 === 0;
      await trading.placeOrder(sell ? seller : buyer, {
        market: "BTC_USDT",
        side: sell ? "sell" : "buy",
        type: "limit",
        price: "30000",
        amount: "0.001",
      });
    }
    // Everything produced and settled by the first worker…
    await drained(db, await first.port(), ["BTC_USDT"], 120_000);
    const admin = kafka.admin();
    await admin.connect();
    const [before] = await admin.fetchOffsets({
      groupId: names.kafka.groups.engine,
      topics: [names.kafka.orders.topic],
    });
    const ends = await admin.fetchTopicOffsets(names.kafka.orders.topic);
    await admin.disconnect();
    // …and none of its commands' offsets committed (at most the partition's start, where the
    // takeover sought).
    const partition = partitionForKey(names.kafka.orders.topic, "BTC_USDT", ends.length);
    const committed = Number(before?.partitions.find((p) => p.partition === partition)?.offset);
    const end = Number(ends.find((p) => p.partition === partition)?.high);
    expect(end).toBe(ORDERS);
    expect(committed).toBeLessThanOrEqual(0);
    const settledBefore = await db.execute<{ last_seq: bigint }>(
      sql`SELECT last_seq FROM market_sequences WHERE market = 'BTC_USDT'`,
    );

    first.child.kill("SIGKILL");
    await first.exited;
    const second = exchange.startWorker();
    const port = await second.port();
    // The new owner applied every command again: its engine reached the same sequence.
    await waitFor(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return new RegExp(
          `spotx_engine_seq\\{market="BTC_USDT"\\} ${settledBefore.rows[0]?.last_seq}\\b`,
        ).test(text);
      },
      { what: "the new owner to apply the commands again", timeoutMs: 60_000, intervalMs: 250 },
    );
    await drained(db, port, ["BTC_USDT"], 60_000);

    // The events were on the topic twice — the window was real — and settled once.
    const events = (await eventsOnTopic()).filter((e) => e.market === "BTC_USDT");
    const bySeq = new Map<number, number>();
    for (const e of events) bySeq.set(e.seq, (bySeq.get(e.seq) ?? 0) + 1);
    const doubled = [...bySeq.values()].filter((n) => n === 2).length;
    expect(doubled).toBe(ORDERS);
    const settledAfter = await db.execute<{ last_seq: bigint; trades: bigint }>(
      sql`SELECT last_seq, (SELECT count(*) FROM trades)::int8 AS trades
            FROM market_sequences WHERE market = 'BTC_USDT'`,
    );
    expect(settledAfter.rows[0]?.last_seq).toBe(settledBefore.rows[0]?.last_seq);
    expect(settledAfter.rows[0]?.trades).toBe(BigInt(ORDERS / 2));
    await expectExactlyOnce(db);

    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    await expectBookMatchesDatabase(db, "BTC_USDT");
  });
});

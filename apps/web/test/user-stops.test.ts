// `user.stops` on the real stack: a stop-limit order recorded in PostgreSQL and announced on
// Redis (priceOrdersChannel, as the API and the worker announce them) reaches its owner's
// sockets on every web instance as the row now stands — created, then cancelled — and nobody
// else's.
import { createPriceOrder, endPriceOrders } from "@spotx/db/price-orders";
import { signSocketToken } from "@spotx/platform/secrets";
import { encodePriceOrderChanges } from "@spotx/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Inbox, type SocketBench, startSocketBench } from "./socket-bench";

let bench: SocketBench;

beforeAll(async () => {
  bench = await startSocketBench(2);
});
afterAll(async () => {
  await bench?.stop();
});

const announce = (changed: { userId: bigint; id: bigint }[]) =>
  bench.redis.publish(
    bench.market.names.redis.priceOrdersChannel,
    encodePriceOrderChanges(changed),
  );

const userEvents = (inbox: Inbox) => inbox.received.filter((r) => r.event.startsWith("user."));

describe("user.stops", () => {
  it("pushes a user's stop-limit orders as they change, to that user only", async () => {
    const [one, two] = bench.web;
    const [alice, bob] = bench.market.users;
    if (!one || !two || !alice || !bob) throw new Error("two instances and two users");
    const key = bench.secretKey;
    // Alice on both instances, bob on one, and someone signed out.
    const aliceOne = await bench.connect(one, await signSocketToken(alice, key, 60));
    const aliceTwo = await bench.connect(two, await signSocketToken(alice, key, 60));
    const bobClient = await bench.connect(one, await signSocketToken(bob, key, 60));
    const anonymous = await bench.connect(two);

    const noop = { topic: bench.market.names.kafka.orders.topic, command: () => ({}) };
    // Buy 0.5 BTC at 70,100 once the last price reaches 70,000 (prices in ticks of 0.01 USDT,
    // amounts in lots of 0.0001 BTC).
    const created = await createPriceOrder(
      bench.market.db,
      {
        userId: alice,
        market: "BTC_USDT",
        triggerPriceTicks: 7_000_000n,
        rule: "gte",
        expirationSeconds: 0,
        side: "buy",
        type: "limit",
        priceTicks: 7_010_000n,
        amount: 5_000n,
        timeInForce: "gtc",
        text: "web",
        maxOpen: 10,
      },
      noop,
    );
    if (created === "too_many") throw new Error("too many price orders");
    await announce([{ userId: alice, id: created.id }]);

    const expected = {
      id: String(created.id),
      currency_pair: "BTC_USDT",
      side: "buy",
      type: "limit",
      trigger_price: "70000",
      rule: ">=",
      price: "70100",
      amount: "0.5",
      status: "open",
      reason: "",
      fired_order_id: "",
      create_time_ms: created.createdAt.getTime(),
      finish_time_ms: 0,
    };
    for (const client of [aliceOne, aliceTwo]) {
      expect(await client.inbox.next("user.stops")).toEqual([expected]);
    }

    const [cancelled] = await endPriceOrders(
      bench.market.db,
      { status: "cancelled", userId: alice, id: created.id },
      noop,
    );
    if (!cancelled?.finishedAt) throw new Error("not cancelled");
    await announce([{ userId: alice, id: created.id }]);
    for (const client of [aliceOne, aliceTwo]) {
      expect(await client.inbox.next("user.stops", (list) => list[0]?.status !== "open")).toEqual([
        {
          ...expected,
          status: "cancelled",
          reason: "cancelled by the user",
          finish_time_ms: cancelled.finishedAt.getTime(),
        },
      ]);
      // Each instance tells its own clients once, not once per instance.
      expect(client.inbox.all("user.stops")).toHaveLength(2);
    }

    // An announcement naming the wrong owner pushes nothing (the row must still be theirs).
    await announce([{ userId: bob, id: created.id }]);
    // A marker through the same Redis connection, handled after it by the same instance: whatever
    // was meant for bob has arrived once alice's copy has.
    const from = aliceOne.inbox.received.length;
    await announce([{ userId: alice, id: created.id }]);
    await aliceOne.inbox.next("user.stops", undefined, { from });
    expect(userEvents(bobClient.inbox)).toEqual([]);
    expect(userEvents(anonymous.inbox)).toEqual([]);
  });
});

// Market data against the real stack: after a restart it rebuilds exactly the same book,
// trades, candles and ticker from PostgreSQL (as settlement left it) plus the events it seeks
// back to — reading only what settlement had not applied — and it keeps Redis' snapshot current.

import { DEMO_MARKETS, schema } from "@spotx/db";
import { platformEnv } from "@spotx/platform";
import { partitionForKey } from "@spotx/platform/kafka";
import { logger } from "@spotx/platform/logger";
import { createRedis, type Redis } from "@spotx/platform/redis";
import { createSocketEmitter } from "@spotx/platform/socket-emitter";
import type { BookSnapshot, ServerToClientEvents, TickerMessage } from "@spotx/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MarketData, marketDataMetrics, startMarketData } from "../src/market-data";
import { eventually, type MarketBench, startMarketBench } from "./market-data-fixture";

let bench: MarketBench;
let redis: Redis;
const running: MarketData[] = [];

beforeAll(async () => {
  bench = await startMarketBench();
  redis = createRedis(platformEnv().REDIS_URL);
});
afterAll(async () => {
  for (const md of running) await md.stop().catch(() => undefined);
  redis?.disconnect();
  await bench?.stop();
});

async function start(): Promise<MarketData> {
  const md = await startMarketData({
    kafka: bench.kafka,
    db: bench.db,
    redis,
    emitter: createSocketEmitter<ServerToClientEvents>(redis, bench.names),
    names: bench.names,
    log: logger("market-data-test"),
  });
  running.push(md);
  return md;
}

async function stop(md: MarketData) {
  await md.stop();
  running.splice(running.indexOf(md), 1);
}

/** Waits until market data has read every produced message and folded in the last. */
function caughtUp(md: MarketData) {
  const seq = bench.engine.engine.seq;
  const last = bench.produced[bench.produced.length - 1];
  return eventually(() => {
    const feed = md.feed("BTC_USDT");
    const read = last === undefined || (md.positions().get(last.partition) ?? -1n) > last.offset;
    return feed !== undefined && feed.seq === seq && read && feed;
  }, `market data to reach seq ${seq}`);
}

async function counted(outcome: string): Promise<number> {
  const metric = await marketDataMetrics.messages.get();
  return metric.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe("market data restart", () => {
  it("rebuilds the same book, trades, candles and ticker from PostgreSQL and the events past it", async () => {
    const [alice, bob, carol] = bench.users;
    if (!alice || !bob || !carol) throw new Error("no users");
    // A book with depth on both sides, then trades through it.
    await bench.place(alice, "buy", "29990", "0.5");
    await bench.place(alice, "buy", "29995.5", "0.25");
    await bench.place(bob, "sell", "30010", "1");
    await bench.place(bob, "sell", "30005", "0.3");
    const middle = await bench.place(carol, "buy", "30010", "0.4"); // takes 30005 and 0.1 of 30010
    await bench.place(carol, "sell", "29995.5", "0.1");
    await bench.place(alice, "buy", "30000", "0.2");
    await bench.place(bob, "sell", "29990", "0.3"); // takes 30000 0.2, 29995.5 0.15 (rest)
    // Settlement has applied the first five messages only.
    await bench.settle(middle);

    const first = await start();
    const feed = await caughtUp(first);
    const now = Date.now();
    const expected = {
      levels: feed.levels(),
      trades: feed.recentTrades(),
      candles: feed.currentCandles(),
      ticker: feed.ticker(now),
      snapshot: feed.snapshot(0),
    };
    expect(expected.levels).toEqual(bench.engine.engine.depth(1_000));
    expect(expected.trades.map((t) => [t.price, t.amount])).toEqual([
      ["30005", "0.3"],
      ["30010", "0.1"],
      ["29995.5", "0.1"],
      ["30000", "0.2"],
      ["29995.5", "0.1"],
    ]);
    // Redis holds the same snapshot (written at most every 100 ms, and after the last change).
    const stored = await eventually(async () => {
      const value = await redis.get(bench.names.redis.book("BTC_USDT"));
      const parsed = value ? (JSON.parse(value) as BookSnapshot) : undefined;
      return parsed?.seq === expected.snapshot.seq && parsed;
    }, "the Redis book snapshot");
    expect({ bids: stored.bids, asks: stored.asks }).toEqual({
      bids: expected.snapshot.bids,
      asks: expected.snapshot.asks,
    });
    expect(await redis.pttl(bench.names.redis.book("BTC_USDT"))).toBeGreaterThan(0);
    const ticker = JSON.parse(
      (await redis.get(bench.names.redis.ticker("BTC_USDT"))) ?? "{}",
    ) as TickerMessage;
    expect(ticker).toMatchObject({
      last: "29995.5",
      lowest_ask: "30010",
      highest_bid: "29995.5",
      // 0.3 + 0.1 + 0.1 + 0.2 + 0.1 BTC; 9001.5 + 3001 + 2999.55 + 6000 + 2999.55 USDT.
      base_volume: "0.8",
      quote_volume: "24001.6",
    });
    await stop(first);

    // Restarted: PostgreSQL is at message 5; only messages 6–8 are read and applied.
    const appliedBefore = await counted("applied");
    const replayedBefore = await counted("replayed");
    const second = await start();
    const rebuilt = await caughtUp(second);
    expect(rebuilt.levels()).toEqual(expected.levels);
    expect(rebuilt.recentTrades()).toEqual(expected.trades);
    expect(rebuilt.currentCandles()).toEqual(expected.candles);
    expect(rebuilt.ticker(now)).toEqual(expected.ticker);
    expect(rebuilt.snapshot(0)).toEqual(expected.snapshot);
    expect((await counted("applied")) - appliedBefore).toBe(3);
    expect((await counted("replayed")) - replayedBefore).toBe(0);
    await stop(second);

    // Once settlement has applied everything, a restart reads nothing and still agrees: the
    // book comes from the open orders, trades and candles from their tables.
    await bench.settle();
    const appliedThen = await counted("applied");
    const third = await start();
    const fromDatabase = await caughtUp(third);
    expect(fromDatabase.levels()).toEqual(expected.levels);
    expect(fromDatabase.recentTrades()).toEqual(expected.trades);
    expect(fromDatabase.currentCandles()).toEqual(expected.candles);
    expect(fromDatabase.ticker(now)).toEqual(expected.ticker);
    expect((await counted("applied")) - appliedThen).toBe(0);

    // And it carries on from there: a new order moves the book once, with the next sequence.
    await bench.place(carol, "sell", "30008", "0.05");
    const moved = await caughtUp(third);
    expect(moved.levels()).toEqual(bench.engine.engine.depth(1_000));
    await stop(third);
  });

  it("does not read a partition from its start for a market that never traded", async () => {
    // A market listed on BTC_USDT's partition that settlement never applied anything for:
    // its last_offset is null, and settlement's committed offset bounds where it can start.
    const topic = bench.names.kafka.events.topic;
    const home = partitionForKey(topic, "BTC_USDT", bench.names.kafka.events.numPartitions);
    let idle = "";
    for (let i = 0; idle === ""; i++) {
      const symbol = `Q${i}_USDT`;
      if (partitionForKey(topic, symbol, bench.names.kafka.events.numPartitions) === home) {
        idle = symbol;
      }
    }
    const base = idle.split("_")[0] ?? "";
    await bench.db.insert(schema.assets).values({ symbol: base, name: base, decimals: 8 });
    await bench.db.insert(schema.markets).values({ ...DEMO_MARKETS[0], symbol: idle, base });
    const [alice, bob] = bench.users;
    if (!alice || !bob) throw new Error("no users");
    await bench.place(alice, "buy", "29000", "0.01");
    await bench.place(bob, "sell", "29000", "0.01");
    await bench.settle(undefined, { commit: true });

    const before = { applied: await counted("applied"), replayed: await counted("replayed") };
    const md = await start();
    const feed = await caughtUp(md);
    expect(feed.levels()).toEqual(bench.engine.engine.depth(1_000));
    expect(md.feed(idle)?.seq).toBe(0);
    // Everything came from PostgreSQL: not one of the partition's messages was read again.
    expect((await counted("applied")) - before.applied).toBe(0);
    expect((await counted("replayed")) - before.replayed).toBe(0);
    await stop(md);
  });
});

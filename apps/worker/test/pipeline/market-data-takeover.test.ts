// Market data from the engine host: a new owner rebuilds each market's public data — book,
// recent trades, 24 h ticker — exactly as the old one had it, from what settlement applied and
// the replay of the commands after it (docs/decisions/004) — and goes on from there.
import { platformEnv } from "@spotx/platform";
import { createRedis, type Redis } from "@spotx/platform/redis";
import type { BookSnapshot, TickerMessage, TradeMessage } from "@spotx/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drained } from "./drain";
import { type Exchange, startExchange, waitFor } from "./exchange";

let exchange: Exchange;
let redis: Redis;
beforeAll(async () => {
  exchange = await startExchange();
  redis = createRedis(platformEnv().REDIS_URL);
});
afterAll(async () => {
  redis?.disconnect();
  await exchange?.stop();
});

type PublicView = {
  book: Omit<BookSnapshot, "time">;
  ticker: Omit<TickerMessage, "time">;
  trades: TradeMessage[];
};

/** What the owner wrote to Redis for late joiners (and the REST API), without its timestamps. */
async function publicView(market: string): Promise<PublicView | null> {
  const { names } = exchange;
  const [book, ticker, trades] = await Promise.all([
    redis.get(names.redis.book(market)),
    redis.get(names.redis.ticker(market)),
    redis.get(names.redis.trades(market)),
  ]);
  if (!book || !ticker || !trades) return null;
  const { time: _bookTime, ...bookRest } = JSON.parse(book) as BookSnapshot;
  const { time: _tickerTime, ...tickerRest } = JSON.parse(ticker) as TickerMessage;
  return { book: bookRest, ticker: tickerRest, trades: JSON.parse(trades) as TradeMessage[] };
}

describe("a new engine owner", () => {
  it("publishes the same book, trades and ticker the old one had, from PostgreSQL and the replay", {
    timeout: 180_000,
  }, async () => {
    const { trading, db, names } = exchange;
    // Snapshots every 50 commands: the new owner starts from one and replays what follows.
    const env = { ENGINE_SNAPSHOT_EVERY: "50" };
    const first = exchange.startWorker({ env });
    const traders: bigint[] = [];
    for (let i = 0; i < 4; i++) {
      const trader = await exchange.createUser();
      await exchange.fund(trader, "USDT", 100_000_000_000n);
      await exchange.fund(trader, "BTC", 1_000_000_000n);
      traders.push(trader);
    }
    await first.port();
    // Resting orders at several levels and crossing ones that trade: a book and a tape.
    for (let i = 0; i < 240; i++) {
      const trader = traders[i % traders.length] ?? 0n;
      const sell = i % 3 === 0;
      const price = sell ? 30_000 + (i % 7) : 29_995 + (i % 11);
      await trading.placeOrder(trader, {
        market: "BTC_USDT",
        side: sell ? "sell" : "buy",
        type: "limit",
        amount: `0.00${(i % 5) + 1}`,
        price: String(price),
      });
    }
    await drained(db, await first.port(), ["BTC_USDT"], 60_000);
    const before = await waitFor(
      async () => {
        const view = await publicView("BTC_USDT");
        return view && view.trades.length > 0 ? view : null;
      },
      { what: "the first owner's market data in Redis" },
    );
    expect(before.book.bids.length).toBeGreaterThan(0);

    // The old owner dies; its keys are gone (as after their TTL) so what follows is the new one's.
    first.child.kill("SIGKILL");
    await first.exited;
    await redis.del(
      names.redis.book("BTC_USDT"),
      names.redis.ticker("BTC_USDT"),
      names.redis.trades("BTC_USDT"),
    );
    const second = exchange.startWorker({ env });
    await second.port();
    const after = await waitFor(async () => publicView("BTC_USDT"), {
      what: "the new owner's market data in Redis",
      timeoutMs: 60_000,
    });
    expect(after.book).toEqual(before.book);
    expect(after.trades).toEqual(before.trades);
    expect(after.ticker).toEqual(before.ticker);

    // Trading on: the new owner's deltas continue from the book it published.
    const trader = traders[0] ?? 0n;
    await trading.placeOrder(trader, {
      market: "BTC_USDT",
      side: "buy",
      type: "limit",
      amount: "0.001",
      price: "29990.01",
    });
    const moved = await waitFor(
      async () => {
        const view = await publicView("BTC_USDT");
        return view && view.book.seq > before.book.seq ? view : null;
      },
      { what: "the book to move on", timeoutMs: 30_000 },
    );
    expect(moved.book.bids).toContainEqual(["29990.01", "0.001"]);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });
});

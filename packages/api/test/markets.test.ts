// The markets router with real numbers: the list and one market (halts from etcd included), the
// book and ticker from market data's Redis keys or, without them, from what settlement wrote,
// and trades and candles from PostgreSQL. Trades are settled through the ledger's own
// applySettlementBatch, as the pipeline's settlement consumer does.
import { applySettlementBatch, loadMarket, type MarketSpec, type Order } from "@spotx/db";
import { setMarketHalt } from "@spotx/platform/market-config";
import type { BookSnapshot, TickerMessage } from "@spotx/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, startApiFixture, type TestUser } from "./api-fixture";

let f: ApiFixture;
let btc: MarketSpec;
let seller: TestUser;
let buyer: TestUser;
let seq = 0n;

/** Places through orders.place and returns the ledger's order row. */
async function place(user: TestUser, side: "buy" | "sell", amount: string, price: string) {
  const caller = await f.callerAs(user);
  const { order } = await caller.orders.place({ market: "BTC_USDT", side, amount, price });
  const placed = await f.trading.findOrder(user.id, "BTC_USDT", order.id);
  return placed;
}

/** The engine's events for a resting ask and a crossing bid, settled. */
async function settleCross(ask: Order, bid: Order, lots: bigint, priceTicks: bigint, time: Date) {
  const events = [
    { kind: "order_accepted" as const, seq: ++seq, orderId: ask.id },
    {
      kind: "trade" as const,
      seq: ++seq,
      tradeId: seq,
      makerOrderId: ask.id,
      takerOrderId: bid.id,
      makerUserId: ask.userId,
      takerUserId: bid.userId,
      takerSide: "buy" as const,
      priceTicks,
      qtyLots: lots,
      quoteAmount: priceTicks * lots * btc.quoteMinorPerTickLot,
      time,
    },
  ];
  const result = await applySettlementBatch(f.db, "BTC_USDT", events);
  if (!result.ok) throw new Error(`settlement refused: ${JSON.stringify(result)}`);
}

beforeAll(async () => {
  f = await startApiFixture();
  btc = await loadMarket(f.db, "BTC_USDT");
  seller = await f.createUser();
  buyer = await f.createUser();
  await f.fund(seller.id, "BTC", 100_000_000n);
  await f.fund(buyer.id, "USDT", 10_000_000_000n);
  // Two trades a minute apart (both within the last 24 h): 0.01 at 30,000, then 0.02 at 30,600.
  const minute = Math.floor(Date.now() / 60_000) * 60_000;
  await settleCross(
    await place(seller, "sell", "0.01", "30000"),
    await place(buyer, "buy", "0.01", "30000"),
    100n,
    3_000_000n,
    new Date(minute - 60_000 + 5_000),
  );
  await settleCross(
    await place(seller, "sell", "0.02", "30600"),
    await place(buyer, "buy", "0.02", "30600"),
    200n,
    3_060_000n,
    new Date(minute + 1_000),
  );
  // What stays in the book: an accepted ask at 31,000 and bids at 29,000 and 29,500.
  const events = [];
  for (const order of [
    await place(seller, "sell", "0.05", "31000"),
    await place(buyer, "buy", "0.03", "29000"),
    await place(buyer, "buy", "0.04", "29500"),
    await place(buyer, "buy", "0.01", "29500"),
  ]) {
    events.push({ kind: "order_accepted" as const, seq: ++seq, orderId: order.id });
  }
  const accepted = await applySettlementBatch(f.db, "BTC_USDT", events);
  if (!accepted.ok) throw new Error("acceptance refused");
  // A bid still pending (not yet in the engine's book) is not part of the book.
  await place(buyer, "buy", "0.07", "29900");
});
afterAll(async () => {
  await f?.stop();
});

describe("markets.list and markets.get", () => {
  it("lists the markets with decimal minimums and percent fees", async () => {
    const markets = await (await f.callerAs(null)).markets.list();
    expect(markets.map((m) => m.symbol)).toEqual(["BTC_USDT", "ETH_USDT"]);
    expect(markets[0]).toEqual({
      symbol: "BTC_USDT",
      base: "BTC",
      quote: "USDT",
      pricePrecision: 2,
      amountPrecision: 4,
      baseDecimals: 8,
      quoteDecimals: 6,
      minBaseAmount: "0.0001",
      minQuoteAmount: "1",
      makerFeePercent: "0.1",
      takerFeePercent: "0.2",
      status: "trading",
      haltReason: null,
    });
    expect(markets[1]?.minBaseAmount).toBe("0.001");
  });

  it("shows an operator's halt in etcd at once, and refuses orders in that market", async () => {
    const caller = await f.callerAs(buyer);
    const changed = new Promise((resolve) => f.halts.once("change", resolve));
    await setMarketHalt(f.etcd, "ETH_USDT", { halted: true, reason: "maintenance" }, f.names);
    await changed;
    expect(await caller.markets.get({ market: "ETH_USDT" })).toMatchObject({
      status: "halted",
      haltReason: "maintenance",
    });
    await expect(
      caller.orders.place({ market: "ETH_USDT", side: "buy", amount: "0.1", price: "2000" }),
    ).rejects.toMatchObject({ label: "INVALID_CURRENCY_PAIR", code: "BAD_REQUEST" });
    const resumed = new Promise((resolve) => f.halts.once("change", resolve));
    await setMarketHalt(f.etcd, "ETH_USDT", { halted: false }, f.names);
    await resumed;
    expect((await caller.markets.get({ market: "ETH_USDT" })).status).toBe("trading");
  });

  it("answers an unknown market with INVALID_CURRENCY_PAIR", async () => {
    const caller = await f.callerAs(null);
    await expect(caller.markets.get({ market: "DOGE_USDT" })).rejects.toMatchObject({
      label: "INVALID_CURRENCY_PAIR",
    });
    await expect(caller.markets.depth({ market: "DOGE_USDT" })).rejects.toMatchObject({
      label: "INVALID_CURRENCY_PAIR",
    });
  });
});

describe("markets.depth", () => {
  it("rebuilds the book from PostgreSQL's open orders when market data has none", async () => {
    const book = await (await f.callerAs(null)).markets.depth({ market: "BTC_USDT" });
    expect(book).toMatchObject({
      market: "BTC_USDT",
      seq: Number(seq),
      source: "settled",
      bids: [
        ["29500", "0.05"],
        ["29000", "0.03"],
      ],
      asks: [["31000", "0.05"]],
    });
    const top = await (await f.callerAs(null)).markets.depth({ market: "BTC_USDT", limit: 1 });
    expect(top.bids).toEqual([["29500", "0.05"]]);
  });

  it("serves market data's live snapshot from Redis when there is one", async () => {
    const snapshot: BookSnapshot = {
      market: "BTC_USDT",
      seq: 4242,
      time: 1_700_000_000_000,
      bids: [
        ["29999", "1.5"],
        ["29998", "0.25"],
      ],
      asks: [["30001", "2"]],
    };
    const key = f.names.redis.book("BTC_USDT");
    await f.redis.set(key, JSON.stringify(snapshot), "PX", 10_000);
    try {
      const book = await (await f.callerAs(null)).markets.depth({ market: "BTC_USDT", limit: 1 });
      expect(book).toEqual({
        market: "BTC_USDT",
        seq: 4242,
        time: 1_700_000_000_000,
        bids: [["29999", "1.5"]],
        asks: [["30001", "2"]],
        source: "live",
      });
    } finally {
      await f.redis.del(key);
    }
  });
});

describe("markets.ticker", () => {
  it("computes the 24 h ticker from settled candles when market data has none", async () => {
    const ticker = await (await f.callerAs(null)).markets.ticker({ market: "BTC_USDT" });
    expect(ticker).toMatchObject({
      market: "BTC_USDT",
      last: "30600",
      lowestAsk: "31000",
      highestBid: "29500",
      // From the window's first open (30,000) to the last price (30,600): +2 %.
      changePercentage: "2",
      baseVolume: "0.03",
      // 300 + 612 USDT.
      quoteVolume: "912",
      high24h: "30600",
      low24h: "30000",
      source: "settled",
    });
  });

  it("serves market data's ticker from Redis when there is one", async () => {
    const live: TickerMessage = {
      currency_pair: "BTC_USDT",
      last: "30123.45",
      lowest_ask: "30124",
      highest_bid: "30123",
      change_percentage: "-1.5",
      base_volume: "12.5",
      quote_volume: "376543.21",
      high_24h: "31000",
      low_24h: "29000",
      time: 1_700_000_000_000,
    };
    const key = f.names.redis.ticker("BTC_USDT");
    await f.redis.set(key, JSON.stringify(live), "PX", 10_000);
    try {
      const ticker = await (await f.callerAs(null)).markets.ticker({ market: "BTC_USDT" });
      expect(ticker).toMatchObject({ last: "30123.45", changePercentage: "-1.5", source: "live" });
    } finally {
      await f.redis.del(key);
    }
  });
});

describe("markets.trades and markets.candles", () => {
  it("lists public trades newest first, a page at a time", async () => {
    const caller = await f.callerAs(null);
    const first = await caller.markets.trades({ market: "BTC_USDT", limit: 1 });
    expect(first.items).toEqual([
      expect.objectContaining({ side: "buy", price: "30600", amount: "0.02" }),
    ]);
    expect(first.nextCursor).not.toBeNull();
    const second = await caller.markets.trades({
      market: "BTC_USDT",
      limit: 1,
      before: first.nextCursor ?? undefined,
    });
    expect(second.items).toEqual([
      expect.objectContaining({ side: "buy", price: "30000", amount: "0.01" }),
    ]);
    expect(second.nextCursor).toBeNull();
  });

  it("gives 1-minute candles oldest first, the earlier one closed", async () => {
    const candles = await (await f.callerAs(null)).markets.candles({
      market: "BTC_USDT",
      interval: "1m",
    });
    expect(candles).toHaveLength(2);
    expect(candles[0]).toMatchObject({
      open: "30000",
      high: "30000",
      low: "30000",
      close: "30000",
      baseVolume: "0.01",
      quoteVolume: "300",
      trades: 1,
      closed: true,
    });
    expect(candles[1]).toMatchObject({ close: "30600", quoteVolume: "612" });
    expect((candles[1]?.time ?? 0) - (candles[0]?.time ?? 0)).toBe(60);
    // The later one is the current minute's, open — unless a minute has begun since.
    const currentMinute = Math.floor(Date.now() / 60_000) * 60;
    expect(candles[1]?.closed).toBe((candles[1]?.time ?? 0) < currentMinute);
    const day = await (await f.callerAs(null)).markets.candles({
      market: "BTC_USDT",
      interval: "1d",
      limit: 5,
    });
    // Both trades, in today's candle (or yesterday's and today's, just after midnight UTC).
    expect(day.reduce((n, c) => n + c.trades, 0)).toBe(2);
  });

  it("refuses a from after to", async () => {
    await expect(
      (await f.callerAs(null)).markets.candles({
        market: "BTC_USDT",
        interval: "1h",
        from: 2_000,
        to: 1_000,
      }),
    ).rejects.toMatchObject({ label: "INVALID_PARAM_VALUE" });
  });
});

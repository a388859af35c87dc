// Market data's functional core, without servers: the engine host's real messages folded into
// a market's book, trades, ticker and candles, and what each batch publishes.
import { applyBookDelta, bookFromSnapshot, bookLevels, type EventMessage } from "@spotx/protocol";
import { describe, expect, it } from "vitest";
import { MarketFeed } from "../src/market-data/feed";
import { BTC_USDT, btc, EMPTY_START, EngineScript, usd } from "./market-data-fixture";

const MINUTE = 60_000;

/** Folds messages one batch each, returning every publication. */
function run(feed: MarketFeed, messages: EventMessage[], now: number) {
  return messages.map((message) => {
    expect(feed.apply(message)).toBe("applied");
    return feed.flush(now);
  });
}

describe("the book", () => {
  it("equals the engine's depth after a mix of resting, crossing and cancelled orders", () => {
    const script = new EngineScript();
    const feed = new MarketFeed(BTC_USDT, EMPTY_START);
    const messages = [
      script.place(1, "buy", usd("29990"), btc("0.5")).message,
      script.place(1, "buy", usd("29995.5"), btc("0.25")).message,
      script.place(2, "sell", usd("30010"), btc("1")).message,
      script.place(2, "sell", usd("30005"), btc("0.3")).message,
      // Takes the 30005 level whole and 0.1 of 30010.
      script.place(3, "buy", usd("30010"), btc("0.4")).message,
      script.cancel(1, 1),
    ];
    run(feed, messages, script.time);
    const depth = script.hosted.engine.depth(1_000);
    expect(feed.levels()).toEqual({ bids: depth.bids, asks: depth.asks });
    expect(feed.seq).toBe(script.hosted.engine.seq);
    expect(feed.snapshot(0)).toMatchObject({
      seq: script.hosted.engine.seq,
      bids: [["29995.5", "0.25"]],
      asks: [["30010", "0.9"]],
    });
  });

  it("publishes deltas that chain (U = previous u + 1) and rebuild the book from a snapshot", () => {
    const script = new EngineScript();
    const feed = new MarketFeed(BTC_USDT, EMPTY_START);
    const first = run(feed, [script.place(1, "buy", usd("30000"), btc("1")).message], 0);
    const snapshot = feed.snapshot(0);
    // A rejected order moves no level: no delta, but its sequence numbers are covered by the next.
    const rejected = script.place(2, "sell", usd("30000"), 0);
    const later = run(
      feed,
      [
        rejected.message,
        script.place(2, "sell", usd("30000"), btc("0.4")).message,
        script.place(1, "buy", usd("29999"), btc("2")).message,
      ],
      0,
    );
    const deltas = [first[0]?.delta, ...later.map((p) => p?.delta ?? null)];
    expect(first[0]?.delta).toMatchObject({ U: 1, u: 2, bids: [["30000", "1"]], asks: [] });
    expect(later[0]).toBeNull();
    // The sell takes 0.4 at 30000: the level's new absolute amount is 0.6.
    expect(later[1]?.delta).toMatchObject({ U: 3, bids: [["30000", "0.6"]], asks: [] });
    expect(later[2]?.delta?.U).toBe((later[1]?.delta?.u ?? 0) + 1);

    let book = bookFromSnapshot(snapshot);
    for (const delta of deltas.slice(1)) {
      if (!delta) continue;
      const next = applyBookDelta(book, delta);
      if (next === "resync") throw new Error("the stream has a gap");
      book = next;
    }
    const final = feed.snapshot(0);
    expect(book.seq).toBe(final.seq);
    expect(bookLevels(book)).toEqual({ bids: final.bids, asks: final.asks });
  });

  it("coalesces a batch into one delta with each level's last amount, '0' for a level gone", () => {
    const script = new EngineScript();
    const feed = new MarketFeed(BTC_USDT, EMPTY_START);
    for (const message of [
      script.place(1, "sell", usd("30001"), btc("0.5")).message,
      script.place(1, "sell", usd("30002"), btc("0.5")).message,
      script.place(2, "buy", usd("30001"), btc("0.5")).message,
    ]) {
      expect(feed.apply(message)).toBe("applied");
    }
    const publication = feed.flush(0);
    expect(publication?.delta).toEqual({
      market: "BTC_USDT",
      U: 1,
      u: feed.seq,
      time: script.time,
      bids: [],
      asks: [
        ["30001", "0"],
        ["30002", "0.5"],
      ],
    });
  });

  it("starts from a bootstrap and applies only what follows it", () => {
    const script = new EngineScript();
    const early = [
      script.place(1, "buy", usd("30000"), btc("1")).message,
      script.place(2, "sell", usd("30100"), btc("2")).message,
    ];
    const feed = new MarketFeed(BTC_USDT, {
      ...EMPTY_START,
      seq: script.hosted.engine.seq,
      levels: [
        { side: "buy", price: usd("30000"), lots: btc("1") },
        { side: "sell", price: usd("30100"), lots: btc("2") },
      ],
    });
    // Redelivered messages change nothing.
    for (const message of early) expect(feed.apply(message)).toBe("replayed");
    const next = script.place(3, "sell", usd("30000"), btc("0.25")).message;
    expect(feed.apply(next)).toBe("applied");
    expect(feed.flush(0)?.delta).toMatchObject({ U: 5, bids: [["30000", "0.75"]] });
    expect(feed.levels()).toEqual(script.hosted.engine.depth(1_000));
  });

  it("drops a message from an older engine owner and stops on a sequence gap", () => {
    const script = new EngineScript();
    script.epoch = 5n;
    const feed = new MarketFeed(BTC_USDT, { ...EMPTY_START, epoch: 5n });
    expect(feed.apply(script.place(1, "buy", usd("30000"), btc("1")).message)).toBe("applied");
    script.epoch = 4n;
    const zombie = script.place(1, "buy", usd("29000"), btc("1")).message;
    expect(feed.apply(zombie)).toBe("stale-epoch");
    script.epoch = 6n;
    script.place(1, "buy", usd("29500"), btc("1")); // produced, never delivered
    const afterGap = script.place(1, "buy", usd("29600"), btc("1")).message;
    expect(feed.apply(afterGap)).toBe("gap");
    // The zombie's events were never folded in: the feed is still at 2.
    expect(feed.gap).toEqual({ expected: 3, got: 7 });
    expect(feed.apply(script.place(1, "buy", usd("29700"), btc("1")).message)).toBe("stopped");
    expect(feed.levels().bids).toEqual([[usd("30000"), btc("1")]]);
  });
});

describe("trades, ticker and candles", () => {
  it("computes the 24 h ticker and candles from real trades", () => {
    const script = new EngineScript();
    const feed = new MarketFeed(BTC_USDT, EMPTY_START);
    const t0 = Date.UTC(2026, 10, 24, 12, 0, 5);
    script.time = t0;
    // Makers: asks at 30000, 30100 and 30200; bid at 29800.
    run(
      feed,
      [
        script.place(1, "sell", usd("30000"), btc("0.5")).message,
        script.place(1, "sell", usd("30100"), btc("0.25")).message,
        script.place(1, "sell", usd("30200"), btc("1")).message,
        script.place(1, "buy", usd("29800"), btc("2")).message,
      ],
      t0,
    );
    // 12:00:05 — a buy takes 0.5 @ 30000 and 0.25 @ 30100.
    const [taking] = run(feed, [script.place(2, "buy", usd("30100"), btc("0.75")).message], t0);
    expect(taking?.trades).toEqual([
      expect.objectContaining({ side: "buy", price: "30000", amount: "0.5" }),
      expect.objectContaining({ side: "buy", price: "30100", amount: "0.25" }),
    ]);
    expect(taking?.trades[0]).toMatchObject({
      create_time: Math.floor(t0 / 1000),
      create_time_ms: String(t0),
      currency_pair: "BTC_USDT",
    });
    // 12:01:30 — a sell hits the bid: 1 BTC @ 29800, in the next minute.
    const t1 = t0 + MINUTE + 25_000;
    script.time = t1;
    const [selling] = run(feed, [script.place(3, "sell", usd("29800"), btc("1")).message], t1);

    // Volumes: 0.5 + 0.25 + 1 = 1.75 BTC; 15000 + 7525 + 29800 = 52325 USDT.
    expect(feed.ticker(t1)).toEqual({
      currency_pair: "BTC_USDT",
      last: "29800",
      lowest_ask: "30200",
      highest_bid: "29800",
      // (29800 − 30000) / 30000 = −0.6667 %
      change_percentage: "-0.67",
      base_volume: "1.75",
      quote_volume: "52325",
      high_24h: "30100",
      low_24h: "29800",
      time: t1,
    });
    expect(selling?.ticker).toMatchObject({ last: "29800", change_percentage: "-0.67" });

    // The 12:00 minute closed when the 12:01 trade came: it is published once more, closed.
    const minutes = selling?.candles.filter((c) => c.interval === "1m");
    expect(minutes).toEqual([
      {
        market: "BTC_USDT",
        interval: "1m",
        t: String(Date.UTC(2026, 10, 24, 12, 0) / 1000),
        o: "30000",
        h: "30100",
        l: "30000",
        c: "30100",
        a: "0.75",
        v: "22525",
        n: "1m_BTC_USDT",
        w: true,
      },
      {
        market: "BTC_USDT",
        interval: "1m",
        t: String(Date.UTC(2026, 10, 24, 12, 1) / 1000),
        o: "29800",
        h: "29800",
        l: "29800",
        c: "29800",
        a: "1",
        v: "29800",
        n: "1m_BTC_USDT",
        w: false,
      },
    ]);
    const hour = feed.currentCandles().find((c) => c.interval === "1h");
    expect(hour).toMatchObject({ o: "30000", h: "30100", l: "29800", c: "29800", a: "1.75" });

    // A day later the window is empty: volumes fall to zero, the last price stays.
    const dayLater = feed.ticker(t1 + 24 * 60 * MINUTE);
    expect(dayLater).toMatchObject({
      last: "29800",
      base_volume: "0",
      quote_volume: "0",
      change_percentage: "0",
      high_24h: "29800",
      low_24h: "29800",
    });
    expect(feed.recentTrades().map((t) => t.price)).toEqual(["30000", "30100", "29800"]);
  });

  it("keeps the last 100 trades and publishes halts and resumes", () => {
    const script = new EngineScript();
    const feed = new MarketFeed(BTC_USDT, EMPTY_START);
    for (let i = 0; i < 60; i++) {
      feed.apply(script.place(1, "sell", usd("30000"), btc("0.0002")).message);
      feed.apply(script.place(2, "buy", usd("30000"), btc("0.0002")).message);
      feed.apply(script.place(2, "buy", usd("30000"), btc("0.0001")).message);
      feed.apply(script.place(1, "sell", usd("30000"), btc("0.0001")).message);
    }
    expect(feed.recentTrades()).toHaveLength(100);
    feed.flush(script.time);
    feed.apply(script.halt());
    expect(feed.flush(script.time)?.statuses).toEqual([
      { market: "BTC_USDT", halted: true, reason: null, source: "engine", time: script.time },
    ]);
    feed.apply(script.resume());
    expect(feed.flush(script.time)?.statuses).toMatchObject([{ halted: false }]);
  });
});

// The client's book stream and the wire formatting, without a server: a book built from a
// snapshot and deltas stays continuous, a gap asks for a new snapshot, and numbers are exact.
import { describe, expect, it } from "vitest";
import {
  applyBookDelta,
  averagePriceText,
  type BookDelta,
  type BookSnapshot,
  bookFromSnapshot,
  bookLevels,
  changePercentText,
  compareDecimal,
  type MarketPrecision,
  priceText,
  quoteText,
  reduceBookSync,
  startBookSync,
  subscribeRequest,
} from "../src/socket";

const BTC_USDT: MarketPrecision = {
  symbol: "BTC_USDT",
  base: "BTC",
  quote: "USDT",
  pricePrecision: 2,
  amountPrecision: 4,
  baseDecimals: 8,
  quoteDecimals: 6,
};

const snapshot = (seq: number, extra: Partial<BookSnapshot> = {}): BookSnapshot => ({
  market: "BTC_USDT",
  seq,
  time: 0,
  bids: [
    ["30000", "1.5"],
    ["29999.5", "0.25"],
  ],
  asks: [["30001", "2"]],
  ...extra,
});

const delta = (U: number, u: number, extra: Partial<BookDelta> = {}): BookDelta => ({
  market: "BTC_USDT",
  U,
  u,
  time: 0,
  bids: [],
  asks: [],
  ...extra,
});

describe("applyBookDelta", () => {
  it("sets absolute amounts, deletes a level on '0' and moves the book to the delta's u", () => {
    const book = bookFromSnapshot(snapshot(10));
    const next = applyBookDelta(
      book,
      delta(11, 14, {
        bids: [
          ["30000", "0"],
          ["29998", "3"],
        ],
        asks: [["30001", "1.25"]],
      }),
    );
    if (next === "resync") throw new Error("unexpected resync");
    expect(next.seq).toBe(14);
    expect(bookLevels(next)).toEqual({
      bids: [
        ["29999.5", "0.25"],
        ["29998", "3"],
      ],
      asks: [["30001", "1.25"]],
    });
    // The original book is untouched: the reducer is pure.
    expect(book.seq).toBe(10);
    expect(book.bids.get("30000")).toBe("1.5");
  });

  it("ignores a delta the book already covers", () => {
    const book = bookFromSnapshot(snapshot(20));
    expect(applyBookDelta(book, delta(15, 20, { bids: [["30000", "9"]] }))).toBe(book);
  });

  it("applies a delta that overlaps the book's sequence (absolute amounts make that exact)", () => {
    const book = bookFromSnapshot(snapshot(12));
    const next = applyBookDelta(book, delta(11, 15, { asks: [["30001", "0"]] }));
    if (next === "resync") throw new Error("unexpected resync");
    expect(next.seq).toBe(15);
    expect(next.asks.size).toBe(0);
  });

  it("asks for a resync when a delta starts past the next sequence number", () => {
    const book = bookFromSnapshot(snapshot(10));
    expect(applyBookDelta(book, delta(12, 13))).toBe("resync");
  });
});

describe("reduceBookSync: snapshot then deltas", () => {
  it("buffers deltas that arrive before the snapshot and replays the ones it lacks", () => {
    let state = startBookSync("BTC_USDT");
    for (const d of [
      delta(9, 10, { bids: [["30000", "1"]] }),
      delta(11, 12, { bids: [["30000", "2"]] }),
      delta(13, 13, { bids: [["29000", "7"]] }),
    ]) {
      const step = reduceBookSync(state, { type: "delta", delta: d });
      expect(step.resync).toBe(false);
      state = step.state;
    }
    expect(state.phase).toBe("waiting");
    // The snapshot includes seq 11: delta 9–10 is old, 11–12 overlaps, 13 follows.
    const step = reduceBookSync(state, { type: "snapshot", snapshot: snapshot(11) });
    expect(step.resync).toBe(false);
    if (step.state.phase !== "live") throw new Error("not live");
    expect(step.state.book.seq).toBe(13);
    expect(step.state.book.bids.get("30000")).toBe("2");
    expect(step.state.book.bids.get("29000")).toBe("7");
  });

  it("asks again when the snapshot is older than the buffered stream, and keeps buffering", () => {
    let state = startBookSync("BTC_USDT");
    state = reduceBookSync(state, { type: "delta", delta: delta(21, 25) }).state;
    const stale = reduceBookSync(state, { type: "snapshot", snapshot: snapshot(18) });
    expect(stale.resync).toBe(true);
    expect(stale.state.phase).toBe("waiting");
    state = reduceBookSync(stale.state, {
      type: "delta",
      delta: delta(26, 26, { asks: [["30002", "4"]] }),
    }).state;
    const fresh = reduceBookSync(state, { type: "snapshot", snapshot: snapshot(24) });
    expect(fresh.resync).toBe(false);
    if (fresh.state.phase !== "live") throw new Error("not live");
    expect(fresh.state.book.seq).toBe(26);
    expect(fresh.state.book.asks.get("30002")).toBe("4");
  });

  it("a gap while live asks for a snapshot, and the next snapshot resumes from the gap", () => {
    let state = reduceBookSync(startBookSync("BTC_USDT"), {
      type: "snapshot",
      snapshot: snapshot(5),
    }).state;
    state = reduceBookSync(state, { type: "delta", delta: delta(6, 7) }).state;
    const gap = reduceBookSync(state, {
      type: "delta",
      delta: delta(9, 10, { bids: [["1", "1"]] }),
    });
    expect(gap.resync).toBe(true);
    expect(gap.state.phase).toBe("waiting");
    const resumed = reduceBookSync(gap.state, { type: "snapshot", snapshot: snapshot(8) });
    expect(resumed.resync).toBe(false);
    if (resumed.state.phase !== "live") throw new Error("not live");
    expect(resumed.state.book.seq).toBe(10);
    expect(resumed.state.book.bids.get("1")).toBe("1");
  });

  it("ignores another market's messages", () => {
    const state = startBookSync("BTC_USDT");
    const step = reduceBookSync(state, {
      type: "delta",
      delta: { ...delta(1, 1), market: "ETH_USDT" },
    });
    expect(step.state).toBe(state);
  });
});

describe("wire numbers", () => {
  it("orders decimal prices exactly", () => {
    expect(compareDecimal("10", "9.99")).toBeGreaterThan(0);
    expect(compareDecimal("29999.5", "29999.49")).toBeGreaterThan(0);
    expect(compareDecimal("0.1", "0.10")).toBe(0);
  });

  it("formats ticks and minor units at the market's precision", () => {
    expect(priceText(3_000_001, BTC_USDT)).toBe("30000.01");
    expect(quoteText(15_000_000_001n, BTC_USDT)).toBe("15000.000001");
  });

  it("computes the 24 h change with integers, rounded half away from zero", () => {
    expect(changePercentText(3_000_000n, 3_060_000n)).toBe("2");
    expect(changePercentText(3_000_000n, 2_939_100n)).toBe("-2.03");
    // -0.005 % rounds away from zero to -0.01, 0.004 % to 0.
    expect(changePercentText(2_000_000n, 1_999_900n)).toBe("-0.01");
    expect(changePercentText(2_500_000n, 2_500_100n)).toBe("0");
    expect(changePercentText(0n, 100n)).toBe("0");
  });

  it("averages fills to the tick plus four decimals", () => {
    // 0.3 BTC for 9000.03 USDT: 30000.1 USDT/BTC.
    expect(averagePriceText(9_000_030_000n, 3_000n, BTC_USDT)).toBe("30000.1");
    // 1 lot at 30000.01 and 2 lots at 30000.02: 30000.016666… → 30000.016667.
    expect(averagePriceText(3_000_001n + 2n * 3_000_002n, 3n, BTC_USDT)).toBe("30000.016667");
    expect(averagePriceText(0n, 0n, BTC_USDT)).toBe("0");
  });

  it("accepts only known channels and pair-shaped markets", () => {
    expect(subscribeRequest.safeParse({ channel: "book", market: "BTC_USDT" }).success).toBe(true);
    expect(subscribeRequest.safeParse({ channel: "orders", market: "BTC_USDT" }).success).toBe(
      false,
    );
    expect(subscribeRequest.safeParse({ channel: "book", market: "btc" }).success).toBe(false);
  });
});

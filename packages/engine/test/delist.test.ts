// Delisting (issue 19): one `delist` command empties the book for good — every resting order and
// untriggered stop cancelled with reason "delisted", every price trigger forgotten — and the
// market refuses orders from then on; a snapshot taken after it, or a replay, decides the same.
import { describe, expect, it } from "vitest";
import { MatchingEngine } from "../src/engine";
import type { Command, EngineEvent, MarketConfig } from "../src/types";

// tick 0.01 USDT, lot 0.001 BTC, USDT at 6 decimals (one tick × lot = 10 minor units).
const MARKET: MarketConfig = {
  symbol: "BTC_USDT",
  tickSize: "0.01",
  lotSize: "0.001",
  baseDecimals: 8,
  quoteDecimals: 6,
  minNotional: 1_000_000,
  maxPrice: 100_000_000,
  maxQuantity: 100_000,
  priceBandBps: 0,
  maxOpenOrdersPerUser: 50,
  maxOrders: 1_000,
};
const T = 1_700_000_000_000;

const limit = (orderId: number, userId: number, side: "buy" | "sell", price: number, qty: number) =>
  ({
    type: "place",
    time: T + orderId,
    orderId,
    userId,
    side,
    orderType: "limit",
    price,
    quantity: qty,
  }) as const;

/** A book with two bid levels, one ask level of two orders, a buy stop, a sell stop, a trigger. */
const BOOK: Command[] = [
  limit(1, 11, "buy", 3_000_000, 1_000), // 30,000.00 × 1 BTC
  limit(2, 12, "buy", 2_999_000, 500),
  limit(3, 13, "sell", 3_010_000, 250),
  limit(4, 14, "sell", 3_010_000, 750),
  { ...limit(5, 11, "buy", 3_050_000, 100), stopPrice: 3_040_000 },
  { ...limit(6, 12, "sell", 2_950_000, 100), stopPrice: 2_960_000 },
  { type: "arm", time: T + 7, triggerId: 70, userId: 13, price: 3_100_000, trigger: "gte" },
  { type: "arm", time: T + 8, triggerId: 71, userId: 14, price: 2_900_000, trigger: "lte" },
];

function engineWithBook(): MatchingEngine {
  const engine = new MatchingEngine(MARKET, { checkInvariants: true });
  for (const command of BOOK) engine.process(command);
  return engine;
}

const DELIST: Command = { type: "delist", time: T + 100 };

describe("delist", () => {
  it("cancels every resting order and stop with reason delisted, forgets triggers, then emits delisted", () => {
    const engine = engineWithBook();
    expect(engine.orderCount).toBe(6);
    expect(engine.armedTriggers()).toHaveLength(2);
    const seqBefore = engine.seq;

    const events = engine.process(DELIST);

    const cancelled = events.filter((e) => e.type === "cancelled");
    expect(cancelled.map((e) => [e.orderId, e.userId, e.side, e.price, e.left, e.reason])).toEqual([
      // bids best first, each queue in time order; then asks; then stops (gte, then lte)
      [1, 11, "buy", 3_000_000, 1_000, "delisted"],
      [2, 12, "buy", 2_999_000, 500, "delisted"],
      [3, 13, "sell", 3_010_000, 250, "delisted"],
      [4, 14, "sell", 3_010_000, 750, "delisted"],
      [5, 11, "buy", 3_050_000, 100, "delisted"],
      [6, 12, "sell", 2_950_000, 100, "delisted"],
    ]);
    // Every level the book had goes to zero, so a depth follower ends with an empty book.
    const levels = events.filter((e) => e.type === "level");
    expect(levels.map((e) => [e.side, e.price, e.quantity])).toEqual([
      ["buy", 3_000_000, 0],
      ["buy", 2_999_000, 0],
      ["sell", 3_010_000, 750],
      ["sell", 3_010_000, 0],
    ]);
    const last = events[events.length - 1];
    expect(last).toEqual({
      type: "delisted",
      seq: engine.seq,
      time: T + 100,
      cancelled: 6,
      disarmed: 2,
    });
    // Sequence numbers continue without a hole.
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => seqBefore + 1 + i));

    expect(engine.orderCount).toBe(0);
    expect(engine.depth()).toEqual({ bids: [], asks: [] });
    expect(engine.armedTriggers()).toEqual([]);
    expect(engine.halted).toBe(true);
    expect(engine.delisted).toBe(true);
  });

  it("refuses places and arms with MARKET_CLOSED afterwards; resume and a second delist change nothing", () => {
    const engine = engineWithBook();
    engine.process(DELIST);
    const seq = engine.seq;

    const place = engine.process(limit(20, 11, "buy", 3_000_000, 100));
    expect(place).toEqual([
      expect.objectContaining({
        type: "rejected",
        command: "place",
        orderId: 20,
        reason: "MARKET_CLOSED",
      }),
    ]);
    const arm = engine.process({
      type: "arm",
      time: T + 200,
      triggerId: 72,
      userId: 11,
      price: 3_000_000,
      trigger: "gte",
    });
    expect(arm).toEqual([
      expect.objectContaining({
        type: "rejected",
        command: "arm",
        orderId: 72,
        reason: "MARKET_CLOSED",
      }),
    ]);
    expect(engine.process({ type: "resume", time: T + 300 })).toEqual([]);
    expect(engine.halted).toBe(true);
    expect(engine.process(DELIST)).toEqual([]);
    // A cancel of an order the delisting ended finds nothing.
    expect(engine.process({ type: "cancel", time: T + 400, orderId: 1, userId: 11 })).toEqual([
      expect.objectContaining({ type: "rejected", reason: "ORDER_NOT_FOUND" }),
    ]);
    expect(engine.seq).toBe(seq + 3);
  });

  it("delists an empty market with a lone delisted event", () => {
    const engine = new MatchingEngine(MARKET, { checkInvariants: true });
    expect(engine.process(DELIST)).toEqual([
      { type: "delisted", seq: 1, time: T + 100, cancelled: 0, disarmed: 0 },
    ]);
  });

  it("keeps the delisting in snapshots: a restored engine and a replay decide the same afterwards", () => {
    const after: Command[] = [
      limit(30, 11, "sell", 3_000_000, 100),
      { type: "resume", time: T + 500 },
      limit(31, 12, "buy", 3_000_000, 100),
      { type: "delist", time: T + 600 },
    ];
    const original = engineWithBook();
    original.process(DELIST);
    const snapshot = original.snapshot();
    expect(snapshot).toMatchObject({
      halted: true,
      delisted: true,
      bids: [],
      asks: [],
      stops: [],
      triggers: [],
    });
    const restored = MatchingEngine.fromSnapshot(JSON.parse(JSON.stringify(snapshot)), {
      checkInvariants: true,
    });
    const replayed = engineWithBook();
    replayed.process(DELIST);

    const run = (engine: MatchingEngine): EngineEvent[] => after.flatMap((c) => engine.process(c));
    const expected = run(original);
    expect(run(restored)).toEqual(expected);
    expect(run(replayed)).toEqual(expected);
    expect(expected.every((e) => e.type === "rejected" && e.reason === "MARKET_CLOSED")).toBe(true);
    expect(restored.snapshot()).toEqual(original.snapshot());
  });

  it("reads a snapshot from before delisting existed as listed", () => {
    const engine = engineWithBook();
    const { delisted: _absent, ...old } = engine.snapshot();
    expect(_absent).toBeUndefined();
    const restored = MatchingEngine.fromSnapshot(old);
    expect(restored.delisted).toBe(false);
    expect(restored.process(limit(40, 15, "buy", 2_998_000, 100))[0]).toMatchObject({
      type: "accepted",
    });
  });
});

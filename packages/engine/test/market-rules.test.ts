// The `rules` command (docs/decisions/006): a listed market's tick, lot, minimums and band change
// at a point of the log. Units never change — prices stay in ticks of 0.01, amounts in lots of
// 0.001 — only the steps coarsen; misfit orders are cancelled with reason market_rules, the rest
// rest; snapshot, restore and replay give the same events.
import { describe, expect, it } from "vitest";
import { MatchingEngine } from "../src/engine";
import type {
  Command,
  EngineEvent,
  MarketConfig,
  MarketRulesChange,
  PlaceCommand,
  Side,
} from "../src/types";

// BTC_USDT: tick 0.01 USDT, lot 0.001 BTC, one tick × lot = 10 USDT minor units (6 decimals).
const MARKET: MarketConfig = {
  symbol: "BTC_USDT",
  tickSize: "0.01",
  lotSize: "0.001",
  baseDecimals: 8,
  quoteDecimals: 6,
  minNotional: 1_000_000, // 1 USDT
  maxPrice: 100_000_000,
  maxQuantity: 100_000,
  priceBandBps: 1_000,
  maxOpenOrdersPerUser: 50,
  maxOrders: 1_000,
};

const T = 1_700_000_000_000;

function limit(
  orderId: number,
  userId: number,
  side: Side,
  price: number,
  quantity: number,
  extra: Partial<PlaceCommand> = {},
): PlaceCommand {
  const base: PlaceCommand = {
    type: "place",
    time: T + orderId,
    orderId,
    userId,
    side,
    orderType: "limit",
    price,
    quantity,
  };
  return { ...base, ...extra };
}

/** Tick 0.05 (5 ticks), lot 0.01 BTC (10 lots), fees 0.2 % / 0.3 %. */
const COARSER: MarketRulesChange = {
  priceStep: 5,
  quantityStep: 10,
  minQuantity: 10,
  minNotional: 5_000_000,
  priceBandBps: 500,
  makerFeePpm: 2_000,
  takerFeePpm: 3_000,
};

const rules = (change: MarketRulesChange, time = T + 500): Command => ({
  type: "rules",
  time,
  rules: change,
});

function reasons(events: EngineEvent[]) {
  return events.flatMap((e) => (e.type === "cancelled" ? [[e.orderId, e.reason]] : []));
}

describe("a rules change", () => {
  it("emits rulesChanged with the new values, then cancels exactly the misfits by order id", () => {
    const engine = new MatchingEngine(MARKET, { checkInvariants: true });
    engine.process(limit(7, 1, "buy", 3_000_000, 20)); // 30000.00 × 0.020: fits
    engine.process(limit(3, 2, "buy", 3_000_001, 20)); // 30000.01: off the 0.05 tick
    engine.process(limit(5, 3, "sell", 3_000_100, 15)); // 0.015 BTC: off the 0.01 lot
    engine.process(limit(9, 4, "sell", 3_000_105, 10)); // 30001.05 × 0.010: fits
    engine.process(limit(4, 5, "sell", 3_000_200, 30, { stopPrice: 2_999_999 })); // stop off-tick
    engine.process(limit(6, 6, "sell", 3_000_200, 10, { stopPrice: 2_999_995 })); // stop fits

    const events = engine.process(rules(COARSER));
    expect(events[0]).toEqual({
      type: "rulesChanged",
      seq: events[0]?.seq,
      time: T + 500,
      priceStep: 5,
      quantityStep: 10,
      minQuantity: 10,
      minNotional: 5_000_000,
      priceBandBps: 500,
      makerFeePpm: 2_000,
      takerFeePpm: 3_000,
    });
    expect(reasons(events)).toEqual([
      [3, "market_rules"],
      [4, "market_rules"],
      [5, "market_rules"],
    ]);
    // Each resting cancel takes its level with it; the stop had none.
    expect(events.filter((e) => e.type === "level")).toEqual([
      expect.objectContaining({ side: "buy", price: 3_000_001, quantity: 0 }),
      expect.objectContaining({ side: "sell", price: 3_000_100, quantity: 0 }),
    ]);
    expect(engine.depth()).toEqual({ bids: [[3_000_000, 20]], asks: [[3_000_105, 10]] });
    expect(engine.getOrder(6)).toMatchObject({ stopPrice: 2_999_995 });
    expect(engine.market.priceStep).toBe(5);
    expect(engine.market.quantityStep).toBe(10);
    expect(engine.market.minNotional).toBe(5_000_000);
  });

  it("leaves resting an order below the new minimum or outside the new band", () => {
    const engine = new MatchingEngine(MARKET, { checkInvariants: true });
    engine.process(limit(1, 1, "buy", 3_000_000, 10));
    engine.process(limit(2, 2, "sell", 3_000_000, 10)); // trade: last price 30000.00
    engine.process(limit(3, 1, "buy", 2_800_000, 10)); // 6.7 % below: inside the 10 % band
    engine.process(limit(4, 1, "buy", 2_990_000, 10)); // value 299 USDT
    const events = engine.process(
      rules({ ...COARSER, priceBandBps: 100, minQuantity: 100, minNotional: 1_000_000_000 }),
    );
    expect(reasons(events)).toEqual([]);
    expect(engine.openOrders(1).map((o) => o.orderId)).toEqual([3, 4]);
    // New orders meet the new minimum and band.
    const refused = engine.process(limit(5, 1, "buy", 2_800_000, 100));
    expect(refused[0]).toMatchObject({ type: "rejected", reason: "PRICE_BAND" });
    const small = engine.process(limit(6, 1, "buy", 3_000_000, 10));
    expect(small[0]).toMatchObject({ type: "rejected", reason: "AMOUNT_TOO_LITTLE" });
  });

  it("refuses new prices and quantities that are not multiples of the steps", () => {
    const engine = new MatchingEngine(MARKET, { checkInvariants: true });
    engine.process(rules(COARSER));
    expect(engine.process(limit(1, 1, "buy", 3_000_001, 10))[0]).toMatchObject({
      type: "rejected",
      reason: "TICK_SIZE",
    });
    expect(engine.process(limit(2, 1, "buy", 3_000_000, 15))[0]).toMatchObject({
      type: "rejected",
      reason: "LOT_SIZE",
    });
    expect(
      engine.process(limit(3, 1, "buy", 3_000_000, 10, { stopPrice: 3_000_003 }))[0],
    ).toMatchObject({ type: "rejected", reason: "TICK_SIZE" });
    expect(
      engine.process({
        type: "place",
        time: T,
        orderId: 4,
        userId: 1,
        side: "sell",
        orderType: "market",
        quantity: 25,
      })[0],
    ).toMatchObject({ type: "rejected", reason: "LOT_SIZE" });
    expect(engine.process(limit(5, 1, "buy", 3_000_005, 20))[0]).toMatchObject({
      type: "accepted",
    });
    // Amends: the new price and the new remaining quantity must fit too.
    const amend = (extra: { price?: number; quantity?: number }) =>
      engine.process({ type: "amend", time: T, orderId: 5, userId: 1, ...extra })[0];
    expect(amend({ price: 3_000_007 })).toMatchObject({ reason: "TICK_SIZE" });
    expect(amend({ quantity: 11 })).toMatchObject({ reason: "LOT_SIZE" });
    expect(amend({ price: 3_000_010, quantity: 10 })).toMatchObject({ type: "amended" });
  });

  it("lets a market buy by quote spend any amount but buy whole new lots", () => {
    const engine = new MatchingEngine(MARKET, { checkInvariants: true });
    engine.process(rules(COARSER));
    engine.process(limit(1, 1, "sell", 3_000_000, 100)); // 0.1 BTC at 30000
    // 301 USDT buys 0.01 BTC lots: 300 USDT for 0.010 BTC; 1 USDT cannot buy another lot.
    const events = engine.process({
      type: "place",
      time: T,
      orderId: 2,
      userId: 2,
      side: "buy",
      orderType: "market",
      quoteAmount: 301_000_000,
    });
    expect(events.find((e) => e.type === "trade")).toMatchObject({
      quantity: 10,
      quoteAmount: 300_000_000,
      makerLeft: 90,
    });
    expect(events.find((e) => e.type === "cancelled")).toMatchObject({
      left: 1_000_000,
      reason: "ioc",
    });
  });

  it("leaves armed price triggers armed; their order meets the rules when placed", () => {
    const engine = new MatchingEngine(MARKET, { checkInvariants: true });
    engine.process({
      type: "arm",
      time: T,
      triggerId: 77,
      userId: 1,
      price: 3_100_001,
      trigger: "gte",
    });
    engine.process(rules(COARSER));
    expect(engine.armedTriggers()).toEqual([
      { triggerId: 77, userId: 1, price: 3_100_001, trigger: "gte" },
    ]);
  });

  it("rejects a config the engine cannot run, changing nothing", () => {
    const engine = new MatchingEngine(MARKET, { checkInvariants: true });
    engine.process(limit(1, 1, "buy", 3_000_001, 15));
    for (const bad of [
      { ...COARSER, priceStep: 0 },
      { ...COARSER, quantityStep: 1.5 },
      { ...COARSER, minQuantity: 200_000 }, // above maxQuantity
      { ...COARSER, priceBandBps: -1 },
      { ...COARSER, makerFeePpm: -5 },
      { ...COARSER, priceStep: 100_000_001 }, // no price would fit
    ]) {
      const events = engine.process(rules(bad));
      expect(events).toEqual([
        expect.objectContaining({ type: "rejected", command: "rules", reason: "INVALID_PARAM" }),
      ]);
    }
    expect(engine.market.priceStep).toBe(1);
    expect(engine.getOrder(1)).toBeDefined();
  });

  it("echoes absent fees as null (unchanged)", () => {
    const engine = new MatchingEngine(MARKET);
    const { makerFeePpm: _m, takerFeePpm: _t, ...noFees } = COARSER;
    expect(engine.process(rules(noFees))[0]).toMatchObject({
      type: "rulesChanged",
      makerFeePpm: null,
      takerFeePpm: null,
    });
  });
});

describe("a rules change in snapshots and replay", () => {
  // A book with misfits, a rules change, then more trading under the new rules.
  const before: Command[] = [
    limit(1, 1, "buy", 3_000_000, 20),
    limit(2, 2, "buy", 3_000_003, 20),
    limit(3, 3, "sell", 3_000_105, 15),
    limit(4, 4, "sell", 3_000_110, 40),
    limit(5, 5, "buy", 2_990_000, 10, { stopPrice: 3_000_107 }),
  ];
  const after: Command[] = [
    rules(COARSER),
    limit(6, 6, "buy", 3_000_110, 20),
    limit(7, 7, "sell", 2_999_995, 10),
    { type: "amend", time: T + 900, orderId: 1, userId: 1, price: 3_000_005 },
    limit(8, 8, "buy", 3_000_001, 10),
  ];

  it("replays identically from the start and from a snapshot taken before or after it", () => {
    const whole = new MatchingEngine(MARKET, { checkInvariants: true });
    const events = [...before, ...after].flatMap((c) => whole.process(c));

    for (const cut of [before.length, before.length + 1, before.length + 3]) {
      const first = new MatchingEngine(MARKET, { checkInvariants: true });
      const all = [...before, ...after];
      const head = all.slice(0, cut).flatMap((c) => first.process(c));
      const json = JSON.parse(JSON.stringify(first.snapshot()));
      const restored = MatchingEngine.fromSnapshot(json, { checkInvariants: true });
      const tail = all.slice(cut).flatMap((c) => restored.process(c));
      expect([...head, ...tail]).toEqual(events);
      expect(restored.snapshot()).toEqual(whole.snapshot());
    }
    // The steps are part of the snapshot's config.
    expect(whole.snapshot().config).toMatchObject({
      priceStep: 5,
      quantityStep: 10,
      minQuantity: 10,
      minNotional: 5_000_000,
      priceBandBps: 500,
    });
    expect(events.filter((e) => e.type === "rejected").map((e) => e.orderId)).toEqual([8]);
  });
});

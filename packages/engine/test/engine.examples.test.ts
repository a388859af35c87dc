// Hand-checked examples, one behaviour each, with real BTC_USDT numbers: every order type and
// time in force, market buys by quote, STP modes, amends, stop orders, and every rejection.
import { describe, expect, it } from "vitest";
import { MarketScale } from "../src/decimal";
import { MatchingEngine } from "../src/engine";
import type {
  AmendCommand,
  Command,
  EngineEvent,
  MarketConfig,
  PlaceCommand,
  Side,
  TradeEvent,
} from "../src/types";

// tick 0.01 USDT, lot 0.001 BTC, USDT kept at 6 decimals: one tick × one lot = 0.00001 USDT
// = 10 minor units, so every fill's quote amount is exact.
const MARKET: MarketConfig = {
  symbol: "BTC_USDT",
  tickSize: "0.01",
  lotSize: "0.001",
  baseDecimals: 8,
  quoteDecimals: 6,
  minNotional: 10_000_000, // 10 USDT
  maxPrice: 100_000_000, // 1,000,000.00 USDT
  maxQuantity: 100_000, // 100 BTC
  priceBandBps: 1_000, // ±10% of the last trade
  maxOpenOrdersPerUser: 5,
  maxOrders: 1_000,
};
const scale = new MarketScale(
  MARKET.tickSize,
  MARKET.lotSize,
  MARKET.baseDecimals,
  MARKET.quoteDecimals,
);

function unwrap(result: { ok: true; value: number } | { ok: false; error: string }): number {
  if (!result.ok) throw new Error(result.error);
  return result.value;
}
/** Price string → ticks. */
const px = (price: string) => unwrap(scale.priceToTicks(price));
/** BTC amount → lots. */
const btc = (amount: string) => unwrap(scale.amountToLots(amount));
/** USDT amount → minor units. */
const usdt = (amount: string) => unwrap(scale.quoteToMinor(amount));

const T = 1_700_000_000_000;

function limit(
  orderId: number,
  userId: number,
  side: Side,
  price: string,
  amount: string,
  extra: Partial<PlaceCommand> = {},
): PlaceCommand {
  return {
    type: "place",
    time: T + orderId,
    orderId,
    userId,
    side,
    orderType: "limit",
    price: px(price),
    quantity: btc(amount),
    ...extra,
  };
}

function marketSell(orderId: number, userId: number, amount: string): PlaceCommand {
  return {
    type: "place",
    time: T + orderId,
    orderId,
    userId,
    side: "sell",
    orderType: "market",
    quantity: btc(amount),
  };
}

function marketBuy(orderId: number, userId: number, spend: string): PlaceCommand {
  return {
    type: "place",
    time: T + orderId,
    orderId,
    userId,
    side: "buy",
    orderType: "market",
    quoteAmount: usdt(spend),
  };
}

function amend(
  orderId: number,
  userId: number,
  change: { price?: string; amount?: string },
): AmendCommand {
  const command: AmendCommand = { type: "amend", time: T + 500, orderId, userId };
  if (change.price !== undefined) command.price = px(change.price);
  if (change.amount !== undefined) command.quantity = btc(change.amount);
  return command;
}

function engine(config: Partial<MarketConfig> = {}): MatchingEngine {
  return new MatchingEngine({ ...MARKET, ...config }, { checkInvariants: true });
}

function run(e: MatchingEngine, ...commands: Command[]): EngineEvent[] {
  return commands.flatMap((command) => e.process(command));
}

function trades(events: EngineEvent[]): Array<[number, number, string, string, string]> {
  return events
    .filter((event): event is TradeEvent => event.type === "trade")
    .map((t) => [
      t.makerOrderId,
      t.takerOrderId,
      scale.ticksToPrice(t.price),
      scale.lotsToAmount(t.quantity),
      scale.minorToQuote(t.quoteAmount),
    ]);
}

function types(events: EngineEvent[]): string[] {
  return events.map((event) =>
    event.type === "rejected"
      ? `rejected:${event.reason}`
      : event.type === "cancelled"
        ? `cancelled:${event.reason}`
        : event.type,
  );
}

function reasonOf(events: EngineEvent[]): string | undefined {
  const rejected = events.find((event) => event.type === "rejected");
  return rejected?.type === "rejected" ? rejected.reason : undefined;
}

function depthOf(e: MatchingEngine) {
  const d = e.depth();
  const show = (levels: Array<[number, number]>) =>
    levels.map(([p, q]) => `${scale.ticksToPrice(p)} × ${scale.lotsToAmount(q)}`);
  return { bids: show(d.bids), asks: show(d.asks) };
}

describe("limit GTC orders and price-time priority", () => {
  it("rests a non-crossing order and reports the level", () => {
    const e = engine();
    const events = run(e, limit(1, 7, "buy", "30000.00", "0.5", { text: "t-first" }));
    expect(events).toEqual([
      {
        type: "accepted",
        seq: 1,
        time: T + 1,
        orderId: 1,
        userId: 7,
        side: "buy",
        orderType: "limit",
        price: 3_000_000,
        quantity: 500,
        quoteAmount: 0,
        timeInForce: "gtc",
        stopPrice: 0,
        trigger: null,
        stpAct: null,
        stpGroup: 0,
        text: "t-first",
      },
      { type: "level", seq: 2, time: T + 1, side: "buy", price: 3_000_000, quantity: 500 },
    ]);
    expect(e.bestBid()).toBe(px("30000.00"));
    expect(e.bestAsk()).toBe(0);
  });

  it("fills a crossing buy at the makers' prices, best price first, then rests the rest", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.50", "0.3"), limit(2, 1, "sell", "30000.00", "0.2"));
    const events = run(e, limit(3, 2, "buy", "30001.00", "0.6"));
    expect(trades(events)).toEqual([
      [2, 3, "30000", "0.2", "6000"],
      [1, 3, "30000.5", "0.3", "9000.15"],
    ]);
    expect(types(events)).toEqual(["accepted", "trade", "level", "trade", "level", "level"]);
    expect(depthOf(e)).toEqual({ bids: ["30001 × 0.1"], asks: [] });
    expect(e.lastPrice).toBe(px("30000.50"));
  });

  it("fills orders at one price in arrival order (FIFO)", () => {
    const e = engine();
    run(
      e,
      limit(1, 1, "sell", "30000.00", "0.1"),
      limit(2, 2, "sell", "30000.00", "0.1"),
      limit(3, 3, "sell", "30000.00", "0.1"),
    );
    const events = run(e, limit(4, 4, "buy", "30000.00", "0.15"));
    expect(trades(events)).toEqual([
      [1, 4, "30000", "0.1", "3000"],
      [2, 4, "30000", "0.05", "1500"],
    ]);
    const second = events.find((x) => x.type === "trade" && x.makerOrderId === 2);
    expect(second).toMatchObject({ makerLeft: 50, takerLeft: 0 });
    expect(depthOf(e)).toEqual({ bids: [], asks: ["30000 × 0.15"] });
  });

  it("aggregates L2 depth and limits it to the top N levels", () => {
    const e = engine();
    run(
      e,
      limit(1, 1, "buy", "29999.00", "0.1"),
      limit(2, 2, "buy", "29999.00", "0.2"),
      limit(3, 1, "buy", "29998.00", "1"),
      limit(4, 3, "sell", "30001.00", "0.4"),
      limit(5, 3, "sell", "30002.00", "0.5"),
    );
    expect(e.depth(1)).toEqual({
      bids: [[px("29999.00"), btc("0.3")]],
      asks: [[px("30001.00"), btc("0.4")]],
    });
    expect(e.depth().bids).toHaveLength(2);
  });
});

describe("time in force", () => {
  it("IOC trades what it can and cancels the rest with reason ioc", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.00", "0.2"));
    const events = run(e, limit(2, 2, "buy", "30000.00", "0.5", { timeInForce: "ioc" }));
    expect(trades(events)).toEqual([[1, 2, "30000", "0.2", "6000"]]);
    expect(events.at(-1)).toMatchObject({
      type: "cancelled",
      orderId: 2,
      left: btc("0.3"),
      reason: "ioc",
    });
    expect(depthOf(e)).toEqual({ bids: [], asks: [] });
  });

  it("IOC that does not cross is cancelled whole", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30001.00", "0.2"));
    expect(types(run(e, limit(2, 2, "buy", "30000.00", "0.5", { timeInForce: "ioc" })))).toEqual([
      "accepted",
      "cancelled:ioc",
    ]);
  });

  it("FOK fills completely across levels when the book holds enough", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.00", "0.2"), limit(2, 1, "sell", "30001.00", "0.2"));
    const events = run(e, limit(3, 2, "buy", "30001.00", "0.3", { timeInForce: "fok" }));
    expect(trades(events)).toEqual([
      [1, 3, "30000", "0.2", "6000"],
      [2, 3, "30001", "0.1", "3000.1"],
    ]);
    expect(types(events)).not.toContain("cancelled:fok");
  });

  it("FOK that cannot fill completely trades nothing and ends as fok (gate.io finish_as)", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.00", "0.2"), limit(2, 1, "sell", "30002.00", "5"));
    const events = run(e, limit(3, 2, "buy", "30001.00", "0.3", { timeInForce: "fok" }));
    expect(types(events)).toEqual(["accepted", "cancelled:fok"]);
    expect(events[1]).toMatchObject({ left: btc("0.3"), price: px("30001.00") });
    expect(depthOf(e)).toEqual({ bids: [], asks: ["30000 × 0.2", "30002 × 5"] });
  });

  it("POC rests when it would not take", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30001.00", "0.2"));
    expect(types(run(e, limit(2, 2, "buy", "30000.99", "0.1", { timeInForce: "poc" })))).toEqual([
      "accepted",
      "level",
    ]);
  });

  it("POC that would take is rejected with POC_FILL_IMMEDIATELY and changes nothing", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30001.00", "0.2"));
    const events = run(e, limit(2, 2, "buy", "30001.00", "0.1", { timeInForce: "poc" }));
    expect(events).toEqual([
      {
        type: "rejected",
        seq: 3,
        time: T + 2,
        command: "place",
        orderId: 2,
        userId: 2,
        reason: "POC_FILL_IMMEDIATELY",
        message: "post-only order would take liquidity",
      },
    ]);
    expect(depthOf(e)).toEqual({ bids: [], asks: ["30001 × 0.2"] });
  });
});

describe("market orders", () => {
  it("a market sell of 0.5 BTC sweeps the bids and cancels what the book could not take", () => {
    const e = engine();
    run(e, limit(1, 1, "buy", "30000.00", "0.1"), limit(2, 1, "buy", "29990.00", "0.2"));
    const events = run(e, marketSell(3, 2, "0.5"));
    expect(trades(events)).toEqual([
      [1, 3, "30000", "0.1", "3000"],
      [2, 3, "29990", "0.2", "5998"],
    ]);
    expect(events[0]).toMatchObject({
      type: "accepted",
      orderType: "market",
      price: 0,
      quantity: 500,
      timeInForce: "ioc",
    });
    expect(events.at(-1)).toMatchObject({
      type: "cancelled",
      orderId: 3,
      price: 0,
      left: btc("0.2"),
      reason: "ioc",
    });
  });

  it("a market buy spends quote in whole lots: 1000 USDT buys 0.033 BTC and leaves 9.77 USDT", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.00", "0.01"), limit(2, 1, "sell", "30010.00", "1"));
    const events = run(e, marketBuy(3, 2, "1000"));
    expect(events[0]).toMatchObject({ type: "accepted", quantity: 0, quoteAmount: usdt("1000") });
    // 0.01 BTC at 30000 = 300 USDT; then 700 USDT buys 23 lots at 30.01 = 690.23 USDT.
    expect(trades(events)).toEqual([
      [1, 3, "30000", "0.01", "300"],
      [2, 3, "30010", "0.023", "690.23"],
    ]);
    expect(events.find((x) => x.type === "trade" && x.makerOrderId === 2)).toMatchObject({
      takerLeft: usdt("9.77"),
    });
    expect(events.at(-1)).toMatchObject({
      type: "cancelled",
      orderId: 3,
      left: usdt("9.77"),
      reason: "ioc",
    });
    expect(depthOf(e)).toEqual({ bids: [], asks: ["30010 × 0.977"] });
  });

  it("a market buy that fits exactly leaves nothing to cancel", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.00", "1"));
    const events = run(e, marketBuy(2, 2, "300"));
    expect(trades(events)).toEqual([[1, 2, "30000", "0.01", "300"]]);
    expect(types(events)).toEqual(["accepted", "trade", "level"]);
  });

  it("a market order on an empty side is cancelled whole", () => {
    const e = engine();
    expect(run(e, marketBuy(1, 2, "50")).at(-1)).toMatchObject({
      type: "cancelled",
      left: usdt("50"),
      reason: "ioc",
    });
  });
});

describe("cancel and cancel-all", () => {
  it("cancels the owner's order with reason user and updates the level", () => {
    const e = engine();
    run(e, limit(1, 1, "buy", "30000.00", "0.1"), limit(2, 2, "buy", "30000.00", "0.2"));
    const events = run(e, { type: "cancel", time: T + 9, orderId: 1, userId: 1 });
    expect(events).toEqual([
      {
        type: "cancelled",
        seq: 5,
        time: T + 9,
        orderId: 1,
        userId: 1,
        side: "buy",
        price: px("30000.00"),
        left: 100,
        reason: "user",
      },
      { type: "level", seq: 6, time: T + 9, side: "buy", price: px("30000.00"), quantity: 200 },
    ]);
  });

  it("answers ORDER_NOT_FOUND for an unknown id or another user's order", () => {
    const e = engine();
    run(e, limit(1, 1, "buy", "30000.00", "0.1"));
    expect(reasonOf(run(e, { type: "cancel", time: T, orderId: 99, userId: 1 }))).toBe(
      "ORDER_NOT_FOUND",
    );
    expect(reasonOf(run(e, { type: "cancel", time: T, orderId: 1, userId: 2 }))).toBe(
      "ORDER_NOT_FOUND",
    );
    expect(e.getOrder(1)?.left).toBe(100);
  });

  it("cancels all of a user's orders, stops included, by ascending order id, optionally one side", () => {
    const e = engine();
    run(
      e,
      limit(1, 2, "buy", "30000.00", "1"),
      limit(2, 2, "sell", "31000.00", "1"),
      limit(5, 1, "sell", "30500.00", "0.1"),
      limit(4, 1, "buy", "29000.00", "0.1"),
      limit(3, 1, "buy", "29500.00", "0.1"),
      limit(6, 1, "buy", "31000.00", "0.1", { stopPrice: px("30900.00") }),
    );
    const buys = run(e, { type: "cancelAll", time: T, userId: 1, side: "buy" });
    expect(
      buys
        .filter((x) => x.type === "cancelled")
        .map((x) => (x.type === "cancelled" ? x.orderId : 0)),
    ).toEqual([3, 4, 6]);
    const rest = run(e, { type: "cancelAll", time: T, userId: 1 });
    expect(types(rest)).toEqual(["cancelled:user", "level"]);
    expect(e.openOrders(1)).toEqual([]);
    expect(e.openOrders(2).map((o) => o.orderId)).toEqual([1, 2]);
  });
});

describe("amend", () => {
  it("by whole amount (gate.io's meaning): what is left is the amount less what filled", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.00", "0.5"), limit(2, 2, "buy", "30000.00", "0.2"));
    // 0.2 filled, 0.3 left; a new amount of 0.4 leaves 0.2, and keeps the order's place.
    const events = run(e, { type: "amend", time: T + 600, orderId: 1, userId: 1, amount: 400 });
    expect(events[0]).toMatchObject({
      type: "amended",
      quantity: 200,
      oldQuantity: 300,
      keptPriority: true,
    });
    // The amount is remembered through amends and snapshots: 0.2 + 0.1 = 0.3 filled after this.
    run(e, limit(3, 3, "buy", "30000.00", "0.1"));
    const restored = MatchingEngine.fromSnapshot(e.snapshot(), { checkInvariants: true });
    expect(restored.snapshot().asks[0]).toMatchObject({ orderId: 1, left: 100, amount: 400 });
    expect(
      run(restored, { type: "amend", time: T + 700, orderId: 1, userId: 1, amount: 600 })[0],
    ).toMatchObject({ type: "amended", quantity: 300, oldQuantity: 100, keptPriority: false });
  });

  it("an amount at or below what filled cancels the order; quantity and amount together are refused", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.00", "0.5"), limit(2, 2, "buy", "30000.00", "0.2"));
    const both = { type: "amend", time: T + 600, orderId: 1, userId: 1, amount: 400, quantity: 1 };
    expect(reasonOf(run(e, both as AmendCommand))).toBe("INVALID_PARAM");
    const events = run(e, { type: "amend", time: T + 600, orderId: 1, userId: 1, amount: 200 });
    expect(events).toMatchObject([
      { type: "cancelled", orderId: 1, left: 300, reason: "user" },
      { type: "level", price: px("30000.00"), quantity: 0 },
    ]);
  });

  it("a quantity decrease keeps the order's place in the queue", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.00", "0.5"), limit(2, 2, "sell", "30000.00", "0.5"));
    const events = run(e, amend(1, 1, { amount: "0.2" }));
    expect(events[0]).toMatchObject({
      type: "amended",
      quantity: 200,
      oldQuantity: 500,
      keptPriority: true,
    });
    expect(events[1]).toMatchObject({ type: "level", quantity: 700 });
    expect(trades(run(e, limit(3, 3, "buy", "30000.00", "0.1")))).toEqual([
      [1, 3, "30000", "0.1", "3000"],
    ]);
  });

  it("a quantity increase sends the order to the back of its level", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.00", "0.5"), limit(2, 2, "sell", "30000.00", "0.5"));
    expect(run(e, amend(1, 1, { amount: "0.6" }))[0]).toMatchObject({ keptPriority: false });
    expect(trades(run(e, limit(3, 3, "buy", "30000.00", "0.1")))).toEqual([
      [2, 3, "30000", "0.1", "3000"],
    ]);
  });

  it("a price change loses priority and moves the order between levels", () => {
    const e = engine();
    run(e, limit(1, 1, "buy", "29999.00", "0.5"), limit(2, 2, "buy", "30000.00", "0.5"));
    const events = run(e, amend(1, 1, { price: "30000.00" }));
    expect(events).toMatchObject([
      {
        type: "amended",
        price: px("30000.00"),
        oldPrice: px("29999.00"),
        quantity: 500,
        keptPriority: false,
      },
      { type: "level", price: px("29999.00"), quantity: 0 },
      { type: "level", price: px("30000.00"), quantity: 1000 },
    ]);
    expect(trades(run(e, limit(3, 3, "sell", "30000.00", "0.1")))).toEqual([
      [2, 3, "30000", "0.1", "3000"],
    ]);
  });

  it("a re-priced order that crosses trades as a taker", () => {
    const e = engine();
    run(e, limit(1, 1, "buy", "29990.00", "0.5"), limit(2, 2, "sell", "30000.00", "0.2"));
    const events = run(e, amend(1, 1, { price: "30000.00" }));
    expect(trades(events)).toEqual([[2, 1, "30000", "0.2", "6000"]]);
    expect(depthOf(e)).toEqual({ bids: ["30000 × 0.3"], asks: [] });
  });

  it("refuses a post-only re-price that would take, an unknown order and a stop order", () => {
    const e = engine();
    run(
      e,
      limit(1, 1, "buy", "29990.00", "0.5", { timeInForce: "poc" }),
      limit(2, 2, "sell", "30000.00", "0.2"),
      limit(3, 1, "buy", "31000.00", "0.5", { stopPrice: px("30500.00") }),
    );
    expect(reasonOf(run(e, amend(1, 1, { price: "30000.00" })))).toBe("POC_FILL_IMMEDIATELY");
    expect(reasonOf(run(e, amend(9, 1, { price: "30000.00" })))).toBe("ORDER_NOT_FOUND");
    expect(reasonOf(run(e, amend(1, 2, { price: "29000.00" })))).toBe("ORDER_NOT_FOUND");
    expect(reasonOf(run(e, amend(3, 1, { amount: "0.1" })))).toBe("INVALID_PARAM");
    expect(reasonOf(run(e, { type: "amend", time: T, orderId: 1, userId: 1 }))).toBe(
      "INVALID_PARAM",
    );
  });
});

describe("stop-limit orders", () => {
  it("wait for the last trade price, then fire in stop-price order, FIFO at equal stops", () => {
    const e = engine();
    run(
      e,
      limit(1, 1, "sell", "30000.00", "0.1"),
      limit(2, 1, "sell", "30100.00", "1"),
      limit(10, 2, "buy", "30100.00", "0.1", { stopPrice: px("30050.00") }),
      limit(11, 3, "buy", "30100.00", "0.1", { stopPrice: px("30000.00") }),
      limit(12, 4, "buy", "30100.00", "0.1", { stopPrice: px("30000.00") }),
    );
    expect(e.getOrder(10)).toMatchObject({ stopPrice: px("30050.00"), trigger: "gte" });
    // No trade yet: nothing fires. This buy takes the 30000 ask: last = 30000.00.
    const events = run(e, limit(3, 5, "buy", "30000.00", "0.1"));
    const fired = events
      .filter((x) => x.type === "triggered")
      .map((x) => (x.type === "triggered" ? x.orderId : 0));
    // 11 and 12 (stop 30000) fire; 11's fill at 30100 lifts the last price to 30100, so 10 fires too.
    expect(fired).toEqual([11, 12, 10]);
    expect(trades(events)).toEqual([
      [1, 3, "30000", "0.1", "3000"],
      [2, 11, "30100", "0.1", "3010"],
      [2, 12, "30100", "0.1", "3010"],
      [2, 10, "30100", "0.1", "3010"],
    ]);
    expect(events.find((x) => x.type === "triggered")).toMatchObject({
      stopPrice: px("30000.00"),
      lastPrice: px("30000.00"),
    });
  });

  it("a sell stop fires when the price falls to it and rests like a limit order", () => {
    const e = engine();
    run(
      e,
      limit(1, 1, "buy", "30000.00", "0.1"),
      limit(2, 2, "sell", "29950.00", "0.5", { stopPrice: px("30000.00") }),
    );
    expect(e.getOrder(2)?.trigger).toBe("lte");
    const events = run(e, marketSell(3, 3, "0.1"));
    expect(types(events)).toEqual(["accepted", "trade", "level", "triggered", "level"]);
    expect(depthOf(e)).toEqual({ bids: [], asks: ["29950 × 0.5"] });
  });

  it("fires at once when the last price is already through the stop", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.00", "0.2"), limit(2, 2, "buy", "30000.00", "0.1"));
    const events = run(e, limit(3, 3, "buy", "30000.00", "0.1", { stopPrice: px("29000.00") }));
    expect(types(events)).toEqual(["accepted", "triggered", "trade", "level"]);
  });

  it("a take-profit sell (trigger gte) and a cancelled stop that never fires", () => {
    const e = engine();
    run(
      e,
      limit(1, 1, "sell", "30000.00", "0.1"),
      limit(2, 2, "sell", "30000.00", "0.1", { stopPrice: px("30000.00"), trigger: "gte" }),
      limit(3, 2, "sell", "29000.00", "0.1", { stopPrice: px("29500.00") }),
    );
    expect(run(e, { type: "cancel", time: T, orderId: 3, userId: 2 })).toMatchObject([
      { type: "cancelled", orderId: 3, reason: "user", price: px("29000.00"), left: 100 },
    ]);
    const events = run(e, limit(4, 3, "buy", "30000.00", "0.1"));
    expect(types(events)).toEqual(["accepted", "trade", "level", "triggered", "level"]);
  });

  it("a triggered post-only order that would take is cancelled with reason poc", () => {
    const e = engine();
    run(
      e,
      limit(1, 1, "sell", "30000.00", "0.2"),
      limit(2, 2, "buy", "30000.00", "0.1", { stopPrice: px("30000.00"), timeInForce: "poc" }),
    );
    const events = run(e, limit(3, 3, "buy", "30000.00", "0.1"));
    expect(types(events)).toEqual(["accepted", "trade", "level", "triggered", "cancelled:poc"]);
  });
});

describe("self-trade prevention", () => {
  function withSelfAsk(stpAct: "cn" | "co" | "cb") {
    const e = engine();
    run(
      e,
      limit(1, 2, "sell", "30000.00", "0.1"), // another user, first in the queue
      limit(2, 1, "sell", "30000.00", "0.1"), // the taker's own order
      limit(3, 3, "sell", "30000.00", "0.1"),
    );
    return { e, events: run(e, limit(4, 1, "buy", "30000.00", "0.3", { stpAct })) };
  }

  it("cn cancels the newest (the taker) at its own order; earlier fills stand", () => {
    const { e, events } = withSelfAsk("cn");
    expect(trades(events)).toEqual([[1, 4, "30000", "0.1", "3000"]]);
    expect(types(events)).toEqual(["accepted", "trade", "level", "cancelled:stp"]);
    expect(events.at(-1)).toMatchObject({ orderId: 4, left: 200 });
    expect(e.getOrder(2)?.left).toBe(100);
  });

  it("co cancels the oldest (the resting order) and the taker goes on", () => {
    const { e, events } = withSelfAsk("co");
    expect(trades(events)).toEqual([
      [1, 4, "30000", "0.1", "3000"],
      [3, 4, "30000", "0.1", "3000"],
    ]);
    expect(types(events)).toEqual([
      "accepted",
      "trade",
      "cancelled:stp",
      "trade",
      "level",
      "level",
    ]);
    expect(e.getOrder(2)).toBeUndefined();
    expect(depthOf(e)).toEqual({ bids: ["30000 × 0.1"], asks: [] });
  });

  it("cb cancels both", () => {
    const { e, events } = withSelfAsk("cb");
    expect(types(events)).toEqual(["accepted", "trade", "cancelled:stp", "level", "cancelled:stp"]);
    expect(e.getOrder(2)).toBeUndefined();
    expect(depthOf(e)).toEqual({ bids: [], asks: ["30000 × 0.1"] });
  });

  it("orders of one STP group never trade with each other; without stp_act a user may", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.00", "0.1", { stpGroup: 9 }));
    expect(
      types(run(e, limit(2, 2, "buy", "30000.00", "0.1", { stpAct: "cn", stpGroup: 9 }))),
    ).toEqual(["accepted", "cancelled:stp"]);
    expect(trades(run(e, limit(3, 1, "buy", "30000.00", "0.1")))).toEqual([
      [1, 3, "30000", "0.1", "3000"],
    ]);
  });

  it("fill-or-kill counts only what STP lets it take", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.00", "0.1"), limit(2, 2, "sell", "30000.00", "0.1"));
    expect(
      types(run(e, limit(3, 1, "buy", "30000.00", "0.2", { timeInForce: "fok", stpAct: "co" }))),
    ).toEqual(["accepted", "cancelled:fok"]);
    expect(e.getOrder(1)?.left).toBe(100);
  });
});

describe("rejections: a stable reason, never an exception", () => {
  it.each([
    ["missing side", { side: undefined }],
    ["fractional order id", { orderId: 1.5 }],
    ["order id beyond 2^53", { orderId: 2 ** 53 }],
    ["user id 0", { userId: 0 }],
    ["unknown time in force", { timeInForce: "day" }],
    ["unknown stp_act", { stpAct: "xx" }],
    ["negative time", { time: -1 }],
    ["trigger without stop price", { trigger: "gte" }],
    ["quote amount on a limit order", { quoteAmount: 5 }],
  ])("INVALID_PARAM: %s", (_name, change) => {
    const e = engine();
    const command = { ...limit(1, 1, "buy", "30000.00", "0.1"), ...change } as unknown as Command;
    expect(reasonOf(run(e, command))).toBe("INVALID_PARAM");
  });

  it("INVALID_PARAM for a market order with a price, a market buy by base, and unknown commands", () => {
    const e = engine();
    expect(reasonOf(run(e, { ...marketSell(1, 1, "0.1"), price: 5 }))).toBe("INVALID_PARAM");
    expect(reasonOf(run(e, { ...marketSell(1, 1, "0.1"), side: "buy" }))).toBe("INVALID_PARAM");
    expect(reasonOf(run(e, { ...marketSell(1, 1, "0.1"), timeInForce: "fok" }))).toBe(
      "INVALID_PARAM",
    );
    expect(run(e, { type: "teleport", time: T } as unknown as Command)).toMatchObject([
      { type: "rejected", command: "unknown", reason: "INVALID_PARAM" },
    ]);
  });

  it("DUPLICATE_ORDER_ID while the id is open; reusable once it is closed", () => {
    const e = engine();
    run(e, limit(1, 1, "buy", "30000.00", "0.1"));
    expect(reasonOf(run(e, limit(1, 2, "sell", "31000.00", "0.1")))).toBe("DUPLICATE_ORDER_ID");
    run(e, { type: "cancel", time: T, orderId: 1, userId: 1 });
    expect(reasonOf(run(e, limit(1, 2, "sell", "31000.00", "0.1")))).toBeUndefined();
  });

  it("TICK_SIZE, PRICE_TOO_HIGH, LOT_SIZE, AMOUNT_TOO_LARGE", () => {
    const e = engine();
    const base = limit(1, 1, "buy", "30000.00", "0.1");
    expect(reasonOf(run(e, { ...base, price: 3_000_000.5 }))).toBe("TICK_SIZE");
    expect(reasonOf(run(e, { ...base, price: 0 }))).toBe("TICK_SIZE");
    expect(reasonOf(run(e, { ...base, stopPrice: -1 }))).toBe("TICK_SIZE");
    expect(reasonOf(run(e, { ...base, price: px("1000000.01") }))).toBe("PRICE_TOO_HIGH");
    expect(reasonOf(run(e, { ...base, quantity: 0 }))).toBe("LOT_SIZE");
    expect(reasonOf(run(e, { ...base, quantity: 10.5 }))).toBe("LOT_SIZE");
    expect(reasonOf(run(e, { ...base, quantity: btc("100.001") }))).toBe("AMOUNT_TOO_LARGE");
    expect(reasonOf(run(e, marketBuy(2, 1, "1000000001")))).toBe("AMOUNT_TOO_LARGE");
  });

  it("AMOUNT_TOO_LITTLE below the minimum quantity or the 10 USDT minimum order value", () => {
    const e = engine({ minQuantity: 2 });
    expect(reasonOf(run(e, limit(1, 1, "buy", "30000.00", "0.001")))).toBe("AMOUNT_TOO_LITTLE");
    // 0.002 BTC at 4999.99 = 9.99998 USDT < 10 USDT; at 5000.00 it is exactly 10.
    expect(reasonOf(run(e, limit(2, 1, "buy", "4999.99", "0.002")))).toBe("AMOUNT_TOO_LITTLE");
    expect(reasonOf(run(e, limit(3, 1, "buy", "5000.00", "0.002")))).toBeUndefined();
    expect(reasonOf(run(e, marketBuy(4, 1, "9.999999")))).toBe("AMOUNT_TOO_LITTLE");
  });

  it("PRICE_BAND: limit prices more than 10% from the last trade (30000.00) are refused", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.00", "0.1"), limit(2, 2, "buy", "30000.00", "0.1"));
    expect(e.lastPrice).toBe(px("30000.00"));
    expect(reasonOf(run(e, limit(3, 1, "sell", "33000.01", "0.1")))).toBe("PRICE_BAND");
    expect(reasonOf(run(e, limit(4, 1, "sell", "33000.00", "0.1")))).toBeUndefined();
    expect(reasonOf(run(e, limit(5, 1, "buy", "26999.99", "0.1")))).toBe("PRICE_BAND");
    expect(reasonOf(run(e, limit(6, 1, "buy", "27000.00", "0.1")))).toBeUndefined();
    expect(reasonOf(run(e, amend(6, 1, { price: "26000.00" })))).toBe("PRICE_BAND");
    // Before any trade there is no reference price, so no band.
    expect(reasonOf(run(engine(), limit(1, 1, "sell", "90000.00", "0.1")))).toBeUndefined();
  });

  it("TOO_MANY_OPEN_ORDERS at 5 open orders per user (stops count; IOC does not)", () => {
    const e = engine();
    for (let i = 1; i <= 4; i++) run(e, limit(i, 1, "buy", `2900${i}.00`, "0.1"));
    run(e, limit(5, 1, "buy", "31000.00", "0.1", { stopPrice: px("31000.00") }));
    expect(reasonOf(run(e, limit(6, 1, "buy", "29000.00", "0.1")))).toBe("TOO_MANY_OPEN_ORDERS");
    expect(
      reasonOf(run(e, limit(7, 1, "buy", "29000.00", "0.1", { timeInForce: "ioc" }))),
    ).toBeUndefined();
    expect(reasonOf(run(e, limit(8, 2, "buy", "29000.00", "0.1")))).toBeUndefined();
  });

  it("BOOK_FULL when the market holds maxOrders orders", () => {
    const e = engine({ maxOrders: 2 });
    run(e, limit(1, 1, "buy", "29000.00", "0.1"), limit(2, 2, "buy", "29000.00", "0.1"));
    expect(reasonOf(run(e, limit(3, 3, "sell", "31000.00", "0.1")))).toBe("BOOK_FULL");
  });

  it("MARKET_HALTED: a halt refuses orders and increases but lets cancels and decreases through", () => {
    const e = engine();
    run(e, limit(1, 1, "buy", "29000.00", "0.5"), limit(2, 1, "buy", "29001.00", "0.5"));
    expect(run(e, { type: "halt", time: T + 10 })).toEqual([
      { type: "halted", seq: 5, time: T + 10 },
    ]);
    expect(e.halted).toBe(true);
    expect(reasonOf(run(e, limit(3, 2, "sell", "31000.00", "0.1")))).toBe("MARKET_HALTED");
    expect(reasonOf(run(e, amend(1, 1, { price: "29002.00" })))).toBe("MARKET_HALTED");
    expect(reasonOf(run(e, amend(1, 1, { amount: "0.6" })))).toBe("MARKET_HALTED");
    expect(reasonOf(run(e, amend(1, 1, { amount: "0.4" })))).toBeUndefined();
    expect(types(run(e, { type: "cancel", time: T, orderId: 2, userId: 1 }))).toEqual([
      "cancelled:user",
      "level",
    ]);
    expect(types(run(e, { type: "resume", time: T + 11 }))).toEqual(["resumed"]);
    expect(reasonOf(run(e, limit(3, 2, "sell", "31000.00", "0.1")))).toBeUndefined();
  });
});

describe("ids from the database", () => {
  it("takes order and user ids up to 2^53 − 1, telling apart ids that share their low 32 bits", () => {
    const e = engine();
    const big = 2 ** 40 + 7;
    const twin = big + 2 ** 32; // same low 32 bits
    const user = 2 ** 33 + 1;
    run(
      e,
      limit(big, user, "sell", "30000.00", "0.1"),
      limit(twin, user + 1, "sell", "30000.00", "0.1"),
    );
    run(e, { ...limit(Number.MAX_SAFE_INTEGER, 3, "buy", "29000.00", "0.1"), time: T });
    expect(e.getOrder(big)).toMatchObject({ orderId: big, userId: user });
    expect(e.getOrder(twin)).toMatchObject({ orderId: twin, userId: user + 1 });
    expect(run(e, { type: "cancel", time: T, orderId: twin, userId: user + 1 })[0]).toMatchObject({
      type: "cancelled",
      orderId: twin,
    });
    expect(e.getOrder(big)?.left).toBe(100);
    expect(trades(run(e, limit(5, 4, "buy", "30000.00", "0.1")))).toEqual([
      [big, 5, "30000", "0.1", "3000"],
    ]);
    expect(e.getOrder(Number.MAX_SAFE_INTEGER)?.price).toBe(px("29000.00"));
  });
});

describe("sequence, determinism and snapshots", () => {
  it("numbers every event from 1, strictly +1, rejections included", () => {
    const e = engine();
    const events = run(
      e,
      limit(1, 1, "sell", "30000.00", "0.1"),
      limit(1, 1, "sell", "30000.00", "0.1"),
      limit(2, 2, "buy", "30000.00", "0.2"),
    );
    expect(events.map((x) => x.seq)).toEqual(events.map((_, i) => i + 1));
    expect(e.seq).toBe(events.length);
  });

  it("restores priority order exactly from a snapshot", () => {
    const e = engine();
    run(
      e,
      limit(1, 1, "sell", "30000.00", "0.1"),
      limit(2, 2, "sell", "30000.00", "0.1"),
      limit(3, 3, "sell", "30000.00", "0.1"),
      amend(1, 1, { amount: "0.2" }),
    );
    const snapshot = JSON.parse(JSON.stringify(e.snapshot()));
    expect(snapshot.asks.map((o: { orderId: number }) => o.orderId)).toEqual([2, 3, 1]);
    const restored = MatchingEngine.fromSnapshot(snapshot, { checkInvariants: true });
    const next = limit(4, 4, "buy", "30000.00", "0.25");
    expect(restored.process(next)).toEqual(e.process(next));
    expect(restored.seq).toBe(e.seq);
  });

  it("keeps its invariants checkable at any time", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.00", "0.1"), limit(2, 2, "buy", "29000.00", "0.1"));
    expect(() => e.assertInvariants()).not.toThrow();
  });
});

describe("price triggers (gate.io's price-triggered orders)", () => {
  const arm = (triggerId: number, userId: number, price: string, trigger: "gte" | "lte") =>
    ({ type: "arm", time: T + 10, triggerId, userId, price: px(price), trigger }) as const;

  it("fire once, in sequence, when the last trade price reaches them: nearest first, then oldest", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.00", "0.5"), limit(2, 2, "buy", "30000.00", "0.1"));
    // Last price 30000: none of these is reached yet; armed, they emit nothing.
    expect(
      run(
        e,
        arm(11, 5, "30100.00", "gte"),
        arm(12, 5, "30050.00", "gte"),
        arm(13, 6, "30050.00", "gte"),
      ),
    ).toEqual([]);
    expect(run(e, arm(14, 5, "29900.00", "lte"))).toEqual([]);
    run(e, limit(3, 1, "sell", "30060.00", "0.5"));
    const events = run(e, limit(4, 2, "buy", "30060.00", "0.6"));
    const fired = events.filter((event) => event.type === "fired");
    // The buy took 30000 (nothing reached) then 30060: 30050 reached, 30100 not.
    expect(fired).toMatchObject([
      {
        triggerId: 12,
        userId: 5,
        price: px("30050.00"),
        trigger: "gte",
        lastPrice: px("30060.00"),
      },
      { triggerId: 13, userId: 6, price: px("30050.00"), trigger: "gte" },
    ]);
    const last = events[events.length - 1];
    expect(fired[1]?.seq).toBe(last?.seq);
    expect(e.armedTriggers().map((t) => t.triggerId)).toEqual([11, 14]);
  });

  it("fire at once when armed past the last price; a disarmed trigger never fires; bad ones are refused", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.00", "0.5"), limit(2, 2, "buy", "30000.00", "0.1"));
    expect(run(e, arm(21, 5, "30500.00", "lte"))).toMatchObject([
      { type: "fired", triggerId: 21, trigger: "lte", lastPrice: px("30000.00") },
    ]);
    run(e, arm(22, 5, "29000.00", "lte"));
    expect(run(e, { type: "disarm", time: T + 20, triggerId: 22, userId: 6 })).toEqual([]);
    expect(e.armedTriggers()).toHaveLength(1); // another user's disarm does nothing
    expect(run(e, { type: "disarm", time: T + 20, triggerId: 22, userId: 5 })).toEqual([]);
    expect(e.armedTriggers()).toEqual([]);
    run(e, limit(3, 1, "buy", "30000.00", "0.4"), limit(4, 2, "sell", "28000.00", "0.4"));
    expect(reasonOf(run(e, arm(23, 5, "0", "gte")))).toBe("TICK_SIZE");
    run(e, arm(24, 5, "40000.00", "gte"));
    expect(reasonOf(run(e, arm(24, 5, "40000.00", "gte")))).toBe("DUPLICATE_ORDER_ID");
  });

  it("survive a snapshot: the restored engine fires them exactly as the original", () => {
    const e = engine();
    run(e, limit(1, 1, "sell", "30000.00", "0.5"), limit(2, 2, "buy", "30000.00", "0.1"));
    run(
      e,
      arm(31, 5, "30010.00", "gte"),
      arm(32, 5, "29990.00", "lte"),
      arm(33, 6, "30010.00", "gte"),
    );
    const restored = MatchingEngine.fromSnapshot(e.snapshot(), { checkInvariants: true });
    expect(restored.armedTriggers()).toEqual(e.armedTriggers());
    const next = [limit(3, 1, "sell", "30010.00", "0.1"), limit(4, 2, "buy", "30010.00", "0.1")];
    expect(run(restored, ...next)).toEqual(run(e, ...next));
  });
});

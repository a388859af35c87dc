// The trade page's notices, from the pushes as the server sends them: a system cancel says why
// (self-trade prevention, an IOC or market remainder, fill-or-kill, post-only, the market's
// tick/lot changed, delisted); the trader's own cancel and plain fills say nothing; a stop that
// fired says what it placed, one that failed or expired says so; a halt and a resume are told.
import type { OrderUpdate, StopUpdate } from "@spotx/protocol";
import { describe, expect, it } from "vitest";
import { orderNotice, statusNotice, stopNotice } from "../../src/lib/trade-notices";

const order = (finish_as: string, over: Partial<OrderUpdate> = {}): OrderUpdate => ({
  id: "41",
  currency_pair: "BTC_USDT",
  side: "buy",
  type: "limit",
  status: "cancelled",
  finish_as,
  filled_amount: "0",
  filled_total: "0",
  avg_deal_price: "0",
  fee: "0",
  fee_currency: "BTC",
  ...over,
});

describe("orderNotice", () => {
  it("says why the system cancelled an order", () => {
    expect(orderNotice(order("stp"))).toEqual({
      tone: "info",
      title: "Order cancelled: self-trade prevention",
      message:
        "Your limit buy on BTC/USDT would have traded with your own order; none of it had filled.",
    });
    expect(orderNotice(order("ioc", { filled_amount: "0.2500" }))).toEqual({
      tone: "info",
      title: "Unfilled remainder of your immediate-or-cancel order cancelled",
      message: "Your limit buy on BTC/USDT: 0.25 BTC had filled; the rest found no match at once.",
    });
    expect(orderNotice(order("ioc", { type: "market", side: "sell" }))?.title).toBe(
      "Unfilled remainder of your market order cancelled",
    );
    expect(orderNotice(order("fok"))?.title).toBe("Fill-or-kill order cancelled");
    expect(orderNotice(order("poc"))).toMatchObject({
      tone: "error",
      title: "Post-only order cancelled",
      message: "POC_FILL_IMMEDIATELY: your limit buy on BTC/USDT would have taken liquidity.",
    });
    expect(orderNotice(order("market_rules", { filled_amount: "1200.5" }))).toEqual({
      tone: "info",
      title: "Cancelled: the market's tick/lot changed",
      message:
        "Your limit buy on BTC/USDT no longer fit the market's price or amount steps; 1,200.5 BTC had filled. Its hold is released.",
    });
    expect(orderNotice(order("delisted"))?.title).toBe("Cancelled: market delisted");
  });

  it("says nothing of the trader's own cancel, a fill or an open order", () => {
    expect(orderNotice(order("cancelled"))).toBeNull();
    expect(orderNotice(order("filled", { status: "closed" }))).toBeNull();
    expect(orderNotice(order("open", { status: "open" }))).toBeNull();
  });
});

const stop = (over: Partial<StopUpdate>): StopUpdate => ({
  id: "7",
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
  create_time_ms: 1,
  finish_time_ms: 0,
  ...over,
});

describe("stopNotice", () => {
  it("says a fired stop's order was placed, and which", () => {
    expect(stopNotice(stop({ status: "finish", fired_order_id: "88" }))).toEqual({
      tone: "success",
      title: "Stop triggered: buy 0.5 BTC at 70,100 placed",
      message: "The BTC/USDT last price ≥ 70,000 fired it; order 88 is in your open orders.",
    });
  });

  it("says a failed placement's reason, an expiry, and a cancel the trader did not make", () => {
    expect(
      stopNotice(
        stop({ status: "failed", side: "sell", rule: "<=", reason: "BALANCE_NOT_ENOUGH" }),
      ),
    ).toEqual({
      tone: "error",
      title: "Stop triggered, but its order was refused",
      message: "Sell 0.5 BTC at 70,100 (last price ≤ 70,000): BALANCE_NOT_ENOUGH.",
    });
    expect(stopNotice(stop({ status: "expired", reason: "expired" }))?.title).toBe("Stop expired");
    expect(stopNotice(stop({ status: "cancelled", reason: "delisted" }))?.message).toBe(
      "Buy 0.5 BTC at 70,100 (last price ≥ 70,000): delisted.",
    );
  });

  it("says nothing while it waits or when the trader cancelled it", () => {
    expect(stopNotice(stop({}))).toBeNull();
    expect(stopNotice(stop({ status: "cancelled", reason: "cancelled by the user" }))).toBeNull();
  });
});

describe("statusNotice", () => {
  it("tells a halt with its reason, and a resume", () => {
    expect(statusNotice("BTC_USDT", { halted: true, reason: "maintenance" })).toEqual({
      tone: "error",
      title: "BTC/USDT halted: placing orders is paused",
      message: "maintenance. Your open orders stay and can still be cancelled.",
    });
    expect(statusNotice("BTC_USDT", { halted: false, reason: null })).toMatchObject({
      title: "BTC/USDT resumed: placing orders is back",
    });
  });
});

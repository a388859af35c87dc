// Amending a resting order in place with BTC_USDT's rules (price 2 decimals, amount 4, BTC 8
// and USDT 6 decimals, minimum 0.0001 BTC): only what changed is sent, the queue rule per draft
// (only a smaller amount at the same price keeps the place), an amount at or below the filled
// part cancels, and the hold before and after exactly as settlement leaves it.
import { describe, expect, it } from "vitest";
import { planAmend } from "../../src/lib/order-amend";
import type { TicketMarket } from "../../src/lib/order-ticket";

const btc: TicketMarket = {
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
};
// A buy of 0.5 BTC at 30,000 of which 0.1 has filled: 0.4 × 30,000 = 12,000 USDT still held.
const buy = { side: "buy", price: "30000", amount: "0.5", filledAmount: "0.1" } as const;

describe("planAmend", () => {
  it("sends only what changed, in canonical form", () => {
    expect(planAmend(buy, { price: "30000.00", amount: "0.5000" }, btc).changes).toEqual({});
    expect(planAmend(buy, { price: "29500.5", amount: "0.5" }, btc).changes).toEqual({
      price: "29500.5",
    });
    expect(planAmend(buy, { price: "30000", amount: "0.45" }, btc).changes).toEqual({
      amount: "0.45",
    });
  });

  it("keeps the place only for a smaller amount at the same price", () => {
    expect(planAmend(buy, { price: "30000", amount: "0.45" }, btc).keepsPlace).toBe(true);
    expect(planAmend(buy, { price: "30000", amount: "0.6" }, btc).keepsPlace).toBe(false);
    expect(planAmend(buy, { price: "30001", amount: "0.45" }, btc).keepsPlace).toBe(false);
  });

  it("previews the hold: a buy's new price × what is left, a sell's base left", () => {
    // 0.5 BTC at 31,000 with 0.1 filled: 0.4 × 31,000 = 12,400 USDT (was 12,000).
    expect(planAmend(buy, { price: "31000", amount: "0.5" }, btc).hold).toEqual({
      asset: "USDT",
      before: "12000",
      after: "12400",
    });
    const sell = { side: "sell", price: "30000", amount: "1", filledAmount: "0.25" } as const;
    expect(planAmend(sell, { price: "30000", amount: "0.8" }, btc).hold).toEqual({
      asset: "BTC",
      before: "0.75",
      after: "0.55",
    });
  });

  it("says an amount at or below the filled part cancels the rest (gate.io's meaning)", () => {
    const plan = planAmend(buy, { price: "30000", amount: "0.1" }, btc);
    expect(plan.cancels).toBe(true);
    expect(plan.problems).toEqual([]);
    expect(plan.hold?.after).toBe("0");
  });

  it("refuses what the server would, with its labels, and previews nothing then", () => {
    expect(planAmend(buy, { price: "30000.001", amount: "0.5" }, btc)).toMatchObject({
      changes: {},
      hold: null,
      problems: [{ field: "price", label: "INVALID_PARAM_VALUE" }],
    });
    expect(planAmend(buy, { price: "30000", amount: "0" }, btc).problems).toEqual([
      { field: "amount", label: "INVALID_PARAM_VALUE", message: "Amount must be more than 0" },
    ]);
    const fresh = { side: "sell", price: "30000", amount: "1", filledAmount: "0" } as const;
    expect(planAmend(fresh, { price: "30000", amount: "0.00005" }, btc).problems).toMatchObject([
      { field: "amount", label: "INVALID_PARAM_VALUE" },
    ]);
  });
});

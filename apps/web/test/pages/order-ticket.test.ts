// The order form's arithmetic with BTC_USDT's real rules (price 2 decimals, amount 4, BTC 8 and
// USDT 6 decimals, minimum 0.0001 BTC and 1 USDT, maker 0.1 %, taker 0.2 %): totals, fees
// rounded up in what is received, holds, the rules checked with the server's labels, and
// amounts from a share of the balance or a value in quote — all exact.
import { describe, expect, it } from "vitest";
import {
  amountForShare,
  amountForValue,
  feeOn,
  feePpm,
  normaliseTyped,
  previewTicket,
  type TicketMarket,
} from "../../src/lib/order-ticket";

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
const rich = { base: "10", quote: "1000000" };
const limit = { type: "limit", timeInForce: "gtc" } as const;

describe("fees", () => {
  it("reads gate.io's percent as parts per million and rounds the fee up to a minor unit", () => {
    expect(feePpm("0.2")).toBe(2_000n);
    expect(feePpm("0.1")).toBe(1_000n);
    expect(feeOn(1_000_000n, 2_000n)).toBe(2_000n); // 0.01 BTC × 0.2 % = 0.00002 BTC exactly
    expect(feeOn(1_234_567n, 1_000n)).toBe(1_235n); // 1234.567 → 1235 (up)
    expect(feeOn(0n, 2_000n)).toBe(0n);
  });
});

describe("previewTicket", () => {
  it("a limit buy: total = price × amount, held in USDT, fee at most the taker's, in BTC", () => {
    const preview = previewTicket(
      { ...limit, side: "buy", price: "30000", amount: "0.01" },
      btc,
      rich,
    );
    expect(preview).toEqual({
      total: "300",
      hold: { amount: "300", asset: "USDT" },
      fee: { kind: "exact", amount: "0.00002", asset: "BTC", rate: "at most taker" },
      problems: [],
    });
  });

  it("a post-only sell pays the maker rate on the USDT received, rounded up", () => {
    const preview = previewTicket(
      { side: "sell", type: "limit", timeInForce: "poc", price: "30000.01", amount: "0.0123" },
      btc,
      rich,
    );
    // 0.0123 × 30000.01 = 369.000123 USDT; 0.1 % = 0.369000123 → 0.369001 (up to the µUSDT).
    expect(preview.total).toBe("369.000123");
    expect(preview.fee).toEqual({
      kind: "exact",
      amount: "0.369001",
      asset: "USDT",
      rate: "maker",
    });
    expect(preview.hold).toEqual({ amount: "0.0123", asset: "BTC" });
  });

  it("refuses what the market's rules refuse, with the server's labels", () => {
    const labels = (price: string, amount: string, balances = rich) =>
      previewTicket({ ...limit, side: "buy", price, amount }, btc, balances).problems.map((p) => [
        p.field,
        p.label,
      ]);
    expect(labels("30000.001", "0.01")).toEqual([["price", "INVALID_PRECISION"]]);
    expect(labels("30000", "0.00001")).toEqual([["amount", "INVALID_PRECISION"]]);
    expect(labels("", "")).toEqual([
      ["price", "MISSING_REQUIRED_PARAM"],
      ["amount", "MISSING_REQUIRED_PARAM"],
    ]);
    expect(labels("0", "1")).toEqual([["price", "INVALID_PARAM_VALUE"]]);
    // 0.0001 BTC at 100 USDT = 0.01 USDT: below the 1 USDT minimum value.
    expect(labels("100", "0.0001")).toEqual([["total", "AMOUNT_TOO_LITTLE"]]);
    expect(labels("30000", "0.01", { base: "0", quote: "299.999999" })).toEqual([
      ["total", "BALANCE_NOT_ENOUGH"],
    ]);
    // Exactly the balance is enough.
    expect(labels("30000", "0.01", { base: "0", quote: "300" })).toEqual([]);
  });

  it("a market buy spends quote (its amount), a market sell holds base; fees are the taker rate", () => {
    const buy = previewTicket(
      { side: "buy", type: "market", timeInForce: "ioc", price: "", amount: "50" },
      btc,
      rich,
    );
    expect(buy).toMatchObject({
      total: "50",
      hold: { amount: "50", asset: "USDT" },
      fee: { kind: "rate", percent: "0.2", asset: "BTC" },
      problems: [],
    });
    const tiny = previewTicket(
      { side: "buy", type: "market", timeInForce: "ioc", price: "", amount: "0.5" },
      btc,
      rich,
    );
    expect(tiny.problems.map((p) => p.label)).toEqual(["AMOUNT_TOO_LITTLE"]);
    const sell = previewTicket(
      { side: "sell", type: "market", timeInForce: "ioc", price: "", amount: "11" },
      btc,
      rich,
    );
    expect(sell.problems.map((p) => p.label)).toEqual(["BALANCE_NOT_ENOUGH"]);
  });

  it("does not check balances it does not know (signed out)", () => {
    const preview = previewTicket({ ...limit, side: "buy", price: "30000", amount: "5" }, btc, {
      base: null,
      quote: null,
    });
    expect(preview.problems).toEqual([]);
  });
});

describe("amounts from a share or a value", () => {
  it("a limit buy's share of the USDT balance buys whole lots at the price, rounded down", () => {
    // 25 % of 1,000 USDT = 250 USDT at 30,000 = 0.008333… → 0.0083 BTC.
    expect(
      amountForShare(25, { side: "buy", type: "limit", price: "30000" }, btc, {
        base: null,
        quote: "1000",
      }),
    ).toBe("0.0083");
    expect(amountForShare(25, { side: "buy", type: "limit", price: "" }, btc, rich)).toBeNull();
  });

  it("a sell's share of the BTC balance, and a market buy's share as quote to spend", () => {
    expect(
      amountForShare(50, { side: "sell", type: "limit", price: "" }, btc, {
        base: "0.12345678",
        quote: null,
      }),
    ).toBe("0.0617");
    expect(
      amountForShare(100, { side: "buy", type: "market", price: "" }, btc, {
        base: null,
        quote: "123.456789",
      }),
    ).toBe("123.456789");
    expect(amountForShare(101, { side: "sell", type: "limit", price: "" }, btc, rich)).toBeNull();
  });

  it("a value in quote becomes whole lots at the price", () => {
    expect(amountForValue("300", "30000", btc)).toBe("0.01");
    expect(amountForValue("299.99", "30000", btc)).toBe("0.0099");
    expect(amountForValue("300", "", btc)).toBeNull();
  });

  it("takes numbers as people type them", () => {
    expect(normaliseTyped("30000.")).toBe("30000");
    expect(normaliseTyped(".5")).toBe("0.5");
    expect(normaliseTyped("007.10")).toBe("7.10");
  });
});
